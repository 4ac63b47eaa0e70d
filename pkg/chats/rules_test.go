package chats_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/chats"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func started(at time.Time) chats.In {
	return chats.In{DetailType: chats.ChatStarted, OrgID: "acme", ChatID: "c1", At: at,
		Started: &chats.StartedDetail{OrgID: "acme", ChatID: "c1", StartedAt: at, Channel: "web", User: chats.User{ID: "u1", Name: "Ada"}}}
}

func message(id, sender string, at time.Time) chats.In {
	d := chats.MessageDetail{OrgID: "acme", ChatID: "c1", MessageID: id, Sender: sender, Text: "text of " + id, SentAt: at}
	if sender == chats.SenderAgent {
		d.AgentID = "a1"
	}
	return chats.In{DetailType: chats.ChatMessage, OrgID: "acme", ChatID: "c1", AgentID: d.AgentID, At: at, Message: &d}
}

func allocated(agent string, at time.Time) chats.In {
	return chats.In{DetailType: chats.ChatAllocated, OrgID: "acme", ChatID: "c1", AgentID: agent, At: at,
		Allocated: &chats.AllocatedDetail{OrgID: "acme", ChatID: "c1", AgentID: agent, At: at}}
}

func closedAt(at time.Time) chats.In {
	return chats.In{DetailType: chats.ChatClosed, OrgID: "acme", ChatID: "c1", At: at, Closed: &chats.ClosedDetail{OrgID: "acme", ChatID: "c1", At: at, Reason: "resolved"}}
}

func missedAt(at time.Time) chats.In {
	return chats.In{DetailType: chats.ChatMissed, OrgID: "acme", ChatID: "c1", At: at, Missed: &chats.MissedDetail{OrgID: "acme", ChatID: "c1", At: at}}
}

// apply applies events in order and returns the chat and how many changed it.
func apply(events ...chats.In) (chats.Chat, int) {
	var c chats.Chat
	n := 0
	for _, in := range events {
		next, _, changed := chats.ApplyToChat(c, in)
		if changed {
			n++
		}
		c = next
	}
	return c, n
}

func TestChatLifecycle(t *testing.T) {
	t.Parallel()
	c, n := apply(started(t0), allocated("a1", t0.Add(time.Minute)), message("m1", chats.SenderUser, t0.Add(2*time.Minute)),
		message("m2", chats.SenderAgent, t0.Add(3*time.Minute)), message("m3", chats.SenderBot, t0.Add(4*time.Minute)), closedAt(t0.Add(5*time.Minute)))
	if n != 6 || c.Status != chats.StatusClosed || c.AgentID != "a1" || c.Messages != 3 || !c.LastActivityAt.Equal(t0.Add(3*time.Minute)) ||
		!c.ClosedAt.Equal(t0.Add(5*time.Minute)) || c.CloseReason != "resolved" || c.User.Name != "Ada" {
		t.Errorf("got %+v (%d changes)", c, n)
	}
}

// The same event twice changes nothing the second time.
func TestDuplicatesChangeNothing(t *testing.T) {
	t.Parallel()
	for _, in := range []chats.In{started(t0), allocated("a1", t0.Add(time.Minute)), closedAt(t0.Add(time.Hour)), missedAt(t0.Add(time.Hour))} {
		_, n := apply(started(t0), in, in)
		want := 2
		if in.Started != nil {
			want = 1
		}
		if n != want {
			t.Errorf("%s twice: %d changes, want %d", in.DetailType, n, want)
		}
	}
}

// Events in any order end in the same state; an older event never overwrites a newer one.
func TestReorderedEvents(t *testing.T) {
	t.Parallel()
	s, a, m, cl := started(t0), allocated("a1", t0.Add(time.Minute)), message("m1", chats.SenderUser, t0.Add(2*time.Minute)), closedAt(t0.Add(3*time.Minute))
	want, _ := apply(s, a, m, cl)
	for _, order := range [][]chats.In{{cl, m, a, s}, {a, s, cl, m}, {m, cl, s, a}, {s, cl, a, m}} {
		got, _ := apply(order...)
		if got.Status != want.Status || got.AgentID != want.AgentID || !got.StatusAt.Equal(want.StatusAt) || !got.AgentAt.Equal(want.AgentAt) ||
			!got.LastActivityAt.Equal(want.LastActivityAt) || got.StartedAt != want.StartedAt || got.Messages != want.Messages {
			t.Errorf("order %v: got %+v, want %+v", types(order), got, want)
		}
	}
	// A message older than one already applied moves no time backwards.
	c, _ := apply(s, message("m2", chats.SenderUser, t0.Add(time.Hour)), message("m1", chats.SenderUser, t0.Add(time.Minute)))
	if !c.LastUserMessageAt.Equal(t0.Add(time.Hour)) || !c.LastActivityAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("late message moved the times back: %+v", c)
	}
	// A reallocation older than the current allocation is ignored.
	c, _ = apply(s, allocated("a2", t0.Add(2*time.Minute)), allocated("a1", t0.Add(time.Minute)))
	if c.AgentID != "a2" {
		t.Errorf("an older allocation replaced a newer one: agent %s", c.AgentID)
	}
	// Of two allocations that arrive after the close, the later one names the agent.
	for _, order := range [][]chats.In{{cl, allocated("a1", t0.Add(time.Minute)), allocated("a2", t0.Add(2*time.Minute))},
		{cl, allocated("a2", t0.Add(2*time.Minute)), allocated("a1", t0.Add(time.Minute))}} {
		if c, _ := apply(append([]chats.In{s}, order...)...); c.AgentID != "a2" || c.Status != chats.StatusClosed {
			t.Errorf("late allocations %v: agent %s, status %s", types(order), c.AgentID, c.Status)
		}
	}
	// A chat known only from its messages has no status (it is in no list) until it starts.
	c, _ = apply(m)
	if c.Status != "" || c.Messages != 1 {
		t.Errorf("message before start: %+v", c)
	}
}

