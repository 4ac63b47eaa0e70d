package chatsfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/membus"
)

func publishedBy(t *testing.T, r *readEnv, dt string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range r.srv.Deps.Bus.(*membus.Bus).Events() {
		if rec.Event.DetailType == dt {
			var d map[string]any
			_ = json.Unmarshal(rec.Event.Detail, &d)
			out = append(out, d)
		}
	}
	return out
}

// Close: an open or queued chat is closed by an admin once (409 after), with its event
// and the agent's busy state recounted.
func TestAdminClose(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	r.start("acme", "c1", t0)
	r.event(chats.AgentStatusChanged, map[string]any{"orgId": "acme", "agentId": "a1", "status": "online", "at": ts(t0)})
	r.event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": "a1", "at": ts(t0.Add(time.Minute))})
	resp := r.srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil).Expect(t, 200).JSON(t)
	if resp["status"] != "closed" || resp["closeReason"] != chats.CloseReasonAdmin || resp["agentId"] != "a1" {
		t.Errorf("closed chat %v", resp)
	}
	evs := publishedBy(t, r, chats.ChatClosedByAdmin)
	if len(evs) != 1 || evs[0]["agentId"] != "a1" || evs[0]["by"] != "admin@acme" || evs[0]["chatId"] != "c1" {
		t.Errorf("events %v", evs)
	}
	r.srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil).Expect(t, 409)
	r.srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/acme/chats/nope/close", nil).Expect(t, 404)
	r.srv.As("acme", auth.RoleMarketing, http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil).Expect(t, 403)
	r.srv.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil).Expect(t, 404)
	// The agent's active chats dropped: a later chat makes them busy at 1, not 2.
	if c, _, _ := r.srv.Deps.Chats.Chat(context.Background(), "acme", "c1"); c.Status != chats.StatusClosed || c.ClosedAt.IsZero() {
		t.Errorf("stored %+v", c)
	}
}

// Transfer: to another agent of the organisation or (null) to the queue; the body is
// strict; a closed chat or the same agent is 409.
func TestAdminTransfer(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	r.start("acme", "c1", t0)
	a1, a2, off := r.agent("a1@example.com"), r.agent("a2@example.com"), r.agent("off@example.com")
	r.srv.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+off+"/disable", nil).Expect(t, 200)
	// a3 is an agent only the chat platform reported: no admin created it.
	for _, a := range []string{a1, a2, off, "a3"} {
		r.event(chats.AgentStatusChanged, map[string]any{"orgId": "acme", "agentId": a, "status": "online", "at": ts(t0)})
	}
	r.event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": a1, "at": ts(t0.Add(time.Minute))})
	post := func(body string) (int, string) {
		resp := r.srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/acme/chats/c1/transfer", []byte(body))
		return resp.Status, string(resp.Body)
	}
	for _, tc := range []struct {
		body, want string
		status     int
	}{
		{`{}`, `"field":"toAgentId","message":"is required (null moves the chat to the queue)"`, 422},
		{`{"toAgentId":"ghost"}`, `"field":"toAgentId","message":"is not an agent of the organisation"`, 422},
		{`{"toAgentId":"a3"}`, `"field":"toAgentId","message":"is not an agent of the organisation"`, 422},
		{`{"toAgentId":"` + off + `"}`, `"field":"toAgentId","message":"is disabled: a disabled agent gets no chats; enable it first"`, 422},
		{`{"toAgentId":"a#1"}`, `"field":"toAgentId","message":"must be an agent id or null"`, 422},
		{`{"ToAgentId":"a2"}`, `unknown field`, 400},
		{`{"toAgentId":"` + a1 + `"}`, `with that agent already`, 409},
	} {
		if code, body := post(tc.body); code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.body, code, body, tc.status, tc.want)
		}
	}
	if code, body := post(`{"toAgentId":"` + a2 + `"}`); code != 200 || !strings.Contains(body, `"agentId":"`+a2+`"`) || !strings.Contains(body, `"status":"open"`) {
		t.Errorf("to a2: %d %s", code, body)
	}
	if code, body := post(`{"toAgentId":null}`); code != 200 || !strings.Contains(body, `"agentId":null`) || !strings.Contains(body, `"status":"queued"`) {
		t.Errorf("to the queue: %d %s", code, body)
	}
	evs := publishedBy(t, r, chats.ChatTransferred)
	if len(evs) != 2 || evs[0]["fromAgentId"] != a1 || evs[0]["toAgentId"] != a2 || evs[1]["fromAgentId"] != a2 || evs[1]["toAgentId"] != nil {
		t.Errorf("events %v", evs)
	}
	r.srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil).Expect(t, 200)
	if code, body := post(`{"toAgentId":"` + a1 + `"}`); code != 409 || !strings.Contains(body, "only open or queued chats can be transferred") {
		t.Errorf("transfer of a closed chat: %d %s", code, body)
	}
	r.srv.As("acme", auth.RoleCompliance, http.MethodPost, "/v1/orgs/acme/chats/c1/transfer", []byte(`{"toAgentId":null}`)).Expect(t, 403)
}
