package dynamo

// Named records: what the business unit and tag stores (BusinessUnits, Tags) share. A
// kind of named record (business units; tag groups; tags) lives in its organisation's
// partition, beside the other kinds of its store:
//
//	item          pk            sk                   other attributes
//	record        <pk><org>     <sk><id>             id S, name S, nameKey S, version N, createdAt S,
//	                                                 updatedAt S, updatedBy S, the kind's own attributes
//	name          <pk><org>     <name><key>          id S (the record that holds the name)
//	count         <pk><org>     COUNT                <count> N (the organisation's records of the kind)
//
// (<key> is the record's NameKey, caseless.Key of its name: 64 hex digits, so no user
// text is in a key.) List is one strongly consistent Query of the partition's <sk>
// items (at most the kind's bound: a page or two); Get one GetItem. Every write is one
// TransactWriteItems with the audit entry:
//
//   - Create puts the record, puts its name item on condition that it does not exist (two
//     creates of one name: one wins, the other is the kind's ErrNameTaken) and counts the
//     record on condition that fewer than the bound are counted (else its ErrLimit).
//   - Update is an UpdateItem of the record on condition of its version (so what the
//     record holds, counted by other writes, is never overwritten) and, on a rename,
//     deletes the old name item (on condition that it is still the record's) and puts the
//     new one.
//   - Delete deletes the record on condition of its version, deletes its name item and
//     uncounts the record.
//
// A record may count what it holds (a unit's members, a group's tags) in an attribute
// other writes keep with holding; it is then deleted only while that count is 0.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/optimistic"
)

// PeopleAPI is the subset of *dynamodb.Client that BusinessUnits and Tags use (no Scan).
type PeopleAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, params *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ PeopleAPI = (*dynamodb.Client)(nil)

// Attribute names of named records.
const (
	attrID        = "id"
	attrName      = "name"
	attrNameKey   = "nameKey"
	attrCreatedAt = "createdAt"
)

const skCount = "COUNT"

// people is the table the people stores keep their records in.
type people struct {
	client PeopleAPI
	table  string
}

func (p people) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := p.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// txItem is an item of a write with what a failed condition on it means (nil: nothing a
// caller is told apart; the write fails with a store error).
type txItem struct {
	item   types.TransactWriteItem
	onFail error
}

// write runs items as one TransactWriteItems. When it is cancelled, the first of items
// whose condition failed and that has an onFail returns that; any other failure is
// peopleError(op). The cancellation reasons come back too.
func (p people) write(ctx context.Context, op string, items []txItem) ([]types.CancellationReason, error) {
	tx := make([]types.TransactWriteItem, len(items))
	for i, it := range items {
		tx[i] = it.item
	}
	err := p.transact(ctx, tx)
	if err == nil {
		return nil, nil
	}
	rs := reasons(err)
	for i, it := range items {
		if it.onFail != nil && failedCondition(rs, i) {
			return rs, it.onFail
		}
	}
	return rs, peopleError(op, err)
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

// namedFields points at the fields every named record has, in one record.
type namedFields struct {
	orgID, id, name, nameKey, updatedBy *string
	version                             *int64
	createdAt, updatedAt                *time.Time
}

// namedKind is one kind of named record, T.
type namedKind[T any] struct {
	pk, sk, name string // the key prefixes of the partition, the records and the name items
	count        string // the COUNT item's attribute that counts the records
	bound        int    // the most records an organisation may have
	// holds is the attribute counting what a record holds ("": nothing). Only holding
	// changes it: a create writes 0, an update leaves it, a delete needs it 0.
	holds string
	// optional are the kind's own attributes a record may lack: an update removes those
	// that encode leaves out.
	optional  []string
	one, many string // what a record and the records are called in errors
	// The errors of the kind's store.
	errNameTaken, errLimit, errChanged, errHolds error

	fields func(*T) namedFields
	// encode returns the kind's own attributes of a record (nil: none); decode reads them.
	encode func(T) map[string]types.AttributeValue
	decode func(item map[string]types.AttributeValue, v *T) error
}

func (k *namedKind[T]) key(orgID, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(k.pk + orgID), attrSK: str(k.sk + id)}
}

func (k *namedKind[T]) item(v T) map[string]types.AttributeValue {
	f := k.fields(&v)
	it := k.key(*f.orgID, *f.id)
	it[attrID], it[attrName], it[attrNameKey], it[attrVersion] = str(*f.id), str(*f.name), str(*f.nameKey), num(*f.version)
	it[attrCreatedAt], it[attrUpdatedAt], it[attrUpdatedBy] = str(formatTime(*f.createdAt)), str(formatTime(*f.updatedAt)), str(*f.updatedBy)
	if k.encode != nil {
		maps.Copy(it, k.encode(v))
	}
	return it
}

