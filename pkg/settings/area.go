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
	// ReadOnly lists top-level fields the server owns. Clients may send them back in a PUT
	// or PATCH; they are ignored. version, updatedAt and updatedBy always are.
	ReadOnly []string
	// Prepare, if set, runs before validation on every write: it normalises next and
	// carries server-owned state over from the stored document.
	Prepare func(stored T, next *T)
	// Secret lists dotted fields whose values never enter the audit log.
	Secret []string
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
