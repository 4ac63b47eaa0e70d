package tags

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseColor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"#FFD700": "#FFD700", "#ffd700": "#FFD700", "#FfD7a0": "#FFD7A0", "#000000": "#000000", "#abcdef": "#ABCDEF",
	} {
		if got, err := ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "#", "#FFF", "#FFFFF", "#FFFFFFF", "#FFFFFFFF", "FFD700", "#GGGGGG", " #FFD700", "#FFD700 ",
		"#FFD70\x00", "＃FFD700", "#ＦＦD700", "#１２３４５６", "red", "rgb(0,0,0)", "#-12345", "#+12345", "#0x1234", "##FFFFF"} {
		if got, err := ParseColor(in); err == nil {
			t.Errorf("ParseColor(%q) = %q, want an error", in, got)
		} else if err.Error() != "must be a colour written #RRGGBB (six hexadecimal digits), or null for none" {
			t.Errorf("ParseColor(%q): message %q", in, err)
		}
	}
}

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// FuzzParseColor: a colour is accepted exactly when it is "#" and six hexadecimal digits,
// and comes back upper-cased, the same colour.
func FuzzParseColor(f *testing.F) {
	for _, s := range []string{"#FFD700", "#ffd700", "#FFF", "", "#ＦＦD700", "#\xff\xff\xff\xff\xff\xff", "#1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseColor(s)
		if (err == nil) != hexColor.MatchString(s) {
			t.Fatalf("ParseColor(%q): err %v, but the pattern says %v", s, err, hexColor.MatchString(s))
		}
		if err != nil {
			return
		}
		if got != strings.ToUpper(s) || !utf8.ValidString(got) {
			t.Fatalf("ParseColor(%q) = %q, want %q", s, got, strings.ToUpper(s))
		}
		if again, err := ParseColor(got); err != nil || again != got {
			t.Fatalf("ParseColor is not idempotent on %q: %q, %v", got, again, err)
		}
	})
}
