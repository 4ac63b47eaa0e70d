// Package ids defines the one format of identifiers that reach storage keys: organisation
// ids (from tokens and paths) and the ids the server makes (agents, roles, business units,
// tags, sub-organisations). An id is 1-64 characters of A-Z a-z 0-9 _ -, starting with a
// letter or digit. Because an id can never hold a separator (#, /, NUL, ...), every key
// scheme built from ids is unambiguous: no id is a prefix of another id plus a separator.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// MaxLen is the longest id, in bytes (ids are ASCII).
const MaxLen = 64

// Valid reports whether s is a well-formed id.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns a new random id with the given prefix (which must itself be a valid id, such
// as "org" or "agt"): the prefix, "_", and 26 characters holding 128 random bits.
func New(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + strings.ToLower(lowerBase32.EncodeToString(b[:]))
}
