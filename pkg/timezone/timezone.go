// Package timezone reads organisations' time zones: one IANA zone name, spelt as the zone
// database spells it, loaded from the database embedded in the binary (time/tzdata), so
// that a zone means the same in AWS Lambda (whose runtime has no zoneinfo files) as on a
// developer's machine.
//
// The names accepted are exactly those of the embedded database (names.go, generated from
// the Go release's zoneinfo.zip; TestNamesAreTheEmbeddedDatabase keeps them in step). A
// name that only the machine's own zoneinfo folder knows is refused: "localtime" (the
// server's zone, which means nothing to an organisation), "posix/Europe/London",
// "right/UTC" or a file such as "zone.tab". time.LoadLocation alone accepted those
// wherever the files exist, and refused them in Lambda.
package timezone

//go:generate go run gen_names.go

import (
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	// The zone database, embedded: Lambda's runtime has no zoneinfo files.
	_ "time/tzdata"
)

// MaxLen is the longest input looked up, in characters: twice the longest zone name
// (America/Argentina/ComodRivadavia, 32), so that a message quoting the input stays short.
const MaxLen = 64

// Messages of Parse.
const (
	msgRequired = "required"
	msgTooLong  = "must be at most 64 characters"
)

// Parse returns s, an IANA time zone name such as Europe/London, as the zone database
// spells it ("europe/london" is "Europe/London", "utc" is "UTC"), and a field message
// when it is not one: after trimming white space it must be 1-MaxLen characters and, in
// any case, a name of the embedded zone database (aliases such as US/Eastern and
// Etc/GMT+5 included; "Local" and "localtime" are not names of it). Exactly one of the
// two results is empty. The message for an unknown name quotes it with every non-ASCII
// character escaped, so that an invisible or look-alike character shows ("Asia/\u212aolkata"
// has a Kelvin sign for its K).
func Parse(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", msgRequired
	case utf8.RuneCountInString(s) > MaxLen:
		return "", msgTooLong
	}
	if name, ok := canonical()[lowerASCII(s)]; ok {
		return name, ""
	}
	return "", "unknown time zone " + strconv.QuoteToASCII(s)
}

// Load returns the location of a zone name as Parse returns it (the exact spelling), or
// false for anything else. Locations are loaded once per name and kept.
func Load(name string) (*time.Location, bool) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), true
	}
	if c, ok := canonical()[lowerASCII(name)]; !ok || c != name {
		return nil, false
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	locations.Store(name, l)
	return l, true
}

// locations caches loaded zones by name; only names of the database are stored, so it
// holds at most len(Names()) entries.
var locations sync.Map

// Names returns the zone names of the embedded database, sorted.
func Names() []string {
	return strings.Split(strings.TrimSuffix(names, "\n"), "\n")
}

// canonical maps each zone name, lower-cased, to its spelling. No two names of the
// database differ only in case (TestNamesDifferBeyondCase).
var canonical = sync.OnceValue(func() map[string]string {
	all := Names()
	m := make(map[string]string, len(all))
	for _, n := range all {
		m[strings.ToLower(n)] = n
	}
	return m
})

// lowerASCII lower-cases the ASCII letters of s and nothing else: a name with any other
// character is no zone name, and strings.ToLower would map some (the Kelvin sign) to
// ASCII letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
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
