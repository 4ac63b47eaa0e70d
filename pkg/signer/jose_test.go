package signer_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/internal/nodetest"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

// TestJoseVerifies has the npm package jose (testdata/jose-verify.mjs, run by node)
// verify tokens minted here, the way the API Gateway JWT authorizer does: it reads the
// discovery document at the issuer, fetches its jwks_uri, and checks RS256, kid, iss,
// aud, exp and the claims. The issuer is an httptest server publishing the two documents.
func TestJoseVerifies(t *testing.T) {
	t.Parallel()
	node := nodetest.Jose(t, "tokens cannot be verified with the npm package jose")
	if _, err := os.ReadFile("testdata/jose-verify.mjs"); err != nil {
		t.Fatal(err)
	}

	previous := signer.FromKey(testKey(t, 1))
	prevKey, err := previous.Current(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	current := signer.FromKey(testKey(t, 0), prevKey)
	curKey, _ := current.Current(t.Context())

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer := srv.URL
	mux.HandleFunc("GET "+signer.DiscoveryPath, func(w http.ResponseWriter, r *http.Request) {
		doc, err := signer.OpenIDConfiguration(issuer)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	mux.HandleFunc("GET "+signer.JWKSPath, func(w http.ResponseWriter, r *http.Request) {
		keys, err := current.PublicKeys(r.Context())
		var doc []byte
		if err == nil {
			doc, err = signer.JWKS(keys)
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})

	now := time.Now().Truncate(time.Second)
	claims := func(change func(*signer.Claims)) signer.Claims {
		c := signertest.Claims(now)
		c.Issuer = issuer
		c.Subject = "agt_usér-😀" // not an id this API makes, but any string must survive
		if change != nil {
			change(&c)
		}
		return c
	}
	valid := signertest.MustMint(t, current, claims(nil))
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"role":"admin"`), []byte(`"role":"owner"`), 1)) + "." + parts[2]
	tokens := map[string]string{
		"valid":          valid,
		"previous_key":   signertest.MustMint(t, previous, claims(nil)),
		"tampered":       tampered,
		"wrong_audience": signertest.MustMint(t, current, claims(func(c *signer.Claims) { c.Audience = "someone-else" })),
		"wrong_issuer":   signertest.MustMint(t, current, claims(func(c *signer.Claims) { c.Issuer = "https://evil.example.com" })),
		"expired": signertest.MustMint(t, current, claims(func(c *signer.Claims) {
			c.IssuedAt, c.ExpiresAt = now.Add(-time.Hour), now.Add(-50*time.Minute)
		})),
		"unpublished_key": signertest.MustMint(t, signer.FromKey(testKey(t, 2)), claims(nil)),
	}
	in, err := json.Marshal(map[string]any{"issuer": issuer, "audience": signertest.Audience, "now": now.Unix(), "tokens": tokens})
	if err != nil {
		t.Fatal(err)
	}
	stdout := nodetest.Script(t, node, "testdata/jose-verify.mjs", in)
	var got map[string]struct {
		OK      bool           `json:"ok"`
		Kid     string         `json:"kid"`
		Code    string         `json:"code"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("node's output: %v\n%s", err, string(stdout))
	}
	want := map[string]struct{ code, kid string }{
		"valid":           {"", curKey.ID},
		"previous_key":    {"", prevKey.ID},
		"tampered":        {"ERR_JWS_SIGNATURE_VERIFICATION_FAILED", ""},
		"wrong_audience":  {"ERR_JWT_CLAIM_VALIDATION_FAILED", ""},
		"wrong_issuer":    {"ERR_JWT_CLAIM_VALIDATION_FAILED", ""},
		"expired":         {"ERR_JWT_EXPIRED", ""},
		"unpublished_key": {"ERR_JWKS_NO_MATCHING_KEY", ""},
	}
	if len(got) != len(want) {
		t.Errorf("node answered for %d tokens, want %d: %s", len(got), len(want), string(stdout))
	}
	for name, w := range want {
		g := got[name]
		if g.OK != (w.code == "") || g.Code != w.code || g.Kid != w.kid {
			t.Errorf("%s: jose says ok %v code %q kid %q, want code %q kid %q", name, g.OK, g.Code, g.Kid, w.code, w.kid)
		}
	}
	p := got["valid"].Payload
	if p["sub"] != "agt_usér-😀" || p["org_id"] != "acme" || p["role"] != "admin" || p["sid"] != signertest.Claims(now).SessionID ||
		p["iss"] != issuer || p["aud"] != signertest.Audience || p["exp"] != float64(now.Add(10*time.Minute).Unix()) || p["iat"] != float64(now.Unix()) {
		t.Errorf("jose's payload of the valid token: %v", p)
	}
}
