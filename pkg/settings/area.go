package settings

import (
	"encoding/json"
	"strconv"
	"time"
)

// Doc is a settings area document: a JSON-encodable value type that validates itself,
// reporting every failing field at once as a problem.Invalid error.
type Doc interface {
	Validate() error
}

// Area describes one settings area.
type Area[T Doc] struct {
	// Name is the URL segment and the audit area, e.g. "chat-handling".
	Name string
	// Defaults returns the document of an organisation that never saved this area.
	Defaults func() T
	// ReadOnly lists fields the server owns, top-level ("logo") or dotted paths into
	// nested objects ("saml.assertionUrl"). Clients may send them back in a PUT or PATCH;
	// they are ignored. version, updatedAt and updatedBy always are, and so is warnings
	// in an area with Warnings.
	ReadOnly []string
	// Prepare, if set, runs before validation on every write: it normalises next and
	// carries server-owned state over from the stored document.
	Prepare func(stored T, next *T)
	// Secret lists dotted fields whose values never enter the audit log.
	Secret []string
	// Present, if set, fills the server-derived read-only fields of doc for the
	// organisation org before doc is sent (such as SSO's assertion URL, or what a pasted
	// certificate says). It must depend on nothing but org and doc (responses are reused
	// for the same stored record), and the fields it fills must be in ReadOnly (so that
	// they are never taken from a client) and cleared by Prepare (so that they are never
	// stored).
	Present func(org string, doc *T)
	// Warnings, if set, returns conditions of doc worth knowing that do not stop it from
	// being saved (such as a certificate about to expire), sent as the "warnings" member
	// of every representation. It may depend on the time, so the answers of an area with
	// warnings are never reused.
	Warnings func(doc T, now time.Time) []Warning
}

// Warning is one condition worth knowing about a saved document.
type Warning struct {
	Field   string `json:"field,omitempty"` // dotted JSON path, when one field is concerned
	Message string `json:"message"`
}

// Current is the document in effect for an organisation, with its metadata.
type Current[T Doc] struct {
	// Doc is the effective document: the organisation's own values over those it inherits.
	Doc T
	// Version, UpdatedAt and UpdatedBy are those of the organisation's own record.
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
	// Sources names, for every top-level field, the organisation whose value is in
	// effect, or SourceDefault.
	Sources map[string]string
	// Locked lists the fields the organisation locks for its descendants; LockedBy the
	// fields its ancestors lock, with the organisation that locks each.
	Locked   []string
	LockedBy map[string]string
	// Path is the version of the area's record of every organisation of the path, root
	// first, the organisation last.
	Path []Guard

	own  map[string]json.RawMessage // the organisation's own overrides
	recs []Record                   // the path's records, as read
}

// ETag is the strong entity tag of what the document was computed from: the
// organisation's version for a root ("3"), and for a sub-organisation the versions of the
// path's records joined with dots, root first ("3.0.5"), so that a change of an ancestor
// (which may change the effective document) also changes the tag.
func (c Current[T]) ETag() string {
	if len(c.Path) <= 1 {
		return ETag(c.Version)
	}
	b := []byte{'"'}
	for i, g := range c.Path {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, g.Version, 10)
	}
	return string(append(b, '"'))
}

// ETag formats a version as a strong entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
