package agentsfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
)

// suspend fails the agent's sign-in limit times (limit 3), as sign-in does, at at.
func suspend(t *testing.T, s *apitest.Server, id string, at time.Time) {
	t.Helper()
	for i := 1; i <= 3; i++ {
		en := audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Actor: "signin", Area: agents.AuditArea, Action: "suspend",
			Changes: []audit.Change{{Field: "suspendedAt", From: json.RawMessage("null"), To: json.RawMessage(`"` + at.Format(time.RFC3339Nano) + `"`)}}}
		n, suspended, err := s.Deps.Agents.LoginFailed(context.Background(), "acme", id, 3, at, en)
		if err != nil || n != i || suspended != (i == 3) {
			t.Fatalf("failure %d: %d, %v, %v", i, n, suspended, err)
		}
	}
}

// lastAudit returns the newest agents audit entry.
func lastAudit(t *testing.T, s *apitest.Server) audit.Entry {
	t.Helper()
	var page struct{ Items []audit.Entry }
	if err := json.Unmarshal(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, 200).Body, &page); err != nil || len(page.Items) == 0 {
		t.Fatalf("audit: %v", err)
	}
	return page.Items[0]
}

func changedFields(e audit.Entry) []string {
	var out []string
	for _, c := range e.Changes {
		out = append(out, c.Field)
	}
	slices.Sort(out)
	return out
}

// An agent suspended by failed sign-ins shows suspendedAt (read-only) to admins, in the
// agent, the list and the status board; enable lifts it (200, audited as a change of
// suspendedAt, the count reset); an active agent that is not suspended enables as a no-op.
func TestEnableLiftsASuspension(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	path := "/v1/orgs/acme/agents/" + id
	if r := s.Admin(http.MethodPost, path+"/enable", nil).Expect(t, 200); r.Header.Get("ETag") != `"1"` || r.JSON(t)["suspendedAt"] != nil {
		t.Errorf("enable of an active agent: %s %s", r.Header.Get("ETag"), r.Body)
	}
	at := s.Now.Add(-time.Minute).UTC().Truncate(time.Millisecond)
	suspend(t, s, id, at)
	got := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
	if got.JSON(t)["suspendedAt"] != at.Format(time.RFC3339Nano) || got.Header.Get("ETag") != `"2"` || got.JSON(t)["status"] != "active" {
		t.Errorf("suspended agent: %s %s", got.Header.Get("ETag"), got.Body)
	}
	if lastAudit(t, s).Action != "suspend" {
		t.Errorf("the suspension is not audited")
	}
	items := s.Admin(http.MethodGet, "/v1/orgs/acme/agents", nil).Expect(t, 200).JSON(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["suspendedAt"] == nil {
		t.Errorf("list: %v", items)
	}
	board := s.Admin(http.MethodGet, "/v1/orgs/acme/agent-status", nil).Expect(t, 200).JSON(t)["items"].([]any)
	if len(board) != 1 || board[0].(map[string]any)["suspendedAt"] != at.Format(time.RFC3339Nano) {
		t.Errorf("board: %v", board)
	}
	// Read-only: a PATCH naming it is 422, and changes nothing.
	if f := fields(t, s.Admin(http.MethodPatch, path, []byte(`{"suspendedAt":null}`)).Expect(t, 422)); !strings.Contains(f["suspendedAt"], "read-only") {
		t.Errorf("patch of suspendedAt: %v", f)
	}
	// Enable: If-Match, then the suspension is lifted.
	s.Admin(http.MethodPost, path+"/enable", nil, "If-Match", `"1"`).Expect(t, 412)
	s.As("acme", auth.RoleAgent, http.MethodPost, path+"/enable", nil).Expect(t, 403)
	s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/agents/"+id+"/enable", nil).Expect(t, 404)
	e := s.Admin(http.MethodPost, path+"/enable", nil, "If-Match", `"2"`).Expect(t, 200)
	if e.Header.Get("ETag") != `"3"` || e.JSON(t)["suspendedAt"] != nil || e.JSON(t)["status"] != "active" {
		t.Errorf("enable: %s %s", e.Header.Get("ETag"), e.Body)
	}
	en := lastAudit(t, s)
	if en.Action != "enable" || !slices.Equal(changedFields(en), []string{"suspendedAt"}) || string(en.Changes[0].To) != "null" || en.Actor == "" {
		t.Errorf("enable audited as %+v", en)
	}
	// The count was reset: the next failure is the first.
	n, suspended, err := s.Deps.Agents.LoginFailed(context.Background(), "acme", id, 3, at, audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Actor: "signin", Area: agents.AuditArea, Action: "suspend", Changes: []audit.Change{}})
	if n != 1 || suspended || err != nil {
		t.Errorf("failure after enable: %d, %v, %v; want 1, false", n, suspended, err)
	}
	// A disabled agent that is also suspended: enable lifts both, in one audited change.
	other := create(t, s, valid("bo@example.com"))["id"].(string)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+other+"/disable", nil).Expect(t, 200)
	suspend(t, s, other, at)
	b := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+other+"/enable", nil).Expect(t, 200).JSON(t)
	if b["status"] != "active" || b["suspendedAt"] != nil || b["version"] != 4.0 {
		t.Errorf("enable of a disabled, suspended agent: %v", b)
	}
	if f := changedFields(lastAudit(t, s)); !slices.Equal(f, []string{"status", "suspendedAt"}) {
		t.Errorf("audited fields %v", f)
	}
	// Disable keeps a suspension (enable lifts it later).
	suspend(t, s, other, at)
	if d := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+other+"/disable", nil).Expect(t, 200).JSON(t); d["suspendedAt"] == nil {
		t.Errorf("disable lifted the suspension: %v", d)
	}
}

