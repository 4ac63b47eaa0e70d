package signinfn_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/outbox"
	"github.com/convrs/admin/pkg/signinfn"
)

const password = "Correct-horse-9-battery"

// agent creates an agent of org with an invitation, accepts it with password through
// POST /v1/auth/set-password, and returns the agent's id.
func agent(t testing.TB, s *apitest.Server, org, email, role string) string {
	t.Helper()
	id, token := invite(t, s, org, email, role)
	s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.SetPasswordPath,
		Body: mustJSON(t, map[string]any{"token": token, "password": password})}).Expect(t, http.StatusNoContent)
	return id
}

// invite creates an agent of org with sendCredentialsEmail and returns its id and the
// set-password token its email carries.
func invite(t testing.TB, s *apitest.Server, org, email, role string) (string, string) {
	t.Helper()
	unit := "bu_" + strings.NewReplacer("@", "_", ".", "_").Replace(email)
	s.BusinessUnits(org, unit)
	body := mustJSON(t, map[string]any{"email": email, "name": "Ana", "role": role, "language": "en",
		"businessUnitId": unit, "sendCredentialsEmail": true})
	a := s.As(org, auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+org+"/agents", body).Expect(t, http.StatusCreated).JSON(t)
	return a["id"].(string), mailedToken(t, s, email)
}

