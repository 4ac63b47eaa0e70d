package chatsfn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/mail"
)

func (e *env) missed(chat string, at time.Time) error {
	return e.sendTo(chatsfn.ReportFunction.Events.Handler(e.deps), chats.ChatMissed, map[string]any{"orgId": "acme", "chatId": chat, "at": ts(at)})
}

// One email per missed chat, with the user's details and the transcript in both parts,
// whatever is delivered twice.
func TestMissedChatReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.report(true, "ops@example.com")
	e.start("c1", "", t0)
	e.userSays("c1", "m1", t0.Add(time.Minute))
	e.must(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": "c1", "messageId": "m2", "sender": "user",
		"text": `<script>alert("x")</script> & more`, "sentAt": ts(t0.Add(2 * time.Minute))})
	e.clock.Set(t0.Add(time.Hour))
	for range 3 {
		if err := e.missed("c1", t0.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if e.mail.count() != 1 {
		t.Fatalf("%d emails, want 1", e.mail.count())
	}
	m := e.mail.sent[0]
	if m.To[0] != "ops@example.com" || m.From != "Convrs <reports@convrs.test>" || !strings.Contains(m.Subject, "Ada <Lovelace>") {
		t.Errorf("headers: from %q to %v subject %q", m.From, m.To, m.Subject)
	}
	for _, want := range []string{"Ada <Lovelace>", "ada@example.com", "u-c1", "hello from m1", `<script>alert("x")</script> & more`, "2 messages"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"Ada &lt;Lovelace&gt;", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more", "hello from m1"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Error("the HTML part holds an unescaped script")
	}
	if sent := e.bus.of(chats.MissedChatReportSent); len(sent) != 1 || sent[0]["to"] != "ops@example.com" || sent[0]["messageId"] != "msg-1" {
		t.Errorf("events: %v", sent)
	}
	// Concurrent deliveries of another chat's event send once too.
	e.start("c2", "", t0)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { _ = e.missed("c2", t0.Add(30*time.Minute)) })
	}
	wg.Wait()
	if e.mail.count() != 2 {
		t.Errorf("%d emails after 5 concurrent deliveries for c2, want 2 in all", e.mail.count())
	}
}

func TestMissedChatReportDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("c1", "", t0)
	if err := e.missed("c1", t0); err != nil || e.mail.count() != 0 {
		t.Errorf("sent with the report off (the default): %v, %d", err, e.mail.count())
	}
	e.report(false, "ops@example.com")
	if err := e.missed("c1", t0); err != nil || e.mail.count() != 0 {
		t.Errorf("sent with the report disabled: %v, %d", err, e.mail.count())
	}
}

// A report waits (asks for the event again) while the chat's own events are missing, then
// goes out with what is known.
func TestMissedChatReportWaitsForTheChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.report(true, "ops@example.com")
	e.clock.Set(t0.Add(time.Minute))
	if err := e.missed("c1", t0); err == nil || errors.Is(err, app.ErrMalformed) || e.mail.count() != 0 {
		t.Fatalf("before the chat's events: %v, %d emails; want a retryable error and none", err, e.mail.count())
	}
	e.clock.Set(t0.Add(time.Hour))
	if err := e.missed("c1", t0); err != nil || e.mail.count() != 1 || !strings.Contains(e.mail.sent[0].Text, "had not arrived") {
		t.Errorf("after waiting: %v, %d emails", err, e.mail.count())
	}
}

// A failed send is retried (the marker is released) and never duplicated; a rejected
// message is not retried.
func TestMissedChatReportFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.report(true, "ops@example.com")
	e.start("c1", "", t0)
	e.start("c2", "", t0)
	e.clock.Set(t0.Add(time.Hour))
	e.mail.failures = []error{fmt.Errorf("%w: throttled", mail.ErrNotSent)}
	if err := e.missed("c1", t0); err == nil {
		t.Fatal("a failed send did not ask for the event again")
	}
	if err := e.missed("c1", t0); err != nil || e.mail.count() != 1 {
		t.Fatalf("retry: %v, %d emails", err, e.mail.count())
	}
	if err := e.missed("c1", t0); err != nil || e.mail.count() != 1 {
		t.Errorf("a third delivery sent again: %v, %d", err, e.mail.count())
	}
	e.mail.failures = []error{fmt.Errorf("%w: sender not verified", mail.ErrRejected)}
	if err := e.missed("c2", t0); err != nil || e.mail.count() != 1 {
		t.Errorf("rejected: %v (want nil: retrying cannot help), %d emails", err, e.mail.count())
	}
	// A send whose outcome is unknown is never repeated: it may have gone.
	e.start("c3", "", t0)
	e.mail.failures = []error{errors.New("502 Bad Gateway")}
	if err := e.missed("c3", t0); err != nil {
		t.Errorf("unknown outcome: %v, want nil (not retried)", err)
	}
	e.mail.failures = nil
	if err := e.missed("c3", t0); err != nil || e.mail.count() != 1 {
		t.Errorf("a send of unknown outcome was repeated: %v, %d emails", err, e.mail.count())
	}
}

// The report lists at most chats.MaxTranscript messages and says so.
func TestRenderLongTranscript(t *testing.T) {
	t.Parallel()
	c := chats.Chat{OrgID: "acme", ChatID: "c1", Channel: "whatsapp", User: chats.User{ID: "u1"}, StartedAt: t0, Messages: 1500}
	msgs := make([]chats.Message, chats.MaxTranscript)
	for i := range msgs {
		msgs[i] = chats.Message{MessageID: fmt.Sprint(i), Sender: chats.SenderUser, Text: "x", SentAt: t0}
	}
	m, err := chatsfn.Render(c, t0, msgs, true, "Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "1500 messages, the first 1000 shown") || !strings.Contains(m.Subject, "u1 (whatsapp)") || !strings.Contains(m.Text, "GMT") {
		t.Errorf("subject %q, text starts %q", m.Subject, m.Text[:200])
	}
	m.From, m.To = "a@b.co", []string{"c@d.co"}
	if err := m.Check(); err != nil {
		t.Errorf("the rendered report does not pass mail.Check: %v", err)
	}
	_ = context.Background
}
