package agentsfn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/outbox"
)

func body(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func fields(t *testing.T, r apitest.Response) map[string]string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Message string }
	}
	_ = json.Unmarshal(r.Body, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Message
	}
	return out
}

func valid(email string) map[string]any {
	return map[string]any{"email": email, "name": "Ana Silva", "role": "agent", "language": "en", "businessUnitId": "bu_support",
		"sendCredentialsEmail": false}
}

func create(t *testing.T, s *apitest.Server, req map[string]any) map[string]any {
	t.Helper()
	return s.Admin(http.MethodPost, "/v1/orgs/acme/agents", body(req)).Expect(t, 201).JSON(t)
}

// Create, read, search, patch, disable, enable an agent; DELETE is refused.
func TestAgentLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	req := valid("  Ana.Silva@Example.COM ")
	req["landline"], req["mobile"], req["language"] = "+44 20 7946 0958", "", "pt-br"
	created := s.Admin(http.MethodPost, "/v1/orgs/acme/agents", body(req)).Expect(t, 201)
	a := created.JSON(t)
	id := a["id"].(string)
	if !strings.HasPrefix(id, "agent_") || a["email"] != "ana.silva@example.com" || a["language"] != "pt-BR" ||
		a["landline"] != "+442079460958" || a["mobile"] != nil || a["status"] != "active" || a["version"] != 1.0 ||
		a["credentialsEmailSent"] != false || fmt.Sprint(a["businessUnitIds"]) != "[bu_support]" {
		t.Errorf("created %v", a)
	}
	if created.Header.Get("ETag") != `"1"` || created.Header.Get("Location") != "/v1/orgs/acme/agents/"+id {
		t.Errorf("ETag %q Location %q", created.Header.Get("ETag"), created.Header.Get("Location"))
	}
	got := s.As("acme", auth.RoleCompliance, http.MethodGet, "/v1/orgs/acme/agents/"+id, nil).Expect(t, 200)
	if got.Header.Get("ETag") != `"1"` || got.JSON(t)["name"] != "Ana Silva" {
		t.Errorf("get: %s %s", got.Header.Get("ETag"), got.Body)
	}
	// PATCH: the email is never editable; If-Match; null removes the landline.
	p := s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"email":"x@example.com"}`)).Expect(t, 422)
	if !strings.Contains(fields(t, p)["email"], "cannot be changed") {
		t.Errorf("email patch: %s", p.Body)
	}
	s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"name":"Ana B"}`), "If-Match", `"7"`).Expect(t, 412)
	pt := s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"name":" Ana B ","landline":null,"maxChats":4}`), "If-Match", `"1"`).Expect(t, 200)
	if pt.Header.Get("ETag") != `"2"` || pt.JSON(t)["name"] != "Ana B" || pt.JSON(t)["landline"] != nil || pt.JSON(t)["maxChats"] != 4.0 {
		t.Errorf("patch: %s %s", pt.Header.Get("ETag"), pt.Body)
	}
	// The same values again are not a write.
	if r := s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"name":"Ana B"}`)).Expect(t, 200); r.Header.Get("ETag") != `"2"` {
		t.Errorf("unchanged patch moved the version: %s", r.Header.Get("ETag"))
	}
	// DELETE: 405, with Allow and what to do instead.
	del := s.Admin(http.MethodDelete, "/v1/orgs/acme/agents/"+id, nil).Expect(t, 405)
	if !strings.Contains(string(del.Body), "disable the agent instead") || del.Header.Get("Allow") != "GET, HEAD, PATCH" {
		t.Errorf("delete: %s Allow %q", del.Body, del.Header.Get("Allow"))
	}
	// Disable, search by status, enable.
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil, "If-Match", `"1"`).Expect(t, 412)
	if d := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 200).JSON(t); d["status"] != "disabled" || d["version"] != 3.0 {
		t.Errorf("disable: %v", d)
	}
	if d := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 200).JSON(t); d["version"] != 3.0 {
		t.Errorf("disabling a disabled agent wrote: %v", d)
	}
	list := s.Admin(http.MethodGet, "/v1/orgs/acme/agents?status=disabled&search=ANA", nil).Expect(t, 200).JSON(t)["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("search disabled: %v", list)
	}
	if list := s.Admin(http.MethodGet, "/v1/orgs/acme/agents?status=active", nil).Expect(t, 200).JSON(t)["items"].([]any); len(list) != 0 {
		t.Errorf("search active: %v", list)
	}
	if e := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/enable", nil, "If-Match", `"3"`).Expect(t, 200).JSON(t); e["status"] != "active" {
		t.Errorf("enable: %v", e)
	}
	// Audit: create, patch, disable, enable with their field changes.
	var page struct {
		Items []struct {
			Action  string
			Changes []struct{ Field string }
		}
	}
	if err := json.Unmarshal(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, 200).Body, &page); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, it := range page.Items {
		actions = append(actions, it.Action)
	}
	if !slices.Equal(actions, []string{"enable", "disable", "patch", "create"}) {
		t.Errorf("audit actions %v", actions)
	}
	if len(page.Items) == 4 {
		var fs []string
		for _, c := range page.Items[2].Changes {
			fs = append(fs, c.Field)
		}
		slices.Sort(fs)
		if !slices.Equal(fs, []string{"profile.landline", "profile.maxChats", "profile.name"}) {
			t.Errorf("patch audited fields %v", fs)
		}
	}
}

