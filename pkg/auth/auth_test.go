package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/golang-jwt/jwt/v5"

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

func TestDevKeys(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	k := NewDevKeys(mustKey(t), func() time.Time { return now })
	other := NewDevKeys(mustKey(t), func() time.Time { return now })
	p := Principal{Subject: "u1", OrgID: "acme", Role: RoleAdmin, Permissions: []string{"NativeApp"}}
	good, err := k.Mint(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Authenticate(bearer(good))
	if err != nil || got.Subject != "u1" || got.OrgID != "acme" || got.Role != "admin" || len(got.Permissions) != 1 {
		t.Fatalf("good token: got %+v, %v", got, err)
	}
	fromOther, _ := other.Mint(p, time.Hour)
	expired, _ := NewDevKeys(k.key, func() time.Time { return now.Add(-2 * time.Hour) }).Mint(p, time.Hour)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DevIssuer, "aud": DevAudience, "exp": now.Add(time.Hour).Unix()})
	hsTok, _ := hs.SignedString([]byte("guess"))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin", "exp": now.Add(time.Hour).Unix()})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	wrongAud, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DevIssuer, "aud": "someone-else", "exp": now.Add(time.Hour).Unix()}).SignedString(k.key)
	noRole, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme",
		"iss": DevIssuer, "aud": DevAudience, "exp": now.Add(time.Hour).Unix()}).SignedString(k.key)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "org_id": "acme", "role": "admin",
		"iss": DevIssuer, "aud": DevAudience}).SignedString(k.key)
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
		"oversized":         bearer(string(make([]byte, 9000))),
		"token with spaces": bearer("a b"),
	} {
		if _, err := k.Authenticate(r); !problem.Is(err, problem.Unauthenticated) {
			t.Errorf("%s: got %v, want Unauthenticated", name, err)
		}
	}
}

func TestLoadOrCreateDevKeysPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := LoadOrCreateDevKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Mint(Principal{Subject: "s", OrgID: "demo", Role: "admin"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateDevKeys(dir)
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
	if _, err := LoadOrCreateDevKeys(dir); err == nil {
		t.Error("a corrupt key file was accepted")
	}
}

func TestClaimsFromAPIGateway(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": "u9", "org_id": "acme", "role": "compliance", "permissions": "A B"},
		}},
	}}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Claims{}.Authenticate(r)
	if err != nil || p.Subject != "u9" || p.Role != "compliance" || len(p.Permissions) != 2 {
		t.Errorf("got %+v, %v", p, err)
	}
	// A raw Authorization header without authorizer claims is never trusted.
	raw := httptest.NewRequest("GET", "/", nil)
	raw.Header.Set("Authorization", "Bearer whatever")
	if _, err := (Claims{}).Authenticate(raw); !problem.Is(err, problem.Unauthenticated) {
		t.Errorf("raw header: got %v, want Unauthenticated", err)
	}
}

func TestPolicy(t *testing.T) {
	p := Principal{Subject: "s", OrgID: "acme", Role: RoleAgent}
	tests := []struct {
		pol  Policy
		org  string
		want problem.Code
	}{
		{AnyRole, "acme", ""},
		{Roles(RoleAdmin), "acme", problem.Forbidden},
		{Roles(RoleAdmin, RoleAgent), "acme", ""},
		{AnyRole, "globex", problem.NotFound},
		{Roles(RoleAdmin), "globex", problem.NotFound},
		{AnyRole, "", problem.NotFound},
	}
	for _, tc := range tests {
		err := tc.pol.Authorize(p, tc.org)
		got := problem.Code("")
		if err != nil {
			got = problem.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("%v on %q: got %q, want %q", tc.pol, tc.org, got, tc.want)
		}
	}
}

func claimsRequest(t *testing.T, claims map[string]string) *http.Request {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: claims,
		}},
	}}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The HTTP API JWT authorizer passes an array claim flattened to "[a b]"; a space-separated
// string (dev tokens) gives the same list.
func TestListClaimShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		permissions string
		want        []string
	}{
		{"[settings.manage audit.read]", []string{"settings.manage", "audit.read"}},
		{"settings.manage audit.read", []string{"settings.manage", "audit.read"}},
		{"[NativeApp]", []string{"NativeApp"}},
		{"[]", nil},
		{"", nil},
	}
	for _, tc := range tests {
		p, err := Claims{}.Authenticate(claimsRequest(t, map[string]string{"sub": "u", "org_id": "acme", "role": "admin", "permissions": tc.permissions}))
		if err != nil {
			t.Errorf("permissions %q: %v", tc.permissions, err)
			continue
		}
		if !slices.Equal(p.Permissions, tc.want) {
			t.Errorf("permissions %q: got %q, want %q", tc.permissions, p.Permissions, tc.want)
		}
	}
}

// Claims are taken exactly as issued: surrounding white space, control characters and
// malformed organisation ids are refused, never trimmed or repaired.
func TestClaimsRefusedNotRepaired(t *testing.T) {
	t.Parallel()
	base := map[string]string{"sub": "u1", "org_id": "acme", "role": "admin"}
	tests := []struct {
		claim, value string
	}{
		{"sub", " u1"}, {"sub", "u1\n"}, {"org_id", "acme "}, {"org_id", "\tacme"}, {"role", "admin "},
		{"sub", "u\x001"}, {"role", "ad\x7fmin"}, {"permissions", " a b"},
		{"org_id", "a/b"}, {"org_id", "a\x00b"}, {"org_id", "a#b"}, {"org_id", "-acme"}, {"org_id", strings.Repeat("a", 65)},
		{"org_id", "acmé"}, {"org_id", ""}, {"sub", ""}, {"role", ""},
		{"permissions", "[" + strings.Repeat("p ", 65) + "]"},
	}
	for _, tc := range tests {
		claims := maps.Clone(base)
		claims[tc.claim] = tc.value
		if p, err := (Claims{}).Authenticate(claimsRequest(t, claims)); !problem.Is(err, problem.Unauthenticated) {
			t.Errorf("%s=%q: got %+v, %v; want Unauthenticated", tc.claim, tc.value, p, err)
		}
	}
}

func TestPolicyRefusesMalformedPathOrgs(t *testing.T) {
	t.Parallel()
	p := Principal{Subject: "s", OrgID: "acme", Role: RoleAdmin}
	for _, org := range []string{"acme/x", "acme\x00", "acme#", "ACME", "", "acme "} {
		if err := AnyRole.Authorize(p, org); !problem.Is(err, problem.NotFound) {
			t.Errorf("path org %q: got %v, want NotFound", org, err)
		}
	}
}
