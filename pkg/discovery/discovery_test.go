package discovery_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/discovery"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

func TestHealthIsPublic(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz"}).Expect(t, 200)
	if string(r.Body) != `{"status":"ok"}` {
		t.Errorf("got %s", r.Body)
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz", Token: "garbage"}).Expect(t, 200)
}

func TestMe(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	tests := []struct {
		role, want string
	}{
		{"admin", `{"sub":"admin@acme","orgId":"acme","role":"admin","permissions":["settings.manage","audit.read","agents.read","agents.manage","roles.manage","business-units.manage","tags.manage","chats.read","chats.manage","suborgs.manage","NativeApp"]}`},
		{"agent_manager", `{"sub":"agent_manager@acme","orgId":"acme","role":"agent_manager","permissions":["agents.read","tags.manage","chats.read","chats.manage","NativeApp"]}`},
		{"client_manager", `{"sub":"client_manager@acme","orgId":"acme","role":"client_manager","permissions":["agents.read","chats.read","suborgs.manage"]}`},
		{"marketing", `{"sub":"marketing@acme","orgId":"acme","role":"marketing","permissions":["tags.manage","chats.read"]}`},
		{"compliance", `{"sub":"compliance@acme","orgId":"acme","role":"compliance","permissions":["audit.read","agents.read","chats.read"]}`},
		{"agent", `{"sub":"agent@acme","orgId":"acme","role":"agent","permissions":["NativeApp"]}`},
		{"role_custom1", `{"sub":"role_custom1@acme","orgId":"acme","role":"role_custom1","permissions":[]}`},
	}
	for _, tc := range tests {
		r := s.As("acme", tc.role, http.MethodGet, "/v1/me", nil).Expect(t, 200)
		if string(r.Body) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.role, r.Body, tc.want)
		}
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/me"}).Expect(t, 401)
}

// TestEvents replays events/discovery/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, discovery.Function, nil,
		apitest.EventCase{File: "healthz.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"status": "ok"})
		}},
		apitest.EventCase{File: "me.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"sub": "demo-compliance", "orgId": "demo",
				"role": "compliance", "permissions": []string{"audit.read", "agents.read", "chats.read"}})
		}},
		apitest.EventCase{File: "openid-configuration.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"issuer": devkeys.DefaultIssuer, "jwks_uri": devkeys.DefaultIssuer + "/.well-known/jwks.json"})
			if got := r.Resp.Headers["Cache-Control"]; got != "public, max-age=3600" {
				t.Errorf("Cache-Control = %q", got)
			}
		}},
		apitest.EventCase{File: "jwks.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			keys, err := signer.ParseJWKS(r.Body)
			if err != nil || len(keys) != 1 {
				t.Fatalf("ParseJWKS = %v, %v", keys, err)
			}
			cur, err := r.Deps.Signer.Current(t.Context())
			if err != nil || keys[0].ID != cur.ID {
				t.Errorf("kid %s, want the signing key %s (%v)", keys[0].ID, cur.ID, err)
			}
			if got := r.Resp.Headers["Cache-Control"]; got != "public, max-age=300" {
				t.Errorf("Cache-Control = %q", got)
			}
		}},
	)
}

// A deleted organisation's callers get 404 from /v1/me, as from its other routes; a live
// sub-organisation's get their own answer.
func TestMeOfADeletedOrganisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	shop := s.SubOrg("acme", "Shop")
	s.As(shop, "admin", http.MethodGet, "/v1/me", nil).Expect(t, 200)
	s.Admin(http.MethodDelete, "/v1/orgs/"+shop, nil).Expect(t, 204)
	s.As(shop, "admin", http.MethodGet, "/v1/me", nil).Expect(t, 404)
	s.As("acme", "admin", http.MethodGet, "/v1/me", nil).Expect(t, 200)
}

// The discovery document names the deployment's own issuer and where its keys are; it is
// public and cacheable for an hour.
func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, token := range []string{"", "garbage"} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/.well-known/openid-configuration", Token: token}).Expect(t, 200)
		want, err := signer.OpenIDConfiguration(devkeys.DefaultIssuer)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Body) != string(want) {
			t.Errorf("got %s\nwant %s", r.Body, want)
		}
		apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"issuer": "http://127.0.0.1:3000", "jwks_uri": "http://127.0.0.1:3000/.well-known/jwks.json"})
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := r.Header.Get("Cache-Control"); got != "public, max-age=3600" {
			t.Errorf("Cache-Control = %q, want public, max-age=3600", got)
		}
	}
}

