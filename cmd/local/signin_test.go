package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/internal/nodetest"
	"github.com/convrs/admin/pkg/devkeys"
)

// post sends a JSON body (or none) with an optional bearer token and decodes a JSON answer.
func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// The local server signs in for real: an admin invites an agent, the agent sets a
// password through the emailed link's token and signs in; the token works on the API,
// refreshes, and logs out. The npm package jose (node) verifies the signed-in token the
// way the API Gateway JWT authorizer does: through the server's own discovery document
// and JWKS (required under CI=true).
func TestSignInForReal(t *testing.T) {
	base, admin := startServer(t)
	req := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		if method == http.MethodPost {
			return post(t, base+path, token, body)
		}
		code, b := get(t, base+path, token)
		var m map[string]any
		_ = json.Unmarshal([]byte(b), &m)
		return code, m
	}
	code, bu := req(http.MethodPost, "/v1/orgs/demo/business-units", admin, `{"name":"Support"}`)
	if code != 201 {
		t.Fatalf("business unit: %d %v", code, bu)
	}
	code, a := req(http.MethodPost, "/v1/orgs/demo/agents", admin,
		`{"email":"ana@example.com","name":"Ana","role":"agent_manager","language":"en","businessUnitId":"`+bu["id"].(string)+`","sendCredentialsEmail":true}`)
	if code != 201 {
		t.Fatalf("agent: %d %v", code, a)
	}
	code, mail := req(http.MethodGet, "/local/outbox/latest?to=ana@example.com", "", "")
	link, _ := mail["setPasswordToken"].(string)
	if code != 200 || link == "" {
		t.Fatalf("the invitation email: %d %v", code, mail)
	}
	if code, m := req(http.MethodPost, "/v1/auth/set-password", "", `{"token":"`+link+`","password":"Grüner-Tee-42!"}`); code != 204 {
		t.Fatalf("set-password: %d %v", code, m)
	}
	code, in := req(http.MethodPost, "/v1/auth/login", "", `{"email":"ana@example.com","password":"Grüner-Tee-42!"}`)
	tok, _ := in["token"].(string)
	if code != 200 || tok == "" {
		t.Fatalf("login: %d %v", code, in)
	}
	if code, me := req(http.MethodGet, "/v1/me", tok, ""); code != 200 || me["sub"] != a["id"] {
		t.Errorf("/v1/me with the signed-in token: %d %v", code, me)
	}
	if code, _ := req(http.MethodGet, "/v1/orgs/demo/agents", tok, ""); code != 200 {
		t.Errorf("agents list as an agent manager: %d", code)
	}
	code, fresh := req(http.MethodPost, "/v1/auth/refresh", tok, "")
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, fresh)
	}

	// jose verifies the token through the server's discovery document and JWKS.
	node := nodetest.Jose(t, "the signed-in token cannot be verified with the npm package jose")
	script := filepath.Join(nodetest.ModuleRoot(t), "pkg", "signer", "testdata", "jose-verify.mjs")
	in2, _ := json.Marshal(map[string]any{"issuer": base, "audience": devkeys.Audience, "now": time.Now().Unix(),
		"tokens": map[string]string{"login": tok, "refresh": fresh["token"].(string), "tampered": tok[:len(tok)-6] + "AAAAAA"}})
	stdout := nodetest.Script(t, node, script, in2)
	var got map[string]struct {
		OK      bool           `json:"ok"`
		Code    string         `json:"code"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("node's output: %v\n%s", err, string(stdout))
	}
	if !got["login"].OK || !got["refresh"].OK || got["tampered"].OK {
		t.Errorf("jose: %s", string(stdout))
	}
	if p := got["login"].Payload; p["sub"] != a["id"] || p["org_id"] != "demo" || p["role"] != "agent_manager" || p["iss"] != base || p["sid"] == nil {
		t.Errorf("jose's payload of the login token: %v", p)
	}
	if got["login"].Payload["sid"] != got["refresh"].Payload["sid"] {
		t.Errorf("refresh changed the session: %v then %v", got["login"].Payload["sid"], got["refresh"].Payload["sid"])
	}

	if code, _ := req(http.MethodPost, "/v1/auth/logout", fresh["token"].(string), ""); code != 204 {
		t.Errorf("logout: %d", code)
	}
	if code, _ := req(http.MethodPost, "/v1/auth/refresh", fresh["token"].(string), ""); code != 401 {
		t.Errorf("refresh after logout: %d, want 401", code)
	}
}
