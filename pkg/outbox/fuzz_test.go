package outbox

import (
	"bytes"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	convrsmail "github.com/convrs/admin/pkg/mail"
)

// FuzzHeaders: whatever From, To and Subject a message holds, either Check refuses it or
// the file written parses back with net/mail, with the same subject, sender (name and
// address) and recipients, exactly the headers Send writes (nothing injected), and lines
// of CRLF within 998 bytes.
func FuzzHeaders(f *testing.F) {
	for _, seed := range [][3]string{
		{"reports@example.com", "admin@example.com", "Missed chat"},
		{`"Zoë Ünïcode, Support (Convrs)" <reports@example.com>`, "o'brien+x@sub.example.org", "Missed chat: Zoë 😀 — «réponse»"},
		{"Name <a@b.c>", "a@b.c\r\nBcc: x@y.z", "Hi\r\nBcc: x@y.z"},
		{"a@b.c (x\r\nBcc: x@y.z)", "<a@b.c>", "=?utf-8?q?x=0D=0ABcc:_y?="},
		{"=?utf-8?q?x=0D=0ABcc:_x@y.z?= <a@b.c>", "\"a b\"@example.com", " leading and trailing "},
		{"\"a?= =?b\" <a@b.c>", "a@[127.0.0.1]", strings.Repeat("é", 499)},
		{"\"" + strings.Repeat("\\\"", 150) + "\" <a@b.c>", "a@b.c", strings.Repeat("x ", 499)},
		{strings.Repeat("Ü", 140) + " <a@b.c>", "a@b.c", strings.Repeat("=?", 499)},
		{"Group: a@b.c;", "a@b.c", "?= =?"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, from, to, subject string) {
		msg := convrsmail.Message{From: from, To: strings.Split(to, ";"), Subject: subject, Text: "t", HTML: "h"}
		if msg.Check() != nil {
			return
		}
		var buf bytes.Buffer
		if err := writeMessage(&buf, msg, "1.x@"+Domain, time.Unix(1e9, 0)); err != nil {
			t.Fatalf("writeMessage of a checked message: %v", err)
		}
		raw := buf.Bytes()
		checkLines(t, raw)
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("net/mail cannot read the message: %v\n%s", err, raw)
		}
		var keys []string
		for k, v := range m.Header {
			if len(v) != 1 {
				t.Errorf("%d %s headers", len(v), k)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}; !slices.Equal(keys, want) {
			t.Fatalf("headers %q, want %q\n%s", keys, want, raw)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Errorf("subject %q reads back as %q, %v", subject, got, err)
		}
		wantFrom, _ := mail.ParseAddress(from)
		froms, err := m.Header.AddressList("From")
		if err != nil || len(froms) != 1 || *froms[0] != *wantFrom {
			t.Errorf("From %q reads back as %v, %v; want %q %q", from, froms, err, wantFrom.Name, wantFrom.Address)
		}
		tos, err := m.Header.AddressList("To")
		if err != nil || len(tos) != len(msg.To) {
			t.Fatalf("To %q reads back as %v, %v", msg.To, tos, err)
		}
		for i, a := range tos {
			want, _ := mail.ParseAddress(msg.To[i])
			if *a != *want {
				t.Errorf("recipient %q reads back as %q %q", msg.To[i], a.Name, a.Address)
			}
		}
		e, err := parse(raw)
		if err != nil || e.Subject != subject || *e.From != *wantFrom || e.Text != "t" || e.HTML != "h" {
			t.Errorf("parse = %+v, %v", e, err)
		}
	})
}

// FuzzParse: no file makes parse panic or loop; what it accepts has both parts.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	msg := convrsmail.Message{From: "Zoë <a@example.com>", To: []string{"b@example.com"}, Subject: "Café", Text: "text\n", HTML: "<p>html</p>"}
	if err := writeMessage(&buf, msg, "1.x@"+Domain, time.Unix(1e9, 0)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("From: a@b.c\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := parse(raw)
		if err == nil && (e.From == nil || len(e.To) == 0 || e.ID == "") {
			t.Errorf("parse accepted a message without From, To or ID: %+v", e)
		}
	})
}