// The key set publishes the key the deployment signs with (the one the API's tokens are
// verified against), is public, and may be cached for 5 minutes.
func TestJWKS(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, token := range []string{"", "garbage"} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/.well-known/jwks.json", Token: token}).Expect(t, 200)
		keys, err := signer.ParseJWKS(r.Body)
		if err != nil {
			t.Fatalf("ParseJWKS: %v\n%s", err, r.Body)
		}
		cur, err := s.Keys.Signer().Current(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0].ID != cur.ID || !keys[0].Public.Equal(cur.Public) {
			t.Errorf("keys %v, want the signing key %s", keys, cur.ID)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := r.Header.Get("Cache-Control"); got != "public, max-age=300" {
			t.Errorf("Cache-Control = %q, want public, max-age=300", got)
		}
	}
	// A token the deployment mints verifies against the published set.
	tok := signertest.MustMint(t, s.Deps.Signer, signertest.Claims(time.Now()))
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/.well-known/jwks.json"}).Expect(t, 200)
	if _, _, err := signertest.Verify(tok, r.Body, time.Now()); err != nil {
		t.Errorf("a minted token does not verify against the published set: %v", err)
	}
}

// During a rotation the set holds the signing key first, then the published ones.
func TestJWKSDuringRotation(t *testing.T) {
	t.Parallel()
	cur, next, prev := testKey(t), testKey(t), testKey(t)
	also := []signer.Key{{ID: "next", Public: &next.PublicKey}, {ID: "previous", Public: &prev.PublicKey}}
	r := serve(t, signer.FromKey(cur, also...), signer.JWKSPath)
	if r.Code != http.StatusOK {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}
	keys, err := signer.ParseJWKS(r.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if want := []string{signer.Thumbprint(&cur.PublicKey), "next", "previous"}; !slices.Equal(ids, want) {
		t.Errorf("kids %v, want %v (the signing key first)", ids, want)
	}
	if !keys[0].Public.Equal(&cur.PublicKey) || !keys[1].Public.Equal(&next.PublicKey) || !keys[2].Public.Equal(&prev.PublicKey) {
		t.Errorf("published keys do not match")
	}
}

// When the keys cannot be read the set is 503 with Retry-After (never an empty set, and
// never cacheable): verifiers keep what they have and retry.
func TestJWKSUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		s     signer.Signer
		retry string
	}{
		{"denied", failing{errors.New("AccessDeniedException: not authorized to perform kms:GetPublicKey")}, "30"},
		{"throttled", failing{&problem.Error{Code: problem.Unavailable, Message: "the signing key is busy, please retry", RetryAfter: time.Second}}, "1"},
		{"no signer", nil, "30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := serve(t, tc.s, signer.JWKSPath)
			if r.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", r.Code, r.Body)
			}
			if got := r.Header().Get("Retry-After"); got != tc.retry {
				t.Errorf("Retry-After = %q, want %s", got, tc.retry)
			}
			if got := r.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := r.Header().Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type = %q", got)
			}
			if strings.Contains(r.Body.String(), "AccessDenied") {
				t.Errorf("the cause leaks: %s", r.Body)
			}
		})
	}
	// The discovery document needs no key: it is served all the same.
	if r := serve(t, failing{errors.New("down")}, signer.DiscoveryPath); r.Code != 200 {
		t.Errorf("discovery document: status %d", r.Code)
	}
}

// failing is a signer whose keys cannot be read.
type failing struct{ err error }

func (f failing) Current(context.Context) (signer.Key, error)          { return signer.Key{}, f.err }
func (f failing) Sign(context.Context, string, []byte) ([]byte, error) { return nil, f.err }
func (f failing) PublicKeys(context.Context) ([]signer.Key, error)     { return nil, f.err }

// serve answers one anonymous GET of path by the discovery routes on s.
func serve(t *testing.T, s signer.Signer, path string) *httptest.ResponseRecorder {
	t.Helper()
	api := httpx.New(auth.Claims{}, slog.New(slog.DiscardHandler))
	discovery.Register(api, app.Deps{Signer: s, Issuer: "https://admin-api.example.com", Audience: "convrs-admin", Now: time.Now})
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// testKey makes a 2048-bit RSA key.
func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
