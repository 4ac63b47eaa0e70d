package passwordpolicy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

type counts = passwordpolicy.Counts

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, password string
		want           counts
	}{
		{"empty", "", counts{}},
		{"ASCII", "Tr0ub4dor&3", counts{Length: 11, Upper: 1, Lower: 6, Digits: 3, Special: 1}},
		{"space is a character of no class", "a b", counts{Length: 3, Lower: 2}},
		{"every ASCII punctuation character is special", `!"#$%&'()*+,-./:;<=>?@[\]^_` + "`{|}~", counts{Length: 32, Special: 32}},

		// Case in every script with case.
		{"Ä is upper-case", "Ä", counts{Length: 1, Upper: 1}},
		{"ÉÑ are upper-case", "ÉÑ", counts{Length: 2, Upper: 2}},
		{"ß is lower-case", "ß", counts{Length: 1, Lower: 1}},
		{"Greek", "Σσς", counts{Length: 3, Upper: 1, Lower: 2}},
		{"Cyrillic", "Жж", counts{Length: 2, Upper: 1, Lower: 1}},
		{"title-case digraph is neither", "ǅ", counts{Length: 1}},
		{"caseless script is neither", "密码", counts{Length: 2}},

		// Digits: decimal digits of every script, nothing else.
		{"Arabic-Indic three is a digit", "٣", counts{Length: 1, Digits: 1}},
		{"Devanagari seven is a digit", "७", counts{Length: 1, Digits: 1}},
		{"full-width seven is a digit", "７", counts{Length: 1, Digits: 1}},
		{"superscript two is not a digit", "²", counts{Length: 1}},
		{"Roman numeral is neither digit nor letter", "Ⅻ", counts{Length: 1}},
		{"vulgar fraction is not a digit", "½", counts{Length: 1}},

		// Special: ASCII punctuation only.
		{"euro is not special", "€", counts{Length: 1}},
		{"section and pound are not special", "§£", counts{Length: 2}},
		{"full-width exclamation is not special", "！", counts{Length: 1}},
		{"inverted question mark is not special", "¿", counts{Length: 1}},

		// Length: code points after NFC.
		{"emoji is one character", "😀", counts{Length: 1}},
		{"emoji among ASCII", "Ab1😀", counts{Length: 4, Upper: 1, Lower: 1, Digits: 1}},
		{"emoji with skin tone is two code points", "👍🏽", counts{Length: 2}},
		{"flag is two regional indicators", "🇫🇷", counts{Length: 2}},
		{"ZWJ family is five code points", "👨\u200d👩\u200d👧", counts{Length: 5}},
		{"decomposed é is one lower-case letter", "e\u0301", counts{Length: 1, Lower: 1}},
		{"decomposed Ä is one upper-case letter", "A\u0308", counts{Length: 1, Upper: 1}},
		{"decomposed accent after ASCII", "Passwo\u0301rd1", counts{Length: 9, Upper: 1, Lower: 7, Digits: 1}},
		{"decomposed accent on the first character", "E\u0301te\u0301", counts{Length: 3, Upper: 1, Lower: 2}},
		{"combining mark with no precomposed form", "q\u0303", counts{Length: 2, Lower: 1}},
		{"two combining marks on one letter", "a\u0323\u0302", counts{Length: 1, Lower: 1}}, // ậ
		{"lone combining mark", "\u0301", counts{Length: 1}},
		{"Hangul jamo compose to one syllable", "\u1100\u1161", counts{Length: 1}},
		{"Angstrom sign is Å", "\u212b", counts{Length: 1, Upper: 1}},
		{"composition exclusion decomposes", "\u0958", counts{Length: 2}},
		{"invalid UTF-8 is one character", "a\xffb", counts{Length: 3, Lower: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := passwordpolicy.Count(tc.password); got != tc.want {
				t.Errorf("Count(%q): got %+v, want %+v", tc.password, got, tc.want)
			}
			if got, want := passwordpolicy.Count(tc.password), reference(tc.password); got != want {
				t.Errorf("Count(%q): got %+v, the reference says %+v", tc.password, got, want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	policy := passwordpolicy.Settings{MinLength: 8, MaxLength: 12, MinMixedCase: 2, MinDigits: 2, MinSpecial: 1, ExpiryDays: 90}
	tests := []struct {
		password string
		want     []string // rules broken, in order
	}{
		{"ABcd12!x", nil},
		{"ABcd12!xyzwv", nil},                 // 12: the longest
		{"ABcd12!", []string{"length"}},       // 7: too short
		{"ABcd12!xyzwvu", []string{"length"}}, // 13: too long
		{"Abcd12!xyz", []string{"upper"}},     // one upper-case letter
		{"ABcD12!XYZ", []string{"lower"}},     // one lower-case letter
		{"ABcd1!xyz", []string{"digits"}},     // one digit
		{"ABcd12xyz", []string{"special"}},    // none
		{"ABcd12€xyz", []string{"special"}},   // "€" is not ASCII punctuation
		{"ÄÖüß٣٤!x", nil},                     // Unicode letters and digits count
		{"ÄÖüß٣٤!", []string{"length"}},       // 7 characters, 13 bytes
		{"A\u0308Öüß٣٤!", []string{"length"}}, // decomposed Ä is one character
		{"ABcd12!😀", nil},                     // the emoji is the eighth character
		{"", []string{"length", "upper", "lower", "digits", "special"}},
		{"😀😀😀😀😀😀😀😀😀😀😀😀😀", []string{"length", "upper", "lower", "digits", "special"}},
	}
	for _, tc := range tests {
		var got []string
		for _, v := range policy.Evaluate(tc.password) {
			got = append(got, v.Rule)
			if v.Message == "" {
				t.Errorf("Evaluate(%q): rule %s has no message", tc.password, v.Rule)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Evaluate(%q): got %v, want %v", tc.password, got, tc.want)
		}
	}
}

func TestEvaluateMessages(t *testing.T) {
	t.Parallel()
	p := passwordpolicy.Settings{MinLength: 8, MaxLength: 9, MinMixedCase: 1, MinDigits: 2, MinSpecial: 1}
	want := []passwordpolicy.Violation{
		{Rule: "length", Message: "must be at least 8 characters long"},
		{Rule: "upper", Message: "must contain at least 1 upper-case letter"},
		{Rule: "lower", Message: "must contain at least 1 lower-case letter"},
		{Rule: "digits", Message: "must contain at least 2 digits"},
		{Rule: "special", Message: "must contain at least 1 special character (ASCII punctuation such as ! # % * ? @ _)"},
	}
	if got := p.Evaluate("€"); !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	want = []passwordpolicy.Violation{{Rule: "length", Message: "must be at most 9 characters long"}}
	if got := p.Evaluate("Aa12!xxxxx"); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// reference counts as Count's documentation says, in the most direct way: NFC of the
// whole password, then one test per class for every rune, special characters being the
// printable ASCII characters that are neither letters, digits nor the space.
func reference(password string) counts {
	var c counts
	for _, r := range norm.NFC.String(password) {
		c.Length++
		if unicode.IsUpper(r) {
			c.Upper++
		}
		if unicode.IsLower(r) {
			c.Lower++
		}
		if unicode.IsDigit(r) {
			c.Digits++
		}
		if r > ' ' && r < 0x7f && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			c.Special++
		}
	}
	return c
}

// referenceRules lists the rules password breaks under p, from reference's counts.
func referenceRules(p passwordpolicy.Settings, password string) []string {
	c := reference(password)
	var rules []string
	if c.Length < p.MinLength || c.Length > p.MaxLength {
		rules = append(rules, "length")
	}
	if c.Upper < p.MinMixedCase {
		rules = append(rules, "upper")
	}
	if c.Lower < p.MinMixedCase {
		rules = append(rules, "lower")
	}
	if c.Digits < p.MinDigits {
		rules = append(rules, "digits")
	}
	if c.Special < p.MinSpecial {
		rules = append(rules, "special")
	}
	return rules
}

// FuzzEvaluate checks the evaluator against the reference on any password and any valid
// policy: it never panics, its counts are consistent, and it reports exactly the rules
// the reference says are broken (so a password it accepts satisfies every rule).
func FuzzEvaluate(f *testing.F) {
	for _, seed := range []string{"", "Tr0ub4dor&3", "ÄÖüß٣٤!x", "A\u0308e\u0301", "Passwo\u0301rd1", "😀👍🏽🇫🇷", "\u0958\u1100\u1161",
		"a\xffb\xc3", strings.Repeat("\u0301", 40), "x" + strings.Repeat("\u0323\u0302", 20), `!"#$%&'()*+,-./:;<=>?@[\]^_` + "`{|}~"} {
		f.Add(seed, uint8(8), uint8(30), uint8(1), uint8(1), uint8(0))
	}
	f.Add("ABcd12!", uint8(1), uint8(7), uint8(2), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, password string, minLen, maxLen, mixed, digits, special uint8) {
		p := passwordpolicy.Defaults()
		p.MinLength, p.MaxLength = 1+int(minLen)%30, 1+int(maxLen)%30
		p.MinMixedCase, p.MinDigits, p.MinSpecial = int(mixed)%11, int(digits)%11, int(special)%11
		if p.Validate() != nil {
			return
		}
		c := passwordpolicy.Count(password)
		if want := reference(password); c != want {
			t.Fatalf("Count(%q): got %+v, the reference says %+v", password, c, want)
		}
		if c.Upper+c.Lower+c.Digits+c.Special > c.Length || c.Length > utf8.RuneCountInString(password)*3+1 {
			t.Fatalf("Count(%q) = %+v: classes overlap or the length is impossible", password, c)
		}
		var got []string
		for _, v := range p.Evaluate(password) {
			got = append(got, v.Rule)
		}
		if want := referenceRules(p, password); !slices.Equal(got, want) {
			t.Fatalf("Evaluate(%q) under %+v: got %v, the reference says %v", password, p, got, want)
		}
	})
}

func ExampleSettings_Evaluate() {
	p := passwordpolicy.Defaults() // 8-30 characters, 1 upper- and 1 lower-case letter, 1 digit
	for _, v := range p.Evaluate("crème") {
		fmt.Println(v.Rule+":", v.Message)
	}
	// Output:
	// length: must be at least 8 characters long
	// upper: must contain at least 1 upper-case letter
	// digits: must contain at least 1 digit
}
