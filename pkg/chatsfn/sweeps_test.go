package chatsfn_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// Auto-close: a chat idle for exactly N days is closed, one idle a nanosecond less is
// not; queued chats too; each closed once, with one event, however often the sweep runs.
func TestAutoCloseSweep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 3, AutoCloseAfterDays: 7})
	e.start("exact", "a1", t0)
	e.start("young", "a1", t0.Add(time.Nanosecond))
	e.start("queued", "", t0)
	e.start("talked", "a1", t0)
	e.userSays("talked", "m1", t0.Add(time.Hour))
	e.clock.Set(t0.Add(7 * chats.Day))
	res := e.sweep(context.Background(), chatsfn.AutoCloseFunction)
	for id, want := range map[string]string{"exact": chats.StatusClosed, "young": chats.StatusOpen, "queued": chats.StatusClosed, "talked": chats.StatusOpen} {
		if c := e.chat(id); c.Status != want {
			t.Errorf("%s: %s, want %s", id, c.Status, want)
		}
	}
	closed := e.bus.of(chats.ChatAutoClosed)
	if len(closed) != 2 || res.Changed != 2 || !res.Done {
		t.Fatalf("events %v, result %+v", closed, res)
	}
	for _, ev := range closed {
		if ev["afterDays"] != float64(7) || ev["closedAt"] != ts(t0.Add(7*chats.Day)) || ev["lastActivityAt"] != ts(t0) {
			t.Errorf("event %v", ev)
		}
	}
	if c := e.chat("exact"); c.CloseReason != chats.CloseReasonAutoClose || !c.ClosedAt.Equal(t0.Add(7*chats.Day)) {
		t.Errorf("closed chat: %+v", c)
	}
	// Again at the same instant: nothing more.
	res = e.sweep(context.Background(), chatsfn.AutoCloseFunction)
	if got := e.bus.of(chats.ChatAutoClosed); len(got) != 2 || res.Changed != 0 {
		t.Errorf("second run: %d events, %+v", len(got), res)
	}
	// A minute later "young" is 7 days idle too; only it closes.
	e.clock.Set(t0.Add(7*chats.Day + time.Minute))
	res = e.sweep(context.Background(), chatsfn.AutoCloseFunction)
	if got := e.bus.of(chats.ChatAutoClosed); len(got) != 3 || res.Changed != 1 || e.chat("young").Status != chats.StatusClosed {
		t.Errorf("third run: %d events, %+v", len(got), res)
	}
	// 0 disables the rule.
	e.rules(chathandling.Settings{MaxChatsPerAgent: 3})
	e.clock.Set(t0.Add(400 * chats.Day))
	if res := e.sweep(context.Background(), chatsfn.AutoCloseFunction); res.Changed != 0 || e.chat("talked").Status != chats.StatusOpen {
		t.Errorf("closed with autoCloseAfterDays 0: %+v", res)
	}
}

// messageMidSweep is a chats store whose Idle lets a message arrive for every candidate
// after the sweep has read it and before it closes it.
type messageMidSweep struct {
	chats.Store
	e *env
}

func (m messageMidSweep) Idle(ctx context.Context, org string, since time.Time, after string, limit int) ([]chats.Chat, string, error) {
	cs, next, err := m.Store.Idle(ctx, org, since, after, limit)
	for _, c := range cs {
		m.e.userSays(c.ChatID, "late-"+c.ChatID, m.e.clock.Now())
	}
	return cs, next, err
}

// A chat that gets a message while the sweep runs is not closed.
func TestAutoCloseMessageMidSweep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 3, AutoCloseAfterDays: 1})
	e.start("c1", "a1", t0)
	e.clock.Set(t0.Add(2 * chats.Day))
	deps := e.deps
	deps.Chats = messageMidSweep{Store: e.deps.Chats, e: e}
	res, err := chatsfn.AutoCloseFunction.Sweep.Run(deps)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := e.chat("c1"); c.Status != chats.StatusOpen || res.Changed != 0 || len(e.bus.of(chats.ChatAutoClosed)) != 0 {
		t.Errorf("closed despite a new message: %+v, %+v", c, res)
	}
}