func (k *namedKind[T]) decodeItem(orgID string, it map[string]types.AttributeValue) (T, error) {
	var v T
	f := k.fields(&v)
	*f.orgID = orgID
	var err error
	for _, s := range []struct {
		attr string
		dst  *string
	}{{attrID, f.id}, {attrName, f.name}, {attrNameKey, f.nameKey}, {attrUpdatedBy, f.updatedBy}} {
		if *s.dst, err = getS(it, s.attr); err != nil {
			return v, err
		}
	}
	if *f.version, err = getN(it, attrVersion); err != nil {
		return v, err
	}
	if *f.createdAt, err = getTime(it, attrCreatedAt); err != nil {
		return v, err
	}
	if *f.updatedAt, err = getTime(it, attrUpdatedAt); err != nil {
		return v, err
	}
	return v, k.decode(it, &v)
}

// list returns the organisation's records with one strongly consistent Query (paged by
// DynamoDB's 1 MB, at most two pages at the bounds).
func (k *namedKind[T]) list(ctx context.Context, p people, orgID string) ([]T, error) {
	items, err := queryPrefix(ctx, p.client, p.table, k.pk+orgID, k.sk, k.bound)
	if err != nil {
		return nil, peopleError("list "+k.many+" of "+orgID, err)
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := k.decodeItem(orgID, it)
		if err != nil {
			return nil, fmt.Errorf("dynamo: %s of %s: %w", k.one, orgID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// get reads a record with one strongly consistent GetItem.
func (k *namedKind[T]) get(ctx context.Context, p people, orgID, id string) (v T, found bool, err error) {
	out, err := p.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.table),
		Key: k.key(orgID, id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return v, false, peopleError(fmt.Sprintf("get %s %s/%s", k.one, orgID, id), err)
	}
	if len(out.Item) == 0 {
		return v, false, nil
	}
	if v, err = k.decodeItem(orgID, out.Item); err != nil {
		return v, false, fmt.Errorf("dynamo: %s %s/%s: %w", k.one, orgID, id, err)
	}
	return v, true, nil
}

// create writes v (holding nothing), its name item, the count and the audit entry, and
// extra, whose failed conditions are told before the name's and the count's.
func (k *namedKind[T]) create(ctx context.Context, p people, v T, entry audit.Entry, extra ...txItem) error {
	ap, err := auditPut(p.table, entry)
	if err != nil {
		return err
	}
	f := k.fields(&v)
	pk, it := k.pk+*f.orgID, k.item(v)
	if k.holds != "" {
		it[k.holds] = num(0)
	}
	items := []txItem{{item: types.TransactWriteItem{Put: &types.Put{TableName: aws.String(p.table), Item: it,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}}}
	items = append(items, extra...)
	items = append(items,
		txItem{namePut(p.table, pk, k.name+*f.nameKey, *f.id), k.errNameTaken},
		txItem{countUpdate(p.table, pk, k.count, +1, k.bound), k.errLimit},
		txItem{item: ap})
	_, err = p.write(ctx, fmt.Sprintf("create %s %s/%s", k.one, *f.orgID, *f.id), items)
	return err
}

// update writes next over prev (the same record, one version on) with the audit entry:
// an UpdateItem of every attribute but what the record holds, on condition of prev's
// version, and on a rename the name items. extra's failed conditions are told after a
// change of the record and before a name taken.
func (k *namedKind[T]) update(ctx context.Context, p people, prev, next T, entry audit.Entry, extra ...txItem) error {
	pf, nf := k.fields(&prev), k.fields(&next)
	if *pf.orgID != *nf.orgID || *pf.id != *nf.id || *nf.version != *pf.version+1 {
		return fmt.Errorf("dynamo: update of %s %s/%s from v%d to %s/%s v%d", k.one, *pf.orgID, *pf.id, *pf.version, *nf.orgID, *nf.id, *nf.version)
	}
	ap, err := auditPut(p.table, entry)
	if err != nil {
		return err
	}
	expr := "SET #n = :n, nameKey = :k, version = :v, updatedAt = :at, updatedBy = :by"
	names := map[string]string{"#n": attrName}
	values := map[string]types.AttributeValue{
		":n": str(*nf.name), ":k": str(*nf.nameKey), ":v": num(*nf.version), ":at": str(formatTime(*nf.updatedAt)),
		":by": str(*nf.updatedBy), ":prev": num(*pf.version),
	}
	var own map[string]types.AttributeValue
	if k.encode != nil {
		own = k.encode(next)
		delete(own, k.holds)
	}
	for i, attr := range slices.Sorted(maps.Keys(own)) {
		expr += fmt.Sprintf(", #a%d = :a%d", i, i)
		names[fmt.Sprintf("#a%d", i)], values[fmt.Sprintf(":a%d", i)] = attr, own[attr]
	}
	var remove []string
	for i, attr := range k.optional {
		if _, ok := own[attr]; !ok {
			remove = append(remove, fmt.Sprintf("#r%d", i))
			names[fmt.Sprintf("#r%d", i)] = attr
		}
	}
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	items := []txItem{{types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(p.table),
		Key:                       k.key(*nf.orgID, *nf.id),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("version = :prev"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, k.errChanged}, {item: ap}}
	var claim []txItem
	if oldSK, newSK := k.name+*pf.nameKey, k.name+*nf.nameKey; oldSK != newSK {
		pk := k.pk + *nf.orgID
		// The old name item is not the record's: it was renamed since prev was read.
		items = append(items, txItem{nameDelete(p.table, pk, oldSK, *pf.id), k.errChanged})
		claim = []txItem{{namePut(p.table, pk, newSK, *nf.id), k.errNameTaken}}
	}
	items = append(append(items, extra...), claim...)
	_, err = p.write(ctx, fmt.Sprintf("update %s %s/%s v%d", k.one, *nf.orgID, *nf.id, *nf.version), items)
	return err
}

// delete removes v (on condition of its version and of holding nothing), its name item
// and its count, with the audit entry and extra (whose failed conditions mean that v
// changed). When the record's condition fails, the record as it was (returned with the
// cancellation, else read) tells errHolds from errChanged.
func (k *namedKind[T]) delete(ctx context.Context, p people, v T, entry audit.Entry, extra ...txItem) error {
	ap, err := auditPut(p.table, entry)
	if err != nil {
		return err
	}
	f := k.fields(&v)
	del := &types.Delete{
		TableName:                 aws.String(p.table),
		Key:                       k.key(*f.orgID, *f.id),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(*f.version)},
	}
	if k.holds != "" {
		del.ConditionExpression = aws.String("version = :v AND (attribute_not_exists(#h) OR #h = :zero)")
		del.ExpressionAttributeNames = map[string]string{"#h": k.holds}
		del.ExpressionAttributeValues[":zero"] = num(0)
		del.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	pk := k.pk + *f.orgID
	items := append([]txItem{
		{types.TransactWriteItem{Delete: del}, k.errChanged},
		{nameDelete(p.table, pk, k.name+*f.nameKey, *f.id), k.errChanged},
		{item: countUpdate(p.table, pk, k.count, -1, 0)},
		{item: ap},
	}, extra...)
	rs, err := p.write(ctx, fmt.Sprintf("delete %s %s/%s v%d", k.one, *f.orgID, *f.id, *f.version), items)
	if k.holds == "" || !failedCondition(rs, 0) {
		return err
	}
	old := rs[0].Item
	if old == nil {
		// Without the item in the answer, read it.
		out, gerr := p.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.table), Key: del.Key, ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return peopleError(fmt.Sprintf("get %s %s/%s", k.one, *f.orgID, *f.id), gerr)
		}
		old = out.Item
	}
	if ver, verr := getN(old, attrVersion); verr == nil && ver == *f.version {
		if n, nerr := getN(old, k.holds); nerr == nil && n > 0 {
			return k.errHolds
		}
	}
	return k.errChanged
}

// holding is the write that counts delta more (delta > 0, on condition that the record
// exists) or fewer (on condition that it holds at least -delta) of what a record holds,
// for the transaction of the write that adds or takes out what it holds. It does not
// change the record's version.
func (k *namedKind[T]) holding(table, orgID, id string, delta int) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       k.key(orgID, id),
		UpdateExpression:          aws.String("SET #h = if_not_exists(#h, :zero) + :d"),
		ExpressionAttributeNames:  map[string]string{"#h": k.holds},
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":d": num(int64(delta))},
	}
	if delta >= 0 {
		u.ConditionExpression = aws.String("attribute_exists(pk)")
	} else {
		u.ConditionExpression = aws.String("#h >= :n")
		u.ExpressionAttributeValues[":n"] = num(int64(-delta))
	}
	return types.TransactWriteItem{Update: u}
}