// mailedToken is the token of the newest set-password email to email.
func mailedToken(t testing.TB, s *apitest.Server, email string) string {
	t.Helper()
	o := s.Deps.Mail.(*outbox.Outbox)
	names, err := outbox.List(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for i := len(names) - 1; i >= 0; i-- {
		m, err := outbox.Read(o.Dir(), names[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(m.To) == 1 && m.To[0].Address == email {
			j := strings.Index(m.Text, "token=")
			return m.Text[j+len("token=") : j+len("token=")+43]
		}
	}
	t.Fatalf("no email to %s", email)
	return ""
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func login(s *apitest.Server, email, pw string) apitest.Response {
	b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	return s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, Body: b})
}

// claims decodes a token's payload (the tests trust it: the API verified it).
func claims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func signIn(t testing.TB, s *apitest.Server, email string) (string, map[string]any) {
	t.Helper()
	r := login(s, email, password).Expect(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login answer Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	m := r.JSON(t)
	return m["token"].(string), m
}

func bearer(s *apitest.Server, method, path, tok string, body []byte) apitest.Response {
	return s.Do(apitest.Request{Method: method, Path: path, Token: tok, Body: body})
}

func setting(t testing.TB, s *apitest.Server, org, area string, patch map[string]any) {
	t.Helper()
	s.As(org, auth.RoleAdmin, http.MethodPatch, "/v1/orgs/"+org+"/settings/"+area, mustJSON(t, patch),
		"Content-Type", "application/merge-patch+json").Expect(t, http.StatusOK)
}

// An invited agent sets a password through the emailed link (once), signs in, and the
// token works on the API as that agent.
func TestInvitedAgentSignsIn(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id, link := invite(t, s, "acme", "ana@example.com", auth.RoleAgentManager)
	// Before the password is set there is nothing to sign in with.
	login(s, "ana@example.com", password).Expect(t, http.StatusUnauthorized)
	setPw := func(tok, pw string) apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.SetPasswordPath, Body: mustJSON(t, map[string]any{"token": tok, "password": pw})})
	}
	setPw(strings.Repeat("A", 43), password).Expect(t, http.StatusUnprocessableEntity)
	setPw("short", password).Expect(t, http.StatusUnprocessableEntity)
	setPw(link, password).Expect(t, http.StatusNoContent)
	if r := setPw(link, "Another-pass-1"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"token"`) {
		t.Errorf("a used link: %d %s, want 422 on token", r.Status, r.Body)
	}
	tok, m := signIn(t, s, " Ana@Example.com ")
	if m["mustChangePassword"] != false {
		t.Errorf("login answer %v", m)
	}
	c := claims(t, tok)
	exp, _ := time.Parse(time.RFC3339, m["expiresAt"].(string))
	if c["sub"] != id || c["org_id"] != "acme" || c["role"] != auth.RoleAgentManager || c["sid"] == "" || c["scope"] != nil ||
		c["iss"] != s.Deps.Issuer || c["aud"] != s.Deps.Audience || int64(c["exp"].(float64)) != exp.Unix() ||
		exp.Sub(s.Now) != signinfn.AccessTokenLifetime {
		t.Errorf("claims %v, expiresAt %v", c, exp)
	}
	me := bearer(s, http.MethodGet, "/v1/me", tok, nil).Expect(t, http.StatusOK).JSON(t)
	if me["sub"] != id || me["orgId"] != "acme" {
		t.Errorf("/v1/me with the signed-in token: %v", me)
	}
	bearer(s, http.MethodGet, "/v1/orgs/acme/agents/"+id, tok, nil).Expect(t, http.StatusOK)
	bearer(s, http.MethodGet, "/v1/orgs/globex/agents", tok, nil).Expect(t, http.StatusNotFound)
	// The password is not in the agent, the audit log or the answer.
	audit := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, http.StatusOK).Body
	if strings.Contains(string(audit), password) || !strings.Contains(string(audit), `"password-set"`) {
		t.Errorf("audit: %s", audit)
	}
}

// The policy applies to set-password; an expired link is refused as such.
func TestSetPasswordPolicyAndExpiry(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	setting(t, s, "acme", "password-policy", map[string]any{"enforce": true, "minLength": 12, "minDigits": 1})
	_, link := invite(t, s, "acme", "ana@example.com", auth.RoleAgent)
	set := func(pw string) apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.SetPasswordPath, Body: mustJSON(t, map[string]any{"token": link, "password": pw})})
	}
	if r := set("short"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "password") {
		t.Errorf("a weak password: %d %s", r.Status, r.Body)
	}
	s.SetNow(s.Now.Add(72*time.Hour + time.Second))
	if r := set(password); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "expired") {
		t.Errorf("after 72 hours: %d %s", r.Status, r.Body)
	}
	s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.SetPasswordPath, Body: []byte(`{"token":"x","password":"y","extra":1}`)}).Expect(t, http.StatusBadRequest)
	s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.SetPasswordPath, Body: []byte(`{"Token":"x","password":"y"}`)}).Expect(t, http.StatusBadRequest)
}

// Unknown emails and wrong passwords get the same answer; a disabled agent never signs
// in; an SSO-only organisation refuses passwords.
func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	unknown := login(s, "nobody@example.com", password).Expect(t, http.StatusUnauthorized).JSON(t)
	wrong := login(s, "ana@example.com", "wrong-password").Expect(t, http.StatusUnauthorized).JSON(t)
	delete(unknown, "requestId")
	delete(wrong, "requestId")
	if mustString(t, unknown) != mustString(t, wrong) {
		t.Errorf("unknown email %v and wrong password %v differ", unknown, wrong)
	}
	for _, body := range []string{`{"email":"ana@example.com"}`, `{"password":"x"}`, `{"email":"","password":"x"}`} {
		s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, Body: []byte(body)}).Expect(t, http.StatusUnprocessableEntity)
	}
	s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, Body: []byte(`{"EMAIL":"ana@example.com","password":"x"}`)}).Expect(t, http.StatusBadRequest)
	s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, Body: mustJSON(t, map[string]string{"email": "ana@example.com", "password": strings.Repeat("x", 513)})}).Expect(t, http.StatusUnprocessableEntity)

	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, http.StatusOK)
	if r := login(s, "ana@example.com", password); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "disabled") {
		t.Errorf("disabled agent, right password: %d %s", r.Status, r.Body)
	}
	login(s, "ana@example.com", "wrong-password").Expect(t, http.StatusUnauthorized)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/enable", nil).Expect(t, http.StatusOK)
	signIn(t, s, "ana@example.com")

	setting(t, s, "acme", "sso", map[string]any{"enabled": true, "provider": "google", "allowPasswordLogin": false})
	if r := login(s, "ana@example.com", password); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "single sign-on") {
		t.Errorf("SSO-only organisation: %d %s", r.Status, r.Body)
	}
	setting(t, s, "acme", "sso", map[string]any{"allowPasswordLogin": true})
	signIn(t, s, "ana@example.com")
}

func mustString(t testing.TB, v any) string { return string(mustJSON(t, v)) }

// security.loginAttempts consecutive failures suspend the agent (423, audited, even with
// the right password) until an admin enables it; a success in between starts the count
// again.
func TestSuspensionAfterFailures(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	setting(t, s, "acme", "security", map[string]any{"loginAttempts": 3})
	id := agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	for range 2 {
		login(s, "ana@example.com", "wrong").Expect(t, http.StatusUnauthorized)
	}
	signIn(t, s, "ana@example.com") // the count starts again
	for range 2 {
		login(s, "ana@example.com", "wrong").Expect(t, http.StatusUnauthorized)
	}
	if r := login(s, "ana@example.com", "wrong"); r.Status != http.StatusLocked || !strings.Contains(string(r.Body), "3 failed") {
		t.Fatalf("the third failure in a row: %d %s, want 423", r.Status, r.Body)
	}
	login(s, "ana@example.com", password).Expect(t, http.StatusLocked)
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/agents/"+id, nil).Expect(t, http.StatusOK).JSON(t)
	if a["suspendedAt"] == nil {
		t.Errorf("the agent does not show the suspension: %v", a)
	}
	audit := string(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, http.StatusOK).Body)
	if !strings.Contains(audit, `"suspended"`) || !strings.Contains(audit, signinfn.SuspensionActor) || strings.Contains(audit, "wrong") {
		t.Errorf("audit: %s", audit)
	}
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/enable", nil).Expect(t, http.StatusOK)
	signIn(t, s, "ana@example.com")
	// An inherited setting applies: a sub-organisation's agent follows acme's 3.
	sub := s.SubOrg("acme", "Acme EU")
	agent(t, s, sub, "eva@example.com", auth.RoleAgent)
	for range 2 {
		login(s, "eva@example.com", "wrong").Expect(t, http.StatusUnauthorized)
	}
	login(s, "eva@example.com", "wrong").Expect(t, http.StatusLocked)
}

// An admin's reset (mustChangePassword) and an expired password sign in with a token that
// only changes the password; after the change, a refresh gives a full token.
func TestMustChangePassword(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := agent(t, s, "acme", "ana@example.com", auth.RoleAdmin)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/password", mustJSON(t, map[string]string{"password": "Temporary-1"})).Expect(t, http.StatusOK)
	r := login(s, "ana@example.com", "Temporary-1").Expect(t, http.StatusOK).JSON(t)
	tok := r["token"].(string)
	if r["mustChangePassword"] != true || claims(t, tok)["scope"] != auth.ScopePassword {
		t.Fatalf("after an admin reset: %v %v", r, claims(t, tok))
	}
	if r := bearer(s, http.MethodGet, "/v1/orgs/acme/settings/general", tok, nil); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "agents/me/password") {
		t.Errorf("a password-scope token on settings: %d %s", r.Status, r.Body)
	}
	bearer(s, http.MethodGet, "/v1/me", tok, nil).Expect(t, http.StatusOK)
	bearer(s, http.MethodPost, "/v1/orgs/acme/agents/me/password", tok, mustJSON(t, map[string]string{"current": "Temporary-1", "new": password})).Expect(t, http.StatusOK)
	fresh := bearer(s, http.MethodPost, signinfn.RefreshPath, tok, nil).Expect(t, http.StatusOK).JSON(t)
	if fresh["mustChangePassword"] != false || claims(t, fresh["token"].(string))["scope"] != nil {
		t.Errorf("refresh after the change: %v", fresh)
	}
	bearer(s, http.MethodGet, "/v1/orgs/acme/settings/general", fresh["token"].(string), nil).Expect(t, http.StatusOK)

	// Expiry under the enforced policy.
	setting(t, s, "acme", "password-policy", map[string]any{"enforce": true, "expiryDays": 30})
	s.SetNow(s.Now.Add(30 * 24 * time.Hour))
	if r := login(s, "ana@example.com", password).Expect(t, http.StatusOK).JSON(t); r["mustChangePassword"] != true {
		t.Errorf("after 30 days: %v", r)
	}
}

// Refresh within the idle timeout gives a fresh token of the same session, even from an
// expired access token; after the timeout, or once logged out, 401.
func TestSessions(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	setting(t, s, "acme", "security", map[string]any{"sessionTimeoutMinutes": 30})
	agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	start := s.Now
	tok, _ := signIn(t, s, "ana@example.com")
	sid := claims(t, tok)["sid"]
	// 29 minutes later the access token (15 minutes) has expired, the session has not.
	s.SetNow(start.Add(29 * time.Minute))
	bearer(s, http.MethodGet, "/v1/me", tok, nil).Expect(t, http.StatusUnauthorized)
	r := bearer(s, http.MethodPost, signinfn.RefreshPath, tok, nil).Expect(t, http.StatusOK).JSON(t)
	next := r["token"].(string)
	if c := claims(t, next); c["sid"] != sid || int64(c["iat"].(float64)) != s.Now.Unix() {
		t.Errorf("refreshed claims %v", c)
	}
	bearer(s, http.MethodGet, "/v1/me", next, nil).Expect(t, http.StatusOK)
	// Activity moved: 29 more minutes is still within 30.
	s.SetNow(start.Add(58 * time.Minute))
	next = bearer(s, http.MethodPost, signinfn.RefreshPath, next, nil).Expect(t, http.StatusOK).JSON(t)["token"].(string)
	// 30 minutes idle: over.
	s.SetNow(start.Add(88 * time.Minute))
	if r := bearer(s, http.MethodPost, signinfn.RefreshPath, next, nil); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "30 minutes") {
		t.Errorf("after 30 idle minutes: %d %s", r.Status, r.Body)
	}
	s.SetNow(start.Add(89 * time.Minute))
	bearer(s, http.MethodPost, signinfn.RefreshPath, next, nil).Expect(t, http.StatusUnauthorized)

	// Logout ends the session at once (idempotent); the refresh route refuses it.
	tok, _ = signIn(t, s, "ana@example.com")
	bearer(s, http.MethodPost, signinfn.LogoutPath, tok, nil).Expect(t, http.StatusNoContent)
	bearer(s, http.MethodPost, signinfn.LogoutPath, tok, nil).Expect(t, http.StatusNoContent)
	bearer(s, http.MethodPost, signinfn.RefreshPath, tok, nil).Expect(t, http.StatusUnauthorized)
	// Tokens not ours, or for no session.
	for name, bad := range map[string]string{"none": "", "garbage": "abc.def.ghi", "dev token": s.Token("acme", auth.RoleAdmin)} {
		bearer(s, http.MethodPost, signinfn.RefreshPath, bad, nil).Expect(t, http.StatusUnauthorized)
		if r := bearer(s, http.MethodPost, signinfn.LogoutPath, bad, nil); r.Status != http.StatusUnauthorized && !(name == "dev token" && r.Status == http.StatusNoContent) {
			t.Errorf("logout with %s: %d", name, r.Status)
		}
	}
}

// A refresh re-reads the agent: a disable or a suspension ends the session, a role change
// shows in the next token.
func TestRefreshFollowsTheAgent(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	tok, _ := signIn(t, s, "ana@example.com")
	s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"role":"agent_manager"}`), "Content-Type", "application/merge-patch+json").Expect(t, http.StatusOK)
	tok = bearer(s, http.MethodPost, signinfn.RefreshPath, tok, nil).Expect(t, http.StatusOK).JSON(t)["token"].(string)
	if claims(t, tok)["role"] != auth.RoleAgentManager {
		t.Errorf("role after the change: %v", claims(t, tok))
	}
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, http.StatusOK)
	bearer(s, http.MethodPost, signinfn.RefreshPath, tok, nil).Expect(t, http.StatusUnauthorized)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/enable", nil).Expect(t, http.StatusOK)
	// The session stays ended: enabling does not revive it.
	bearer(s, http.MethodPost, signinfn.RefreshPath, tok, nil).Expect(t, http.StatusUnauthorized)
}

