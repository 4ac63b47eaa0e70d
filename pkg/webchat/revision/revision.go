// Package revision is the port of the WebChat key-set revision items: the revision that
// serialises changes to an organisation's key set and tells verifiers when to re-read it
// (package webchat holds the keys and their rules). It is a package of its own, with no
// token or JWT code, so that the adapters (dynamo, bolt) and app.Deps that name it do not
// link the token check into every function.
//
// Item layout in the single table (see package dynamo):
//
//	key-set revision  pk=WEBCHAT#<orgId>  sk=REVISION
//	  committed  N  the revision verifiers use (absent item: 0, the org has no keys)
//	  claimed    N  equal to committed, or committed+1 while a change is in progress
//	  leaseUntil N  when a change in progress is considered abandoned (Unix milliseconds)
package revision

import (
	"context"
	"errors"
	"time"

	"github.com/convrs/admin/pkg/audit"
)

// Revision is the state of an organisation's key set as the revision item records it.
type Revision struct {
	// Committed is the revision of the key set in effect: 0 when the organisation has
	// never had keys, then 1, 2, ... one per generate, rotate or revoke.
	Committed int64
	// Claimed is Committed, or Committed+1 while a change holds the claim.
	Claimed int64
	// LeaseUntil ends the claim of a change in progress (millisecond precision): after
	// it, another change may take the claim over (the holder crashed or timed out).
	LeaseUntil time.Time
}

// InProgress reports whether a change holds an unexpired claim at now.
func (r Revision) InProgress(now time.Time) bool {
	return r.Claimed != r.Committed && now.Before(r.LeaseUntil)
}

// ErrChanged is returned by Claim and Commit when the stored revision is not the one the
// caller read (another change claimed or committed in between): nothing was written.
var ErrChanged = errors.New("webchat: the key set is being changed by someone else")

// Store is the port of the key-set revision items. Both adapters (dynamo, bolt) pass
// the contract suite in package revisiontest. Every method refuses an organisation id
// that is not valid (package ids) with a problem.NotFound error.
type Store interface {
	// Revision returns the stored revision, strongly consistent; the zero Revision when
	// the organisation never had keys.
	Revision(ctx context.Context, orgID string) (Revision, error)
	// Claim takes the claim of the next revision: it stores Claimed = cur.Committed+1 and
	// LeaseUntil = leaseUntil, on condition that the stored revision is still cur and no
	// unexpired claim is held at now (cur itself may carry an expired claim, which is
	// taken over). It returns the claimed revision, or ErrChanged.
	Claim(ctx context.Context, orgID string, cur Revision, now, leaseUntil time.Time) (Revision, error)
	// Commit makes the claimed revision the committed one (Committed = Claimed) and
	// stores entry, the audit entry of the change, in the same transaction, on condition
	// that the stored revision is still exactly claimed. It returns ErrChanged otherwise
	// (the claim expired and was taken over), and then writes nothing.
	Commit(ctx context.Context, orgID string, claimed Revision, entry audit.Entry) error
}
