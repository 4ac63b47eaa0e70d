package passwordpolicy

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The rules a violation names.
const (
	RuleLength  = "length"  // too short or too long
	RuleUpper   = "upper"   // too few upper-case letters
	RuleLower   = "lower"   // too few lower-case letters
	RuleDigits  = "digits"  // too few digits
	RuleSpecial = "special" // too few special characters
	RuleReuse   = "reuse"   // used by the agent before (check route with agentId)
)

// Violation is one rule a password breaks, with a message for the person choosing it.
type Violation struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Specials are the characters minSpecial counts: ASCII punctuation, the 32 printable
// ASCII characters that are neither letters, digits nor the space. Other symbols ("€",
// "£", "§", full-width "！") are characters like any other: they count towards the length
// and nothing else, because what a keyboard can type differs by country and API.md
// promises ASCII punctuation.
const Specials = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// Counts is what the policy looks at in a password.
type Counts struct {
	Length  int // characters: Unicode code points after NFC normalisation
	Upper   int // upper-case letters (unicode.IsUpper: general category Lu)
	Lower   int // lower-case letters (unicode.IsLower: general category Ll)
	Digits  int // decimal digits of any script (unicode.IsDigit: general category Nd)
	Special int // characters of Specials
}

// Character classes of ASCII, looked up by byte.
const (
	classOther uint8 = iota
	classUpper
	classLower
	classDigit
	classSpecial
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = classUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLower
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	for i := 0; i < len(Specials); i++ {
		t[Specials[i]] = classSpecial
	}
	return t
}()

// Count counts the characters of password as a person reading it would, within what
// Unicode defines without a dependency on its version's segmentation rules:
//
//   - The password is first put in Normalization Form C, so that text that is the same
//     to a reader is counted the same however it was typed or pasted: "é" typed as "e"
//     plus a combining acute accent (as macOS file names and some input methods produce
//     it) is one character and a lower-case letter, exactly like the precomposed "é",
//     where counting raw code points would make it two characters. NFC only changes
//     how characters are encoded, never which they are, unlike NFKC (which would turn
//     "²" into the digit "2" and "ﬁ" into two letters). A few characters Unicode
//     excludes from composition are decomposed by it (Devanagari "क़" U+0958 becomes
//     two code points), and a run of more than 30 combining marks gets a U+034F
//     inserted (the Stream-Safe Text Format): rare, and counted the same way every time.
//   - Length is the number of code points after that, the unit NIST SP 800-63B
//     prescribes for password length. It is not the number of bytes (UTF-8 "€" is three)
//     nor of UTF-16 units (JavaScript's length counts "😀" twice): a single emoji is one
//     character. A sequence a reader sees as one symbol but that Unicode builds from
//     several code points counts each of them: a combining mark with no precomposed form
//     ("q̃"), an emoji with a skin tone (two), a ZWJ family emoji, a flag (two regional
//     indicators). Counting those as one would need grapheme segmentation, whose rules
//     change with Unicode versions, so the verdict on a stored password could change
//     with a library upgrade; NFC is stable for assigned characters.
//   - Upper- and lower-case letters are unicode.IsUpper and unicode.IsLower: "Ä", "É",
//     "Ñ", "Σ" are upper-case, "ß", "é", "σ" lower-case. Letters of scripts without case
//     (Chinese, Arabic, Hebrew, ...) and title-case digraphs ("ǅ") are neither, so an
//     organisation whose agents write such scripts may want minMixedCase 0.
//   - Digits are unicode.IsDigit, the decimal digits of every script: "7", "٣"
//     (Arabic-Indic three), "७" (Devanagari seven) and full-width "７" count. Other
//     numerals ("²", "Ⅻ", "½") do not.
//   - Special characters are those of Specials (ASCII punctuation) only.
//
// Count does not fail: invalid UTF-8 (which JSON decoding already replaces) counts as
// U+FFFD, a character of no class. Its cost is linear in the length of password.
func Count(password string) Counts {
	var c Counts
	i := 0
	for i < len(password) && password[i] < utf8.RuneSelf {
		i++
	}
	if i == len(password) {
		// All ASCII, which is always in NFC.
		for _, b := range []byte(password) {
			c.add(asciiClass[b])
		}
		return c
	}
	// Normalise from the last ASCII character on, the only one a following combining
	// mark can join: NFC composes a character only with the last starter before it, and
	// every ASCII character is a starter.
	i = max(i-1, 0)
	for _, b := range []byte(password[:i]) {
		c.add(asciiClass[b])
	}
	c.runes(norm.NFC.String(password[i:]))
	return c
}

func (c *Counts) add(class uint8) {
	c.Length++
	switch class {
	case classUpper:
		c.Upper++
	case classLower:
		c.Lower++
	case classDigit:
		c.Digits++
	case classSpecial:
		c.Special++
	}
}

// runes counts every rune of s (already in NFC).
func (c *Counts) runes(s string) {
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			c.add(asciiClass[r])
		case unicode.IsUpper(r):
			c.add(classUpper)
		case unicode.IsLower(r):
			c.add(classLower)
		case unicode.IsDigit(r):
			c.add(classDigit)
		default:
			c.add(classOther)
		}
	}
}

// Evaluate returns every rule of s that password breaks, in the order length, upper,
// lower, digits, special; nil when it satisfies them all. It evaluates the policy whether
// or not s.Enforce is set, and never the reuse rule (which needs the agent's history:
// the check route adds it). Characters are counted as Count says.
func (s Settings) Evaluate(password string) []Violation {
	c := Count(password)
	var v []Violation
	switch {
	case c.Length < s.MinLength:
		v = append(v, Violation{RuleLength, "must be at least " + strconv.Itoa(s.MinLength) + " characters long"})
	case c.Length > s.MaxLength:
		v = append(v, Violation{RuleLength, "must be at most " + strconv.Itoa(s.MaxLength) + " characters long"})
	}
	if c.Upper < s.MinMixedCase {
		v = append(v, Violation{RuleUpper, atLeast(s.MinMixedCase, "upper-case letter", "")})
	}
	if c.Lower < s.MinMixedCase {
		v = append(v, Violation{RuleLower, atLeast(s.MinMixedCase, "lower-case letter", "")})
	}
	if c.Digits < s.MinDigits {
		v = append(v, Violation{RuleDigits, atLeast(s.MinDigits, "digit", "")})
	}
	if c.Special < s.MinSpecial {
		v = append(v, Violation{RuleSpecial, atLeast(s.MinSpecial, "special character", " (ASCII punctuation such as ! # % * ? @ _)")})
	}
	return v
}

// atLeast says "must contain at least n thing(s)" + tail.
func atLeast(n int, thing, tail string) string {
	msg := "must contain at least " + strconv.Itoa(n) + " " + thing
	if n != 1 {
		msg += "s"
	}
	return msg + tail
}

// reuseViolation is the violation of the reuse rule.
var reuseViolation = Violation{RuleReuse, "must not be a password this agent has used before"}
