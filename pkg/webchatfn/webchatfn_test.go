package webchatfn_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/webchat"
	"github.com/convrs/admin/pkg/webchat/token"
)

const base = "/v1/orgs/acme/webchat"

func issue(t *testing.T, r apitest.Response) (kid, secret string) {
	t.Helper()
	var body struct {
		KID, Secret string
		CreatedAt   time.Time
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.KID == "" || len(body.Secret) != 43 || body.CreatedAt.IsZero() {
		t.Fatalf("issued key: %s (%v)", r.Body, err)
	}
	return body.KID, body.Secret
}

func signAt(t *testing.T, kid, secret string, claims map[string]any) string {
	t.Helper()
	tok, err := token.Sign(token.Key{KID: kid, Secret: []byte(secret)}, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func userClaims(now time.Time) map[string]any {
	return map[string]any{"sub": "user-42", "name": "Ada", "email": "ada@example.com", "exp": now.Add(10 * time.Minute).Unix()}
}

func verifyBody(tok string) []byte {
	b, _ := json.Marshal(map[string]string{"token": tok})
	return b
}

func TestSecretLifecycle(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	now := s.Now
	if r := s.Admin(http.MethodGet, base+"/secret", nil).Expect(t, 200); string(r.Body) != `{"current":null,"previous":null}` {
		t.Errorf("status before generate: %s", r.Body)
	}
	s.Admin(http.MethodPost, base+"/secret/rotate", nil).Expect(t, 409)
	s.Admin(http.MethodDelete, base+"/secret/previous", nil).Expect(t, 404)

	gen := s.Admin(http.MethodPost, base+"/secret", nil).Expect(t, 201)
	kid1, secret1 := issue(t, gen)
	if gen.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a response with a secret must not be stored: Cache-Control %q", gen.Header.Get("Cache-Control"))
	}
	s.Admin(http.MethodPost, base+"/secret", []byte(`{}`)).Expect(t, 409)
	s.Admin(http.MethodPost, base+"/secret", []byte(`{"force":true}`)).Expect(t, 400)
	st := s.Admin(http.MethodGet, base+"/secret", nil).Expect(t, 200)
	if strings.Contains(string(st.Body), secret1) || !strings.Contains(string(st.Body), kid1) {
		t.Errorf("status: %s (shows the secret, or not the kid)", st.Body)
	}

	old := signAt(t, kid1, secret1, userClaims(now))
	v := s.Admin(http.MethodPost, base+"/verify", verifyBody(old)).Expect(t, 200).JSON(t)
	if v["valid"] != true || v["key"] != "current" || v["kid"] != kid1 || v["claims"].(map[string]any)["sub"] != "user-42" {
		t.Errorf("verify with the current key: %v", v)
	}

	rot := s.Admin(http.MethodPost, base+"/secret/rotate", nil).Expect(t, 200)
	kid2, secret2 := issue(t, rot)
	if m := rot.JSON(t); m["previous"].(map[string]any)["kid"] != kid1 || m["previous"].(map[string]any)["expiresAt"] != now.Add(48*time.Hour).Format(time.RFC3339) {
		t.Errorf("rotate: %s", rot.Body)
	}
	if v := s.Admin(http.MethodPost, base+"/verify", verifyBody(old)).Expect(t, 200).JSON(t); v["valid"] != true || v["key"] != "previous" {
		t.Errorf("old token after rotation: %v", v)
	}
	fresh := signAt(t, kid2, secret2, userClaims(now))
	if v := s.Admin(http.MethodPost, base+"/verify", verifyBody(fresh)).Expect(t, 200).JSON(t); v["valid"] != true || v["key"] != "current" {
		t.Errorf("new token: %v", v)
	}

	s.Admin(http.MethodDelete, base+"/secret/previous", nil).Expect(t, 204)
	v = s.Admin(http.MethodPost, base+"/verify", verifyBody(old)).Expect(t, 200).JSON(t)
	if v["valid"] != false || v["reason"] != "unknown_key" || v["claims"].(map[string]any)["sub"] != "user-42" {
		t.Errorf("old token after revocation: %v, want unknown_key with its claims", v)
	}
	s.Admin(http.MethodDelete, base+"/secret/previous", nil).Expect(t, 404)

	// Bad verify bodies.
	s.Admin(http.MethodPost, base+"/verify", []byte(`{}`)).Expect(t, 422)
	s.Admin(http.MethodPost, base+"/verify", []byte(`{"token":1}`)).Expect(t, 400)
	s.Admin(http.MethodPost, base+"/verify", []byte(`{"Token":"x"}`)).Expect(t, 400)
	s.Admin(http.MethodPost, base+"/verify", verifyBody("x"), "Content-Type", "text/plain").Expect(t, 415)

	ex := s.Admin(http.MethodGet, base+"/integration-example", nil).Expect(t, 200)
	if !strings.Contains(string(ex.Body), kid2) || strings.Contains(string(ex.Body), secret2) || !strings.Contains(string(ex.Body), "ConvrsUser") {
		t.Errorf("integration example: %s", ex.Body)
	}

	// Every change is audited, without secret material.
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=webchat", nil).Expect(t, 200)
	var page struct {
		Items []struct{ Action, Actor string }
	}
	_ = json.Unmarshal(a.Body, &page)
	var actions []string
	for _, it := range page.Items {
		actions = append(actions, it.Action+" by "+it.Actor)
	}
	if got := strings.Join(actions, ", "); got != "revoke by admin@acme, rotate by admin@acme, generate by admin@acme" {
		t.Errorf("audit: %s", got)
	}
	for _, secret := range []string{secret1, secret2} {
		if strings.Contains(string(a.Body), secret) {
			t.Errorf("the audit log holds a secret")
		}
	}
}

// Every reason code of the verify route is a 401 of identify with that reason.
func TestIdentify(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	now := s.Now
	identify := func(org, tok string) apitest.Response {
		body, _ := json.Marshal(map[string]string{"orgId": org, "token": tok})
		return s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: body})
	}
	early := signAt(t, "wk_AAAAAAAAAAAAAAAA", strings.Repeat("k", 43), userClaims(now))
	if r := identify("acme", early); r.Status != 401 || !strings.Contains(string(r.Body), `"reason":"no_secret"`) {
		t.Errorf("before any key: %d %s", r.Status, r.Body)
	}
	kid, secret := issue(t, s.Admin(http.MethodPost, base+"/secret", nil).Expect(t, 201))
	// The identify function is another container: it honours the new key once its cached
	// key set is older than webchat.Freshness.
	now = now.Add(webchat.Freshness)
	s.SetNow(now)
	r := identify("acme", signAt(t, kid, secret, userClaims(now))).Expect(t, 200)
	m := r.JSON(t)
	if m["userId"] != "user-42" || m["name"] != "Ada" || m["email"] != "ada@example.com" || m["claims"] == nil {
		t.Errorf("identify: %s", r.Body)
	}
	hs512, _ := jwtHS512(kid, secret, userClaims(now))
	for reason, tok := range map[string]string{
		"malformed":             "not-a-token",
		"algorithm_not_allowed": hs512,
		"unknown_key":           signAt(t, "wk_unknown", secret, userClaims(now)),
		"bad_signature":         signAt(t, kid, strings.Repeat("x", 43), userClaims(now)),
		"expired":               signAt(t, kid, secret, map[string]any{"sub": "u", "exp": now.Add(-time.Hour).Unix()}),
		"not_yet_valid":         signAt(t, kid, secret, map[string]any{"sub": "u", "exp": now.Add(2 * time.Hour).Unix(), "nbf": now.Add(time.Hour).Unix()}),
		"missing_claim":         signAt(t, kid, secret, map[string]any{"exp": now.Add(time.Hour).Unix()}),
	} {
		r := identify("acme", tok).Expect(t, 401)
		var p struct{ Reason, Detail string }
		_ = json.Unmarshal(r.Body, &p)
		if p.Reason != reason || p.Detail == "" || strings.Contains(string(r.Body), secret) {
			t.Errorf("%s: got %s", reason, r.Body)
		}
	}
	if r := identify("globex", signAt(t, kid, secret, userClaims(now))); r.Status != 401 || !strings.Contains(string(r.Body), "no_secret") {
		t.Errorf("another org's token: %d %s", r.Status, r.Body)
	}
	identify("a/b", "x").Expect(t, 422)
	s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: []byte(`{"orgId":"acme"}`)}).Expect(t, 422)
	s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: []byte(`{"orgId":"acme","token":"x","extra":1}`)}).Expect(t, 400)
	s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: []byte(`[]`)}).Expect(t, 400)
	// Public: an admin token is not needed, nor looked at.
	s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Token: "garbage",
		Body: []byte(`{"orgId":"acme","token":"` + signAt(t, kid, secret, userClaims(now)) + `"}`)}).Expect(t, 200)
}

func TestAuthorisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	routes := []struct{ method, path string }{
		{http.MethodGet, base + "/secret"}, {http.MethodPost, base + "/secret"}, {http.MethodPost, base + "/secret/rotate"},
		{http.MethodDelete, base + "/secret/previous"}, {http.MethodPost, base + "/verify"}, {http.MethodGet, base + "/integration-example"},
	}
	for _, rt := range routes {
		s.Do(apitest.Request{Method: rt.method, Path: rt.path}).Expect(t, 401)
		s.As("globex", auth.RoleAdmin, rt.method, rt.path, nil).Expect(t, 404)
		for _, role := range []string{auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent} {
			s.As("acme", role, rt.method, rt.path, nil).Expect(t, 403)
		}
	}
	if r := s.Admin(http.MethodGet, base+"/secret", nil).Expect(t, 200); string(r.Body) != `{"current":null,"previous":null}` {
		t.Errorf("refused requests changed the keys: %s", r.Body)
	}
}

func TestConcurrentGenerates(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = s.Admin(http.MethodPost, base+"/secret", nil).Status })
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("status %d", st)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent generates answered 201 (%v), want 1", created, n, statuses)
	}
}

// No secret ever reaches a log line, whatever route ran or failed.
func TestNoSecretInLogs(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	s := apitest.NewWithLogger(t, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	_, secret1 := issue(t, s.Admin(http.MethodPost, base+"/secret", nil).Expect(t, 201))
	kid2, secret2 := issue(t, s.Admin(http.MethodPost, base+"/secret/rotate", nil).Expect(t, 200))
	tok := signAt(t, kid2, secret2, userClaims(s.Now))
	s.Admin(http.MethodPost, base+"/verify", verifyBody(tok)).Expect(t, 200)
	s.Admin(http.MethodPost, base+"/verify", []byte(`{"token":`)).Expect(t, 400)
	s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: []byte(`{"orgId":"acme","token":"` + tok + `x"}`)}).Expect(t, 401)
	s.Admin(http.MethodPost, base+"/secret", nil).Expect(t, 409)
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the capture does not work")
	}
	for _, secret := range []string{secret1, secret2, tok} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a secret or token is in the logs")
		}
	}
}

// A deleted organisation's widget is refused (404) within webchat.Freshness of the delete,
// like its other routes.
func TestIdentifyDeletedOrganisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	shop := s.SubOrg("acme", "Shop")
	kid, secret := issue(t, s.Admin(http.MethodPost, "/v1/orgs/"+shop+"/webchat/secret", nil).Expect(t, 201))
	now := s.Now.Add(webchat.Freshness)
	s.SetNow(now)
	identify := func() apitest.Response {
		body, _ := json.Marshal(map[string]string{"orgId": shop, "token": signAt(t, kid, secret, userClaims(now))})
		return s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: body})
	}
	identify().Expect(t, 200)
	s.Admin(http.MethodDelete, "/v1/orgs/"+shop, nil).Expect(t, 204)
	now = now.Add(time.Second)
	s.SetNow(now)
	if r := identify(); r.Status != 404 {
		t.Errorf("identify for a deleted organisation: %d %s", r.Status, r.Body)
	}
}