// Every failing field of a create is named with its message, all at once.
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, c := range []struct {
		name  string
		edit  func(m map[string]any)
		field string
		msg   string
	}{
		{"email missing", func(m map[string]any) { delete(m, "email") }, "email", "required"},
		{"email display name", func(m map[string]any) { m["email"] = "Ana <ana@example.com>" }, "email", "must be a bare address"},
		{"email invisible", func(m map[string]any) { m["email"] = "ana\u200b@example.com" }, "email", "must not contain control"},
		{"name blank", func(m map[string]any) { m["name"] = "  " }, "name", ""},
		{"name missing", func(m map[string]any) { delete(m, "name") }, "name", "required"},
		{"role unknown", func(m map[string]any) { m["role"] = "role_nope" }, "role", "no such role"},
		{"role malformed", func(m map[string]any) { m["role"] = "Chief Boss!" }, "role", "must be a role id"},
		{"language", func(m map[string]any) { m["language"] = "en_US" }, "language", "must be one BCP 47 language tag"},
		{"business unit malformed", func(m map[string]any) { m["businessUnitId"] = "bu 1" }, "businessUnitId", "must be a business unit id"},
		{"business unit missing", func(m map[string]any) { m["businessUnitId"] = "bu_gone" }, "businessUnitId", "no such business unit"},
		{"send flag missing", func(m map[string]any) { delete(m, "sendCredentialsEmail") }, "sendCredentialsEmail", "required"},
		{"landline national", func(m map[string]any) { m["landline"] = "020 7946 0958" }, "landline", "must be in international format"},
		{"mobile letters", func(m map[string]any) { m["mobile"] = "+1 800 FLOWERS" }, "mobile", "must hold only digits"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := valid(fmt.Sprintf("v%d@example.com", len(c.name)))
			c.edit(m)
			r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents", body(m)).Expect(t, 422)
			if msg, ok := fields(t, r)[c.field]; !ok || !strings.Contains(msg, c.msg) {
				t.Errorf("%s: %s", c.field, r.Body)
			}
		})
	}
	// Strict decoding: unknown and wrongly cased fields, duplicate keys are 400.
	for _, raw := range []string{`{"Email":"a@example.com"}`, `{"email":"a@example.com","email":"b@example.com"}`, `[1]`, `{"status":"active"}`} {
		s.Admin(http.MethodPost, "/v1/orgs/acme/agents", []byte(raw)).Expect(t, 400)
	}
	// A custom role of the organisation is accepted; another organisation's is not.
	role := s.Admin(http.MethodPost, "/v1/orgs/acme/roles", body(map[string]any{"name": "Leads", "permissions": []string{}})).Expect(t, 201).JSON(t)["id"].(string)
	m := valid("lead@example.com")
	m["role"] = role
	create(t, s, m)
	m = valid("lead2@example.com")
	m["role"] = role
	if r := s.As("other", auth.RoleAdmin, http.MethodPost, "/v1/orgs/other/agents", body(m)).Expect(t, 422); !strings.Contains(fields(t, r)["role"], "no such role") {
		t.Errorf("another organisation's role: %s", r.Body)
	}
	// The role now has a holder: it cannot be deleted.
	s.Admin(http.MethodDelete, "/v1/orgs/acme/roles/"+role, nil).Expect(t, 409)
}

