// Package sticky keeps which agent each user of an organisation is "stuck" to: the chat
// platform routes a sticky user's chats to the same agent, and says so with the event
// "User Sticky Changed" {orgId, userId, agentId | null, at} (API.md "Agents"). An agent
// with sticky users cannot be disabled until they are unstuck.
//
// Item layout in the single table (see package dynamo):
//
//	the user's stickiness  pk=STICKY#<orgId>             sk=USER#<userId>  agentId ("" none), at
//	the agent's users      pk=STICKY#<orgId>#<agentId>   sk=<userId>       at
//
// A change is one transaction: the user item (on condition that what it holds is older
// than the change, so an older event never overwrites a newer one), the old agent's item
// deleted and the new agent's put.
package sticky

import (
	"context"
	"errors"
	"time"

	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// MaxUsers bounds the list of one agent's sticky users that Users returns.
const MaxUsers = 1000

// ErrStale is returned by Apply when the stored stickiness is newer than the change (or
// as new): nothing was written.
var ErrStale = errors.New("sticky: a newer change is stored")

// Store is the port of sticky users. Both adapters pass the suite in stickytest.
type Store interface {
	// Apply records that userID is stuck to agentID from at ("" agentID: no longer
	// stuck), unless the stored stickiness is as new or newer (ErrStale).
	Apply(ctx context.Context, orgID, userID, agentID string, at time.Time) error
	// Agent returns the agent userID is stuck to ("" when none) and since when.
	Agent(ctx context.Context, orgID, userID string) (agentID string, at time.Time, err error)
	// Users lists the users stuck to agentID (at most limit, limit <= MaxUsers), by id.
	Users(ctx context.Context, orgID, agentID string, limit int) ([]string, error)
}

// CheckIDs refuses ids that cannot be stored (problem.NotFound).
func CheckIDs(ids_ ...string) error {
	for _, id := range ids_ {
		if !ids.Valid(id) {
			return problem.New(problem.NotFound, "no such organisation, user or agent")
		}
	}
	return nil
}
