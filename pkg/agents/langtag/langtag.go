// Package langtag reads agents' languages: one BCP 47 tag, canonical.
//
// It is apart from package agents because golang.org/x/text/language builds its tables
// at init (about 190 KB of every binary that links it); package agents is linked by every
// function, so only the function that validates agents' profiles imports this package
// and hands Parse to agents.CreateRequest.Validate and agents.Agent.Patch (agents.Parsers).
package langtag

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/language"
)

// MaxLen is the longest language tag accepted, in characters: RFC 5646 4.4.1's 35, which
// holds language-extlang-script-region-variant; longer tags only add extensions an
// agent's language has no use for.
const MaxLen = 35

const (
	msgRequired = "required"
	msgLanguage = "must be one BCP 47 language tag such as en or pt-BR"
)

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Parse returns s, one BCP 47 language tag, in canonical form (golang.org/x/text/
// language: "pt-br" is "pt-BR", "EN" is "en", deprecated codes become their replacements,
// "iw" is "he"), and a field message when it is not one: after trimming white space it
// must be 1-MaxLen characters of ASCII letters, digits and hyphens (no list, no
// "en_US"), well-formed, made of registered subtags, and name a language ("und" and
// private-use tags such as "x-klingon" name none).
func Parse(s string) (string, string) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	if s == "" {
		return "", msgRequired
	}
	if len(s) > MaxLen {
		return "", "must be at most " + strconv.Itoa(MaxLen) + " characters"
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return "", msgLanguage
		}
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", msgLanguage
	}
	if _, conf := tag.Base(); conf != language.Exact {
		return "", "must name a language (und and private-use tags name none), such as en or pt-BR"
	}
	return tag.String(), ""
}
