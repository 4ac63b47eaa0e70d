package freetext

import (
	"crypto/sha256"
	"encoding/hex"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold returns the form under which names that must be unique case-insensitively are
// compared (business units, tags, tag groups; roles may follow): s, already Normalized,
// put in Unicode NFC, fully case-folded (Unicode CaseFolding.txt, "F" and "C" mappings:
// "Sales", "SALES" and "sAlEs" fold alike, and so do "Straße" and "STRASSE"), then in NFC
// again. This is Unicode's canonical caseless match: a name typed with a precomposed "é"
// and one typed with "e" and a combining accent are the same name. Compatibility forms
// are not merged: the full-width "ＳＡＬＥＳ" is another name than "Sales".
func Fold(s string) string {
	// A Caser keeps state and is not safe for concurrent use: one per call.
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}

// FoldKey returns the storage key of a name's folded form: the SHA-256 of Fold(s) in
// lower-case hex (64 characters). It is fixed in length and holds no user text, so a
// uniqueness item keyed by it fits any key scheme whatever the name (folding can triple
// a name's length: a 100-character name may fold to more than the 1,024 bytes of a
// DynamoDB sort key).
func FoldKey(s string) string {
	sum := sha256.Sum256([]byte(Fold(s)))
	return hex.EncodeToString(sum[:])
}