// The public routes are limited per source address (429 with Retry-After) and login per
// account as well.
func TestThrottling(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	from := func(addr, email string) apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, RemoteAddr: addr,
			Body: mustJSON(t, map[string]string{"email": email, "password": "wrong"})})
	}
	// Per account: 10 attempts at once from ten addresses, the 11th refused whatever its
	// address (the clock stands still, so nothing refills).
	setting(t, s, "acme", "security", map[string]any{"loginAttempts": 20})
	for i := range 10 {
		from("198.51.100."+itoa(i)+":1", "ana@example.com").Expect(t, http.StatusUnauthorized)
	}
	r := from("198.51.100.99:1", "ANA@example.com")
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("the 11th attempt on one account: %d %v", r.Status, r.Header)
	}
	// Per address: 30 requests, then 429, other addresses unaffected.
	for i := range 30 {
		from("203.0.113.7:1", "nobody"+itoa(i)+"@example.com").Expect(t, http.StatusUnauthorized)
	}
	from("203.0.113.7:2", "someone@example.com").Expect(t, http.StatusTooManyRequests)
	s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.RefreshPath, RemoteAddr: "203.0.113.7:3"}).Expect(t, http.StatusTooManyRequests)
	from("203.0.113.8:1", "someone@example.com").Expect(t, http.StatusUnauthorized)
	// Time refills.
	s.SetNow(s.Now.Add(time.Minute))
	from("203.0.113.7:2", "someone@example.com").Expect(t, http.StatusUnauthorized)
}