// Two creates of one email at once, in two organisations: one 201, one 409.
func TestRacingCreatesOfOneEmail(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.BusinessUnits("other", "bu_support")
	const n = 6
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			org := []string{"acme", "other"}[i%2]
			r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/orgs/" + org + "/agents", Token: s.Token(org, auth.RoleAdmin),
				Body: body(valid("race@example.com"))})
			codes[i], bodies[i] = r.Status, string(r.Body)
		})
	}
	wg.Wait()
	won := 0
	for i, c := range codes {
		switch c {
		case 201:
			won++
		case 409:
			if !strings.Contains(bodies[i], "an agent may need a different email for each dashboard") {
				t.Errorf("409 without the rule: %s", bodies[i])
			}
		default:
			t.Errorf("create %d: %d %s", i, c, bodies[i])
		}
	}
	if won != 1 {
		t.Errorf("%d creates won, want 1 (%v)", won, codes)
	}
}

// Another organisation's agent is 404; malformed ids too.
func TestOtherOrganisation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v1/orgs/other/agents/" + id},
		{http.MethodPatch, "/v1/orgs/other/agents/" + id},
		{http.MethodPost, "/v1/orgs/other/agents/" + id + "/disable"},
		{http.MethodPost, "/v1/orgs/other/agents/" + id + "/enable"},
		{http.MethodGet, "/v1/orgs/other/agents/not%20an%20id"},
	} {
		var b []byte
		if r.method == http.MethodPatch {
			b = []byte(`{"name":"x"}`)
		}
		s.As("other", auth.RoleAdmin, r.method, r.path, b).Expect(t, 404)
	}
	if list := s.As("other", auth.RoleAdmin, http.MethodGet, "/v1/orgs/other/agents", nil).Expect(t, 200).JSON(t)["items"].([]any); len(list) != 0 {
		t.Errorf("another organisation lists %v", list)
	}
	// A token of acme on other's path: 404, whatever the role.
	s.As("acme", auth.RoleAdmin, http.MethodGet, "/v1/orgs/other/agents", nil).Expect(t, 404)
}

// Reads need agents.read, writes agents.manage, for each predefined role.
func TestPermissions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	readers := map[string]bool{auth.RoleAdmin: true, auth.RoleAgentManager: true, auth.RoleClientManager: true, auth.RoleCompliance: true}
	for _, role := range []string{auth.RoleAdmin, auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent} {
		read := 403
		if readers[role] {
			read = 200
		}
		s.As("acme", role, http.MethodGet, "/v1/orgs/acme/agents", nil).Expect(t, read)
		s.As("acme", role, http.MethodGet, "/v1/orgs/acme/agents/"+id, nil).Expect(t, read)
		if role == auth.RoleAdmin {
			continue
		}
		s.As("acme", role, http.MethodPost, "/v1/orgs/acme/agents", body(valid(role+"@example.com"))).Expect(t, 403)
		s.As("acme", role, http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"name":"x"}`)).Expect(t, 403)
		s.As("acme", role, http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 403)
		s.As("acme", role, http.MethodDelete, "/v1/orgs/acme/agents/"+id, nil).Expect(t, 403)
	}
}

// Disable is refused while the agent has open chats, listing them.
func TestDisableWithOpenChats(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct{ id, status string }{{"chat-1", chats.StatusOpen}, {"chat-2", chats.StatusOpen}, {"chat-3", chats.StatusClosed}} {
		ch := chats.Chat{OrgID: "acme", ChatID: c.id, Status: c.status, Channel: "web", BusinessUnitID: "bu_support", AgentID: id,
			User: chats.User{ID: "u-" + c.id}, StartedAt: now, StatusAt: now, LastActivityAt: now}
		if err := s.Deps.Chats.Save(context.Background(), chats.Change{Chat: &ch}); err != nil {
			t.Fatal(err)
		}
	}
	r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 409)
	var p struct {
		Chats       []string `json:"chats"`
		StickyUsers []string `json:"stickyUsers"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	slices.Sort(p.Chats)
	if !slices.Equal(p.Chats, []string{"chat-1", "chat-2"}) || p.StickyUsers == nil || len(p.StickyUsers) != 0 {
		t.Errorf("409: %s", r.Body)
	}
	if a := s.Admin(http.MethodGet, "/v1/orgs/acme/agents/"+id, nil).Expect(t, 200).JSON(t); a["status"] != "active" {
		t.Errorf("refused disable changed the agent: %v", a)
	}
}

