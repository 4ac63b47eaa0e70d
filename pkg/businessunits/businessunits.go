// Package businessunits keeps an organisation's business units (API.md "Business units
// and tags"): a unit is a name, unique in the organisation case-insensitively, and the
// chatbots that hand chats to it. Agents belong to units (package agents keeps that),
// chats carry a unit, and the offline reallocation rule prefers agents of the chat's unit.
//
// This package is the port: the records, the Store (with the contract suite in
// businessunitstest, passed by package dynamo and package bolt) and the Members lister.
// A store keeps the units with a uniqueness item per name key (the unit's NameKey,
// caseless.Key of its name) written in the same transaction as the unit, so two
// concurrent creates of one name give one unit and one ErrNameTaken; every create, change
// and delete writes its audit entry (area "business-units") in that transaction too. The
// rules (validation, If-Match, retries of writes that lost a race, the audit entries, the
// refusal to delete a unit that agents belong to) are package businessunitsfn's service.
// app.Deps names this package, so every function links it: it holds no rules and
// imports no tables (the name keys are computed by the service).
//
// # Members
//
// A unit's Members count is the number of agents who belong to it. This package never
// changes it: the agents store does, in the same transaction that adds an agent to the unit
// or takes one out, and the unit's delete is conditional on it being 0. The contract, for
// the agents adapters:
//
//   - DynamoDB: one Update of the unit item {pk: BU#<org>, sk: UNIT#<unitId>} in the
//     agent's TransactWriteItems, built by dynamo's businessUnitMember(table, org, unit,
//     delta): "SET members = if_not_exists(members, 0) + :delta" on condition
//     "attribute_exists(pk)" for +1 (so the transaction fails, and the agent is not saved,
//     when the unit does not exist: the 422 on businessUnitId comes for free and no unit can
//     be deleted while an agent joins it) and on condition "members >= :one" for -1.
//   - bbolt: bolt's addBusinessUnitMember(tx, org, unit, delta) in the agent's bbolt
//     transaction, with the same conditions: ErrNoSuchUnit when the unit does not
//     exist, an error when a decrement would go below 0.
//
// The count does not change a unit's Version: an agent joining a unit is not an edit of
// the unit. To list the agents in a refusal, the service asks a Members lister
// (agents.Members: a search of the organisation's agents by unit). Agents that join a unit at
// the moment it is deleted are safe either way: one of the two transactions fails.
package businessunits

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Area is the audit area of business units.
const Area = "business-units"

// IDPrefix starts every business unit id (bu_ and 26 base32 characters, package ids).
const IDPrefix = "bu"

// Bounds.
const (
	// MaxUnits bounds an organisation's units. Real organisations have a handful to a few
	// dozen (a unit is a team, a brand, a region); 500 leaves room for the largest while
	// keeping the whole list one answer (at most about 1.7 MB with MaxChatbots ids on every
	// unit, two DynamoDB Query pages) and the agent form's unit picker usable.
	MaxUnits = 500
	// MaxNameChars bounds a name, in characters (API.md).
	MaxNameChars = 100
	// MaxChatbots bounds the chatbots of one unit: a chatbot hands its chats to one unit,
	// and 50 is well past the chatbots any unit runs while keeping a unit's item small.
	MaxChatbots = 50
)

// Unit is a stored business unit.
type Unit struct {
	OrgID      string
	ID         string
	Name       string   // trimmed, NFC
	NameKey    string   // caseless.Key(Name): the name's uniqueness key, set by the service
	ChatbotIDs []string // never nil once stored
	// Members counts the agents who belong to the unit (see the package comment); the
	// unit cannot be deleted while it is above 0.
	Members   int
	Version   int64 // 1 when created, +1 per change
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string // subject of the last writer
}

