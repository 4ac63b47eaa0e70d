package dynamo

// The orgs.Store on the single table (Orgs, from NewOrgs). Ids are package ids (no "#",
// no "/"), so a path is stored as its ids joined by "/":
//
//	item          pk                  sk              other attributes
//	record        ORG#<id>            ORG             id S, name S, parentId S, path S (root/.../id),
//	                                                  createdAt S, deletedAt S (once deleted),
//	                                                  children N (its live sub-organisations)
//	root count    ORG#<rootId>        ORG             children N only: a root has no record, and
//	                                                  an item without parentId reads as one
//	descendant    SUBORGS#<ancestor>  <descendant>    id S, name S, parentId S, path S, createdAt S
//	                                                  (one per ancestor of every live sub-organisation)
//
// Org is one strongly consistent GetItem. Descendants is one strongly consistent Query of
// SUBORGS#<id> after the page's start, in sort-key (id) order. Create is one
// TransactWriteItems: the record (on condition that the id is new), one more child on the
// parent's item (an UpdateItem ADD, on condition that the parent is a root, that is has no
// parentId, when the path says so, else that its path is the new path's prefix and it is
// not deleted), a descendant item per ancestor, the audit entry. Delete reads the record,
// then is one TransactWriteItems: deletedAt set on the record (on condition that it is
// live and counts no children), one child fewer on the parent, the descendant items
// deleted, the audit entry. A create under an organisation and its delete both write its
// record: DynamoDB serialises them, and the loser fails its condition or collides.

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/orgs"
)

// Key patterns (IAM StringLike) of the tree's items: the organisation records (which the
// HTTP front of every function reads) and the descendants index (the orgs function).
const (
	OrgKeys    = "ORG#*"
	SuborgKeys = "SUBORGS#*"
)

const (
	attrParentID  = "parentId"
	attrPath      = "path"
	attrDeletedAt = "deletedAt"
	attrChildren  = "children"
	skOrg         = "ORG"
)

func orgPK(id string) string    { return "ORG#" + id }
func suborgPK(id string) string { return "SUBORGS#" + id }

func orgKey(id string) map[string]types.AttributeValue { return key(orgPK(id), skOrg) }

func pathText(path []string) string { return strings.Join(path, "/") }

// Orgs is the orgs.Store on one DynamoDB table. It is safe for concurrent use.
type Orgs struct {
	client PeopleAPI
	table  string
}

var _ orgs.Store = (*Orgs)(nil)

// NewOrgs returns the organisation tree on table through client.
func NewOrgs(client PeopleAPI, table string) *Orgs { return &Orgs{client: client, table: table} }

// orgAttrs are the attributes a record and its descendant items share.
func orgAttrs(item map[string]types.AttributeValue, o orgs.Org) map[string]types.AttributeValue {
	item[attrID] = str(o.ID)
	item[attrName] = str(o.Name)
	item[attrParentID] = str(o.ParentID)
	item[attrPath] = str(pathText(o.Path))
	item[attrCreatedAt] = str(formatTime(o.CreatedAt))
	return item
}

// decodeOrg reads a record or a descendant item; ok is false for an item without
// parentId (a root's children count).
func decodeOrg(item map[string]types.AttributeValue) (o orgs.Org, ok bool, err error) {
	if _, has := item[attrParentID]; !has {
		return orgs.Org{}, false, nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{attrID, &o.ID}, {attrName, &o.Name}, {attrParentID, &o.ParentID}} {
		if *f.dst, err = getS(item, f.name); err != nil {
			return o, false, err
		}
	}
	p, err := getS(item, attrPath)
	if err != nil {
		return o, false, err
	}
	o.Path = strings.Split(p, "/")
	if n := len(o.Path); n < 2 || o.Path[n-1] != o.ID || o.Path[n-2] != o.ParentID {
		return o, false, fmt.Errorf("attribute %s: %q is not the path of %s under %s", attrPath, p, o.ID, o.ParentID)
	}
	if o.CreatedAt, err = getTime(item, attrCreatedAt); err != nil {
		return o, false, err
	}
	if _, has := item[attrDeletedAt]; has {
		t, err := getTime(item, attrDeletedAt)
		if err != nil {
			return o, false, err
		}
		o.DeletedAt = &t
	}
	return o, true, nil
}

