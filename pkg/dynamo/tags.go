package dynamo

// The tags.Store on the single table (Tags, from NewTags). An organisation's tags and tag
// groups live in one partition (<key> is the record's NameKey, caseless.Key of its name:
// 64 hex digits):
//
//	item          pk           sk               other attributes
//	group         TAGS#<org>   GROUP#<group>    id S, name S, nameKey S, tags N, version N, createdAt S, updatedAt S,
//	                                            updatedBy S
//	tag           TAGS#<org>   TAG#<tag>        id S, name S, nameKey S, groupId S (absent: none), appliesTo S, color S
//	                                            (absent: none), version N, createdAt S, updatedAt S, updatedBy S
//	group name    TAGS#<org>   GNAME#<key>      id S (the group that holds the name)
//	tag name      TAGS#<org>   TNAME#<key>      id S (the tag that holds the name)
//	count         TAGS#<org>   COUNT            groups N, tags N
//
// Groups and Tags are one strongly consistent Query each (of the GROUP# or TAG# items: at
// most tags.MaxGroups or tags.MaxTags, one page); Group and Tag one GetItem. Every write
// is one TransactWriteItems with its audit entry, the name item (put on condition that it
// does not exist; on a rename the old one deleted), the organisation's count (on a create
// or delete, conditional on the bound) and, for a tag in a group, the group's tags count:
// +1 on condition that the group exists (else tags.ErrNoGroup), -1 on condition that it
// is at least 1. A group's delete is conditional on its version and on tags = 0, so it
// cannot race a tag into a group that is gone. Updates are UpdateItems, so a group's tags
// count is never overwritten by a rename.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/tags"
)

// TagKeys is the pattern (IAM StringLike) of the partition keys of tag and tag group
// items, for a dynamodb:LeadingKeys condition.
const TagKeys = "TAGS#*"

const (
	attrTags      = "tags"
	attrGroups    = "groups"
	attrGroupID   = "groupId"
	attrAppliesTo = "appliesTo"
	attrColor     = "color"
)

// Tags is the tags.Store on one DynamoDB table. It is safe for concurrent use.
type Tags struct {
	client PeopleAPI
	table  string
}

var _ tags.Store = (*Tags)(nil)

// NewTags returns the tag store on table through client.
func NewTags(client PeopleAPI, table string) *Tags {
	return &Tags{client: client, table: table}
}

func tagsPK(orgID string) string { return "TAGS#" + orgID }

func tagsKey(orgID, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(tagsPK(orgID)), attrSK: str(sk)}
}

func groupSK(id string) string          { return "GROUP#" + id }
func tagSK(id string) string            { return "TAG#" + id }
func groupNameSK(nameKey string) string { return "GNAME#" + nameKey }
func tagNameSK(nameKey string) string   { return "TNAME#" + nameKey }

func (s *Tags) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func (s *Tags) get(ctx context.Context, orgID, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: tagsKey(orgID, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, peopleError("get "+sk+" of "+orgID, err)
	}
	return out.Item, nil
}

// ---------------------------------------------------------------- groups

func decodeGroup(orgID string, it map[string]types.AttributeValue) (tags.Group, error) {
	g := tags.Group{OrgID: orgID}
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{attrID, &g.ID}, {attrName, &g.Name}, {attrNameKey, &g.NameKey}, {attrUpdatedBy, &g.UpdatedBy}} {
		if *f.dst, err = getS(it, f.name); err != nil {
			return g, err
		}
	}
	if g.Version, err = getN(it, attrVersion); err != nil {
		return g, err
	}
	n, err := getN(it, attrTags)
	if err != nil {
		return g, err
	}
	g.Tags = int(n)
	if g.CreatedAt, err = getTime(it, attrCreatedAt); err != nil {
		return g, err
	}
	g.UpdatedAt, err = getTime(it, attrUpdatedAt)
	return g, err
}

// Groups implements tags.Store with one strongly consistent Query.
func (s *Tags) Groups(ctx context.Context, orgID string) ([]tags.Group, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return nil, err
	}
	items, err := queryPrefix(ctx, s.client, s.table, tagsPK(orgID), "GROUP#", tags.MaxGroups)
	if err != nil {
		return nil, peopleError("list tag groups of "+orgID, err)
	}
	out := make([]tags.Group, 0, len(items))
	for _, it := range items {
		g, err := decodeGroup(orgID, it)
		if err != nil {
			return nil, fmt.Errorf("dynamo: tag group of %s: %w", orgID, err)
		}
		out = append(out, g)
	}
	return out, nil
}

