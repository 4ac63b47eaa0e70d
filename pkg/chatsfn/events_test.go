package chatsfn_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

var chatsfnEvents = chatsfn.EventsFunction

func TestEventsKeepChats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("c1", "a1", t0)
	e.userSays("c1", "m1", t0.Add(time.Minute))
	e.agentSays("c1", "a1", "m2", t0.Add(2*time.Minute))
	c := e.chat("c1")
	if c.Status != chats.StatusOpen || c.AgentID != "a1" || c.Messages != 2 || !c.LastActivityAt.Equal(t0.Add(2*time.Minute)) || c.User.Name != "Ada <Lovelace>" {
		t.Errorf("chat: %+v", c)
	}
	msgs, more, err := e.deps.Chats.Transcript(context.Background(), "acme", "c1", 10)
	if err != nil || more || len(msgs) != 2 || msgs[0].MessageID != "m1" || msgs[1].Sender != chats.SenderAgent {
		t.Errorf("transcript: %+v %v %v", msgs, more, err)
	}
}

// The same event twice changes nothing the second time and publishes nothing again.
func TestDuplicateEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 1})
	e.start("c1", "a1", t0)
	e.userSays("c1", "m1", t0.Add(time.Minute))
	before := e.chat("c1")
	published := len(e.bus.events)
	e.start("c1", "a1", t0)
	e.userSays("c1", "m1", t0.Add(time.Minute))
	after := e.chat("c1")
	if after.Version != before.Version || after.Messages != 1 || len(e.bus.events) != published {
		t.Errorf("repeats changed the chat (version %d -> %d, %d messages) or published %d more events",
			before.Version, after.Version, after.Messages, len(e.bus.events)-published)
	}
	if busy := e.bus.of(chats.AgentBusyChanged); len(busy) != 1 || busy[0]["busy"] != true {
		t.Errorf("busy events: %v, want one busy=true", busy)
	}
}

// Events delivered in another order give the same chat.
func TestReorderedDelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(chats.ChatClosed, map[string]any{"orgId": "acme", "chatId": "c1", "at": ts(t0.Add(time.Hour)), "reason": "resolved"})
	e.userSays("c1", "m1", t0.Add(time.Minute))
	if _, found, _ := e.deps.Chats.Chat(context.Background(), "acme", "c1"); !found {
		t.Fatal("a chat known from later events is not kept")
	}
	e.start("c1", "a1", t0)
	c := e.chat("c1")
	if c.Status != chats.StatusClosed || c.AgentID != "a1" || c.Messages != 1 || c.StartedAt.IsZero() {
		t.Errorf("got %+v", c)
	}
	page, err := e.deps.Chats.List(context.Background(), "acme", chats.ListQuery{Status: chats.StatusClosed, Limit: 10})
	if err != nil || len(page.Chats) != 1 {
		t.Errorf("closed list: %+v %v", page, err)
	}
}

// Malformed events are refused as such (the entry point logs and drops them) and change
// nothing.
func TestMalformedEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, tc := range map[string]struct {
		dt     string
		detail map[string]any
	}{
		"missing chat id": {chats.ChatStarted, map[string]any{"orgId": "acme", "startedAt": ts(t0), "channel": "web", "user": map[string]any{"id": "u"}}},
		"bad org id":      {chats.ChatClosed, map[string]any{"orgId": "ac/me", "chatId": "c1", "at": ts(t0)}},
		"wrong type":      {chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": 7, "at": ts(t0)}},
		"unknown type":    {"Chat Teleported", map[string]any{"orgId": "acme", "chatId": "c1"}},
		"unknown field":   {chats.ChatMissed, map[string]any{"orgId": "acme", "chatId": "c1", "at": ts(t0), "x": 1}},
	} {
		if err := e.send(tc.dt, tc.detail); !errors.Is(err, app.ErrMalformed) {
			t.Errorf("%s: got %v, want app.ErrMalformed", name, err)
		}
	}
	if _, found, _ := e.deps.Chats.Chat(context.Background(), "acme", "c1"); found {
		t.Error("a malformed event stored a chat")
	}
	if len(e.bus.events) != 0 {
		t.Errorf("malformed events published %d events", len(e.bus.events))
	}
}

// An agent becomes busy at the limit and stops being busy below it, once each.
func TestBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 2})
	e.start("c1", "a1", t0)
	if got := e.bus.of(chats.AgentBusyChanged); len(got) != 0 {
		t.Fatalf("busy at 1 of 2: %v", got)
	}
	e.start("c2", "a1", t0.Add(time.Minute))
	e.start("c3", "a2", t0.Add(time.Minute))
	busy := e.bus.of(chats.AgentBusyChanged)
	if len(busy) != 1 || busy[0]["agentId"] != "a1" || busy[0]["busy"] != true || busy[0]["activeChats"] != float64(2) || busy[0]["maxChats"] != float64(2) {
		t.Fatalf("at the limit: %v", busy)
	}
	if !e.agent("a1").Busy {
		t.Error("the agent record does not say busy")
	}
	e.must(chats.ChatClosed, map[string]any{"orgId": "acme", "chatId": "c1", "at": ts(t0.Add(time.Hour))})
	busy = e.bus.of(chats.AgentBusyChanged)
	if len(busy) != 2 || busy[1]["busy"] != false || busy[1]["activeChats"] != float64(1) {
		t.Errorf("below the limit: %v", busy)
	}
}

