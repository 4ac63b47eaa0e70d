// Package freetext holds the one rule for free text that people type and other people read
// (names, descriptions): it is trimmed of white space and invisible characters at both
// ends, "required" is judged after that trimming, lengths count characters (runes), not
// bytes, and characters that can hide or disguise text are refused anywhere: control
// characters (Unicode Cc, C0 and C1 alike), bidirectional formatting characters (U+202A-
// U+202E, U+2066-U+2069: "Trojan Source" reordering), line and paragraph separators, and
// the replacement character that marks bytes that were not UTF-8.
package freetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// invisible reports whether r renders as nothing (or as blank space) yet is not white
// space: zero-width characters, joiners, the byte order mark, the soft hyphen, invisible
// operators and the Hangul and braille fillers often used to fake a blank name. They are
// trimmed from the ends; inside text they are kept (a zero-width joiner builds emoji and
// Indic conjuncts).
func invisible(r rune) bool {
	switch r {
	case '\u00AD', '\u034F', '\u115F', '\u1160', '\u180E', '\u200B', '\u200C', '\u200D',
		'\u2060', '\u2061', '\u2062', '\u2063', '\u2064', '\u2800', '\u3164', '\uFEFF', '\uFFA0':
		return true
	}
	return r >= 0xE0000 && r <= 0xE007F // tag characters
}

// Normalize returns s without leading and trailing white space and invisible characters.
func Normalize(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || invisible(r) })
}

// bidi reports whether r is a bidirectional formatting character: the embeddings and
// overrides U+202A-U+202E and the isolates U+2066-U+2069.
func bidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// Problem returns what is wrong with s, a Normalized value, as free text of min to max
// characters, or "" when nothing is. The messages are field messages ("is required",
// "must be at most 100 characters", ...). A min of 0 makes the text optional.
func Problem(s string, min, max int) string {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return "must not contain control characters"
		case r == '\u2028' || r == '\u2029':
			return "must not contain line or paragraph separators"
		case bidi(r):
			return "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"
		}
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && min > 0:
		return "is required"
	case n < min:
		return "must be at least " + strconv.Itoa(min) + " characters"
	case n > max:
		return "must be at most " + strconv.Itoa(max) + " characters"
	}
	return ""
}