// Group implements tags.Store with one strongly consistent GetItem.
func (s *Tags) Group(ctx context.Context, orgID, id string) (tags.Group, bool, error) {
	if err := tags.CheckKeys("tag group", orgID, id); err != nil {
		return tags.Group{}, false, err
	}
	it, err := s.get(ctx, orgID, groupSK(id))
	if err != nil || len(it) == 0 {
		return tags.Group{}, false, err
	}
	g, err := decodeGroup(orgID, it)
	if err != nil {
		return tags.Group{}, false, fmt.Errorf("dynamo: tag group %s/%s: %w", orgID, id, err)
	}
	return g, true, nil
}

// CreateGroup implements tags.Store: the group, its name item, the count and the audit
// entry in one TransactWriteItems.
func (s *Tags) CreateGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	if err := tags.CheckGroup(g, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := tagsPK(g.OrgID)
	it := tagsKey(g.OrgID, groupSK(g.ID))
	it[attrID], it[attrName], it[attrNameKey], it[attrTags], it[attrVersion] = str(g.ID), str(g.Name), str(g.NameKey), num(0), num(g.Version)
	it[attrCreatedAt], it[attrUpdatedAt], it[attrUpdatedBy] = str(formatTime(g.CreatedAt)), str(formatTime(g.UpdatedAt)), str(g.UpdatedBy)
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		namePut(s.table, pk, groupNameSK(g.NameKey), g.ID),
		countUpdate(s.table, pk, attrGroups, +1, tags.MaxGroups),
		ap,
	})
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 1):
		return tags.ErrNameTaken
	case failedCondition(rs, 2):
		return tags.ErrLimit
	}
	return peopleError(fmt.Sprintf("create tag group %s/%s", g.OrgID, g.ID), err)
}

// UpdateGroup implements tags.Store: an UpdateItem of the group on condition of its
// version (its tags count untouched), the name items on a rename, and the audit entry.
func (s *Tags) UpdateGroup(ctx context.Context, prev, next tags.Group, entry audit.Entry) error {
	if err := tags.CheckGroup(next, entry); err != nil {
		return err
	}
	if prev.OrgID != next.OrgID || prev.ID != next.ID || next.Version != prev.Version+1 {
		return fmt.Errorf("dynamo: update of tag group %s/%s from v%d to v%d", prev.OrgID, prev.ID, prev.Version, next.Version)
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := tagsPK(next.OrgID)
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                aws.String(s.table),
		Key:                      tagsKey(next.OrgID, groupSK(next.ID)),
		UpdateExpression:         aws.String("SET #n = :n, nameKey = :k, version = :v, updatedAt = :at, updatedBy = :by"),
		ConditionExpression:      aws.String("version = :prev"),
		ExpressionAttributeNames: map[string]string{"#n": attrName},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": str(next.Name), ":k": str(next.NameKey), ":v": num(next.Version), ":at": str(formatTime(next.UpdatedAt)),
			":by": str(next.UpdatedBy), ":prev": num(prev.Version),
		},
	}}, ap}
	if oldSK, newSK := groupNameSK(prev.NameKey), groupNameSK(next.NameKey); oldSK != newSK {
		items = append(items, nameDelete(s.table, pk, oldSK, prev.ID), namePut(s.table, pk, newSK, next.ID))
	}
	err = s.transact(ctx, items)
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0), failedCondition(rs, 2):
		return tags.ErrChanged
	case failedCondition(rs, 3):
		return tags.ErrNameTaken
	}
	return peopleError(fmt.Sprintf("update tag group %s/%s v%d", next.OrgID, next.ID, next.Version), err)
}

// DeleteGroup implements tags.Store: the group (on condition of its version and of
// holding no tag), its name item, the count and the audit entry.
func (s *Tags) DeleteGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	if err := tags.CheckGroup(g, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := tagsPK(g.OrgID)
	err = s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                           aws.String(s.table),
			Key:                                 tagsKey(g.OrgID, groupSK(g.ID)),
			ConditionExpression:                 aws.String("version = :v AND tags = :zero"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":v": num(g.Version), ":zero": num(0)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		nameDelete(s.table, pk, groupNameSK(g.NameKey), g.ID),
		countUpdate(s.table, pk, attrGroups, -1, 0),
		ap,
	})
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0):
		old := rs[0].Item
		if old == nil {
			if old, err = s.get(ctx, g.OrgID, groupSK(g.ID)); err != nil {
				return err
			}
		}
		if v, verr := getN(old, attrVersion); verr == nil && v == g.Version {
			if n, nerr := getN(old, attrTags); nerr == nil && n > 0 {
				return tags.ErrGroupNotEmpty
			}
		}
		return tags.ErrChanged
	case failedCondition(rs, 1):
		return tags.ErrChanged
	}
	return peopleError(fmt.Sprintf("delete tag group %s/%s v%d", g.OrgID, g.ID, g.Version), err)
}

