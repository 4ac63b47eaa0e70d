package agentsfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/membus"
)

// The disable flow of the admin guide: an agent with an open chat and a sticky user is
// refused; the status board shows them; the admin transfers the chat to the queue and
// unsticks the user (events out); then the disable succeeds.
func TestStatusBoardAndDisableFlow(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	now := s.Now.Add(-time.Hour)
	handle := chatsfn.EventsFunction.Events.Handler(s.Deps)
	event := func(dt string, d map[string]any) {
		t.Helper()
		b, _ := json.Marshal(d)
		if err := handle(context.Background(), app.Event{ID: "e", Source: app.ChatSource, DetailType: dt, Detail: b}); err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
	}
	ts := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	event(chats.AgentStatusChanged, map[string]any{"orgId": "acme", "agentId": id, "status": "online", "at": ts(now)})
	event(chats.AgentLoggedIn, map[string]any{"orgId": "acme", "agentId": id, "at": ts(now)})
	event(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": "c1", "startedAt": ts(now), "channel": "web", "user": map[string]any{"id": "u1"}})
	event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": id, "at": ts(now.Add(time.Second))})
	event(chats.UserSticky, map[string]any{"orgId": "acme", "userId": "u1", "agentId": id, "at": ts(now.Add(2 * time.Second))})

	r := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 409)
	if !strings.Contains(string(r.Body), `"chats":["c1"]`) || !strings.Contains(string(r.Body), `"stickyUsers":["u1"]`) {
		t.Errorf("disable: %s", r.Body)
	}
	board := s.As("acme", auth.RoleCompliance, http.MethodGet, "/v1/orgs/acme/agent-status", nil).Expect(t, 200).JSON(t)
	items := board["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("board %v", board)
	}
	e := items[0].(map[string]any)
	if e["agentId"] != id || e["presence"] != "online" || e["activeChats"] != 1.0 || e["stickyUsers"] != 1.0 || e["maxChats"] != 3.0 ||
		e["busy"] != false || e["lastLoginAt"] == nil || e["status"] != "active" {
		t.Errorf("board entry %v", e)
	}
	s.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/agent-status", nil).Expect(t, 403)
	s.Admin(http.MethodPost, "/v1/orgs/acme/chats/c1/transfer", []byte(`{"toAgentId":null}`)).Expect(t, 200)
	s.As("acme", auth.RoleCompliance, http.MethodDelete, "/v1/orgs/acme/agents/"+id+"/sticky-users", nil).Expect(t, 403)
	un := s.As("acme", auth.RoleAgentManager, http.MethodDelete, "/v1/orgs/acme/agents/"+id+"/sticky-users", nil).Expect(t, 200).JSON(t)
	if un["agentId"] != id || len(un["unstuck"].([]any)) != 1 {
		t.Errorf("unstick %v", un)
	}
	found := false
	for _, rec := range s.Deps.Bus.(*membus.Bus).Events() {
		if rec.Event.DetailType == "Users Unstuck" && strings.Contains(string(rec.Event.Detail), `"userIds":["u1"]`) {
			found = true
		}
	}
	if !found {
		t.Error("no Users Unstuck event")
	}
	if again := s.Admin(http.MethodDelete, "/v1/orgs/acme/agents/"+id+"/sticky-users", nil).Expect(t, 200).JSON(t); len(again["unstuck"].([]any)) != 0 {
		t.Errorf("second unstick %v", again)
	}
	s.Admin(http.MethodDelete, "/v1/orgs/acme/agents/agent_nobody/sticky-users", nil).Expect(t, 404)
	if a := s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/disable", nil).Expect(t, 200).JSON(t); a["status"] != "disabled" {
		t.Errorf("disable after clearing: %v", a)
	}
	s.Admin(http.MethodGet, "/v1/orgs/acme/agent-status?limit=0", nil).Expect(t, 400)
	s.As("globex", auth.RoleAdmin, http.MethodGet, "/v1/orgs/acme/agent-status", nil).Expect(t, 404)
}

