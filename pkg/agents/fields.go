package agents

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/freetext"
)

// Limits of the fields.
const (
	// MaxEmail is the longest address, in bytes (RFC 5321's path limit less the angle
	// brackets, and pkg/mail's MaxAddrSpec); MaxLocalPart the longest part before the @
	// (RFC 5321 4.5.3.1.1).
	MaxEmail     = 254
	MaxLocalPart = 64
	// MinName and MaxName bound a name in characters (free text).
	MinName, MaxName = 1, 100
	// MinMaxChats and MaxMaxChats bound an agent's maxChats override (as chat-handling's
	// maxChatsPerAgent).
	MinMaxChats, MaxMaxChats = 1, 9
)

// Field messages that more than one field uses.
const (
	msgRequired = "required"
	msgEmail    = "must be an email address such as name@example.com"
)

// hidden reports whether r is a character that hides or disguises text: control
// characters (Cc), format characters (Cf: zero-width spaces and joiners, bidi controls
// such as U+202E, the byte order mark, soft hyphen, tag characters), line and paragraph
// separators, and characters that render as blank without being white space.
func hidden(r rune) bool {
	switch r {
	case '\u034F', '\u115F', '\u1160', '\u2028', '\u2029', '\u2800', '\u3164', '\uFFA0', utf8.RuneError:
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// ParseEmail returns s as stored: trimmed of white space and lower-cased. It returns ""
// and a field message when s is not an address an agent can sign in with and receive
// email at: it must be at most MaxEmail bytes, hold no control, invisible or formatting
// characters, be ASCII (an internationalised domain is given in Punycode, xn--...: SES
// does not support SMTPUTF8), and be one bare address (net/mail, no display name,
// comment or angle brackets) whose local part is a dot-atom of at most MaxLocalPart
// bytes (no quoted local parts, which mail systems treat inconsistently) and whose
// domain is a DNS name of at least two labels (no address literals such as [192.0.2.1],
// no top-level domain of digits). Every address it returns passes pkg/mail's checks of
// a recipient.
//
// Only ASCII letters are lower-cased, after the address is known to be ASCII: Unicode
// case mapping would turn the Kelvin sign (U+212A) into "k" and so let a look-alike
// address become someone else's.
func ParseEmail(s string) (string, string) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	switch {
	case s == "":
		return "", msgRequired
	case len(s) > MaxEmail:
		return "", "must be at most " + strconv.Itoa(MaxEmail) + " characters"
	case !utf8.ValidString(s) || strings.ContainsFunc(s, hidden):
		return "", "must not contain control, invisible or formatting characters"
	case strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }):
		return "", "must be ASCII: give an internationalised domain in Punycode (xn--...)"
	}
	s = asciiLower(s)
	a, err := mail.ParseAddress(s)
	switch {
	case err != nil:
		return "", msgEmail
	case a.Name != "" || strings.ContainsAny(s, "<>"):
		return "", "must be a bare address such as name@example.com, without a display name or angle brackets"
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	switch {
	case len(local) > MaxLocalPart:
		return "", "the part before the @ must be at most " + strconv.Itoa(MaxLocalPart) + " characters"
	case !dotAtom(local):
		return "", "the part before the @ must be letters, digits and !#$%&'*+/=?^_`{|}~- separated by single dots (no quotes, spaces or comments)"
	case !hostname(domain):
		return "", "must have a domain name such as example.com after the @"
	case a.Address != s:
		return "", msgEmail // net/mail read it differently (white space around the @)
	}
	return s, ""
}

// asciiLower lower-cases the ASCII letters of s and nothing else.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// dotAtom reports whether s is an RFC 5322 dot-atom: atext runs separated by single dots.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && !isAlnum(c) && !strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", rune(c)) {
			return false
		}
	}
	return true
}

// hostname reports whether s (lower case) is a DNS name of at least two labels of
// letters, digits and inner hyphens, 1-63 characters each, at most 253 in all, whose last
// label is not all digits (so that no IPv4 address passes).
func hostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, func(r rune) bool { return r < '0' || r > '9' })
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ParseName returns s as stored (free text: trimmed of white space and invisible
// characters at both ends) and a field message when it is not 1-MaxName characters of
// acceptable free text (pkg/freetext: no control, bidirectional formatting or separator
// characters anywhere).
func ParseName(s string) (string, string) {
	s = freetext.Normalize(s)
	if msg := freetext.Problem(s, MinName, MaxName); msg != "" {
		return "", msg
	}
	return s, ""
}

// Parsers read the fields whose rules need large data, which must stay out of every
// binary that links this package only for its types and its store port (package app
// links it into every function, and each Lambda bootstrap must stay under 10 MiB): phone
// numbers (pkg/agents/phone.Parse: github.com/nyaruka/phonenumbers, trimmed, adds 256 KiB
// and 8 ms of init) and language tags (pkg/agents/langtag.Parse:
// golang.org/x/text/language builds about 190 KB of tables at init). Each returns the
// value as stored, "" for none, or "" and a field message. Only the agents function,
// which validates requests, links them.
type Parsers struct {
	// Phone returns an E.164 number, "" for none (empty or white space), or a message.
	Phone func(s string) (e164, msg string)
	// Language returns a canonical BCP 47 tag or a message ("required" for none).
	Language func(s string) (tag, msg string)
}
