package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/problem"
)

func TestDiff(t *testing.T) {
	before := `{"name":"a","outbound":{"x":false,"y":true},"days":["monday"],"logo":null,"gone":1}`
	after := `{"name":"b","outbound":{"x":true,"y":true},"days":["monday","tuesday"],"logo":{"url":"u"},"secret":{"k":"v"}}`
	got, err := Diff(json.RawMessage(before), json.RawMessage(after), "secret")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`days ["monday"] -> ["monday","tuesday"]`,
		`gone 1 -> null`,
		`logo.url null -> "u"`,
		`name "a" -> "b"`,
		`outbound.x false -> true`,
		`secret.k "[redacted]" -> "[redacted]"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d changes %v, want %d", len(got), got, len(want))
	}
	for i, c := range got {
		if s := c.Field + " " + string(c.From) + " -> " + string(c.To); s != want[i] {
			t.Errorf("change %d: got %s, want %s", i, s, want[i])
		}
	}
}

func TestCursorRoundTripAndTampering(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte("k"), MinCursorKeyLen)
	cur, err := NewCursors(key)
	if err != nil {
		t.Fatal(err)
	}
	id := NewID(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := cur.Encode("acme", "general", id)
	got, err := cur.Decode("acme", "general", c)
	if err != nil || got != id {
		t.Fatalf("round trip: got %q, %v; want %q", got, err, id)
	}
	other, _ := NewCursors(bytes.Repeat([]byte("o"), MinCursorKeyLen))
	// What the unkeyed scheme accepted: a SHA-256 of public inputs is not a MAC.
	sum := sha256.Sum256([]byte("convrs-audit-cursor\x00acme\x00general\x00" + id))
	unkeyed := base64.RawURLEncoding.EncodeToString([]byte(id)) + "." + base64.RawURLEncoding.EncodeToString(sum[:12])
	// The MAC's last two characters changed (to "AA", or "BB" when they were "AA").
	tampered := c[:len(c)-2] + "AA"
	if tampered == c {
		tampered = c[:len(c)-2] + "BB"
	}
	for _, bad := range []struct{ org, area, cursor string }{
		{"globex", "general", c}, {"acme", "", c}, {"acme", "general", c + "x"}, {"acme", "general", "x" + c},
		{"acme", "general", ""}, {"acme", "general", "."}, {"acme", "general", cur.Encode("acme", "general", "../../etc")},
		{"acme", "general", other.Encode("acme", "general", id)}, {"acme", "general", unkeyed},
		{"acme", "general", tampered}, {"acme", "general", strings.Repeat("A", 200) + "." + "AA"},
	} {
		if _, err := cur.Decode(bad.org, bad.area, bad.cursor); !problem.Is(err, problem.BadRequest) {
			t.Errorf("Decode(%q, %q, %q): got %v, want BadRequest", bad.org, bad.area, bad.cursor, err)
		}
	}
	if _, err := NewCursors(key[:MinCursorKeyLen-1]); err == nil {
		t.Errorf("NewCursors accepted a %d-byte key", MinCursorKeyLen-1)
	}
}

func FuzzCursorDecode(f *testing.F) {
	cur, _ := NewCursors(bytes.Repeat([]byte("k"), MinCursorKeyLen))
	f.Add(cur.Encode("acme", "", NewID(time.Unix(1, 0))))
	f.Add("a.b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := cur.Decode("acme", "", s)
		if err != nil {
			if !problem.Is(err, problem.BadRequest) {
				t.Fatalf("Decode(%q): %v, want BadRequest", s, err)
			}
			return
		}
		if !ValidID(id) || cur.Encode("acme", "", id) != s {
			t.Fatalf("Decode(%q) accepted %q, which Encode does not produce", s, id)
		}
	})
}

func TestAuditIDsIncrease(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := NewID(at)
	for range 1000 {
		id := NewID(at)
		if id <= prev {
			t.Fatalf("ids not increasing: %s after %s", id, prev)
		}
		prev = id
	}
}

// Seal and Open carry any list position up to MaxPositionLen bytes, bound to the
// organisation and the list scope; an altered, foreign, audit or oversized cursor is a
// BadRequest on "cursor".
func TestSealOpen(t *testing.T) {
	t.Parallel()
	cur, err := NewCursors(bytes.Repeat([]byte("k"), MinCursorKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []string{"x", `{"status":"open","at":"2026-11-02T09:00:00Z","id":"c1"}`, "\x00\xff\n", strings.Repeat("p", MaxPositionLen)} {
		c := cur.Seal("acme", "chats/open", pos)
		if got, err := cur.Open("acme", "chats/open", c); err != nil || got != pos {
			t.Errorf("Open(Seal(%q)): %q, %v", pos, got, err)
		}
	}
	c := cur.Seal("acme", "chats/open", "c1")
	other, _ := NewCursors(bytes.Repeat([]byte("o"), MinCursorKeyLen))
	for _, bad := range []struct{ org, scope, cursor string }{
		{"globex", "chats/open", c},
		{"acme", "chats/closed", c},
		{"acme", "chats/open", other.Seal("acme", "chats/open", "c1")},
		{"acme", "chats/open", c[:len(c)-1] + "A"},
		{"acme", "chats/open", "Yz." + strings.SplitN(c, ".", 2)[1]},
		{"acme", "chats/open", c + "\n"},
		{"acme", "chats/open", cur.Seal("acme", "chats/open", strings.Repeat("p", MaxPositionLen+1))},
		{"acme", "chats/open", cur.Seal("acme", "chats/open", "")},
		{"acme", "general", c},
	} {
		_, err := cur.Open(bad.org, bad.scope, bad.cursor)
		var pe *problem.Error
		if !problem.Is(err, problem.BadRequest) || !errors.As(err, &pe) || len(pe.Fields) != 1 || pe.Fields[0].Field != "cursor" {
			t.Errorf("Open(%q, %q, %q): %v, want a BadRequest on cursor", bad.org, bad.scope, bad.cursor, err)
		}
	}
	if _, err := (Cursors{}).Open("acme", "chats/open", c); err == nil || problem.Is(err, problem.BadRequest) {
		t.Errorf("Open without a key: %v, want an internal error", err)
	}
}

func FuzzCursorOpen(f *testing.F) {
	cur, _ := NewCursors(bytes.Repeat([]byte("k"), MinCursorKeyLen))
	f.Add(cur.Seal("acme", "chats/open", "c1"))
	f.Add("a.b")
	f.Add(".")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := cur.Open("acme", "chats/open", s)
		if err != nil {
			if !problem.Is(err, problem.BadRequest) {
				t.Fatalf("Open(%q): %v, want BadRequest", s, err)
			}
			return
		}
		if len(pos) == 0 || len(pos) > MaxPositionLen || cur.Seal("acme", "chats/open", pos) != s {
			t.Fatalf("Open(%q) accepted %q, which Seal does not produce", s, pos)
		}
	})
}