// groupTagCount counts one more (delta +1, on condition that the group exists) or one
// fewer (delta -1, on condition that it counts at least one) tag in a group.
func (s *Tags) groupTagCount(orgID, groupID string, delta int) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       tagsKey(orgID, groupSK(groupID)),
		UpdateExpression:          aws.String("SET tags = tags + :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(int64(delta))},
	}
	if delta > 0 {
		u.ConditionExpression = aws.String("attribute_exists(pk)")
	} else {
		u.ConditionExpression = aws.String("tags >= :one")
		u.ExpressionAttributeValues[":one"] = num(1)
	}
	return types.TransactWriteItem{Update: u}
}

// ---------------------------------------------------------------- tags

func decodeTag(orgID string, it map[string]types.AttributeValue) (tags.Tag, error) {
	t := tags.Tag{OrgID: orgID}
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{attrID, &t.ID}, {attrName, &t.Name}, {attrNameKey, &t.NameKey}, {attrAppliesTo, &t.AppliesTo}, {attrUpdatedBy, &t.UpdatedBy}} {
		if *f.dst, err = getS(it, f.name); err != nil {
			return t, err
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{attrGroupID, &t.GroupID}, {attrColor, &t.Color}} {
		if _, ok := it[f.name]; ok {
			if *f.dst, err = getS(it, f.name); err != nil {
				return t, err
			}
		}
	}
	if t.Version, err = getN(it, attrVersion); err != nil {
		return t, err
	}
	if t.CreatedAt, err = getTime(it, attrCreatedAt); err != nil {
		return t, err
	}
	t.UpdatedAt, err = getTime(it, attrUpdatedAt)
	return t, err
}

