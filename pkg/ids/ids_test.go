package ids

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	t.Parallel()
	good := []string{"a", "demo", "Acme_2", "0rg-1", strings.Repeat("x", MaxLen), "A-B_c"}
	bad := []string{"", "-a", "_a", "a b", "a/b", "a\x00b", "a#b", "a.b", "é", strings.Repeat("x", MaxLen+1),
		"a\n", " a", "a%2Fb", "ａ", "a\u200b"}
	for _, s := range good {
		if !Valid(s) {
			t.Errorf("Valid(%q) = false, want true", s)
		}
	}
	for _, s := range bad {
		if Valid(s) {
			t.Errorf("Valid(%q) = true, want false", s)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := New("org")
		if !Valid(id) || !strings.HasPrefix(id, "org_") || len(id) != 30 {
			t.Fatalf("New(org) = %q, want org_ and 26 base32 characters", id)
		}
		if seen[id] {
			t.Fatalf("New repeated %q", id)
		}
		seen[id] = true
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"a", "a/b", "", "\xff", "a-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !Valid(s) {
			return
		}
		if strings.ContainsAny(s, "#/\x00 .") || len(s) > MaxLen || s[0] == '-' || s[0] == '_' {
			t.Fatalf("Valid(%q) accepted a separator or a bad start", s)
		}
	})
}
