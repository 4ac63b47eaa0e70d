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
// List is one strongly consistent Query of the partition's UNIT# items (at most
// businessunits.MaxUnits, a page or two); Get one GetItem. Every write is one
// TransactWriteItems with the audit entry: Create puts the unit, puts the name item on
// condition that it does not exist (two creates of one name: one wins, the other is
// ErrNameTaken) and counts the unit on condition that the organisation has fewer than
// MaxUnits; Update updates the unit on condition of its version (an UpdateItem, so that
// the members count the agents keep is never overwritten) and, on a rename, deletes the
// old name item and puts the new one; Delete deletes the unit on condition of its version
// and of members being 0, deletes the name item and uncounts the unit.
//
// members is the agents store's (see package businessunits): it changes it with
// businessUnitMember in the agent's own transaction.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/optimistic"
)

// BusinessUnitKeys is the pattern (IAM StringLike) of the partition keys of business
// unit items, for a dynamodb:LeadingKeys condition.
const BusinessUnitKeys = "BU#*"

// PeopleAPI is the subset of *dynamodb.Client that BusinessUnits and Tags use (no Scan).
type PeopleAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, params *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ PeopleAPI = (*dynamodb.Client)(nil)

// Attribute names of business unit and tag items.
const (
	attrID         = "id"
	attrName       = "name"
	attrNameKey    = "nameKey"
	attrChatbotIDs = "chatbotIds"
	attrMembers    = "members"
	attrCreatedAt  = "createdAt"
	attrN          = "n"
)

const skCount = "COUNT"

// BusinessUnits is the businessunits.Store on one DynamoDB table. It is safe for
// concurrent use.
type BusinessUnits struct {
	client PeopleAPI
	table  string
}

var _ businessunits.Store = (*BusinessUnits)(nil)

// NewBusinessUnits returns the business unit store on table through client.
func NewBusinessUnits(client PeopleAPI, table string) *BusinessUnits {
	return &BusinessUnits{client: client, table: table}
}

func buPK(orgID string) string { return "BU#" + orgID }

func buKey(orgID, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(buPK(orgID)), attrSK: str(sk)}
}

func unitSK(id string) string        { return "UNIT#" + id }
func buNameSK(nameKey string) string { return "NAME#" + nameKey }

// businessUnitMember is the write the agents store puts in an agent's TransactWriteItems
// when the agent joins (delta +1) or leaves (delta -1) a business unit: it counts the
// member on the unit item, on condition that the unit exists (joining) or that the count
// is at least 1 (leaving). A failed condition on joining means the unit does not exist
// (businessunits.ErrNoSuchUnit). It does not change the unit's version.
func businessUnitMember(table, orgID, unitID string, delta int) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       buKey(orgID, unitSK(unitID)),
		UpdateExpression:          aws.String("SET members = if_not_exists(members, :zero) + :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":d": num(int64(delta))},
	}
	if delta >= 0 {
		u.ConditionExpression = aws.String("attribute_exists(pk)")
	} else {
		u.ConditionExpression = aws.String("members >= :n")
		u.ExpressionAttributeValues[":n"] = num(int64(-delta))
	}
	return types.TransactWriteItem{Update: u}
}

// peopleError is mapError for the people stores: throttling and transient failures are
// an Unavailable problem, and a write that collided with a concurrent transaction also
// matches optimistic.ErrContended.
func peopleError(op string, err error) error {
	class := awserr.Classify(err)
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			class = max(class, awserr.ClassifyCode(aws.ToString(r.Code)))
		}
	}
	out := class.Problem("dynamo: "+op, err, "the store is busy, please retry")
	if contended(err) {
		out = errors.Join(optimistic.ErrContended, out)
	}
	return out
}

// reasons returns the cancellation reasons of a failed transaction (nil for another
// error).
func reasons(err error) []types.CancellationReason {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		return canceled.CancellationReasons
	}
	return nil
}

// failedCondition reports whether the i-th item of a cancelled transaction failed its
// condition.
func failedCondition(rs []types.CancellationReason, i int) bool {
	return i < len(rs) && aws.ToString(rs[i].Code) == conditionFailed
}

func auditPut(table string, entry audit.Entry) (types.TransactWriteItem, error) {
	changes, err := json.Marshal(entry.Changes)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: encode audit changes: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: auditItem(entry, changes),
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil
}

