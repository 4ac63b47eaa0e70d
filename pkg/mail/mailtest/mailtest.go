// Package mailtest is the contract suite every mail.Mailer adapter must pass. An adapter's
// test calls Run with a function that opens a fresh mailer together with a way to read
// back what it delivered: the outbox folder's files, aws-ses-v2-local's GET /store.
//
// What a mailer must do:
//   - deliver both parts exactly (UTF-8, HTML's <>&" characters, long lines; line breaks
//     may arrive as any of \n, \r\n), the subject exactly (UTF-8 included), every
//     recipient, and the From address and display name (non-ASCII included);
//   - return a non-empty message id, different for every message, and the one its
//     record holds when the record has one;
//   - refuse a message that fails Message.Check (bad or injected addresses, a subject
//     with line breaks, empty or oversize parts) with an error wrapping mail.ErrRejected,
//     and send nothing;
//   - send nothing when the context has ended, returning an error that wraps the
//     context's.
//
// Failure messages show parts by their length and first bytes, not in full: a report
// holds a customer's transcript, and the habit is the one adapters must keep.
package mailtest

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/convrs/admin/pkg/mail"
)

// Sent is a message as the adapter delivered it, read back from where it went.
type Sent struct {
	// ID is the message id the delivered record holds, or "" when it holds none.
	ID string
	// From is the From address as delivered: "addr", "<addr>" or "Name <addr>", the name
	// plain, quoted or in encoded-words (the suite parses it with net/mail).
	From string
	// To are the recipients as delivered, each an address net/mail parses.
	To []string
	// Subject is the decoded subject.
	Subject string
	// Text and HTML are the decoded parts.
	Text, HTML string
}

// Open returns a new mailer and a function that returns every message delivered through
// it so far, oldest first. It is called once per subtest.
type Open func(t *testing.T) (m mail.Mailer, sent func(t *testing.T) []Sent)

// Run runs the mail.Mailer contract against the mailers open returns. The subtests run one
// after the other (an adapter's read-back may see a shared store). Failures are reported
// through t.
func Run(t *testing.T, open Open) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent)
	}{
		{"Delivered", testDelivered},
		{"PlainFrom", testPlainFrom},
		{"LineBreaks", testLineBreaks},
		{"AllRecipients", testAllRecipients},
		{"UniqueIDs", testUniqueIDs},
		{"Rejected", testRejected},
		{"ContextDone", testContextDone},
		{"Largest", testLargest}, // last: a read-back of a shared store then reads it all
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, sent := open(t)
			tt.fn(t, m, sent)
		})
	}
}

// Example returns a message with everything that can go wrong in encoding: a non-ASCII
// sender name with specials, a UTF-8 subject with an encoded-word look-alike, and parts
// with HTML specials, =, trailing spaces, tabs, non-ASCII and a line longer than any
// transfer encoding's.
func Example() mail.Message {
	long := strings.Repeat("0123456789 abcdefghij ÄÖÜ äöü ", 100) // 3100 bytes, one line
	return mail.Message{
		From:    `"Zoë Ünïcode, Support (Convrs)" <reports@example.com>`,
		To:      []string{"admin@example.com", "o'brien+missed@sub.example.org"},
		Subject: "Missed chat: Zoë Ünïcode 😀 — «réponse» =?utf-8?q?not_a_word?= ☕",
		Text: "Missed chat from Zoë Ünïcode <zoe@example.net>\n\n" +
			"a = b, 100% \"quoted\" & <not a tag>\n" +
			"trailing spaces   \n\tleading tab\n" +
			long + "\n" +
			".\nFrom the start of a line\n=== end ===",
		HTML: `<!doctype html><html><head><meta charset="utf-8"><title>Missed chat</title></head>` + "\n" +
			`<body><p class="user">Zoë &amp; <b>"Ünïcode"</b> &lt;zoe@example.net&gt;</p>` + "\n" +
			`<p>a < b && c > d "q" 'a' =3D</p>` + "\n" +
			"<pre>" + long + "</pre>\n" +
			"</body></html>\n",
	}
}

// show describes a part for a failure message without printing all of it.
func show(s string) string {
	return fmt.Sprintf("%d bytes %.24q...", len(s), s)
}

