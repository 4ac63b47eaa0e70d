package agents_test

import (
	"context"
	"encoding/base64"
	"fmt"
	netmail "net/mail"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/problem"
)

// Fuzz targets for every parser of the package. `go test` runs their seeds; to fuzz,
// e.g. go test -run '^$' -fuzz FuzzParseEmail -fuzztime 60s ./pkg/agents/

// FuzzParseEmail: an address accepted is stored as it will be read again (ParseEmail of
// it is itself), ASCII without upper-case letters, within MaxEmail bytes, read by
// net/mail as the same bare address, and a recipient pkg/mail accepts; a refused one
// gets a message and no value.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"ana@example.com", " Ana.Silva@Example.COM ", "Ana <ana@example.com>", `"a b"@example.com`, "a..b@example.com",
		"ana@[192.0.2.1]", "ana@192.0.2.1", "ana\u200b@example.com", "\u212Aate@example.com", "ana@bücher.example",
		"ana\x00@example.com", "a@b", "@example.com", "ana@", "ana@example.com\r\nBcc: x@example.com", "=?utf-8?q?x?= <a@b.co>",
		"a(b)@example.com", "a@example.com.", "a@-example.com", "o'neil!#$%&*/=?^_`{|}~-@example.org", strings.Repeat("a", 300),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, msg := agents.ParseEmail(s)
		if (got == "") == (msg == "") {
			t.Fatalf("ParseEmail(%q) = %q, %q: exactly one of value and message", s, got, msg)
		}
		if msg != "" {
			return
		}
		if again, msg := agents.ParseEmail(got); again != got || msg != "" {
			t.Errorf("ParseEmail(%q) = %q, but ParseEmail of that is %q, %q", s, got, again, msg)
		}
		if len(got) > agents.MaxEmail || strings.ContainsFunc(got, func(r rune) bool { return r >= utf8.RuneSelf || r >= 'A' && r <= 'Z' }) {
			t.Errorf("ParseEmail(%q) = %q: not lower-case ASCII within %d bytes", s, got, agents.MaxEmail)
		}
		if a, err := netmail.ParseAddress(got); err != nil || a.Address != got || a.Name != "" {
			t.Errorf("net/mail reads %q as %v, %v", got, a, err)
		}
		m := mail.Message{From: "noreply@example.com", To: []string{got}, Subject: "x", Text: "x", HTML: "x"}
		if err := m.Check(); err != nil {
			t.Errorf("pkg/mail refuses %q: %v", got, err)
		}
	})
}

// FuzzParseHash: a stored hash accepted has exactly one spelling (re-encoding what was
// read gives it back) and parameters within the ceilings, so verifying it is bounded.
func FuzzParseHash(f *testing.F) {
	b := base64.RawStdEncoding
	f.Add("$argon2id$v=19$m=47104,t=1,p=1$" + b.EncodeToString(make([]byte, 16)) + "$" + b.EncodeToString(make([]byte, 32)))
	f.Add("$argon2id$v=19$m=65536,t=4,p=4$" + b.EncodeToString(make([]byte, 64)) + "$" + b.EncodeToString(make([]byte, 64)))
	f.Add("$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=047104,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=47104,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAB$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=47104,t=1,p=1$AAAAAAAAAAAA\nAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=47104,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := passwords.ParseHash(s)
		if err != nil {
			if salt != nil || key != nil || p != (passwords.Params{}) {
				t.Fatalf("ParseHash(%q) failed but returned values", s)
			}
			return
		}
		if p.Memory > passwords.MaxMemory || p.Time < 1 || p.Time > passwords.MaxTime || p.Threads < 1 || p.Threads > passwords.MaxThreads ||
			len(salt) < passwords.MinSaltLen || len(salt) > passwords.MaxSaltLen || len(key) < passwords.MinKeyLen || len(key) > passwords.MaxKeyLen {
			t.Fatalf("ParseHash(%q) = %+v, salt %d, key %d bytes: out of bounds", s, p, len(salt), len(key))
		}
		again := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads, b.EncodeToString(salt), b.EncodeToString(key))
		if again != s {
			t.Errorf("ParseHash(%q) reads what encodes as %q: more than one spelling", s, again)
		}
	})
}

// FuzzParseToken: a token accepted has exactly one spelling (43 characters of base64url
// that re-encode to themselves); its hash is 64 hex characters.
func FuzzParseToken(f *testing.F) {
	token, _ := agents.NewInvitation(now)
	for _, s := range []string{token, token + "=", token[:42] + "B", token[:42], token[:20] + "\n" + token[21:42], strings.Repeat("_", 43), strings.Repeat("+", 43), ""} {
		f.Add(s)
	}
	hex := regexp.MustCompile(`^[0-9a-f]{64}$`)
	f.Fuzz(func(t *testing.T, s string) {
		h, err := agents.ParseToken(s)
		if err != nil {
			if h != "" || len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("ParseToken(%q): %q, %v", s, h, err)
			}
			return
		}
		b, derr := base64.RawURLEncoding.DecodeString(s)
		if derr != nil || len(b) != agents.TokenBytes || base64.RawURLEncoding.EncodeToString(b) != s || !hex.MatchString(h) {
			t.Errorf("ParseToken(%q) = %q: not a canonical 32-byte base64url token", s, h)
		}
	})
}

// FuzzPatch: any body either fails as a client error (400 or 422, never a 500) or
// gives an agent whose profile is valid as stored: patching it with {} again changes
// nothing, and the email, id and status are never changed.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"name": " Bo "}`, `{"maxChats": null}`, `{"maxChats": 0}`, `{"email": "x@example.com"}`, `{"Name": "x"}`,
		`{"name": "a", "name": "b"}`, `{"businessUnitIds": ["bu_vip", "bu_vip"]}`, `{"landline": "+44 20 7946 0958", "mobile": ""}`,
		`{"language": "pt-br", "role": "role_custom1"}`, `[]`, `null`, `{"status": "disabled"}`, `{"suspendedAt": null}`, `{"name": "\u202e"}`, "{\"name\": \"\xff\"}",
		`{"businessUnitIds": [1]}`, `{"maxChats": 9, "mobile": null, "landline": null}`, `{"x": {"y": {"z": []}}}`,
	} {
		f.Add([]byte(s))
	}
	base := sampleAgent()
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := base.Patch(context.Background(), "org1", body, newRefs(), parsers)
		if err != nil {
			if c := problem.CodeOf(err); c != problem.BadRequest && c != problem.Invalid {
				t.Fatalf("Patch(%q): %v; want a 400 or 422", body, err)
			}
			return
		}
		if got.Email != base.Email || got.ID != base.ID || got.Status != base.Status || got.Version != base.Version ||
			got.SuspendedAt != base.SuspendedAt || got.LastLoginAt != base.LastLoginAt {
			t.Errorf("Patch(%q) changed a read-only field: %+v", body, got)
		}
		again, err := got.Patch(context.Background(), "org1", []byte(`{}`), newRefs(), parsers)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Patch(%q) gave %+v, which {} changes to %+v (%v)", body, got, again, err)
		}
		if n, msg := agents.ParseName(got.Name); n != got.Name || msg != "" {
			t.Errorf("Patch(%q) stored the name %q (%s)", body, got.Name, msg)
		}
	})
}
