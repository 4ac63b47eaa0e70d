package chatsfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/officehours"
)

// t0 is the tests' starting instant.
var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// recordingBus keeps what is published; fail makes Publish fail.
type recordingBus struct {
	mu     sync.Mutex
	events []bus.Event
	fail   bool
}

func (b *recordingBus) Publish(ctx context.Context, evs []bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return errors.New("bus down")
	}
	b.events = append(b.events, evs...)
	return nil
}

func (b *recordingBus) setFail(v bool) { b.mu.Lock(); b.fail = v; b.mu.Unlock() }

// of returns the published events of detail-type dt, decoded.
func (b *recordingBus) of(dt string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, e := range b.events {
		if e.DetailType == dt {
			var d map[string]any
			_ = json.Unmarshal(e.Detail, &d)
			out = append(out, d)
		}
	}
	return out
}

// recordingMail keeps what is sent; failures make the next sends fail with the given
// errors in turn.
type recordingMail struct {
	mu       sync.Mutex
	sent     []mail.Message
	failures []error
}

func (m *recordingMail) Send(ctx context.Context, msg mail.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := msg.Check(); err != nil {
		return "", fmt.Errorf("%w: %v", mail.ErrRejected, err)
	}
	if len(m.failures) > 0 {
		err := m.failures[0]
		m.failures = m.failures[1:]
		return "", err
	}
	m.sent = append(m.sent, msg)
	return fmt.Sprintf("msg-%d", len(m.sent)), nil
}

func (m *recordingMail) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.sent) }

// env is a test's functions on embedded stores with a fake bus and mailer.
type env struct {
	t     *testing.T
	deps  app.Deps
	clock *clock
	bus   *recordingBus
	mail  *recordingMail
}

func newEnv(t *testing.T) *env {
	t.Helper()
	deps, store, err := local.Embedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &env{t: t, clock: &clock{now: t0}, bus: &recordingBus{}, mail: &recordingMail{}}
	deps.Now, deps.Bus, deps.Mail, deps.MailFrom = e.clock.Now, e.bus, e.mail, "Convrs <reports@convrs.test>"
	e.deps = deps
	return e
}

var admin = auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin@acme", OrgID: "acme", Role: auth.RoleAdmin})

// rules saves acme's chat-handling settings.
func (e *env) rules(s chathandling.Settings) {
	e.t.Helper()
	svc := settings.NewService(chathandling.Area, e.deps.Settings, e.deps.Now)
	if _, err := svc.Update(admin, "acme", "", "replace", func(chathandling.Settings) (chathandling.Settings, error) { return s, nil }); err != nil {
		e.t.Fatal(err)
	}
}

// report turns acme's missed-chat report on (to addr) or off.
func (e *env) report(enabled bool, addr string) {
	e.t.Helper()
	svc := settings.NewService(officehours.Area, e.deps.Settings, e.deps.Now)
	if _, err := svc.Update(admin, "acme", "", "patch", func(s officehours.Settings) (officehours.Settings, error) {
		s.MissedChatReport = officehours.MissedChatReport{Enabled: enabled, Email: addr}
		return s, nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// send hands one event to the chat-events function and returns its error.
func (e *env) send(dt string, detail map[string]any) error {
	return e.sendTo(chatEvents(e), dt, detail)
}

func (e *env) sendTo(h app.EventHandler, dt string, detail map[string]any) error {
	e.t.Helper()
	d, err := json.Marshal(detail)
	if err != nil {
		e.t.Fatal(err)
	}
	return h(context.Background(), app.Event{ID: "ev", Source: app.ChatSource, DetailType: dt, Time: e.clock.Now(), Detail: d})
}

// must sends and fails the test on an error.
func (e *env) must(dt string, detail map[string]any) {
	e.t.Helper()
	if err := e.send(dt, detail); err != nil {
		e.t.Fatalf("%s %v: %v", dt, detail, err)
	}
}

func chatEvents(e *env) app.EventHandler { return chatsfnEvents.Events.Handler(e.deps) }

func (e *env) chat(id string) chats.Chat {
	e.t.Helper()
	c, found, err := e.deps.Chats.Chat(context.Background(), "acme", id)
	if err != nil || !found {
		e.t.Fatalf("chat %s: found %v, %v", id, found, err)
	}
	return c
}

func (e *env) agent(id string) chats.Agent {
	e.t.Helper()
	a, _, err := e.deps.Chats.Agent(context.Background(), "acme", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// start starts chat id at at and allocates it to agent (when not "").
func (e *env) start(id, agent string, at time.Time) {
	e.t.Helper()
	e.must(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": id, "startedAt": ts(at), "channel": "web",
		"user": map[string]any{"id": "u-" + id, "name": "Ada <Lovelace>", "email": "ada@example.com"}})
	if agent != "" {
		e.must(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": id, "agentId": agent, "at": ts(at)})
	}
}

func (e *env) userSays(chat, msgID string, at time.Time) {
	e.t.Helper()
	e.must(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": chat, "messageId": msgID, "sender": "user", "text": "hello from " + msgID, "sentAt": ts(at)})
}

func (e *env) agentSays(chat, agent, msgID string, at time.Time) {
	e.t.Helper()
	e.must(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": chat, "messageId": msgID, "sender": "agent", "agentId": agent, "text": "answer " + msgID, "sentAt": ts(at)})
}

func (e *env) status(agent, status string, at time.Time) {
	e.t.Helper()
	e.must(chats.AgentStatusChanged, map[string]any{"orgId": "acme", "agentId": agent, "status": status, "at": ts(at)})
}

func (e *env) login(agent string, at time.Time) {
	e.t.Helper()
	e.must(chats.AgentLoggedIn, map[string]any{"orgId": "acme", "agentId": agent, "at": ts(at)})
}

// sweep runs a sweep function once with ctx.
func (e *env) sweep(ctx context.Context, f app.Function) app.SweepResult {
	e.t.Helper()
	res, err := f.Sweep.Run(e.deps)(ctx)
	if err != nil {
		e.t.Fatalf("%s: %v", f.Name, err)
	}
	return res
}
