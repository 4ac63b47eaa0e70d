// Package phone reads the phone numbers of agents (landline, mobile) into E.164.
//
// It validates with github.com/nyaruka/phonenumbers (Google's libphonenumber: its code and
// numbering-plan metadata), built from the trimmed copy in third_party/phonenumbers (go.mod's
// replace directive; `go run ./scripts/trimphonenumbers` regenerates it from the module and
// checks it). The copy is upstream's code and metadata byte for byte, less the carrier,
// geocoding and timezone lookups and with the protobuf runtime replaced by a small wire-format
// reader (third_party/phonenumbers/TRIMMED.md lists every change). As published the module
// cost the agents bootstrap 9.9 MB (19,792,034 bytes with it, 9,896,098 without; the budget
// is 10 MiB): golang.org/x/text/language/display's tables (2.4 MB, for geocoding's fallback),
// the protobuf runtime (1.3 MB), and 6 MB from protobuf v1.36.11 using reflection in a way
// that stops Go 1.26's linker from dropping unused methods. The copy costs 262,144 bytes
// (10,158,242); BENCHMARKS.md has the figures.
//
// It is apart from package agents because even so it is not free: package agents is linked
// by every function (app.Deps holds its store port) and each Lambda bootstrap must stay
// under 10 MiB, so only the function that validates agents' profiles imports this package
// and hands Parse to agents.CreateRequest.Validate and agents.Agent.Patch (agents.Parsers).
// The library also decodes its metadata in an init: about 8 ms at each cold start.
package phone

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// MaxLen is the longest phone number accepted as typed, in bytes: 15 digits (E.164),
// the +, and room for spaces, dots, hyphens and parentheses between them.
const MaxLen = 32

const msgPhone = "must be a phone number in international format: + and the country code, then the number (+44 20 7946 0958)"

// Parse returns s, a phone number, in E.164 (+442079460958), "" for no number
// (s empty or only white space), and a field message when it is not a number.
//
// Numbers must be in international format, + and the country code first: agents of one
// organisation work from several countries and the organisation has no country setting
// to read a national number ("020 7946 0958") against, so guessing one would store
// someone else's number. Between the digits only spaces, dots, hyphens and parentheses
// are accepted: letters (vanity numbers, "tel:" URIs, "ext." and "x" extensions, which
// E.164 cannot hold and the library would silently drop or translate), full-width digits
// and invisible characters are refused rather than reinterpreted. The number must be a
// valid number of its country's numbering plan as github.com/nyaruka/phonenumbers
// (Google's libphonenumber metadata) knows it, not merely of a possible length: a digit
// too few or too many is caught. A range opened after the library's metadata was built
// is refused until the library is upgraded.
func Parse(s string) (string, string) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	switch {
	case s == "":
		return "", ""
	case len(s) > MaxLen:
		return "", "must be at most " + strconv.Itoa(MaxLen) + " characters"
	case s[0] != '+':
		return "", "must be in international format, starting with + and the country code (+44 20 7946 0958)"
	}
	digits := 0
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')':
		default:
			return "", "must hold only digits, spaces and . - ( ) after the + (no letters or extensions)"
		}
	}
	if digits == 0 {
		return "", msgPhone
	}
	n, err := phonenumbers.Parse(s, "ZZ")
	if err != nil {
		return "", msgPhone
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", "is not a valid number for country code +" + strconv.Itoa(int(n.GetCountryCode())) + ": check the digits"
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if len(e164) > 1+maxE164Digits {
		// libphonenumber knows German numbers longer than E.164 allows; they cannot be
		// stored as E.164.
		return "", "must have at most 15 digits, the country code included (E.164)"
	}
	return e164, ""
}

// maxE164Digits is the most digits an E.164 number has, the country code included.
const maxE164Digits = 15