// Org implements orgs.Lookup with one strongly consistent GetItem.
func (s *Orgs) Org(ctx context.Context, id string) (orgs.Org, bool, error) {
	if err := orgs.CheckID(id); err != nil {
		return orgs.Org{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: orgKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return orgs.Org{}, false, peopleError("get organisation "+id, err)
	}
	o, ok, err := decodeOrg(out.Item)
	if err != nil {
		return orgs.Org{}, false, fmt.Errorf("dynamo: organisation %s: %w", id, err)
	}
	return o, ok, nil
}

// Descendants implements orgs.Store with one strongly consistent Query (one more item
// than the page, to know whether another page follows).
func (s *Orgs) Descendants(ctx context.Context, id, after string, limit int) (orgs.Page, error) {
	if err := orgs.CheckPage(id, after, limit); err != nil {
		return orgs.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(suborgPK(id))},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("pk = :p AND sk > :after")
		in.ExpressionAttributeValues[":after"] = str(after)
	}
	var page orgs.Page
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return orgs.Page{}, peopleError("list descendants of "+id, err)
		}
		for _, it := range out.Items {
			o, ok, err := decodeOrg(it)
			if err != nil || !ok {
				return orgs.Page{}, fmt.Errorf("dynamo: descendant of %s: %v", id, err)
			}
			if len(page.Orgs) == limit {
				page.Next = page.Orgs[limit-1].ID
				return page, nil
			}
			page.Orgs = append(page.Orgs, o)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		in.Limit = aws.Int32(int32(limit + 1 - len(page.Orgs)))
	}
}

// Create implements orgs.Store with one TransactWriteItems.
func (s *Orgs) Create(ctx context.Context, o orgs.Org, entry audit.Entry) error {
	if err := orgs.CheckNew(o, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	parent := &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       orgKey(o.ParentID),
		UpdateExpression:          aws.String("ADD #c :one"),
		ExpressionAttributeNames:  map[string]string{"#c": attrChildren, "#pid": attrParentID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
	}
	if len(o.Path) == 2 {
		parent.ConditionExpression = aws.String("attribute_not_exists(#pid)")
	} else {
		parent.ConditionExpression = aws.String("attribute_exists(#pid) AND #path = :ppath AND attribute_not_exists(#del)")
		parent.ExpressionAttributeNames["#path"] = attrPath
		parent.ExpressionAttributeNames["#del"] = attrDeletedAt
		parent.ExpressionAttributeValues[":ppath"] = str(pathText(o.Path[:len(o.Path)-1]))
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: orgAttrs(orgKey(o.ID), o), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: parent},
	}
	for _, anc := range o.Path[:len(o.Path)-1] {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: orgAttrs(key(suborgPK(anc), o.ID), o)}})
	}
	items = append(items, ap)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0):
		return orgs.ErrExists
	case failedCondition(rs, 1):
		return orgs.ErrNoParent
	}
	return peopleError(fmt.Sprintf("create organisation %s under %s", o.ID, o.ParentID), err)
}

// Delete implements orgs.Store: one GetItem of the record, then one TransactWriteItems.
// When the record's condition fails, the record as it was (returned with the
// cancellation) tells ErrHasChildren from ErrNotFound.
func (s *Orgs) Delete(ctx context.Context, id string, entry audit.Entry) (orgs.Org, error) {
	if err := orgs.CheckDelete(id, entry); err != nil {
		return orgs.Org{}, err
	}
	o, found, err := s.Org(ctx, id)
	if err != nil {
		return orgs.Org{}, err
	}
	if !found || o.Deleted() {
		return orgs.Org{}, orgs.ErrNotFound
	}
	if err := orgs.CheckDeleteEntry(o, entry); err != nil {
		return orgs.Org{}, err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return orgs.Org{}, err
	}
	deleted := orgs.MarkDeleted(o, entry.At)
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                           aws.String(s.table),
			Key:                                 orgKey(id),
			UpdateExpression:                    aws.String("SET #del = :at"),
			ConditionExpression:                 aws.String("attribute_exists(#pid) AND attribute_not_exists(#del) AND (attribute_not_exists(#c) OR #c = :zero)"),
			ExpressionAttributeNames:            map[string]string{"#del": attrDeletedAt, "#pid": attrParentID, "#c": attrChildren},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":at": str(formatTime(*deleted.DeletedAt)), ":zero": num(0)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       orgKey(o.ParentID),
			UpdateExpression:          aws.String("ADD #c :minus"),
			ConditionExpression:       aws.String("#c >= :one"),
			ExpressionAttributeNames:  map[string]string{"#c": attrChildren},
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1), ":one": num(1)},
		}},
	}
	for _, anc := range o.Path[:len(o.Path)-1] {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(suborgPK(anc), id)}})
	}
	items = append(items, ap)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	rs := reasons(err)
	switch {
	case err == nil:
		return deleted, nil
	case failedCondition(rs, 0):
		if n, nerr := getN(rs[0].Item, attrChildren); nerr == nil && n > 0 {
			if _, gone := rs[0].Item[attrDeletedAt]; !gone {
				return orgs.Org{}, orgs.ErrHasChildren
			}
		}
		if rs[0].Item == nil {
			// Without the item in the answer, read it.
			again, found, gerr := s.Org(ctx, id)
			if gerr != nil {
				return orgs.Org{}, gerr
			}
			if found && !again.Deleted() {
				return orgs.Org{}, orgs.ErrHasChildren
			}
		}
		return orgs.Org{}, orgs.ErrNotFound
	case failedCondition(rs, 1):
		return orgs.Org{}, fmt.Errorf("dynamo: the parent %s of %s counts no children", o.ParentID, id)
	}
	return orgs.Org{}, peopleError("delete organisation "+id, err)
}
