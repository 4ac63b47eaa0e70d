package mail_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/mail/mailtest"
)

func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	ok := func(f func(m *mail.Message)) mail.Message {
		m := mail.Message{From: "reports@example.com", To: []string{"admin@example.com"}, Subject: "Subject", Text: "t", HTML: "h"}
		f(&m)
		return m
	}
	for name, m := range map[string]mail.Message{
		"example":           mailtest.Example(),
		"name and address":  ok(func(m *mail.Message) { m.From = "Convrs Reports <reports@example.com>" }),
		"encoded name":      ok(func(m *mail.Message) { m.From = "=?utf-8?q?Zo=C3=AB?= <reports@example.com>" }),
		"quoted local part": ok(func(m *mail.Message) { m.To = []string{`"a b"@example.com`} }),
		"angle brackets":    ok(func(m *mail.Message) { m.To = []string{"<admin@example.com>"} }),
		"Punycode domain":   ok(func(m *mail.Message) { m.To = []string{"admin@xn--exmple-cua.com"} }),
		"longest address": ok(func(m *mail.Message) {
			m.To = []string{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 185) + ".com"}
		}),
		"longest subject":          ok(func(m *mail.Message) { m.Subject = strings.Repeat("é", mail.MaxSubject/2) }),
		"parts with line breaks":   ok(func(m *mail.Message) { m.Text = "a\r\nb\n\tc\x00"; m.HTML = "<p>\n</p>" }),
		"subject with U+2028":      ok(func(m *mail.Message) { m.Subject = "a\u2028b" }), // not a line break in a header
		"largest parts":            ok(func(m *mail.Message) { m.Text = strings.Repeat("x", mail.MaxBodySize); m.HTML = m.Text }),
		"fifty recipients":         ok(func(m *mail.Message) { m.To = fifty(mail.MaxRecipients) }),
		"non-ASCII name, specials": ok(func(m *mail.Message) { m.From = `"Zoë, Inc. <x>" <reports@example.com>` }),
	} {
		if err := m.Check(); err != nil {
			t.Errorf("%s: Check = %v, want nil", name, err)
		}
	}
}

func fifty(n int) []string {
	var to []string
	for i := range n {
		to = append(to, fmt.Sprintf("a%d@example.com", i))
	}
	return to
}

func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	for name, m := range mailtest.Rejects() {
		if err := m.Check(); err == nil {
			t.Errorf("%s: Check accepts %+.60v", name, m)
		}
	}
}

// TestCheckReportsAll: every failing field is reported at once, and a huge recipient list
// is not read through.
func TestCheckReportsAll(t *testing.T) {
	t.Parallel()
	err := mail.Message{From: "x", To: []string{"y", "Name <a@b.c>"}, Subject: "a\nb"}.Check()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 5 {
		t.Fatalf("Check = %v, want 5 errors (from, two recipients, subject, empty parts)", err)
	}
	for _, want := range []string{"from:", "recipient 1:", "recipient 2:", "display name", "subject", "both a text and an HTML part"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check = %v, lacks %q", err, want)
		}
	}
	many := make([]string, 100000)
	err = mail.Message{From: "a@b.c", To: many, Subject: "s", Text: "t", HTML: "h"}.Check()
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n > mail.MaxRecipients+1 {
		t.Errorf("Check of %d recipients reported %d errors, want at most %d", len(many), n, mail.MaxRecipients+1)
	}
}
