package agents_test

import (
	"html"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

func TestInvitation(t *testing.T) {
	t.Parallel()
	token, inv := agents.NewInvitation(now.In(time.FixedZone("X", -5*3600)))
	token2, inv2 := agents.NewInvitation(now)
	if len(token) != agents.TokenLen || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("token %q is not %d characters of base64url", token, agents.TokenLen)
	}
	if token == token2 || inv.TokenHash == inv2.TokenHash {
		t.Error("two invitations share a token")
	}
	if len(inv.TokenHash) != 64 || !ids.Valid(inv.TokenHash) || strings.Contains(inv.TokenHash, token) {
		t.Errorf("token hash %q is not 64 hex characters apart from the token", inv.TokenHash)
	}
	if h, err := agents.ParseToken(token); err != nil || h != inv.TokenHash {
		t.Errorf("ParseToken: %q, %v; want the stored hash", h, err)
	}
	if want := now.Add(72 * time.Hour); !inv.ExpiresAt.Equal(want) || inv.ExpiresAt.Location() != time.UTC {
		t.Errorf("expires %v; want %v in UTC", inv.ExpiresAt, want)
	}
	if err := inv.Check(token, now.Add(72*time.Hour-time.Nanosecond)); err != nil {
		t.Errorf("within 72 hours: %v", err)
	}
	if err := inv.Check(token, now.Add(72*time.Hour)); fieldMessage(t, err) != "this set-password link has expired (links are valid for 72 hours); ask an administrator to send a new invitation" {
		t.Errorf("at 72 hours: %v", err)
	}
	invalidMsg := "is not a valid set-password link: it may have been used already; ask an administrator to send a new invitation"
	flipped := []byte(token)
	flipped[0] = "AB"[min(1, strings.IndexByte("A", token[0])+1)]
	for name, bad := range map[string]string{
		"another invitation's":  token2,
		"one character changed": string(flipped),
		"empty":                 "",
		"padded":                token + "=",
		"short":                 token[:42],
		"long":                  token + "A",
		"standard alphabet":     strings.NewReplacer("-", "+", "_", "/").Replace(token[:42]) + "+",
		"stray bits":            token[:42] + "B", // 43 characters carry 258 bits: the last two must be 0
		"line break":            token[:20] + "\n" + token[21:],
		"NUL":                   token[:42] + "\x00",
		"space":                 " " + token[1:],
		"zero-width space":      token[:40] + "\u200b",
		"huge":                  strings.Repeat(token, 1<<14),
		"the hash itself":       inv.TokenHash,
	} {
		if err := inv.Check(bad, now); fieldMessage(t, err) != invalidMsg {
			t.Errorf("%s: %v; want %q", name, err, invalidMsg)
		}
	}
}

// fieldMessage returns the message of the one field error (on token) of err.
func fieldMessage(t *testing.T, err error) string {
	t.Helper()
	f := fieldsOf(t, err, problem.Invalid)
	if len(f) != 1 || !strings.HasPrefix(f[0], "token: ") {
		t.Fatalf("fields %q; want one on token", f)
	}
	return strings.TrimPrefix(f[0], "token: ")
}

func TestInvitationEmail(t *testing.T) {
	t.Parallel()
	token, inv := agents.NewInvitation(now)
	e := agents.InvitationEmail{
		From: "Convrs <noreply@convrs.example>", To: "ana@example.com",
		Name: `Ana <script>alert("x")</script> & Co`, Organisation: "Acme & Sons",
		BaseURL: "https://admin.example.com/dashboard/", Token: token, ExpiresAt: inv.ExpiresAt,
	}
	m, err := e.Message()
	if err != nil {
		t.Fatal(err)
	}
	link := "https://admin.example.com/dashboard/set-password?token=" + token
	if m.From != e.From || len(m.To) != 1 || m.To[0] != "ana@example.com" || m.Subject != "Set your password for Acme & Sons on Convrs" {
		t.Errorf("headers %q %q %q", m.From, m.To, m.Subject)
	}
	for _, want := range []string{"Hello " + e.Name + ",", link, "Monday 30 November 2026, 10:30 UTC", "72 hours", "ana@example.com"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{`<a href="` + link + `">`, "Ana &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co", "Acme &amp; Sons"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Error("the HTML part carries the name unescaped")
	}
	if n := strings.Count(m.Text+m.HTML, token); n != 3 {
		t.Errorf("the token appears %d times; want once in the text link, twice in the HTML (href and text)", n)
	}
	if strings.Contains(m.Text+m.HTML, inv.TokenHash) {
		t.Error("the email carries the token's hash")
	}
	// No password: the email is made from these fields and none of them is one.
	for _, f := range reflect.VisibleFields(reflect.TypeFor[agents.InvitationEmail]()) {
		if strings.Contains(strings.ToLower(f.Name), "password") {
			t.Errorf("InvitationEmail has a field %s", f.Name)
		}
	}

	local := e
	local.BaseURL, local.Organisation = "http://127.0.0.1:8080", ""
	if m, err := local.Message(); err != nil || !strings.Contains(m.Text, "http://127.0.0.1:8080/set-password?token="+token) || m.Subject != "Set your password for Convrs" {
		t.Errorf("local base: %v %q", err, m.Subject)
	}
	for name, change := range map[string]func(*agents.InvitationEmail){
		"no base":         func(e *agents.InvitationEmail) { e.BaseURL = "" },
		"ftp base":        func(e *agents.InvitationEmail) { e.BaseURL = "ftp://admin.example.com" },
		"http base":       func(e *agents.InvitationEmail) { e.BaseURL = "http://admin.example.com" },
		"base with query": func(e *agents.InvitationEmail) { e.BaseURL = "https://admin.example.com/?next=x" },
		"relative base":   func(e *agents.InvitationEmail) { e.BaseURL = "/set" },
		"bad token":       func(e *agents.InvitationEmail) { e.Token = "x" },
		"no token":        func(e *agents.InvitationEmail) { e.Token = "" },
		"bad recipient":   func(e *agents.InvitationEmail) { e.To = "Ana <ana@example.com>" },
		"no sender":       func(e *agents.InvitationEmail) { e.From = "" },
		"organisation with a line break": func(e *agents.InvitationEmail) {
			e.Organisation = "Acme\r\nBcc: x@example.com" // made one line, not refused
		},
	} {
		bad := e
		change(&bad)
		m, err := bad.Message()
		if name == "organisation with a line break" {
			if err != nil || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("%s: %v, subject %q", name, err, m.Subject)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), token) {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
}

// TestDependencies keeps the package free of what would break its callers: package app
// (app.Deps will hold this package's ports: an import cycle), the templates that a
// conformance test bans from function binaries, the settings areas and the AWS SDK.
func TestDependencies(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/convrs/admin/pkg/agents").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		switch {
		case dep == "github.com/convrs/admin/pkg/app", dep == "text/template", dep == "html/template",
			strings.HasPrefix(dep, "github.com/aws/aws-sdk-go-v2/"), strings.HasPrefix(dep, "github.com/convrs/admin/pkg/settings"):
			t.Errorf("pkg/agents depends on %s", dep)
		}
	}
}

// escapeHTML is html.EscapeString.
func FuzzEscapeHTML(f *testing.F) {
	for _, s := range []string{"", "<a href=\"x\">O'Neil & co</a>", "\xff<", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := agents.EscapeHTMLForTest(s), html.EscapeString(s); got != want {
			t.Fatalf("escapeHTML(%q) = %q, want %q", s, got, want)
		}
	})
}
