// Package settings holds what every Organization Settings area shares: the settings store
// port (documents with optimistic concurrency, and their audit trail written in the same
// transaction), field-level change diffs, opaque audit cursors, and the generic HTTP
// handler that gives an area its GET, PUT and PATCH routes.
//
// Item layout in the single table (see package dynamo for the attribute names):
//
//	settings document  pk=SETTINGS#<area>#<orgId>  sk=DOC
//	audit entry        pk=AUDIT#<orgId>            sk=<auditId>  (auditByArea index: ap=AUDIT#<orgId>#<area>)
//
// The settings partition key starts with the area so that each area's function can be
// limited to its own documents with an IAM dynamodb:LeadingKeys condition
// (SETTINGS#<area>#*). Organisation ids never contain "#" (package ids), so no key can be
// read two ways.
package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Record is the stored document of one settings area of one organisation.
type Record struct {
	OrgID     string
	Area      string
	Version   int64 // 0 for an area never saved
	UpdatedAt time.Time
	UpdatedBy string
	Data      json.RawMessage // the area's fields as a JSON object
	// Locked lists the fields the organisation locks for its descendants (names of the
	// area's top-level fields; nil for none).
	Locked []string
}

// Guard is a version a Save depends on: the record of OrgID (of the same area) must still
// be at Version (0: never saved) when the write lands. A sub-organisation's write is
// guarded by its ancestors' records, so a change above it (a new lock, a new value its
// own was validated against) between its read and its write makes it a conflict.
type Guard struct {
	OrgID   string
	Version int64
}

// Consistency says how fresh a read must be.
type Consistency int

const (
	// Strong reads see every write that completed before the read began (writes and the
	// settings screens use it).
	Strong Consistency = iota
	// Eventual reads may miss a write of the last second or so and cost half as much in
	// DynamoDB; hot read-only paths (the office-hours status) use them.
	Eventual
)

// Store is the settings store port. Both adapters (dynamo, bolt) pass the contract suite
// in package settingstest. Every method refuses an organisation id that is not valid
// (package ids) with a problem.NotFound error, so a malformed id can never reach a key.
type Store interface {
	// Get returns the stored record, or a problem.NotFound error for an area never saved.
	Get(ctx context.Context, orgID, area string, c Consistency) (Record, error)
	// GetPath returns the records of the area for every organisation of path, in path order,
	// with one batched read; an organisation that never saved the area has the zero
	// record (Version 0, Data nil) with its OrgID and Area set. At most MaxPath ids.
	GetPath(ctx context.Context, path []string, area string, c Consistency) ([]Record, error)
	// Save stores rec and entry atomically. rec.Version must be exactly one more than the
	// stored version (an absent record counts as version 0), and every guard's record must
	// be at its version; otherwise nothing is written and ErrVersionConflict is returned.
	Save(ctx context.Context, rec Record, entry audit.Entry, guards ...Guard) error
	// ListAudit returns a page of the audit entries of orgID, newest first. An After that
	// is not an audit id is problem.BadRequest; a limit outside 1-100 is problem.Invalid.
	ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
}

// MaxPath bounds the organisations GetPath reads (orgs.MaxDepth, with room to spare).
const MaxPath = 16

// CheckKeys returns the problem.NotFound error every Store method returns for an
// organisation id that is not valid, and an error for an area name that is not one of
// ours (lower-case letters and "-"), else nil. Adapters call it before building a key.
func CheckKeys(orgID, area string) error {
	if !ids.Valid(orgID) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	if area != "" && !audit.ValidArea(area) {
		return fmt.Errorf("settings: invalid area name %q", area)
	}
	return nil
}

// ErrContended is found (errors.Is) in the error of a Store.Save that collided with a
// concurrent transaction on the same item before its condition could be evaluated
// (DynamoDB's TransactionConflict): nothing was written, and the write may be retried.
var ErrContended = errors.New("settings: the write collided with a concurrent transaction")

// ErrVersionConflict is returned by Store.Save when the stored version is not the one the
// change was based on.
var ErrVersionConflict = problem.New(problem.Conflict, "the settings were changed by someone else; reload and try again")