// A user message to a chat whose agent is offline moves it to the least loaded online,
// non-busy agent, else to the queue; only with moveToQueueWhenAgentOffline.
func TestOfflineReallocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 1, MoveToQueueWhenAgentOffline: true})
	e.status("a1", chats.AgentOnline, t0)
	e.status("a2", chats.AgentOnline, t0)
	e.status("a3", chats.AgentOnline, t0)
	e.start("c1", "a1", t0)
	e.start("c2", "a3", t0) // a3 is now busy (limit 1)
	e.status("a1", chats.AgentOffline, t0.Add(time.Minute))
	e.userSays("c1", "m1", t0.Add(2*time.Minute))
	c := e.chat("c1")
	re := e.bus.of(chats.ChatReallocated)
	if c.AgentID != "a2" || c.Status != chats.StatusOpen || len(re) != 1 || re[0]["fromAgentId"] != "a1" || re[0]["toAgentId"] != "a2" {
		t.Fatalf("reallocation: chat %+v, events %v", c, re)
	}
	// Now a2 is busy too and offline a2 has nobody to give c1 to: the queue.
	e.status("a2", chats.AgentOffline, t0.Add(3*time.Minute))
	e.userSays("c1", "m2", t0.Add(4*time.Minute))
	c = e.chat("c1")
	moved := e.bus.of(chats.ChatMovedToQueue)
	if c.Status != chats.StatusQueued || c.AgentID != "" || len(moved) != 1 || moved[0]["reason"] != chats.ReasonAgentOffline || moved[0]["fromAgentId"] != "a2" {
		t.Errorf("to the queue: chat %+v, events %v", c, moved)
	}
	// An agent's own message, or the rule off, moves nothing.
	e.start("c4", "a3", t0.Add(5*time.Minute))
	e.status("a3", chats.AgentOffline, t0.Add(6*time.Minute))
	e.agentSays("c4", "a3", "m3", t0.Add(7*time.Minute))
	e.rules(chathandling.Settings{MaxChatsPerAgent: 1})
	e.userSays("c4", "m4", t0.Add(8*time.Minute))
	if c := e.chat("c4"); c.AgentID != "a3" || c.Status != chats.StatusOpen {
		t.Errorf("moved without the rule: %+v", c)
	}
}

// A chat of a business unit goes only to an agent of that unit: until agents have
// business units, that is nobody, so the queue.
func TestOfflineReallocationBusinessUnit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 3, MoveToQueueWhenAgentOffline: true})
	e.status("a2", chats.AgentOnline, t0)
	e.must(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": "c1", "startedAt": ts(t0), "channel": "web", "businessUnitId": "sales", "user": map[string]any{"id": "u1"}})
	e.must(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": "a1", "at": ts(t0)})
	e.status("a1", chats.AgentOffline, t0.Add(time.Minute))
	e.userSays("c1", "m1", t0.Add(2*time.Minute))
	if c := e.chat("c1"); c.Status != chats.StatusQueued {
		t.Errorf("a sales chat went to an agent of no unit: %+v", c)
	}
}

// Events that could not be published stay pending and a sweep publishes them.
func TestPendingEventsArePublishedLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 1})
	e.bus.setFail(true)
	e.start("c1", "a1", t0)
	e.bus.setFail(false)
	if n := len(e.bus.of(chats.AgentBusyChanged)); n != 0 {
		t.Fatalf("published %d busy events while the bus was down", n)
	}
	e.clock.Set(t0.Add(2 * time.Minute))
	res := e.sweep(context.Background(), chatsfn.AutoCloseFunction)
	if got := e.bus.of(chats.AgentBusyChanged); len(got) != 1 || res.Published != 1 {
		t.Errorf("after the sweep: %v published, result %+v", got, res)
	}
	e.sweep(context.Background(), chatsfn.AutoCloseFunction)
	if got := e.bus.of(chats.AgentBusyChanged); len(got) != 1 {
		t.Errorf("published again: %d", len(got))
	}
}

// "User Sticky Changed" keeps each user with one agent; an older change changes nothing;
// null ends the stickiness; a missing agentId is malformed, not an unstick.
func TestUserSticky(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stick := func(user string, agent any, at time.Time) error {
		return e.send(chats.UserSticky, map[string]any{"orgId": "acme", "userId": user, "agentId": agent, "at": ts(at)})
	}
	users := func(agent string) []string {
		u, err := e.deps.Sticky.Users(context.Background(), "acme", agent, 100)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, err := range []error{stick("u1", "a1", t0), stick("u2", "a1", t0), stick("u1", "a2", t0.Add(time.Minute)), stick("u1", "a1", t0.Add(30*time.Second))} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := users("a1"); !slices.Equal(got, []string{"u2"}) || !slices.Equal(users("a2"), []string{"u1"}) {
		t.Errorf("a1 %v, a2 %v; want a1 [u2], a2 [u1] (the older move back ignored)", got, users("a2"))
	}
	if err := stick("u2", nil, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := users("a1"); len(got) != 0 {
		t.Errorf("after unstick, a1 %v", got)
	}
	err := e.send(chats.UserSticky, map[string]any{"orgId": "acme", "userId": "u1", "at": ts(t0.Add(2 * time.Hour))})
	if !errors.Is(err, app.ErrMalformed) || !slices.Equal(users("a2"), []string{"u1"}) {
		t.Errorf("missing agentId: %v, a2 %v", err, users("a2"))
	}
}
