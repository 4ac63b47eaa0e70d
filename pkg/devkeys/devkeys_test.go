package devkeys

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/problem"
)

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func TestKeys(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	k := New(mustKey(t), func() time.Time { return now })
	other := New(mustKey(t), func() time.Time { return now })
	p := auth.Principal{Subject: "u1", OrgID: "acme", Role: auth.RoleAdmin, Permissions: []string{"NativeApp"}}
	good, err := k.Mint(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Authenticate(bearer(good))
	// The token carries no permissions (routes resolve the role's) and no scope.
	if err != nil || got.Subject != "u1" || got.OrgID != "acme" || got.Role != "admin" || got.Permissions != nil || got.Scope != "" {
		t.Fatalf("good token: got %+v, %v", got, err)
	}
	scoped, err := k.Mint(auth.Principal{Subject: "u1", OrgID: "acme", Role: auth.RoleAdmin, Scope: auth.ScopePassword}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Authenticate(bearer(scoped)); err != nil || got.Scope != auth.ScopePassword {
		t.Fatalf("password-scope token: got %+v, %v", got, err)
	}
	// A server on another address issues (and accepts) its own base URL only.
	elsewhere := k.WithIssuer("http://127.0.0.1:4000")
	if _, err := elsewhere.Authenticate(bearer(good)); !problem.Is(err, problem.Unauthenticated) {
		t.Errorf("a token of issuer %s was accepted by the server of %s: %v", k.Issuer(), elsewhere.Issuer(), err)
	}
	if _, err := k.Mint(p, 25*time.Hour); err == nil {
		t.Error("a 25-hour token was minted (signer.MaxLifetime is 24 hours)")
	}
	golangJWT, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DefaultIssuer, "aud": Audience, "sid": "s", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "permissions": "x"}).SignedString(k.key)
	fromOther, _ := other.Mint(p, time.Hour)
	expired, _ := New(k.key, func() time.Time { return now.Add(-2 * time.Hour) }).Mint(p, time.Hour)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DefaultIssuer, "aud": Audience, "exp": now.Add(time.Hour).Unix()})
	hsTok, _ := hs.SignedString([]byte("guess"))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin", "exp": now.Add(time.Hour).Unix()})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	wrongAud, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DefaultIssuer, "aud": "someone-else", "exp": now.Add(time.Hour).Unix()}).SignedString(k.key)
	noRole, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme",
		"iss": DefaultIssuer, "aud": Audience, "exp": now.Add(time.Hour).Unix()}).SignedString(k.key)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DefaultIssuer, "aud": Audience}).SignedString(k.key)
	for name, r := range map[string]*http.Request{
		"no header":         httptest.NewRequest("GET", "/", nil),
		"basic auth":        func() *http.Request { r := bearer(""); r.Header.Set("Authorization", "Basic dTpw"); return r }(),
		"other key":         bearer(fromOther),
		"expired":           bearer(expired),
		"HS256 confusion":   bearer(hsTok),
		"alg none":          bearer(noneTok),
		"wrong audience":    bearer(wrongAud),
		"missing role":      bearer(noRole),
		"missing exp":       bearer(noExp),
		"tampered":          bearer(good[:len(good)-4] + "AAAA"),
		"extra claim":       bearer(golangJWT),
		"oversized":         bearer(string(make([]byte, 9000))),
		"token with spaces": bearer("a b"),
	} {
		if _, err := k.Authenticate(r); !problem.Is(err, problem.Unauthenticated) {
			t.Errorf("%s: got %v, want Unauthenticated", name, err)
		}
	}
}

func TestLoadOrCreatePersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Mint(auth.Principal{Subject: "s", OrgID: "demo", Role: "admin"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(bearer(tok)); err != nil {
		t.Errorf("a token minted before a restart is refused after it: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, devKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: got %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, devKeyFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Error("a corrupt key file was accepted")
	}
}