func itoa(i int) string { return strconv.Itoa(i) }

// A password hashed with older parameters is re-hashed with passwords.DefaultParams at the
// next sign-in (audited, no password material), and still signs in afterwards.
func TestRehashOnSignIn(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	ctx := t.Context()
	old := passwords.Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	oldHash, err := old.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := s.Deps.Agents.Get(ctx, "acme", id)
	c, _, _ := s.Deps.Agents.Credentials(ctx, "acme", id)
	next := a
	next.Version++
	nc := c
	nc.PasswordHash = oldHash
	if err := s.Deps.Agents.SetCredentials(ctx, "acme", next, nc, c, audit.Entry{ID: audit.NewID(s.Now), OrgID: "acme", At: s.Now, Actor: "seed",
		Area: agents.AuditArea, Action: "seed", Changes: []audit.Change{}}); err != nil {
		t.Fatal(err)
	}
	signIn(t, s, "ana@example.com")
	c, _, _ = s.Deps.Agents.Credentials(ctx, "acme", id)
	if p, _, _, err := passwords.ParseHash(c.PasswordHash); err != nil || p != passwords.DefaultParams || c.PasswordHash == oldHash {
		t.Errorf("after the sign-in the hash has parameters %+v (%v), want DefaultParams", p, err)
	}
	if len(c.History) != len(nc.History) {
		t.Errorf("the upgrade changed the history: %d entries, want %d", len(c.History), len(nc.History))
	}
	signIn(t, s, "ana@example.com")
	entries := string(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, http.StatusOK).Body)
	if strings.Count(entries, `"password-rehashed"`) != 1 || strings.Contains(entries, "argon2") {
		t.Errorf("audit: %s", entries)
	}
}
