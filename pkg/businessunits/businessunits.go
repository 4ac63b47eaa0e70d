// Package businessunits keeps an organisation's business units (API.md "Business units
// and tags"): a unit is a name, unique in the organisation case-insensitively, and the
// chatbots that hand chats to it. Agents belong to units (package agents keeps that),
// chats carry a unit, and the offline reallocation rule prefers agents of the chat's unit.
//
// The Store port (with the contract suite in businessunitstest, passed by package dynamo
// and package bolt) keeps the units with a uniqueness item per folded name written in the
// same transaction as the unit, so two concurrent creates of one name give one unit and
// one ErrNameTaken; every create, change and delete writes its audit entry (area
// "business-units") in that transaction too. The Service applies the rules: validation,
// If-Match, retries of writes that lost a race, the audit entries, and the refusal to
// delete a unit that agents belong to.
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
// the unit. To list the agents in a refusal, the Service asks a Members lister (package
// agents, once it exists; until then nil, and the refusal lists no agents but still says
// how many belong).
package businessunits

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/freetext"
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
	ChatbotIDs []string // never nil once stored
	// Members counts the agents who belong to the unit (see the package comment); the
	// unit cannot be deleted while it is above 0.
	Members   int
	Version   int64 // 1 when created, +1 per change
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string // subject of the last writer
}

// Fields are what a client sets on a unit.
type Fields struct {
	Name       string   `json:"name"`
	ChatbotIDs []string `json:"chatbotIds"`
}

// Fields returns the client-set fields of u.
func (u Unit) Fields() Fields {
	return Fields{Name: u.Name, ChatbotIDs: append([]string{}, u.ChatbotIDs...)}
}

// Prepare normalises what a client sent: the name trimmed of white space and invisible
// characters at both ends and put in Unicode NFC (so two spellings of one name are the
// same bytes), a missing chatbot list empty.
func (f *Fields) Prepare() {
	f.Name = norm.NFC.String(freetext.Normalize(f.Name))
	if f.ChatbotIDs == nil {
		f.ChatbotIDs = []string{}
	}
}

// Validate reports every failing field of prepared fields at once (problem.Invalid).
func (f Fields) Validate() error {
	var errs problem.Fields
	if msg := freetext.Problem(f.Name, 1, MaxNameChars); msg != "" {
		errs.Add("name", "%s", msg)
	}
	if len(f.ChatbotIDs) > MaxChatbots {
		errs.Add("chatbotIds", "must hold at most %d chatbot ids", MaxChatbots)
	} else {
		seen := map[string]int{}
		for i, id := range f.ChatbotIDs {
			field := fmt.Sprintf("chatbotIds[%d]", i)
			switch j, dup := seen[id]; {
			case !ids.Valid(id):
				errs.Add(field, "must be a chatbot id: 1-%d characters of A-Z a-z 0-9 _ -, starting with a letter or digit", ids.MaxLen)
			case dup:
				errs.Add(field, "repeats chatbotIds[%d]", j)
			default:
				seen[id] = i
			}
		}
	}
	return errs.Err()
}

// Errors of the Store. Each means nothing was written.
var (
	// ErrNameTaken: another unit of the organisation has the name (case-insensitively,
	// freetext.Fold).
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
	// Create stores u (Version 1) with its name's uniqueness item and entry, its audit
	// entry, in one transaction: ErrNameTaken, ErrLimit, or everything.
	Create(ctx context.Context, u Unit, entry audit.Entry) error
	// Update replaces prev, as stored, with next (next.Version = prev.Version+1; the
	// Members count is left as stored) and stores entry, on condition that the stored
	// version is still prev.Version: ErrChanged, ErrNameTaken (next's name folds to
	// another unit's), or everything. A rename moves the uniqueness item in the same
	// transaction.
	Update(ctx context.Context, prev, next Unit, entry audit.Entry) error
	// Delete removes u, its uniqueness item, and stores entry, on condition that the
	// stored version is still u.Version and no agent belongs to it: ErrChanged,
	// ErrHasMembers, or everything.
	Delete(ctx context.Context, u Unit, entry audit.Entry) error
}

// Members lists the agents who belong to a business unit, for the refusal of a delete:
// up to limit agent ids. Package agents implements it; app.Deps may leave it nil until
// then.
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

// CheckUnit checks what a store is asked to write: valid keys, a name the Fields rules
// allow, and an audit entry of the unit's organisation and area. It returns a plain error
// (a bug, not a client's mistake) otherwise.
func CheckUnit(u Unit, entry audit.Entry) error {
	if err := CheckKeys(u.OrgID, u.ID); err != nil {
		return err
	}
	if u.Name == "" || !utf8.ValidString(u.Name) || u.Version < 1 || u.Members < 0 {
		return fmt.Errorf("businessunits: unit %s of %s is not a valid record (version %d)", u.ID, u.OrgID, u.Version)
	}
	if entry.OrgID != u.OrgID || entry.Area != Area || !audit.ValidID(entry.ID) {
		return fmt.Errorf("businessunits: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	return nil
}
