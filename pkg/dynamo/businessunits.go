package dynamo

// The businessunits.Store on the single table (BusinessUnits, from NewBusinessUnits).
// An organisation's units live in one partition (ids are package ids: no "#"; <key> is
// the unit's NameKey, caseless.Key of its name: 64 hex digits, so no user text is in a
// key):
//
//	item          pk          sk               other attributes
//	unit          BU#<org>    UNIT#<unit>      id S, name S, nameKey S, chatbotIds S (JSON array), members N,
//	                                           version N, createdAt S, updatedAt S, updatedBy S
//	name          BU#<org>    NAME#<key>       id S (the unit that holds the name)
//	count         BU#<org>    COUNT            n N (the organisation's units)
//
// Units are named records (named.go: the reads, and the writes, each one
// TransactWriteItems with the audit entry): names unique per organisation through the
// name items, at most businessunits.MaxUnits through the count. A unit holds its
// members: its delete is conditional on members being 0, and its updates (UpdateItems)
// never overwrite the count.
//
// members is the agents store's (see package businessunits): it changes it with
// businessUnitMember in the agent's own transaction.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/businessunits"
)

// BusinessUnitKeys is the pattern (IAM StringLike) of the partition keys of business
// unit items, for a dynamodb:LeadingKeys condition.
const BusinessUnitKeys = "BU#*"

// Attribute names of business unit items.
const (
	attrChatbotIDs = "chatbotIds"
	attrMembers    = "members"
	attrN          = "n"
)

// BusinessUnits is the businessunits.Store on one DynamoDB table. It is safe for
// concurrent use.
type BusinessUnits struct {
	people
}

var _ businessunits.Store = (*BusinessUnits)(nil)

// NewBusinessUnits returns the business unit store on table through client.
func NewBusinessUnits(client PeopleAPI, table string) *BusinessUnits {
	return &BusinessUnits{people{client: client, table: table}}
}

var unitKind = &namedKind[businessunits.Unit]{
	pk: "BU#", sk: "UNIT#", name: "NAME#", count: attrN, bound: businessunits.MaxUnits, holds: attrMembers,
	one: "business unit", many: "business units",
	errNameTaken: businessunits.ErrNameTaken, errLimit: businessunits.ErrLimit, errChanged: businessunits.ErrChanged,
	errHolds: businessunits.ErrHasMembers,
	fields: func(u *businessunits.Unit) namedFields {
		return namedFields{orgID: &u.OrgID, id: &u.ID, name: &u.Name, nameKey: &u.NameKey, updatedBy: &u.UpdatedBy,
			version: &u.Version, createdAt: &u.CreatedAt, updatedAt: &u.UpdatedAt}
	},
	encode: func(u businessunits.Unit) map[string]types.AttributeValue {
		ids, _ := json.Marshal(u.ChatbotIDs)
		return map[string]types.AttributeValue{attrChatbotIDs: str(string(ids)), attrMembers: num(int64(u.Members))}
	},
	decode: func(it map[string]types.AttributeValue, u *businessunits.Unit) error {
		if _, ok := it[attrMembers]; ok {
			n, err := getN(it, attrMembers)
			if err != nil {
				return err
			}
			u.Members = int(n)
		}
		raw, err := getS(it, attrChatbotIDs)
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(raw), &u.ChatbotIDs); err != nil || u.ChatbotIDs == nil {
			return fmt.Errorf("attribute %s: not a JSON array of ids", attrChatbotIDs)
		}
		return nil
	},
}

// businessUnitMember is the write the agents store puts in an agent's TransactWriteItems
// when the agent joins (delta +1) or leaves (delta -1) a business unit: it counts the
// member on the unit item, on condition that the unit exists (joining) or that the count
// is at least 1 (leaving). A failed condition on joining means the unit does not exist
// (businessunits.ErrNoSuchUnit). It does not change the unit's version.
func businessUnitMember(table, orgID, unitID string, delta int) types.TransactWriteItem {
	return unitKind.holding(table, orgID, unitID, delta)
}

// List implements businessunits.Store with one strongly consistent Query (paged by
// DynamoDB's 1 MB, at most two pages at the bounds).
func (s *BusinessUnits) List(ctx context.Context, orgID string) ([]businessunits.Unit, error) {
	if err := businessunits.CheckOrg(orgID); err != nil {
		return nil, err
	}
	return unitKind.list(ctx, s.people, orgID)
}

// Get implements businessunits.Store with one strongly consistent GetItem.
func (s *BusinessUnits) Get(ctx context.Context, orgID, id string) (businessunits.Unit, bool, error) {
	if err := businessunits.CheckKeys(orgID, id); err != nil {
		return businessunits.Unit{}, false, err
	}
	return unitKind.get(ctx, s.people, orgID, id)
}

// Create implements businessunits.Store: the unit, its name item, the count and the
// audit entry in one TransactWriteItems.
func (s *BusinessUnits) Create(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	if err := businessunits.CheckUnit(u, entry); err != nil {
		return err
	}
	return unitKind.create(ctx, s.people, u, entry)
}

// Update implements businessunits.Store: an UpdateItem of the unit on condition of its
// version (members untouched), the name items on a rename, and the audit entry.
func (s *BusinessUnits) Update(ctx context.Context, prev, next businessunits.Unit, entry audit.Entry) error {
	if err := businessunits.CheckUnit(next, entry); err != nil {
		return err
	}
	return unitKind.update(ctx, s.people, prev, next, entry)
}

// Delete implements businessunits.Store: the unit (on condition of its version and of
// no members), its name item, the count and the audit entry in one TransactWriteItems.
func (s *BusinessUnits) Delete(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	if err := businessunits.CheckUnit(u, entry); err != nil {
		return err
	}
	return unitKind.delete(ctx, s.people, u, entry)
}