// An admin's password reset lifts a suspension (and resets the count): audited with the
// change of suspendedAt, never the password.
func TestResetLiftsASuspension(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	at := s.Now.Add(-time.Minute).UTC().Truncate(time.Millisecond)
	suspend(t, s, id, at)
	r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/password", []byte(`{"password":"Reset-pa55"}`), "If-Match", `"2"`).Expect(t, 200).JSON(t)
	if r["suspendedAt"] != nil || r["mustChangePassword"] != true || r["version"] != 3.0 || r["status"] != "active" {
		t.Errorf("after the reset: %v", r)
	}
	en := lastAudit(t, s)
	if f := changedFields(en); en.Action != "password-reset" || !slices.Contains(f, "suspendedAt") || !slices.Contains(f, "mustChangePassword") {
		t.Errorf("reset audited as %s %v", en.Action, f)
	}
	if got := s.Admin(http.MethodGet, "/v1/orgs/acme/agents/"+id, nil).Expect(t, 200).JSON(t); got["suspendedAt"] != nil {
		t.Errorf("stored: %v", got)
	}
	n, suspended, err := s.Deps.Agents.LoginFailed(context.Background(), "acme", id, 3, at, audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Actor: "signin", Area: agents.AuditArea, Action: "suspend", Changes: []audit.Change{}})
	if n != 1 || suspended || err != nil {
		t.Errorf("failure after the reset: %d, %v, %v; want 1, false", n, suspended, err)
	}
	if err := s.Deps.Agents.LoginSucceeded(context.Background(), "acme", id, at); err != nil {
		t.Errorf("sign-in after the reset: %v", err)
	}
}

// The board's lastLoginAt is the latest sign-in known: the profile's (this product's
// sign-in) or the chat platform's "Agent Logged In", whichever is later.
func TestBoardLastLogin(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	lastLogin := func() any {
		t.Helper()
		items := s.Admin(http.MethodGet, "/v1/orgs/acme/agent-status", nil).Expect(t, 200).JSON(t)["items"].([]any)
		return items[0].(map[string]any)["lastLoginAt"]
	}
	if v := lastLogin(); v != nil {
		t.Errorf("never signed in: %v", v)
	}
	t1 := s.Now.Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	if err := s.Deps.Agents.LoginSucceeded(context.Background(), "acme", id, t1); err != nil {
		t.Fatal(err)
	}
	if v := lastLogin(); v != t1.Format(time.RFC3339Nano) {
		t.Errorf("after a sign-in: %v, want %v", v, t1)
	}
	if a := s.Admin(http.MethodGet, "/v1/orgs/acme/agents/"+id, nil).Expect(t, 200).JSON(t); a["lastLoginAt"] != t1.Format(time.RFC3339Nano) {
		t.Errorf("agent lastLoginAt %v", a["lastLoginAt"])
	}
	handle := chatsfn.EventsFunction.Events.Handler(s.Deps)
	login := func(at time.Time) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"orgId": "acme", "agentId": id, "at": at.Format(time.RFC3339Nano)})
		if err := handle(context.Background(), app.Event{ID: "e", Source: app.ChatSource, DetailType: chats.AgentLoggedIn, Detail: b}); err != nil {
			t.Fatal(err)
		}
	}
	login(t1.Add(-time.Hour)) // older than the sign-in: the sign-in stands
	if v := lastLogin(); v != t1.Format(time.RFC3339Nano) {
		t.Errorf("after an older chat login: %v, want %v", v, t1)
	}
	t2 := t1.Add(time.Hour)
	login(t2)
	if v := lastLogin(); v != t2.Format(time.RFC3339Nano) {
		t.Errorf("after a later chat login: %v, want %v", v, t2)
	}
}