// The agents' profiles feed the chat rules: an agent's maxChats overrides the
// organisation's limit in the busy rule, offline reallocation picks an agent of the
// chat's business unit from the profiles, and a disabled agent gets no chat.
func TestProfilesFeedTheChatRules(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Admin(http.MethodPatch, "/v1/orgs/acme/settings/chat-handling", []byte(`{"moveToQueueWhenAgentOffline":true}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	mk := func(email, unit string) string {
		req := valid(email)
		req["businessUnitId"] = unit
		return create(t, s, req)["id"].(string)
	}
	ana, bo, cy := mk("ana@example.com", "bu_sales"), mk("bo@example.com", "bu_support"), mk("cy@example.com", "bu_sales")
	s.Admin(http.MethodPatch, "/v1/orgs/acme/agents/"+ana, []byte(`{"maxChats":1}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	now := s.Now.Add(-time.Hour)
	handle := chatsfn.EventsFunction.Events.Handler(s.Deps)
	event := func(dt string, d map[string]any) {
		t.Helper()
		b, _ := json.Marshal(d)
		if err := handle(context.Background(), app.Event{ID: "e", Source: app.ChatSource, DetailType: dt, Detail: b}); err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
	}
	ts := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	for _, a := range []string{ana, bo, cy} {
		event(chats.AgentStatusChanged, map[string]any{"orgId": "acme", "agentId": a, "status": "online", "at": ts(now)})
	}
	event(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": "c1", "startedAt": ts(now), "channel": "web", "businessUnitId": "bu_sales", "user": map[string]any{"id": "u1"}})
	event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": ana, "at": ts(now.Add(time.Second))})
	if a, _, _ := s.Deps.Chats.Agent(context.Background(), "acme", ana); !a.Busy {
		t.Errorf("ana (maxChats 1) holds 1 chat but is not busy: %+v", a)
	}
	// Ana goes offline; the user writes: the chat goes to Cy (sales), not Bo (support).
	event(chats.AgentStatusChanged, map[string]any{"orgId": "acme", "agentId": ana, "status": "offline", "at": ts(now.Add(2 * time.Second))})
	event(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": "c1", "messageId": "m1", "sender": "user", "text": "hi", "sentAt": ts(now.Add(3 * time.Second))})
	if c, _, _ := s.Deps.Chats.Chat(context.Background(), "acme", "c1"); c.AgentID != cy {
		t.Errorf("reallocated to %q, want cy (same business unit)", c.AgentID)
	}
	// Cy is disabled (after the chat is closed): the next reallocation skips Cy, and with
	// no other sales agent the chat is queued.
	s.Admin(http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil).Expect(t, 200)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+cy+"/disable", nil).Expect(t, 200)
	event(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": "c2", "startedAt": ts(now.Add(4 * time.Second)), "channel": "web", "businessUnitId": "bu_sales", "user": map[string]any{"id": "u2"}})
	event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c2", "agentId": ana, "at": ts(now.Add(5 * time.Second))})
	event(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": "c2", "messageId": "m2", "sender": "user", "text": "hi", "sentAt": ts(now.Add(6 * time.Second))})
	if c, _, _ := s.Deps.Chats.Chat(context.Background(), "acme", "c2"); c.Status != chats.StatusQueued {
		t.Errorf("c2 %s with %q, want queued (cy disabled, bo in another unit)", c.Status, c.AgentID)
	}
}

// Native-app access follows the setting, the role's permissions and the agent's status.
func TestNativeAppAccess(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	agent := create(t, s, valid("ana@example.com"))["id"].(string) // role agent: has NativeApp
	req := valid("bo@example.com")
	req["role"] = auth.RoleCompliance // no NativeApp
	compliance := create(t, s, req)["id"].(string)
	access := func(id string) (bool, string) {
		m := s.As("acme", auth.RoleCompliance, http.MethodGet, "/v1/orgs/acme/agents/"+id+"/native-app-access", nil).Expect(t, 200).JSON(t)
		return m["allowed"].(bool), m["reason"].(string)
	}
	set := func(v string) {
		s.Admin(http.MethodPut, "/v1/orgs/acme/settings/native-app", []byte(`{"access":"`+v+`"}`)).Expect(t, 200)
	}
	if ok, why := access(compliance); !ok || !strings.Contains(why, "everyone") {
		t.Errorf("default everyone: %v %q", ok, why)
	}
	set("permission")
	if ok, _ := access(agent); !ok {
		t.Error("agent role (NativeApp) refused under permission")
	}
	if ok, why := access(compliance); ok || !strings.Contains(why, "lacks NativeApp") {
		t.Errorf("compliance under permission: %v %q", ok, why)
	}
	set("none")
	if ok, _ := access(agent); ok {
		t.Error("allowed under none")
	}
	set("everyone")
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+agent+"/disable", nil).Expect(t, 200)
	if ok, why := access(agent); ok || why != "the agent is disabled" {
		t.Errorf("disabled agent: %v %q", ok, why)
	}
	s.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/agents/"+agent+"/native-app-access", nil).Expect(t, 403)
	s.Admin(http.MethodGet, "/v1/orgs/acme/agents/agent_nobody/native-app-access", nil).Expect(t, 404)
}

// The signed-in agent changes its own password: a wrong current one is 403, the enforced
// policy lists every violation and refuses an earlier password, a good one is accepted
// and clears mustChangePassword; nothing of the passwords reaches the audit log.
func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := create(t, s, valid("ana@example.com"))["id"].(string)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/password", []byte(`{"password":"first-Secret-1!"}`)).Expect(t, 200)
	s.Admin(http.MethodPut, "/v1/orgs/acme/settings/password-policy",
		[]byte(`{"enforce":true,"minLength":10,"maxLength":30,"minMixedCase":1,"minDigits":1,"minSpecial":1,"expiryDays":90,"preventReuse":true}`)).Expect(t, 200)
	tok, err := s.Keys.Mint(auth.Principal{Subject: id, OrgID: "acme", Role: auth.RoleAgent}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	change := func(current, next string) apitest.Response {
		b, _ := json.Marshal(map[string]string{"current": current, "new": next})
		return s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/orgs/acme/agents/me/password", Token: tok, Body: b})
	}
	change("wrong-Secret-1!", "second-Secret-2!").Expect(t, 403)
	weak := change("first-Secret-1!", "short").Expect(t, 422)
	if !strings.Contains(string(weak.Body), `"field":"new"`) {
		t.Errorf("weak password: %s", weak.Body)
	}
	reuse := change("first-Secret-1!", "first-Secret-1!").Expect(t, 422)
	if !strings.Contains(string(reuse.Body), "reuse") {
		t.Errorf("reused password: %s", reuse.Body)
	}
	ok := change("first-Secret-1!", "second-Secret-2!").Expect(t, 200).JSON(t)
	if ok["mustChangePassword"] != false || ok["id"] != id {
		t.Errorf("changed: %v", ok)
	}
	change("first-Secret-1!", "third-Secret-3!").Expect(t, 403)
	// Someone who is not an agent of the organisation.
	s.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/orgs/acme/agents/me/password", Token: s.Token("acme", auth.RoleAdmin),
		Body: []byte(`{"current":"a","new":"b"}`)}).Expect(t, 404)
	audit := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=agents", nil).Expect(t, 200)
	for _, secret := range []string{"first-Secret-1!", "second-Secret-2!", "$argon2id$"} {
		if strings.Contains(string(audit.Body), secret) {
			t.Errorf("the audit log holds %q", secret)
		}
	}
	if !strings.Contains(string(audit.Body), `"action":"password-change"`) {
		t.Errorf("no password-change entry: %s", audit.Body)
	}
}