// Errors of the Store. Each means nothing was written.
var (
	// ErrNameTaken: another unit of the organisation has the name key (the same name
	// regardless of case, caseless.Fold).
	ErrNameTaken = errors.New("businessunits: another business unit has the name")
	// ErrLimit: the organisation has MaxUnits units already.
	ErrLimit = errors.New("businessunits: the organisation has the most business units it may have")
	// ErrChanged: the stored unit is not at the version the write was based on, or is
	// gone. (A problem.Conflict, which is what a client sees when retries run out.)
	ErrChanged = problem.New(problem.Conflict, "the business unit was changed by someone else at the same time; reload it and try again")
	// ErrHasMembers: agents belong to the unit (Members > 0), so it cannot be deleted.
	ErrHasMembers = problem.New(problem.Conflict, "agents belong to the business unit; move them to another unit first")
	// ErrNoSuchUnit: the unit an agent is to join does not exist (the member contract).
	ErrNoSuchUnit = errors.New("businessunits: no such business unit")
)

// Store keeps business units. Adapters: package dynamo and package bolt; both pass the
// contract suite in package businessunitstest. Every method refuses an organisation or
// unit id that is not valid (package ids) with a problem.NotFound error. A write that
// collided with a concurrent transaction returns an error matching
// optimistic.ErrContended, having written nothing.
type Store interface {
	// List returns every unit of the organisation (at most MaxUnits), in no set order,
	// read strongly consistently.
	List(ctx context.Context, orgID string) ([]Unit, error)
	// Get returns a unit, strongly consistent; found is false when there is none.
	Get(ctx context.Context, orgID, id string) (u Unit, found bool, err error)
	// Create stores u (Version 1) with the uniqueness item of u.NameKey and entry, its
	// audit entry, in one transaction: ErrNameTaken, ErrLimit, or everything.
	Create(ctx context.Context, u Unit, entry audit.Entry) error
	// Update replaces prev, as stored, with next (next.Version = prev.Version+1; the
	// Members count is left as stored) and stores entry, on condition that the stored
	// version is still prev.Version: ErrChanged, ErrNameTaken (next.NameKey is another
	// unit's), or everything. A new NameKey moves the uniqueness item in the same
	// transaction.
	Update(ctx context.Context, prev, next Unit, entry audit.Entry) error
	// Delete removes u, its uniqueness item, and stores entry, on condition that the
	// stored version is still u.Version and no agent belongs to it: ErrChanged,
	// ErrHasMembers, or everything.
	Delete(ctx context.Context, u Unit, entry audit.Entry) error
}

// Members lists the agents who belong to a business unit, for the refusal of a delete:
// up to limit agent ids. agents.Members implements it.
type Members interface {
	BusinessUnitMembers(ctx context.Context, orgID, unitID string, limit int) ([]string, error)
}

// CheckOrg returns a problem.NotFound error unless orgID is a valid id.
func CheckOrg(orgID string) error {
	if !ids.Valid(orgID) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	return nil
}

// CheckKeys returns a problem.NotFound error unless orgID and id are valid ids; stores
// call it first.
func CheckKeys(orgID, id string) error {
	if err := CheckOrg(orgID); err != nil {
		return err
	}
	if !ids.Valid(id) {
		return problem.New(problem.NotFound, "business unit not found")
	}
	return nil
}

// CheckUnit checks what a store is asked to write: valid keys, a name and a name key, and
// an audit entry of the unit's organisation and area. It returns a plain error
// (a bug, not a client's mistake) otherwise.
func CheckUnit(u Unit, entry audit.Entry) error {
	if err := CheckKeys(u.OrgID, u.ID); err != nil {
		return err
	}
	if u.Name == "" || !utf8.ValidString(u.Name) || !ValidNameKey(u.NameKey) || u.Version < 1 || u.Members < 0 {
		return fmt.Errorf("businessunits: unit %s of %s is not a valid record (version %d)", u.ID, u.OrgID, u.Version)
	}
	if entry.OrgID != u.OrgID || entry.Area != Area || !audit.ValidID(entry.ID) {
		return fmt.Errorf("businessunits: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	return nil
}

// ValidNameKey reports whether k has the form of caseless.Key: 64 lower-case hex digits.
// (Checked here rather than by importing package caseless, whose tables every function
// would then link.)
func ValidNameKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
