package chatsfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
)

// The chat rules read a sub-organisation's settings in effect: a value set on the parent
// only (maxChatsPerAgent 1) makes the sub-organisation's agent busy at one chat, and the
// sub-organisation's own override then wins.
func TestConsumersFollowTheTree(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	client := s.SubOrg("acme", "Client")
	s.Admin(http.MethodPatch, "/v1/orgs/acme/settings/chat-handling", []byte(`{"maxChatsPerAgent":1}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	handle := chatsfn.EventsFunction.Events.Handler(s.Deps)
	event := func(dt string, d map[string]any) {
		t.Helper()
		b, _ := json.Marshal(d)
		if err := handle(context.Background(), app.Event{ID: "e", Source: app.ChatSource, DetailType: dt, Detail: b}); err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
	}
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	event(chats.ChatStarted, map[string]any{"orgId": client, "chatId": "c1", "startedAt": at(0), "channel": "web", "user": map[string]any{"id": "u1"}})
	event(chats.ChatAllocated, map[string]any{"orgId": client, "chatId": "c1", "agentId": "a1", "at": at(time.Second)})
	if a, _, _ := s.Deps.Chats.Agent(context.Background(), client, "a1"); !a.Busy {
		t.Errorf("one chat with the parent's maxChatsPerAgent 1: not busy: %+v", a)
	}
	// The client's own value overrides the parent's for its next recount.
	s.As(client, "admin", http.MethodPatch, "/v1/orgs/"+client+"/settings/chat-handling", []byte(`{"maxChatsPerAgent":3}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	event(chats.ChatStarted, map[string]any{"orgId": client, "chatId": "c2", "startedAt": at(2 * time.Second), "channel": "web", "user": map[string]any{"id": "u2"}})
	event(chats.ChatAllocated, map[string]any{"orgId": client, "chatId": "c2", "agentId": "a1", "at": at(3 * time.Second)})
	if a, _, _ := s.Deps.Chats.Agent(context.Background(), client, "a1"); a.Busy {
		t.Errorf("two chats with the client's own maxChatsPerAgent 3: busy: %+v", a)
	}
}