func (s *BusinessUnits) item(u businessunits.Unit) map[string]types.AttributeValue {
	ids, _ := json.Marshal(u.ChatbotIDs)
	it := buKey(u.OrgID, unitSK(u.ID))
	it[attrID] = str(u.ID)
	it[attrName] = str(u.Name)
	it[attrNameKey] = str(u.NameKey)
	it[attrChatbotIDs] = str(string(ids))
	it[attrMembers] = num(int64(u.Members))
	it[attrVersion] = num(u.Version)
	it[attrCreatedAt] = str(formatTime(u.CreatedAt))
	it[attrUpdatedAt] = str(formatTime(u.UpdatedAt))
	it[attrUpdatedBy] = str(u.UpdatedBy)
	return it
}

func decodeUnit(orgID string, it map[string]types.AttributeValue) (businessunits.Unit, error) {
	u := businessunits.Unit{OrgID: orgID}
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{attrID, &u.ID}, {attrName, &u.Name}, {attrNameKey, &u.NameKey}, {attrUpdatedBy, &u.UpdatedBy}} {
		if *f.dst, err = getS(it, f.name); err != nil {
			return u, err
		}
	}
	if u.Version, err = getN(it, attrVersion); err != nil {
		return u, err
	}
	if _, ok := it[attrMembers]; ok {
		n, err := getN(it, attrMembers)
		if err != nil {
			return u, err
		}
		u.Members = int(n)
	}
	if u.CreatedAt, err = getTime(it, attrCreatedAt); err != nil {
		return u, err
	}
	if u.UpdatedAt, err = getTime(it, attrUpdatedAt); err != nil {
		return u, err
	}
	raw, err := getS(it, attrChatbotIDs)
	if err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(raw), &u.ChatbotIDs); err != nil || u.ChatbotIDs == nil {
		return u, fmt.Errorf("attribute %s: not a JSON array of ids", attrChatbotIDs)
	}
	return u, nil
}

// List implements businessunits.Store with one strongly consistent Query (paged by
// DynamoDB's 1 MB, at most two pages at the bounds).
func (s *BusinessUnits) List(ctx context.Context, orgID string) ([]businessunits.Unit, error) {
	if err := businessunits.CheckOrg(orgID); err != nil {
		return nil, err
	}
	items, err := queryPrefix(ctx, s.client, s.table, buPK(orgID), "UNIT#", businessunits.MaxUnits)
	if err != nil {
		return nil, peopleError("list business units of "+orgID, err)
	}
	out := make([]businessunits.Unit, 0, len(items))
	for _, it := range items {
		u, err := decodeUnit(orgID, it)
		if err != nil {
			return nil, fmt.Errorf("dynamo: business unit of %s: %w", orgID, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// queryPrefix reads the items of partition pk whose sort keys start with prefix,
// strongly consistent, refusing more than bound of them (an invariant the writes keep).
func queryPrefix(ctx context.Context, client PeopleAPI, table, pk, prefix string, bound int) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(pk), ":s": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(items) > bound {
			return nil, fmt.Errorf("%s%s* holds more than %d items", pk, prefix, bound)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Get implements businessunits.Store with one strongly consistent GetItem.
func (s *BusinessUnits) Get(ctx context.Context, orgID, id string) (businessunits.Unit, bool, error) {
	if err := businessunits.CheckKeys(orgID, id); err != nil {
		return businessunits.Unit{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: buKey(orgID, unitSK(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return businessunits.Unit{}, false, peopleError(fmt.Sprintf("get business unit %s/%s", orgID, id), err)
	}
	if len(out.Item) == 0 {
		return businessunits.Unit{}, false, nil
	}
	u, err := decodeUnit(orgID, out.Item)
	if err != nil {
		return businessunits.Unit{}, false, fmt.Errorf("dynamo: business unit %s/%s: %w", orgID, id, err)
	}
	return u, true, nil
}

// countUpdate changes the count item of a partition's records by delta: counting one
// more on condition that fewer than bound are counted, or one fewer on condition that at
// least one is.
func countUpdate(table, pk, attr string, delta int, bound int) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(skCount)},
		UpdateExpression:          aws.String("SET #c = if_not_exists(#c, :zero) + :d"),
		ExpressionAttributeNames:  map[string]string{"#c": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":d": num(int64(delta))},
	}
	if delta > 0 {
		u.ConditionExpression = aws.String("attribute_not_exists(#c) OR #c < :max")
		u.ExpressionAttributeValues[":max"] = num(int64(bound))
	} else {
		u.ConditionExpression = aws.String("#c >= :one")
		u.ExpressionAttributeValues[":one"] = num(1)
	}
	return types.TransactWriteItem{Update: u}
}

func namePut(table, pk, sk, id string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table),
		Item:                map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk), attrID: str(id)},
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}
}

func nameDelete(table, pk, sk, id string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(table),
		Key:                       map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)},
		ConditionExpression:       aws.String("id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id)}}}
}