// Tags implements tags.Store with one strongly consistent Query.
func (s *Tags) Tags(ctx context.Context, orgID string) ([]tags.Tag, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return nil, err
	}
	items, err := queryPrefix(ctx, s.client, s.table, tagsPK(orgID), "TAG#", tags.MaxTags)
	if err != nil {
		return nil, peopleError("list tags of "+orgID, err)
	}
	out := make([]tags.Tag, 0, len(items))
	for _, it := range items {
		t, err := decodeTag(orgID, it)
		if err != nil {
			return nil, fmt.Errorf("dynamo: tag of %s: %w", orgID, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Tag implements tags.Store with one strongly consistent GetItem.
func (s *Tags) Tag(ctx context.Context, orgID, id string) (tags.Tag, bool, error) {
	if err := tags.CheckKeys("tag", orgID, id); err != nil {
		return tags.Tag{}, false, err
	}
	it, err := s.get(ctx, orgID, tagSK(id))
	if err != nil || len(it) == 0 {
		return tags.Tag{}, false, err
	}
	t, err := decodeTag(orgID, it)
	if err != nil {
		return tags.Tag{}, false, fmt.Errorf("dynamo: tag %s/%s: %w", orgID, id, err)
	}
	return t, true, nil
}

// CreateTag implements tags.Store: the tag, its name item, the count, the audit entry
// and, for a tag in a group, the group's count, in one TransactWriteItems.
func (s *Tags) CreateTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	if err := tags.CheckTag(t, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := tagsPK(t.OrgID)
	it := tagsKey(t.OrgID, tagSK(t.ID))
	it[attrID], it[attrName], it[attrNameKey], it[attrAppliesTo], it[attrVersion] = str(t.ID), str(t.Name), str(t.NameKey), str(t.AppliesTo), num(t.Version)
	it[attrCreatedAt], it[attrUpdatedAt], it[attrUpdatedBy] = str(formatTime(t.CreatedAt)), str(formatTime(t.UpdatedAt)), str(t.UpdatedBy)
	if t.GroupID != "" {
		it[attrGroupID] = str(t.GroupID)
	}
	if t.Color != "" {
		it[attrColor] = str(t.Color)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		namePut(s.table, pk, tagNameSK(t.NameKey), t.ID),
		countUpdate(s.table, pk, attrTags, +1, tags.MaxTags),
		ap,
	}
	if t.GroupID != "" {
		items = append(items, s.groupTagCount(t.OrgID, t.GroupID, +1))
	}
	err = s.transact(ctx, items)
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 4):
		return tags.ErrNoGroup
	case failedCondition(rs, 1):
		return tags.ErrNameTaken
	case failedCondition(rs, 2):
		return tags.ErrLimit
	}
	return peopleError(fmt.Sprintf("create tag %s/%s", t.OrgID, t.ID), err)
}

// UpdateTag implements tags.Store: an UpdateItem of the tag on condition of its version,
// the name items on a rename, the groups' counts on a move, and the audit entry.
func (s *Tags) UpdateTag(ctx context.Context, prev, next tags.Tag, entry audit.Entry) error {
	if err := tags.CheckTag(next, entry); err != nil {
		return err
	}
	if prev.OrgID != next.OrgID || prev.ID != next.ID || next.Version != prev.Version+1 {
		return fmt.Errorf("dynamo: update of tag %s/%s from v%d to v%d", prev.OrgID, prev.ID, prev.Version, next.Version)
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := tagsPK(next.OrgID)
	set := "SET #n = :n, nameKey = :k, appliesTo = :a, version = :v, updatedAt = :at, updatedBy = :by"
	values := map[string]types.AttributeValue{
		":n": str(next.Name), ":k": str(next.NameKey), ":a": str(next.AppliesTo), ":v": num(next.Version), ":at": str(formatTime(next.UpdatedAt)),
		":by": str(next.UpdatedBy), ":prev": num(prev.Version),
	}
	var remove []string
	for _, f := range []struct{ attr, value string }{{attrGroupID, next.GroupID}, {attrColor, next.Color}} {
		if f.value == "" {
			remove = append(remove, f.attr)
			continue
		}
		set += ", " + f.attr + " = :" + f.attr
		values[":"+f.attr] = str(f.value)
	}
	expr := set
	if len(remove) > 0 {
		expr += " REMOVE " + remove[0]
		for _, r := range remove[1:] {
			expr += ", " + r
		}
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       tagsKey(next.OrgID, tagSK(next.ID)),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("version = :prev"),
		ExpressionAttributeNames:  map[string]string{"#n": attrName},
		ExpressionAttributeValues: values,
	}}, ap}
	renamed, oldName, newName := -1, tagNameSK(prev.NameKey), tagNameSK(next.NameKey)
	if oldName != newName {
		renamed = len(items)
		items = append(items, nameDelete(s.table, pk, oldName, prev.ID), namePut(s.table, pk, newName, next.ID))
	}
	joined := -1
	if prev.GroupID != next.GroupID {
		if prev.GroupID != "" {
			items = append(items, s.groupTagCount(next.OrgID, prev.GroupID, -1))
		}
		if next.GroupID != "" {
			joined = len(items)
			items = append(items, s.groupTagCount(next.OrgID, next.GroupID, +1))
		}
	}
	err = s.transact(ctx, items)
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0), renamed >= 0 && failedCondition(rs, renamed):
		return tags.ErrChanged
	case joined >= 0 && failedCondition(rs, joined):
		return tags.ErrNoGroup
	case renamed >= 0 && failedCondition(rs, renamed+1):
		return tags.ErrNameTaken
	}
	return peopleError(fmt.Sprintf("update tag %s/%s v%d", next.OrgID, next.ID, next.Version), err)
}

// DeleteTag implements tags.Store: the tag (on condition of its version), its name item,
// the count, its group's count and the audit entry.
func (s *Tags) DeleteTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	if err := tags.CheckTag(t, entry); err != nil {
		return err
	}
	ap, err := auditPut(s.table, entry)
	if err != nil {
		return err
	}
	pk := tagsPK(t.OrgID)
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       tagsKey(t.OrgID, tagSK(t.ID)),
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(t.Version)},
		}},
		nameDelete(s.table, pk, tagNameSK(t.NameKey), t.ID),
		countUpdate(s.table, pk, attrTags, -1, 0),
		ap,
	}
	if t.GroupID != "" {
		items = append(items, s.groupTagCount(t.OrgID, t.GroupID, -1))
	}
	err = s.transact(ctx, items)
	rs := reasons(err)
	switch {
	case err == nil:
		return nil
	case failedCondition(rs, 0), failedCondition(rs, 1), failedCondition(rs, 4):
		return tags.ErrChanged
	}
	return peopleError(fmt.Sprintf("delete tag %s/%s v%d", t.OrgID, t.ID, t.Version), err)
}