// Two sweeps at once close each chat once and publish one event each.
func TestConcurrentSweeps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 9, AutoCloseAfterDays: 1})
	const n = 40
	for i := range n {
		e.start(fmt.Sprintf("c%02d", i), fmt.Sprintf("a%d", i%3), t0)
	}
	e.clock.Set(t0.Add(2 * chats.Day))
	var wg sync.WaitGroup
	results := make([]int, 3)
	for i := range results {
		wg.Go(func() { results[i] = e.sweep(context.Background(), chatsfn.AutoCloseFunction).Changed })
	}
	wg.Wait()
	if total := results[0] + results[1] + results[2]; total != n || len(e.bus.of(chats.ChatAutoClosed)) != n {
		t.Errorf("changed %v (sum %d), %d events; want %d of each", results, total, len(e.bus.of(chats.ChatAutoClosed)), n)
	}
}

// A sweep that runs out of time saves its position and the next run finishes the work,
// each chat closed once.
func TestSweepStopsBeforeDeadlineAndResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 9, AutoCloseAfterDays: 1})
	const n = 250
	for i := range n {
		e.must(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": fmt.Sprintf("c%03d", i), "startedAt": ts(t0.Add(time.Duration(i) * time.Second)),
			"channel": "web", "user": map[string]any{"id": "u"}})
	}
	e.clock.Set(t0.Add(2 * chats.Day))
	// A deadline already inside the stopping margin: the run stops at once, having
	// saved where it is; a longer one finishes.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	res := e.sweep(ctx, chatsfn.AutoCloseFunction)
	cancel()
	if res.Done || res.Changed >= n {
		t.Fatalf("first run: %+v, want it to stop early", res)
	}
	total := res.Changed
	for range 20 {
		res = e.sweep(context.Background(), chatsfn.AutoCloseFunction)
		total += res.Changed
		if res.Done {
			break
		}
	}
	if !res.Done || total != n || len(e.bus.of(chats.ChatAutoClosed)) != n {
		t.Errorf("closed %d, %d events, done %v; want %d", total, len(e.bus.of(chats.ChatAutoClosed)), res.Done, n)
	}
}

// Queue move: the unanswered chats of an agent who last logged in more than N days ago
// go to the queue; exactly N days is not enough; answered chats and other agents' stay.
func TestQueueMoveSweep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rules(chathandling.Settings{MaxChatsPerAgent: 5, MoveToQueueAfterNoLoginDays: 3})
	e.login("gone", t0)
	e.login("exact", t0.Add(time.Nanosecond))
	e.start("waiting", "gone", t0)
	e.userSays("waiting", "m1", t0.Add(time.Hour))
	e.start("answered", "gone", t0)
	e.userSays("answered", "m2", t0.Add(time.Hour))
	e.agentSays("answered", "gone", "m3", t0.Add(2*time.Hour))
	e.start("other", "exact", t0)
	e.userSays("other", "m4", t0.Add(time.Hour))
	e.start("nologin", "never", t0)
	e.userSays("nologin", "m5", t0.Add(time.Hour))
	e.clock.Set(t0.Add(3*chats.Day + time.Nanosecond))
	res := e.sweep(context.Background(), chatsfn.QueueMoveFunction)
	for id, want := range map[string]string{"waiting": chats.StatusQueued, "answered": chats.StatusOpen, "other": chats.StatusOpen, "nologin": chats.StatusOpen} {
		if c := e.chat(id); c.Status != want {
			t.Errorf("%s: %s, want %s", id, c.Status, want)
		}
	}
	moved := e.bus.of(chats.ChatMovedToQueue)
	if len(moved) != 1 || moved[0]["chatId"] != "waiting" || moved[0]["fromAgentId"] != "gone" || moved[0]["reason"] != chats.ReasonNotLoggedIn || res.Changed != 1 {
		t.Fatalf("events %v, result %+v", moved, res)
	}
	if again := e.sweep(context.Background(), chatsfn.QueueMoveFunction); again.Changed != 0 || len(e.bus.of(chats.ChatMovedToQueue)) != 1 {
		t.Errorf("second run moved again: %+v", again)
	}
	// Logging in again keeps the agent's chats.
	e.start("fresh", "gone", t0.Add(3*chats.Day))
	e.userSays("fresh", "m6", t0.Add(3*chats.Day))
	e.login("gone", t0.Add(3*chats.Day))
	e.sweep(context.Background(), chatsfn.QueueMoveFunction)
	if c := e.chat("fresh"); c.Status != chats.StatusOpen {
		t.Errorf("moved the chat of an agent who logged in: %+v", c)
	}
}