// Disable is refused while users are stuck to the agent, listing them; once they are
// unstuck ("User Sticky Changed" with agentId null), and the chats closed, it succeeds.
func TestDisableWithStickyUsers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, u := range []string{"u2", "u1"} {
		if err := s.Deps.Sticky.Apply(context.Background(), "acme", u, id, now); err != nil {
			t.Fatal(err)
		}
	}
	r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 409)
	var p struct {
		Chats       []string `json:"chats"`
		StickyUsers []string `json:"stickyUsers"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Chats) != 0 || !slices.Equal(p.StickyUsers, []string{"u1", "u2"}) {
		t.Errorf("409: %s", r.Body)
	}
	for _, u := range []string{"u1", "u2"} {
		if err := s.Deps.Sticky.Apply(context.Background(), "acme", u, "", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if a := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 200).JSON(t); a["status"] != "disabled" {
		t.Errorf("disable once unstuck: %v", a)
	}
}

// The set-password email carries the link; neither the audit log nor the logs carry the
// token or its hash.
func TestInvitationSecretsStayOut(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	s := apitest.NewWithLogger(t, slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s.BusinessUnits("acme", "bu_support", "bu_sales")
	req := valid("ana@example.com")
	req["sendCredentialsEmail"] = true
	a := create(t, s, req)
	if a["credentialsEmailSent"] != true {
		t.Fatalf("created %v", a)
	}
	// The token is in the email only.
	o := s.Deps.Mail.(*outbox.Outbox)
	names, err := outbox.List(o.Dir())
	if err != nil || len(names) != 1 {
		t.Fatalf("outbox: %v, %v", names, err)
	}
	m, err := outbox.Read(o.Dir(), names[0])
	if err != nil {
		t.Fatal(err)
	}
	mail := m.Text
	i := strings.Index(mail, "token=")
	if i < 0 || len(m.To) != 1 || m.To[0].Address != "ana@example.com" {
		t.Fatalf("no set-password link to ana@example.com: %q", mail)
	}
	token := mail[i+len("token=") : i+len("token=")+43]
	c, found, err := s.Deps.Agents.Credentials(context.Background(), "acme", a["id"].(string))
	if err != nil || !found || c.Invitation == nil {
		t.Fatalf("credentials: %v %v", found, err)
	}
	auditBody := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, 200).Body
	page, _ := s.Deps.Settings.(interface {
		ListAudit(context.Context, string, audit.Query) (audit.Page, error)
	}).ListAudit(context.Background(), "acme", audit.Query{Limit: 100})
	stored, _ := json.Marshal(page)
	mu.Lock()
	logged := logs.String()
	mu.Unlock()
	for name, hay := range map[string]string{"audit answer": string(auditBody), "stored audit": string(stored), "logs": logged,
		"agent answer": string(body(a))} {
		for _, secret := range []string{token, c.Invitation.TokenHash} {
			if strings.Contains(hay, secret) {
				t.Errorf("the %s carries a secret", name)
			}
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Search pages with a signed cursor bound to the query; bad queries are 400 or 422.
func TestSearchPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := range 5 {
		create(t, s, valid(fmt.Sprintf("p%d@example.com", i)))
	}
	var seen []string
	path := "/v1/orgs/acme/agents?limit=2&search=example"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pages do not end")
		}
		out := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)
		for _, it := range out["items"].([]any) {
			seen = append(seen, it.(map[string]any)["email"].(string))
		}
		next, _ := out["nextCursor"].(string)
		if next == "" {
			break
		}
		// The cursor is bound to the query.
		s.Admin(http.MethodGet, "/v1/orgs/acme/agents?limit=2&search=other&cursor="+next, nil).Expect(t, 400)
		path = "/v1/orgs/acme/agents?limit=2&search=example&cursor=" + next
	}
	if len(seen) != 5 {
		t.Errorf("paged through %v", seen)
	}
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?limit=x", nil).Expect(t, 400)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?limit=0", nil).Expect(t, 422)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?limit=101", nil).Expect(t, 422)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?status=gone", nil).Expect(t, 422)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?search="+strings.Repeat("a", 101), nil).Expect(t, 422)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?search=%E2%80%8B", nil).Expect(t, 422)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?cursor=forged.cursor", nil).Expect(t, 400)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?status=active&status=disabled", nil).Expect(t, 400)
}

// An admin's reset sets a password the agent must change, spends the invitation, and
// never reaches the audit log or the logs; force-password-change sets the flag.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	s := apitest.NewWithLogger(t, slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s.BusinessUnits("acme", "bu_support", "bu_sales")
	req := valid("ana@example.com")
	req["sendCredentialsEmail"] = true
	id := create(t, s, req)["id"].(string)
	before, _, _ := s.Deps.Agents.Credentials(context.Background(), "acme", id)
	path := "/v1/orgs/acme/agents/" + id + "/password"
	if r := s.Admin(http.MethodPost, path, []byte(`{"password":""}`)).Expect(t, 422); fields(t, r)["password"] == "" {
		t.Errorf("empty password: %s", r.Body)
	}
	if r := s.Admin(http.MethodPost, path, []byte(`{}`)).Expect(t, 422); fields(t, r)["password"] != "required" {
		t.Errorf("missing password: %s", r.Body)
	}
	s.Admin(http.MethodPost, path, []byte(`{"Password":"x"}`)).Expect(t, 400)
	s.As("acme", auth.RoleAgentManager, http.MethodPost, path, []byte(`{"password":"Secret-Pa55"}`)).Expect(t, 403)
	s.Admin(http.MethodPost, path, []byte(`{"password":"Secret-Pa55"}`), "If-Match", `"9"`).Expect(t, 412)
	const password = "Tr0ub4dor&3-horse"
	a := s.Admin(http.MethodPost, path, body(map[string]string{"password": password}), "If-Match", `"1"`).Expect(t, 200).JSON(t)
	if a["mustChangePassword"] != true || a["passwordChangedAt"] == nil || a["version"] != 2.0 {
		t.Errorf("after reset: %v", a)
	}
	c, _, err := s.Deps.Agents.Credentials(context.Background(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := passwords.VerifyPassword(c.PasswordHash, password); !ok || err != nil {
		t.Errorf("the stored hash does not verify the password: %v", err)
	}
	if c.Invitation != nil {
		t.Error("the invitation survived the reset")
	}
	if _, found, _ := s.Deps.Agents.Invitation(context.Background(), before.Invitation.TokenHash); found {
		t.Error("the invitation is still indexed")
	}
	// Force a change on an agent that must already change: no write.
	if r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/force-password-change", nil).Expect(t, 200); r.Header.Get("ETag") != `"2"` {
		t.Errorf("force on a forced agent wrote: %s", r.Header.Get("ETag"))
	}
	other := create(t, s, valid("bo@example.com"))["id"].(string)
	if f := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+other+"/force-password-change", nil, "If-Match", `"1"`).Expect(t, 200).JSON(t); f["mustChangePassword"] != true {
		t.Errorf("force: %v", f)
	}
	s.As("other", auth.RoleAdmin, http.MethodPost, "/v1/orgs/other/agents/"+id+"/password", body(map[string]string{"password": password})).Expect(t, 404)
	// Neither the password nor its hash is in the audit log (answer or store) or the logs.
	auditBody := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, 200)
	var page struct{ Items []struct{ Action string } }
	_ = json.Unmarshal(auditBody.Body, &page)
	if !slices.ContainsFunc(page.Items, func(it struct{ Action string }) bool { return it.Action == "password-reset" }) {
		t.Errorf("audit: %s", auditBody.Body)
	}
	stored, _ := s.Deps.Settings.(interface {
		ListAudit(context.Context, string, audit.Query) (audit.Page, error)
	}).ListAudit(context.Background(), "acme", audit.Query{Limit: 100})
	storedJSON, _ := json.Marshal(stored)
	mu.Lock()
	logged := logs.String()
	mu.Unlock()
	_, _, key, _ := passwords.ParseHash(c.PasswordHash)
	for name, hay := range map[string]string{"audit answer": string(auditBody.Body), "stored audit": string(storedJSON), "logs": logged} {
		for _, secret := range []string{password, c.PasswordHash, base64.RawStdEncoding.EncodeToString(key)} {
			if strings.Contains(hay, secret) {
				t.Errorf("the %s carries password material", name)
			}
		}
	}
}

// newServer is the local API with acme's business units bu_support and bu_sales, which
// the tests' agents belong to.
func newServer(t *testing.T) *apitest.Server {
	t.Helper()
	s := apitest.New(t)
	s.BusinessUnits("acme", "bu_support", "bu_sales")
	return s
}

// Agents belong to business units that exist; a unit counts them, lists them, and cannot
// be deleted while they belong; the agent list filters by unit.
func TestBusinessUnitMembership(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	unit := func(name string) string {
		return s.Admin(http.MethodPost, "/v1/orgs/acme/business-units", body(map[string]any{"name": name})).Expect(t, 201).JSON(t)["id"].(string)
	}
	sales, vip := unit("Sales"), unit("VIP")
	m := valid("ana@example.com")
	m["businessUnitId"] = sales
	ana := create(t, s, m)["id"].(string)
	m = valid("bo@example.com")
	m["businessUnitId"] = sales
	bo := create(t, s, m)["id"].(string)
	// Another organisation's unit is no unit of acme's.
	other := s.As("other", auth.RoleAdmin, http.MethodPost, "/v1/orgs/other/business-units", body(map[string]any{"name": "Elsewhere"})).Expect(t, 201).JSON(t)["id"].(string)
	m = valid("cy@example.com")
	m["businessUnitId"] = other
	if r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents", body(m)).Expect(t, 422); fields(t, r)["businessUnitId"] != "no such business unit" {
		t.Errorf("another organisation's unit: %s", r.Body)
	}
	count := func(id string) float64 {
		return s.Admin(http.MethodGet, "/v1/orgs/acme/business-units/"+id, nil).Expect(t, 200).JSON(t)["agentCount"].(float64)
	}
	if count(sales) != 2 || count(vip) != 0 {
		t.Errorf("agentCount sales %v vip %v, want 2 and 0", count(sales), count(vip))
	}
	// PATCH names each missing unit by its index and changes nothing.
	r := s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+ana, []byte(`{"businessUnitIds":["`+vip+`","bu_gone"]}`), "Content-Type", "application/merge-patch+json").Expect(t, 422)
	if fields(t, r)["businessUnitIds[1]"] != "no such business unit" {
		t.Errorf("patch to a missing unit: %s", r.Body)
	}
	// The delete of a unit with agents is refused with their ids.
	r = s.Admin(http.MethodDelete, "/v1/orgs/acme/business-units/"+sales, nil).Expect(t, 409)
	var p struct{ Agents []string }
	_ = json.Unmarshal(r.Body, &p)
	if slices.Sort(p.Agents); !slices.Equal(p.Agents, sortedOf(ana, bo)) || !strings.Contains(string(r.Body), "2 agents belong") {
		t.Errorf("refused delete: %s", r.Body)
	}
	// The list filters by unit.
	list := func(q string) []string {
		var l struct{ Items []struct{ ID string } }
		_ = json.Unmarshal(s.Admin(http.MethodGet, "/v1/orgs/acme/agents?"+q, nil).Expect(t, 200).Body, &l)
		var out []string
		for _, a := range l.Items {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := list("businessUnitId=" + sales); !slices.Equal(got, sortedOf(ana, bo)) {
		t.Errorf("agents of sales: %v", got)
	}
	if r := s.Admin(http.MethodGet, "/v1/orgs/acme/agents?businessUnitId=bu%201", nil).Expect(t, 422); fields(t, r)["businessUnitId"] == "" {
		t.Errorf("malformed businessUnitId: %s", r.Body)
	}
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents?businessUnitId="+sales+"&businessUnitId="+vip, nil).Expect(t, 400)
	// Moving both agents out lets the unit go; the counts follow every move.
	for _, id := range []string{ana, bo} {
		s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+id, []byte(`{"businessUnitIds":["`+vip+`"]}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	}
	if count(sales) != 0 || count(vip) != 2 {
		t.Errorf("after the moves: agentCount sales %v vip %v, want 0 and 2", count(sales), count(vip))
	}
	if got := list("businessUnitId=" + vip); !slices.Equal(got, sortedOf(ana, bo)) {
		t.Errorf("agents of vip: %v", got)
	}
	s.Admin(http.MethodDelete, "/v1/orgs/acme/business-units/"+sales, nil).Expect(t, 204)
}

func sortedOf(s ...string) []string {
	slices.Sort(s)
	return s
}
