// Package caseless is the rule by which names that must be unique regardless of case are
// compared (business units, tags, tag groups; roles may follow): Unicode's canonical
// caseless match. It is a package of its own, apart from package freetext, so that only
// the functions that compare names link golang.org/x/text's case-folding and
// normalisation tables.
package caseless

import (
	"crypto/sha256"
	"encoding/hex"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold returns the form under which names are compared: s (already trimmed, see
// freetext.Normalize) put in Unicode NFC, fully case-folded (Unicode CaseFolding.txt,
// "F" and "C" mappings: "Sales", "SALES" and "sAlEs" fold alike, and so do "Straße" and
// "STRASSE"), then in NFC again. This is Unicode's canonical caseless match: a name typed
// with a precomposed "é" and one typed with "e" and a combining accent are the same name.
// Compatibility forms are not merged: the full-width "ＳＡＬＥＳ" is another name than
// "Sales".
func Fold(s string) string {
	// A Caser keeps state and is not safe for concurrent use: one per call.
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}

// Key returns the storage key of a name's folded form: the SHA-256 of Fold(s) in
// lower-case hex (64 characters). It is fixed in length and holds no user text, so a
// uniqueness item keyed by it fits any key scheme whatever the name (folding can triple a
// name's length: a 100-character name may fold to more than the 1,024 bytes of a
// DynamoDB sort key).
func Key(s string) string {
	sum := sha256.Sum256([]byte(Fold(s)))
	return hex.EncodeToString(sum[:])
}

// ValidKey reports whether k has the form Key gives: 64 lower-case hex digits.
func ValidKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