func (s *BusinessUnits) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// Create implements businessunits.Store: the unit, its name item, the count and the
// audit entry in one TransactWriteItems.
func (s *BusinessUnits) Create(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	if err := businessunits.CheckUnit(u, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := buPK(u.OrgID)
	u.Members = 0
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: s.item(u), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		namePut(s.table, pk, buNameSK(u.NameKey), u.ID),
		countUpdate(s.table, pk, attrN, +1, businessunits.MaxUnits),
		ap,
	})
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 1):
		return businessunits.ErrNameTaken
	case failedCondition(rs, 2):
		return businessunits.ErrLimit
	}
	return peopleError(fmt.Sprintf("create business unit %s/%s", u.OrgID, u.ID), err)
}

// Update implements businessunits.Store: an UpdateItem of the unit on condition of its
// version (members untouched), the name items on a rename, and the audit entry.
func (s *BusinessUnits) Update(ctx context.Context, prev, next businessunits.Unit, entry audit.Entry) error {
	if err := businessunits.CheckUnit(next, entry); err != nil {
		return err
	}
	if prev.OrgID != next.OrgID || prev.ID != next.ID || next.Version != prev.Version+1 {
		return fmt.Errorf("dynamo: update of business unit %s/%s from v%d to %s/%s v%d", prev.OrgID, prev.ID, prev.Version, next.OrgID, next.ID, next.Version)
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	chatbots, _ := json.Marshal(next.ChatbotIDs)
	pk := buPK(next.OrgID)
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                aws.String(s.table),
		Key:                      buKey(next.OrgID, unitSK(next.ID)),
		UpdateExpression:         aws.String("SET #n = :n, nameKey = :k, chatbotIds = :c, version = :v, updatedAt = :at, updatedBy = :by"),
		ConditionExpression:      aws.String("version = :prev"),
		ExpressionAttributeNames: map[string]string{"#n": attrName},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": str(next.Name), ":k": str(next.NameKey), ":c": str(string(chatbots)), ":v": num(next.Version),
			":at": str(formatTime(next.UpdatedAt)), ":by": str(next.UpdatedBy), ":prev": num(prev.Version),
		},
	}}, ap}
	if oldSK, newSK := buNameSK(prev.NameKey), buNameSK(next.NameKey); oldSK != newSK {
		items = append(items, nameDelete(s.table, pk, oldSK, prev.ID), namePut(s.table, pk, newSK, next.ID))
	}
	err = s.transact(ctx, items)
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0), failedCondition(rs, 2):
		// The old name item is not the unit's: the unit was renamed since prev was read.
		return businessunits.ErrChanged
	case failedCondition(rs, 3):
		return businessunits.ErrNameTaken
	}
	return peopleError(fmt.Sprintf("update business unit %s/%s v%d", next.OrgID, next.ID, next.Version), err)
}

// Delete implements businessunits.Store: the unit (on condition of its version and of
// no members), its name item, the count and the audit entry in one TransactWriteItems.
// When the unit's condition fails, the unit as it was (returned with the cancellation)
// tells ErrHasMembers from ErrChanged.
func (s *BusinessUnits) Delete(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	if err := businessunits.CheckUnit(u, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := buPK(u.OrgID)
	err = s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:           aws.String(s.table),
			Key:                 buKey(u.OrgID, unitSK(u.ID)),
			ConditionExpression: aws.String("version = :v AND (attribute_not_exists(members) OR members = :zero)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":v": num(u.Version), ":zero": num(0),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		nameDelete(s.table, pk, buNameSK(u.NameKey), u.ID),
		countUpdate(s.table, pk, attrN, -1, 0),
		ap,
	})
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0):
		old := rs[0].Item
		if old == nil {
			// Without the item in the answer, read it.
			got, found, gerr := s.Get(ctx, u.OrgID, u.ID)
			if gerr != nil {
				return gerr
			}
			if found {
				old = s.item(got)
			}
		}
		if v, verr := getN(old, attrVersion); verr == nil && v == u.Version {
			if m, merr := getN(old, attrMembers); merr == nil && m > 0 {
				return businessunits.ErrHasMembers
			}
		}
		return businessunits.ErrChanged
	case failedCondition(rs, 1):
		return businessunits.ErrChanged
	}
	return peopleError(fmt.Sprintf("delete business unit %s/%s v%d", u.OrgID, u.ID, u.Version), err)
}