func types(ins []chats.In) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.DetailType)
	}
	return out
}

// Final statuses are never left for live ones; at one instant, the later stage wins.
func TestStatusOrder(t *testing.T) {
	t.Parallel()
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		events []chats.In
		want   string
	}{
		{"allocation after close", []chats.In{started(t0), closedAt(at), allocated("a1", at.Add(time.Hour))}, chats.StatusClosed},
		{"close and allocation at one instant", []chats.In{started(t0), closedAt(at), allocated("a1", at)}, chats.StatusClosed},
		{"allocation and close at one instant", []chats.In{started(t0), allocated("a1", at), closedAt(at)}, chats.StatusClosed},
		{"missed then closed later", []chats.In{started(t0), missedAt(at), closedAt(at.Add(time.Minute))}, chats.StatusClosed},
		{"closed then missed earlier", []chats.In{started(t0), closedAt(at), missedAt(at.Add(-time.Minute))}, chats.StatusClosed},
		{"allocated at start instant", []chats.In{started(t0), allocated("a1", t0)}, chats.StatusOpen},
		{"start after allocation", []chats.In{allocated("a1", at), started(t0)}, chats.StatusOpen},
	} {
		if c, _ := apply(tc.events...); c.Status != tc.want {
			t.Errorf("%s: status %q, want %q", tc.name, c.Status, tc.want)
		}
	}
}

func TestMessageText(t *testing.T) {
	t.Parallel()
	in := message("m1", chats.SenderUser, t0)
	in.Message.Text = strings.Repeat("a", chats.MaxText-1) + "é" + "tail"
	_, msg, _ := chats.ApplyToChat(chats.Chat{}, in)
	if msg == nil || !msg.Truncated || len(msg.Text) != chats.MaxText-1 || !strings.HasSuffix(msg.Text, "a") {
		t.Errorf("cut: truncated %v, %d bytes", msg.Truncated, len(msg.Text))
	}
	in.Message.Text = strings.Repeat("a", chats.MaxText)
	if _, msg, _ := chats.ApplyToChat(chats.Chat{}, in); msg.Truncated || len(msg.Text) != chats.MaxText {
		t.Errorf("a text of exactly MaxText bytes was cut")
	}
}

func TestApplyToAgent(t *testing.T) {
	t.Parallel()
	login := func(at time.Time) chats.In {
		return chats.In{OrgID: "acme", AgentID: "a1", At: at, LoggedIn: &chats.LoggedInDetail{At: at}}
	}
	status := func(s string, at time.Time) chats.In {
		return chats.In{OrgID: "acme", AgentID: "a1", At: at, Status: &chats.StatusDetail{Status: s, At: at}}
	}
	var a chats.Agent
	steps := []struct {
		in      chats.In
		changed bool
	}{
		{login(t0.Add(time.Hour)), true}, {login(t0), false}, {login(t0.Add(time.Hour)), false},
		{status(chats.AgentOnline, t0), true}, {status(chats.AgentOnline, t0), false},
		{status(chats.AgentOffline, t0), true}, {status(chats.AgentOnline, t0), false}, // same instant: the cautious one stays
		{status(chats.AgentAway, t0.Add(-time.Minute)), false}, {status(chats.AgentOnline, t0.Add(time.Minute)), true},
	}
	for i, st := range steps {
		next, changed := chats.ApplyToAgent(a, st.in)
		if changed != st.changed {
			t.Errorf("step %d: changed %v, want %v", i, changed, st.changed)
		}
		a = next
	}
	if a.Status != chats.AgentOnline || !a.LastLoginAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("got %+v", a)
	}
}

