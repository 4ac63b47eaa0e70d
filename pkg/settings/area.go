package settings

import (
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

// Current is a loaded document with its metadata.
type Current[T Doc] struct {
	Doc       T
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
}

// ETag is the strong entity tag of this version.
func (c Current[T]) ETag() string { return ETag(c.Version) }

// ETag formats a version as a strong entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