// canonical turns every line break (\r\n, lone \r or \n) into \n.
func canonical(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func mustSend(t *testing.T, m mail.Mailer, msg mail.Message) string {
	t.Helper()
	id, err := m.Send(t.Context(), msg)
	if err != nil {
		t.Fatalf("Send(%q): %v", msg.Subject, err)
	}
	if id == "" {
		t.Fatalf("Send(%q) returned an empty message id", msg.Subject)
	}
	return id
}

// mustSent returns the messages delivered, failing unless there are n.
func mustSent(t *testing.T, sent func(t *testing.T) []Sent, n int) []Sent {
	t.Helper()
	got := sent(t)
	if len(got) != n {
		var subjects []string
		for _, s := range got {
			subjects = append(subjects, s.Subject)
		}
		t.Fatalf("%d messages delivered (subjects %q), want %d", len(got), subjects, n)
	}
	return got
}

// checkDelivered compares a delivered message with the message sent and its id.
func checkDelivered(t *testing.T, got Sent, want mail.Message, id string) {
	t.Helper()
	if got.ID != "" && got.ID != id {
		t.Errorf("delivered message id %q, Send returned %q", got.ID, id)
	}
	wantFrom, err := netmail.ParseAddress(want.From)
	if err != nil {
		t.Fatalf("the suite's From %q: %v", want.From, err)
	}
	if from, err := netmail.ParseAddress(got.From); err != nil {
		t.Errorf("delivered From %q does not parse: %v", got.From, err)
	} else if *from != *wantFrom {
		t.Errorf("delivered From %q is name %q address %q, want %q %q", got.From, from.Name, from.Address, wantFrom.Name, wantFrom.Address)
	}
	var to []string
	for _, s := range got.To {
		a, err := netmail.ParseAddress(s)
		if err != nil {
			t.Errorf("delivered recipient %q does not parse: %v", s, err)
			continue
		}
		if a.Name != "" {
			t.Errorf("delivered recipient %q has a display name", s)
		}
		to = append(to, a.Address)
	}
	if !slices.Equal(to, want.To) {
		t.Errorf("delivered to %q, want %q", to, want.To)
	}
	if got.Subject != want.Subject {
		t.Errorf("delivered subject %q, want %q", got.Subject, want.Subject)
	}
	if canonical(got.Text) != canonical(want.Text) {
		t.Errorf("delivered text part %s, want %s", show(got.Text), show(want.Text))
	}
	if canonical(got.HTML) != canonical(want.HTML) {
		t.Errorf("delivered HTML part %s, want %s", show(got.HTML), show(want.HTML))
	}
}

func testDelivered(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	msg := Example()
	if err := msg.Check(); err != nil {
		t.Fatalf("the suite's example fails Check: %v", err)
	}
	id := mustSend(t, m, msg)
	checkDelivered(t, mustSent(t, sent, 1)[0], msg, id)
}

func testPlainFrom(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	msgs := []mail.Message{
		{From: "reports@example.com", To: []string{"admin@example.com"}, Subject: "Plain", Text: "text", HTML: "<p>html</p>"},
		{From: "<reports@example.com>", To: []string{"<admin@example.com>"}, Subject: "Angle brackets", Text: "text", HTML: "<p>html</p>"},
		{From: `Plain ASCII Name <reports@example.com>`, To: []string{"admin@example.com"}, Subject: "ASCII name", Text: "t", HTML: "h"},
	}
	var ids []string
	for _, msg := range msgs {
		ids = append(ids, mustSend(t, m, msg))
	}
	got := mustSent(t, sent, len(msgs))
	for i, msg := range msgs {
		// The suite compares bare recipients: "<addr>" is delivered as addr.
		for j, to := range msg.To {
			msg.To[j] = strings.Trim(to, "<>")
		}
		checkDelivered(t, got[i], msg, ids[i])
	}
}

func testLineBreaks(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	msg := mail.Message{
		From: "reports@example.com", To: []string{"admin@example.com"}, Subject: "Line breaks",
		Text: "unix\nwindows\r\nempty lines\n\n\nend with a break\n",
		HTML: "<p>\r\n</p>\r\n\r\n",
	}
	id := mustSend(t, m, msg)
	got := mustSent(t, sent, 1)[0]
	checkDelivered(t, got, msg, id)
}

func testLargest(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	// Parts of exactly MaxBodySize bytes: the text of bytes every transfer encoding must
	// escape (non-ASCII, =, trailing spaces), the HTML of one line; subjects of exactly
	// MaxSubject bytes, two-byte characters and plain ASCII.
	text := strings.Repeat("é= \n", mail.MaxBodySize/5) // 5 bytes each
	text += strings.Repeat("x", mail.MaxBodySize-len(text))
	html := "<p>" + strings.Repeat("a&b<c>", (mail.MaxBodySize-7)/6)
	html += strings.Repeat("z", mail.MaxBodySize-4-len(html)) + "</p>"
	msgs := []mail.Message{
		{From: "reports@example.com", To: []string{"admin@example.com"}, Subject: strings.Repeat("é", mail.MaxSubject/2), Text: text, HTML: html},
		{From: "reports@example.com", To: []string{"admin@example.com"}, Subject: strings.Repeat("x", mail.MaxSubject), Text: "t", HTML: "h"},
	}
	var ids []string
	for _, msg := range msgs {
		if len(msg.Subject) != mail.MaxSubject || msg.Check() != nil {
			t.Fatalf("the suite's largest message is wrong: subject of %d bytes, Check %v", len(msg.Subject), msg.Check())
		}
		ids = append(ids, mustSend(t, m, msg))
	}
	if len(text) != mail.MaxBodySize || len(html) != mail.MaxBodySize {
		t.Fatalf("the suite's parts are %d and %d bytes, want %d", len(text), len(html), mail.MaxBodySize)
	}
	got := mustSent(t, sent, len(msgs))
	for i, msg := range msgs {
		checkDelivered(t, got[i], msg, ids[i])
	}
}

func testAllRecipients(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	msg := mail.Message{From: "reports@example.com", Subject: "Fifty recipients", Text: "t", HTML: "h"}
	for i := range mail.MaxRecipients {
		msg.To = append(msg.To, fmt.Sprintf("admin-%02d@example.com", i))
	}
	id := mustSend(t, m, msg)
	checkDelivered(t, mustSent(t, sent, 1)[0], msg, id)
}

func testUniqueIDs(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := m.Send(t.Context(), mail.Message{
				From: "reports@example.com", To: []string{"admin@example.com"},
				Subject: fmt.Sprintf("Message %d", i), Text: fmt.Sprintf("text %d", i), HTML: fmt.Sprintf("<p>%d</p>", i),
			})
			if err != nil {
				t.Errorf("concurrent Send %d: %v", i, err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := map[string]int{}
	for i, id := range ids {
		if id == "" {
			t.Errorf("message %d: empty id", i)
		}
		if j, dup := seen[id]; dup {
			t.Errorf("messages %d and %d have the same id %q", j, i, id)
		}
		seen[id] = i
	}
	for _, got := range mustSent(t, sent, n) {
		var i int
		if _, err := fmt.Sscanf(got.Subject, "Message %d", &i); err != nil || i < 0 || i >= n {
			t.Errorf("delivered an unexpected subject %q", got.Subject)
			continue
		}
		if got.ID != "" && got.ID != ids[i] {
			t.Errorf("message %d delivered with id %q, Send returned %q", i, got.ID, ids[i])
		}
		if got.Text != fmt.Sprintf("text %d", i) || got.HTML != fmt.Sprintf("<p>%d</p>", i) {
			t.Errorf("message %d delivered with the parts %q, %q", i, got.Text, got.HTML)
		}
	}
}

// Rejects are messages Check refuses, each with what is wrong.
func Rejects() map[string]mail.Message {
	ok := mail.Message{From: "reports@example.com", To: []string{"admin@example.com"}, Subject: "Subject", Text: "text", HTML: "<p>html</p>"}
	with := func(f func(m *mail.Message)) mail.Message {
		m := ok
		m.To = slices.Clone(ok.To)
		f(&m)
		return m
	}
	fifty := make([]string, mail.MaxRecipients+1)
	for i := range fifty {
		fifty[i] = fmt.Sprintf("a%d@example.com", i)
	}
	return map[string]mail.Message{
		"from empty":             with(func(m *mail.Message) { m.From = "" }),
		"from not an address":    with(func(m *mail.Message) { m.From = "reports" }),
		"from two addresses":     with(func(m *mail.Message) { m.From = "a@example.com, b@example.com" }),
		"from CRLF Bcc":          with(func(m *mail.Message) { m.From = "a@b.c\r\nBcc: x@y.z" }),
		"from LF Bcc":            with(func(m *mail.Message) { m.From = "a@b.c\nBcc: x@y.z" }),
		"from name CRLF Bcc":     with(func(m *mail.Message) { m.From = "Name\r\nBcc: x@y.z <a@b.c>" }),
		"from comment CRLF Bcc":  with(func(m *mail.Message) { m.From = "a@b.c (x\r\nBcc: x@y.z)" }),
		"from encoded CRLF Bcc":  with(func(m *mail.Message) { m.From = "=?utf-8?q?x=0D=0ABcc:_x@y.z?= <a@b.c>" }),
		"from NUL":               with(func(m *mail.Message) { m.From = "a@b.c\x00" }),
		"from non-ASCII address": with(func(m *mail.Message) { m.From = "zoë@example.com" }),
		"from too long":          with(func(m *mail.Message) { m.From = strings.Repeat("n", mail.MaxAddress) + " <a@b.c>" }),
		"no recipients":          with(func(m *mail.Message) { m.To = nil }),
		"51 recipients":          with(func(m *mail.Message) { m.To = fifty }),
		"to empty":               with(func(m *mail.Message) { m.To = []string{""} }),
		"to CRLF Bcc":            with(func(m *mail.Message) { m.To = []string{"a@b.c\r\nBcc: x@y.z"} }),
		"to two in one":          with(func(m *mail.Message) { m.To = []string{"a@b.c, x@y.z"} }),
		"to with a name":         with(func(m *mail.Message) { m.To = []string{"Admin <a@b.c>"} }),
		"to with a comment":      with(func(m *mail.Message) { m.To = []string{"a@b.c (admin)"} }),
		"to second bad":          with(func(m *mail.Message) { m.To = []string{"a@b.c", "not an address"} }),
		"to non-ASCII address":   with(func(m *mail.Message) { m.To = []string{"admin@exämple.com"} }),
		"to address too long": with(func(m *mail.Message) {
			m.To = []string{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 190) + ".com"}
		}),
		"subject empty":              with(func(m *mail.Message) { m.Subject = "" }),
		"subject CRLF Bcc":           with(func(m *mail.Message) { m.Subject = "Hi\r\nBcc: x@y.z" }),
		"subject LF":                 with(func(m *mail.Message) { m.Subject = "Hi\nthere" }),
		"subject CR":                 with(func(m *mail.Message) { m.Subject = "Hi\rthere" }),
		"subject NEL":                with(func(m *mail.Message) { m.Subject = "Hi\u0085there" }),
		"subject tab":                with(func(m *mail.Message) { m.Subject = "Hi\tthere" }),
		"subject too long":           with(func(m *mail.Message) { m.Subject = strings.Repeat("x", mail.MaxSubject+1) }),
		"subject not UTF-8":          with(func(m *mail.Message) { m.Subject = "Hi \xff" }),
		"text empty":                 with(func(m *mail.Message) { m.Text = "" }),
		"HTML empty":                 with(func(m *mail.Message) { m.HTML = "" }),
		"text oversize":              with(func(m *mail.Message) { m.Text = strings.Repeat("x", mail.MaxBodySize+1) }),
		"HTML oversize":              with(func(m *mail.Message) { m.HTML = strings.Repeat("x", mail.MaxBodySize+1) }),
		"text not UTF-8":             with(func(m *mail.Message) { m.Text = "caf\xe9" }),
		"HTML not UTF-8":             with(func(m *mail.Message) { m.HTML = "<p>\xc3\x28</p>" }),
		"everything wrong at once":   {From: "x", To: []string{"y"}},
		"recipient bad, subject bad": with(func(m *mail.Message) { m.To = []string{"a@b.c\nBcc: x@y.z"}; m.Subject = "a\nBcc: x@y.z" }),
	}
}

func testRejected(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	for name, msg := range Rejects() {
		if msg.Check() == nil {
			t.Errorf("%s: Check accepts the message", name)
			continue
		}
		id, err := m.Send(t.Context(), msg)
		if !errors.Is(err, mail.ErrRejected) {
			t.Errorf("%s: Send = %q, %v; want an error wrapping mail.ErrRejected", name, id, err)
		}
		if err != nil && id != "" {
			t.Errorf("%s: Send returned the id %q with an error", name, id)
		}
	}
	if got := sent(t); len(got) != 0 {
		t.Errorf("%d rejected messages were delivered: first subject %q", len(got), got[0].Subject)
	}
}

func testContextDone(t *testing.T, m mail.Mailer, sent func(t *testing.T) []Sent) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	msg := Example()
	id, err := m.Send(ctx, msg)
	if !errors.Is(err, context.Canceled) || id != "" {
		t.Errorf("Send with a canceled context = %q, %v; want an error wrapping context.Canceled", id, err)
	}
	if errors.Is(err, mail.ErrRejected) {
		t.Errorf("Send with a canceled context = %v, which claims the message was rejected", err)
	}
	if got := sent(t); len(got) != 0 {
		t.Errorf("Send with a canceled context delivered %d messages", len(got))
	}
}
