package freetext

import (
	"strings"
	"testing"
)

func TestNormalizeAndProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, problem string
	}{
		{"plain", "Acme", "Acme", ""},
		{"trimmed", "  Acme Corp \t", "Acme Corp", ""},
		{"100 characters", strings.Repeat("é", 100), strings.Repeat("é", 100), ""},
		{"101 characters", strings.Repeat("é", 101), strings.Repeat("é", 101), "must be at most 100 characters"},
		{"101 bytes, 100 characters", strings.Repeat("a", 99) + "é", strings.Repeat("a", 99) + "é", ""},
		{"empty", "", "", "is required"},
		{"spaces only", "   \u00a0\u3000", "", "is required"},
		{"zero-width only", "\u200b\u200c\u200d\u2060", "", "is required"},
		{"BOM only", "\ufeff", "", "is required"},
		{"Hangul filler only", "\u3164\u115f", "", "is required"},
		{"tag characters only", "\U000E0041\U000E0042", "", "is required"},
		{"invisible edges trimmed", "\u200bAcme\ufeff", "Acme", ""},
		{"inner joiner kept", "👩\u200d💻 Team", "👩\u200d💻 Team", ""},
		{"C0 control", "Ac\x07me", "Ac\x07me", "must not contain control characters"},
		{"DEL", "Ac\x7fme", "Ac\x7fme", "must not contain control characters"},
		{"C1 NEL", "Ac\u0085me", "Ac\u0085me", "must not contain control characters"},
		{"C1 CSI", "Ac\u009bme", "Ac\u009bme", "must not contain control characters"},
		{"inner newline", "Ac\nme", "Ac\nme", "must not contain control characters"},
		{"line separator", "Ac\u2028me", "Ac\u2028me", "must not contain line or paragraph separators"},
		{"paragraph separator", "Ac\u2029me", "Ac\u2029me", "must not contain line or paragraph separators"},
		{"RLO", "Acme\u202egnp.exe", "Acme\u202egnp.exe", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"LRE", "\u202aAcme", "\u202aAcme", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"isolate", "Ac\u2067me\u2069", "Ac\u2067me\u2069", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"replacement character", "Ac\ufffdme", "Ac\ufffdme", "must be valid UTF-8 text"},
		{"invalid UTF-8", "Ac\xffme", "Ac\xffme", "must be valid UTF-8 text"},
		{"right-to-left text", "شركة أكمي", "شركة أكمي", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in)
			if got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if p := Problem(got, 1, 100); p != tc.problem {
				t.Errorf("Problem(%q) = %q, want %q", got, p, tc.problem)
			}
		})
	}
	if p := Problem("", 0, 10); p != "" {
		t.Errorf("optional empty: got %q", p)
	}
	if p := Problem("ab", 3, 10); p != "must be at least 3 characters" {
		t.Errorf("short: got %q", p)
	}
}

func FuzzFreeText(f *testing.F) {
	for _, s := range []string{"Acme", "\u200b", "a\u202eb", "\xff", " \u3164 ", "a\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent on %q", s)
		}
		if Problem(n, 1, 100) != "" {
			return
		}
		if n == "" || strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || bidi(r) }) {
			t.Fatalf("accepted %q (from %q)", n, s)
		}
	})
}
