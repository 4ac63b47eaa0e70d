// Package orgs keeps the organisation tree (API.md "Organisations and inheritance"): an
// organisation is a root (a tenant the identity provider provisioned, such as demo
// locally: it has no record and needs no setup) or a sub-organisation an ancestor
// created. Every organisation knows its path from the root, so the HTTP front decides
// with one read whether a caller may act on an organisation (its own or a descendant,
// never a sibling or an ancestor), and a settings area reads every organisation of the
// path in one batched read to compute a sub-organisation's inherited values.
//
// This package is the port (the records, the Store, the Paths lookup) and the request
// context that carries the path the HTTP front found. It holds no rules beyond the
// records' shape and imports no adapter.
package orgs

import (
	"context"
	"slices"
	"time"

	"github.com/convrs/admin/pkg/ids"
)

// MaxDepth bounds the tree: a path (root first, the organisation last) has at most
// MaxDepth organisations, so a root and at most seven levels of sub-organisations. A
// create that would go deeper is a 422.
const MaxDepth = 8

// IDPrefix starts every sub-organisation id (ids.New).
const IDPrefix = "org"

// Org is an organisation of the tree.
type Org struct {
	ID   string
	Name string
	// ParentID is "" for a root.
	ParentID string
	// Path is the ids from the root to the organisation, both included: [ID] for a root.
	Path      []string
	CreatedAt time.Time
	// DeletedAt is set once the organisation is deleted (a soft delete: its data is kept
	// and its routes answer 404).
	DeletedAt *time.Time
}

// Root is the organisation id as a root: no record, no parent, its own path.
func Root(id string) Org { return Org{ID: id, Path: []string{id}} }

// Deleted reports whether o was deleted.
func (o Org) Deleted() bool { return o.DeletedAt != nil }

// Depth is the number of organisations in o's path (1 for a root).
func (o Org) Depth() int { return len(o.Path) }

// Sees reports whether an organisation whose id is viewer may act on o: o itself or a
// descendant of viewer (viewer is on o's path).
func (o Org) Sees(viewer string) bool { return slices.Contains(o.Path, viewer) }

// Lookup finds organisations' records. An organisation with no record is a root (Root),
// never an error; a malformed id is not found.
type Lookup interface {
	// Org returns the record of id, strongly consistent, and whether it exists.
	Org(ctx context.Context, id string) (Org, bool, error)
}

// PathOf returns the path of id through l: the record's path, or [id] for a root (or when
// l is nil: a deployment without sub-organisations).
func PathOf(ctx context.Context, l Lookup, id string) ([]string, error) {
	if p, ok := PathFrom(ctx, id); ok {
		return p, nil
	}
	if l == nil || !ids.Valid(id) {
		return []string{id}, nil
	}
	o, found, err := l.Org(ctx, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return []string{id}, nil
	}
	return o.Path, nil
}

type pathKey struct{}

// WithPath returns ctx carrying the path of the organisation a request acts on (the HTTP
// front sets it once it has read the record), so that the handlers do not read it again.
func WithPath(ctx context.Context, path []string) context.Context {
	return context.WithValue(ctx, pathKey{}, slices.Clip(path))
}

// PathFrom returns the path ctx carries for the organisation id, if it carries id's
// path, or an ancestor's or descendant's path holding id (then cut at id).
func PathFrom(ctx context.Context, id string) ([]string, bool) {
	p, _ := ctx.Value(pathKey{}).([]string)
	i := slices.Index(p, id)
	if i < 0 {
		return nil, false
	}
	return p[: i+1 : i+1], true
}
