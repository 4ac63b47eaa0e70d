package caseless

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"Sales", "SALES", "sales", "sAlEs"},
		{"Straße", "STRASSE", "strasse", "Strasse"},
		{"Caf\u00e9", "Cafe\u0301", "CAF\u00c9", "CAFE\u0301"}, // precomposed and combining
		{"Ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ", "ὀδυσσεύσ"},                   // final sigma folds to sigma
		{"ǅemal", "ǄEMAL", "ǆemal"},                            // title-case digraph
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if Fold(s) != Fold(group[0]) || Key(s) != Key(group[0]) {
				t.Errorf("Fold(%q) = %q, Fold(%q) = %q: want the same", s, Fold(s), group[0], Fold(group[0]))
			}
		}
	}
	different := [][2]string{
		{"Sales", "Sales "},
		{"Sales", "\uff33\uff41\uff4c\uff45\uff53"}, // full-width: compatibility forms are not merged
		{"Cafe", "Café"},
	}
	for _, d := range different {
		if Fold(d[0]) == Fold(d[1]) {
			t.Errorf("Fold(%q) = Fold(%q) = %q, want them apart", d[0], d[1], Fold(d[0]))
		}
	}
	// Full case folding maps the ligature ﬁ to "fi" (CaseFolding.txt, status F).
	if Fold("ﬁle") != Fold("FILE") {
		t.Errorf("Fold(ﬁle) = %q, want %q", Fold("ﬁle"), Fold("FILE"))
	}
	if k := Key("Sales"); len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Errorf("Key = %q, want 64 lower-case hex digits", k)
	}
	if k := Key(strings.Repeat("ŉ", 100)); len(k) != 64 || !ValidKey(k) {
		t.Errorf("Key of a name that folds longer: %q", k)
	}
	for _, k := range []string{"", strings.Repeat("A", 64), strings.Repeat("a", 63), strings.Repeat("g", 64), Key("x") + "0"} {
		if ValidKey(k) {
			t.Errorf("ValidKey(%q) = true", k)
		}
	}
}

// FuzzFold: folding is idempotent, blind to the normalisation form and to ASCII case,
// and the key follows the folded form.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"Sales", "Straße", "Cafe\u0301", "ǅ", "İstanbul", "ß\u0301", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		fs := Fold(s)
		if Fold(fs) != fs {
			t.Fatalf("Fold is not idempotent on %q: %q then %q", s, fs, Fold(fs))
		}
		if Fold(norm.NFD.String(s)) != fs {
			t.Fatalf("Fold(NFD(%q)) = %q, Fold = %q", s, Fold(norm.NFD.String(s)), fs)
		}
		if Key(s) != Key(fs) {
			t.Fatalf("Key(%q) differs from Key(Fold)", s)
		}
		ascii := strings.Map(func(r rune) rune {
			if r >= utf8.RuneSelf {
				return -1
			}
			return r
		}, s)
		if Fold(strings.ToUpper(ascii)) != Fold(strings.ToLower(ascii)) {
			t.Fatalf("ASCII %q: upper and lower case fold apart", ascii)
		}
	})
}
