// Package settings holds what every Organization Settings area shares: the settings store
// port (documents with optimistic concurrency, and their audit trail written in the same
// transaction), field-level change diffs, opaque audit cursors, and the generic HTTP
// handler that gives an area its GET, PUT and PATCH routes.
//
// Item layout in the single table (see package dynamo for the attribute names):
//
//	settings document  pk=ORG#<orgId>    sk=SETTINGS#<area>
//	audit entry        pk=AUDIT#<orgId>  sk=<auditId>  (auditByArea index: ap=AUDIT#<orgId>#<area>)
package settings

import (
	"context"
	"encoding/json"
	"time"

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
}

// Change is one field-level difference recorded in an audit entry. From and To are JSON
// values; "null" means the field was absent.
type Change struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from"`
	To    json.RawMessage `json:"to"`
}

// AuditEntry records one change: who, when, which area, what changed, and the request.
type AuditEntry struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Area      string    `json:"area"`
	Action    string    `json:"action"`
	Changes   []Change  `json:"changes"`
	RequestID string    `json:"requestId"`
}

// AuditQuery selects a page of the audit log, newest first.
type AuditQuery struct {
	Area   string // "" for every area
	Limit  int    // 1-100
	Cursor string // opaque, from a previous page's NextCursor
}

// AuditPage is one page of audit entries.
type AuditPage struct {
	Items      []AuditEntry `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// Store is the settings store port. Both adapters (dynamo, bolt) pass the contract suite
// in package settingstest.
type Store interface {
	// Get returns the stored record, or a problem.NotFound error for an area never saved.
	Get(ctx context.Context, orgID, area string) (Record, error)
	// Save stores rec and entry atomically. rec.Version must be exactly one more than the
	// stored version (an absent record counts as version 0); otherwise nothing is written
	// and ErrVersionConflict is returned.
	Save(ctx context.Context, rec Record, entry AuditEntry) error
	// ListAudit returns the audit entries of orgID, newest first. A cursor that was not
	// issued for this organisation and area is problem.BadRequest.
	ListAudit(ctx context.Context, orgID string, q AuditQuery) (AuditPage, error)
}

// ErrVersionConflict is returned by Store.Save when the stored version is not the one the
// change was based on.
var ErrVersionConflict = problem.New(problem.Conflict, "the settings were changed by someone else; reload and try again")