// Auto-close: idle for exactly N days closes; a nanosecond less does not; 0 never.
func TestAutoCloseBoundary(t *testing.T) {
	t.Parallel()
	c, _ := apply(started(t0), allocated("a1", t0), message("m1", chats.SenderUser, t0.Add(time.Hour)))
	last := t0.Add(time.Hour)
	for _, tc := range []struct {
		days  int
		now   time.Time
		close bool
	}{
		{7, last.Add(7 * chats.Day), true},
		{7, last.Add(7*chats.Day - time.Nanosecond), false},
		{7, last.Add(30 * chats.Day), true},
		{0, last.Add(365 * chats.Day), false},
		{1, last.Add(chats.Day), true},
	} {
		next, ev, ok := chats.AutoClose(c, tc.days, tc.now)
		if ok != tc.close {
			t.Errorf("days %d at +%v: closed %v, want %v", tc.days, tc.now.Sub(last), ok, tc.close)
			continue
		}
		if !ok {
			continue
		}
		var d map[string]any
		_ = json.Unmarshal(ev.Detail, &d)
		if next.Status != chats.StatusClosed || next.CloseReason != chats.CloseReasonAutoClose || !next.ClosedAt.Equal(tc.now) ||
			ev.DetailType != chats.ChatAutoClosed || d["afterDays"] != float64(tc.days) || d["lastActivityAt"] != last.Format(time.RFC3339) ||
			d["chatId"] != "c1" || d["orgId"] != "acme" || ev.ID == "" {
			t.Errorf("closed: %+v, event %s %s", next, ev.DetailType, ev.Detail)
		}
		if _, ev2, _ := chats.AutoClose(c, tc.days, tc.now); ev2.ID != ev.ID {
			t.Errorf("event ids differ for the same change: %s, %s", ev.ID, ev2.ID)
		}
	}
	// Closed and missed chats are never auto-closed; queued chats are.
	for _, st := range []string{chats.StatusClosed, chats.StatusMissed, ""} {
		x := c
		x.Status = st
		if _, _, ok := chats.AutoClose(x, 1, last.Add(10*chats.Day)); ok {
			t.Errorf("a %q chat was auto-closed", st)
		}
	}
	q, _ := apply(started(t0))
	if _, _, ok := chats.AutoClose(q, 1, t0.Add(chats.Day)); !ok {
		t.Error("a queued chat idle for its days was not auto-closed")
	}
}

// Queue move: an agent whose last login is more than N days ago is stale; exactly N
// days is not; an agent never seen logging in is not.
func TestLoginStaleBoundary(t *testing.T) {
	t.Parallel()
	a := chats.Agent{LastLoginAt: t0}
	for _, tc := range []struct {
		days  int
		now   time.Time
		stale bool
	}{
		{3, t0.Add(3 * chats.Day), false},
		{3, t0.Add(3*chats.Day + time.Nanosecond), true},
		{0, t0.Add(100 * chats.Day), false},
	} {
		if got := chats.LoginStale(a, tc.days, tc.now); got != tc.stale {
			t.Errorf("days %d at +%v: stale %v, want %v", tc.days, tc.now.Sub(t0), got, tc.stale)
		}
	}
	if chats.LoginStale(chats.Agent{}, 1, t0) {
		t.Error("an agent never seen logging in is stale")
	}
}

func TestMoveAndReallocate(t *testing.T) {
	t.Parallel()
	c, _ := apply(started(t0), allocated("a1", t0), message("m1", chats.SenderUser, t0.Add(time.Hour)))
	if !c.Awaiting() {
		t.Fatal("a chat with an unanswered user message is not awaiting")
	}
	moved, ev, ok := chats.MoveToQueue(c, chats.ReasonNotLoggedIn, t0.Add(10*chats.Day))
	var d map[string]any
	_ = json.Unmarshal(ev.Detail, &d)
	if !ok || moved.Status != chats.StatusQueued || moved.AgentID != "" || d["fromAgentId"] != "a1" || d["reason"] != chats.ReasonNotLoggedIn {
		t.Errorf("moved: %+v %s", moved, ev.Detail)
	}
	if _, _, ok := chats.MoveToQueue(moved, chats.ReasonNotLoggedIn, t0.Add(11*chats.Day)); ok {
		t.Error("a queued chat was moved to the queue again")
	}
	re, ev, ok := chats.Reallocate(c, "a2", t0.Add(2*time.Hour))
	_ = json.Unmarshal(ev.Detail, &d)
	if !ok || re.AgentID != "a2" || re.Status != chats.StatusOpen || d["toAgentId"] != "a2" || d["fromAgentId"] != "a1" {
		t.Errorf("reallocated: %+v %s", re, ev.Detail)
	}
	// An allocation older than the reallocation does not undo it.
	back, _, _ := chats.ApplyToChat(re, allocated("a1", t0.Add(time.Hour)))
	if back.AgentID != "a2" {
		t.Errorf("an older allocation undid a reallocation")
	}
	answered, _, _ := chats.ApplyToChat(c, message("m2", chats.SenderAgent, t0.Add(2*time.Hour)))
	if answered.Awaiting() {
		t.Error("an answered chat is awaiting")
	}
}
