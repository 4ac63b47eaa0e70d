package orgs

// # The Store
//
// A sub-organisation is one record (a root has none: Lookup answers "not found" and the
// caller uses Root). Besides the record, a store keeps for every sub-organisation one
// descendants-index entry per ancestor (so that listing an organisation's descendants is
// one paged read, whatever the depth) and, on every parent, the count of its live
// children (so that a delete can be refused, atomically, while the organisation has
// children). A root's count lives where the root's record would be, in an entry that
// holds nothing else and still reads as a root. Every write is one transaction with its
// audit entry:
//
//   - Create writes the record, the index entry of each ancestor, one more child on the
//     parent (on condition that the parent is what the path says: a root, or a live
//     sub-organisation whose parent is the path's grandparent), and the audit entry.
//   - Delete sets DeletedAt on the record (on condition that it is live and has no live
//     child), removes its index entries, counts one child fewer on the parent, and
//     stores the audit entry. The record stays: a deleted organisation's data is kept and
//     its id is never reused.
//
// A create under an organisation and that organisation's delete, racing, both write the
// organisation's entry: one of them wins, and the other fails its condition (ErrHasChildren
// or ErrNoParent) or collides (optimistic.ErrContended), never both succeed.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Area is the audit area of the tree's changes (a create or delete of a sub-organisation
// is recorded in its parent's audit log).
const Area = "orgs"

// MaxNameChars bounds a sub-organisation's name, in characters.
const MaxNameChars = 100

// Paging bounds of Descendants.
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// Errors of the Store. Each means nothing was written.
var (
	// ErrTooDeep: the new organisation's path would hold more than MaxDepth organisations.
	ErrTooDeep = errors.New("orgs: the tree would be deeper than MaxDepth")
	// ErrNoParent: the parent is not what the new organisation's path says (deleted, or
	// not a sub-organisation of the path's grandparent).
	ErrNoParent = errors.New("orgs: the parent organisation is not live")
	// ErrExists: an organisation with the new id exists (ids are random: a bug or a replay).
	ErrExists = errors.New("orgs: the organisation id is taken")
	// ErrHasChildren: the organisation to delete has live sub-organisations.
	ErrHasChildren = errors.New("orgs: the organisation has sub-organisations")
	// ErrNotFound: the organisation to delete is not a live sub-organisation (a root, never
	// created, or deleted already).
	ErrNotFound = errors.New("orgs: no such live sub-organisation")
)

// Page is a page of descendants in id order; Next is the After of the next page, "" when
// there is none.
type Page struct {
	Orgs []Org
	Next string
}

// Store keeps the tree. Adapters: package dynamo and package bolt; both pass the
// contract suite in package orgstest. Every method refuses an organisation id that is not
// valid (package ids) with a problem.NotFound error. A write that collided with a
// concurrent transaction returns an error matching optimistic.ErrContended, having
// written nothing.
type Store interface {
	Lookup
	// Create stores o, a new sub-organisation (o.Path from the root to o.ID, o.ParentID
	// the path's second to last, no DeletedAt), with the descendants-index entry of each
	// of its ancestors, one more child on its parent and entry (area Area, in the
	// parent's log) in one transaction: ErrTooDeep, ErrNoParent, ErrExists, or everything.
	Create(ctx context.Context, o Org, entry audit.Entry) error
	// Descendants returns the live descendants of id (children, grandchildren, ...) in id
	// order, after the id after ("" for the first page), at most limit (1-MaxLimit) of
	// them, read strongly consistently.
	Descendants(ctx context.Context, id, after string, limit int) (Page, error)
	// Delete marks the sub-organisation id deleted at the time of entry, removes its
	// descendants-index entries, counts one child fewer on its parent and stores entry
	// (in the parent's log), in one transaction, on condition that it is live and has no
	// live children: ErrNotFound, ErrHasChildren, or everything. It returns the record as
	// deleted.
	Delete(ctx context.Context, id string, entry audit.Entry) (Org, error)
}

// CheckID returns a problem.NotFound error unless id is a valid organisation id.
func CheckID(id string) error {
	if !ids.Valid(id) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	return nil
}

// CheckNew checks what a store is asked to create: a valid path of distinct ids of at
// most MaxDepth organisations ending in o.ID, with o.ParentID the one before (ErrTooDeep
// beyond MaxDepth), a name, a creation time, and an audit entry of the parent's log in
// Area. Anything else is a plain error (a bug, not a client's mistake).
func CheckNew(o Org, entry audit.Entry) error {
	if err := CheckID(o.ID); err != nil {
		return err
	}
	n := len(o.Path)
	if n > MaxDepth {
		return ErrTooDeep
	}
	if n < 2 || o.Path[n-1] != o.ID || o.ParentID != o.Path[n-2] {
		return fmt.Errorf("orgs: %s: path %v does not end in its parent %q and itself", o.ID, o.Path, o.ParentID)
	}
	for i, id := range o.Path {
		if !ids.Valid(id) || slices.Contains(o.Path[:i], id) {
			return fmt.Errorf("orgs: %s: path %v is not a path of distinct organisation ids", o.ID, o.Path)
		}
	}
	if o.Name == "" || !utf8.ValidString(o.Name) || o.CreatedAt.IsZero() || o.DeletedAt != nil {
		return fmt.Errorf("orgs: %s is not a valid new record", o.ID)
	}
	return checkEntry(o.ParentID, entry)
}

// CheckDelete checks the id and the audit entry of a Delete; the entry must be of the
// parent's log, which the store checks once it has read the record.
func CheckDelete(id string, entry audit.Entry) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if entry.At.IsZero() {
		return fmt.Errorf("orgs: delete of %s: the audit entry has no time", id)
	}
	return checkEntry(entry.OrgID, entry)
}

// CheckDeleteEntry checks that entry belongs in the log of o's parent.
func CheckDeleteEntry(o Org, entry audit.Entry) error {
	if entry.OrgID != o.ParentID {
		return fmt.Errorf("orgs: the audit entry of %s's delete is in %q's log, not its parent %q's", o.ID, entry.OrgID, o.ParentID)
	}
	return nil
}

func checkEntry(org string, entry audit.Entry) error {
	if entry.OrgID != org || entry.Area != Area || !audit.ValidID(entry.ID) {
		return fmt.Errorf("orgs: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	return nil
}

// CheckPage checks the arguments of Descendants: a valid id, after "" or an id, limit
// 1-MaxLimit (a plain error otherwise: callers normalise first).
func CheckPage(id, after string, limit int) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if after != "" && !ids.Valid(after) {
		return problem.New(problem.BadRequest, "the cursor is not a cursor of this listing")
	}
	if limit < 1 || limit > MaxLimit {
		return fmt.Errorf("orgs: a page of %d descendants (1-%d)", limit, MaxLimit)
	}
	return nil
}

// MarkDeleted returns o as a Delete at t leaves it.
func MarkDeleted(o Org, t time.Time) Org {
	t = t.UTC()
	o.DeletedAt = &t
	return o
}
