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
// Groups and tags are two kinds of named record (named.go: the reads, and the writes,
// each one TransactWriteItems with the audit entry): names unique per organisation
// among their kind through the name items, the bounds tags.MaxGroups and tags.MaxTags
// through the count. A group holds its tags: a tag's write in a group counts it there
// in the same transaction (+1 on condition that the group exists, else tags.ErrNoGroup;
// -1 on condition that it counts at least 1), and a group's delete is conditional on
// its version and on tags = 0, so it cannot race a tag into a group that is gone.
// Updates are UpdateItems, so a group's tags count is never overwritten by a rename.

import (
	"context"

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
	people
}

var _ tags.Store = (*Tags)(nil)

// NewTags returns the tag store on table through client.
func NewTags(client PeopleAPI, table string) *Tags {
	return &Tags{people{client: client, table: table}}
}

var groupKind = &namedKind[tags.Group]{
	pk: "TAGS#", sk: "GROUP#", name: "GNAME#", count: attrGroups, bound: tags.MaxGroups, holds: attrTags,
	one: "tag group", many: "tag groups",
	errNameTaken: tags.ErrNameTaken, errLimit: tags.ErrLimit, errChanged: tags.ErrChanged, errHolds: tags.ErrGroupNotEmpty,
	fields: func(g *tags.Group) namedFields {
		return namedFields{orgID: &g.OrgID, id: &g.ID, name: &g.Name, nameKey: &g.NameKey, updatedBy: &g.UpdatedBy,
			version: &g.Version, createdAt: &g.CreatedAt, updatedAt: &g.UpdatedAt}
	},
	decode: func(it map[string]types.AttributeValue, g *tags.Group) error {
		n, err := getN(it, attrTags)
		g.Tags = int(n)
		return err
	},
}

var tagKind = &namedKind[tags.Tag]{
	pk: "TAGS#", sk: "TAG#", name: "TNAME#", count: attrTags, bound: tags.MaxTags, optional: []string{attrGroupID, attrColor},
	one: "tag", many: "tags",
	errNameTaken: tags.ErrNameTaken, errLimit: tags.ErrLimit, errChanged: tags.ErrChanged,
	fields: func(t *tags.Tag) namedFields {
		return namedFields{orgID: &t.OrgID, id: &t.ID, name: &t.Name, nameKey: &t.NameKey, updatedBy: &t.UpdatedBy,
			version: &t.Version, createdAt: &t.CreatedAt, updatedAt: &t.UpdatedAt}
	},
	encode: func(t tags.Tag) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{attrAppliesTo: str(t.AppliesTo)}
		if t.GroupID != "" {
			it[attrGroupID] = str(t.GroupID)
		}
		if t.Color != "" {
			it[attrColor] = str(t.Color)
		}
		return it
	},
	decode: func(it map[string]types.AttributeValue, t *tags.Tag) error {
		var err error
		if t.AppliesTo, err = getS(it, attrAppliesTo); err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			dst  *string
		}{{attrGroupID, &t.GroupID}, {attrColor, &t.Color}} {
			if _, ok := it[f.name]; ok {
				if *f.dst, err = getS(it, f.name); err != nil {
					return err
				}
			}
		}
		return nil
	},
}

// inGroup is the write of a tag's transaction that counts one more (delta +1, on
// condition that the group exists) or one fewer (delta -1, on condition that it counts at
// least one) tag in a group; a failed condition answers onFail.
func (s *Tags) inGroup(orgID, groupID string, delta int, onFail error) txItem {
	return txItem{groupKind.holding(s.table, orgID, groupID, delta), onFail}
}

// Groups implements tags.Store with one strongly consistent Query.
func (s *Tags) Groups(ctx context.Context, orgID string) ([]tags.Group, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return nil, err
	}
	return groupKind.list(ctx, s.people, orgID)
}

// Group implements tags.Store with one strongly consistent GetItem.
func (s *Tags) Group(ctx context.Context, orgID, id string) (tags.Group, bool, error) {
	if err := tags.CheckKeys("tag group", orgID, id); err != nil {
		return tags.Group{}, false, err
	}
	return groupKind.get(ctx, s.people, orgID, id)
}

// CreateGroup implements tags.Store: the group, its name item, the count and the audit
// entry in one TransactWriteItems.
func (s *Tags) CreateGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	if err := tags.CheckGroup(g, entry); err != nil {
		return err
	}
	return groupKind.create(ctx, s.people, g, entry)
}

// UpdateGroup implements tags.Store: an UpdateItem of the group on condition of its
// version (its tags count untouched), the name items on a rename, and the audit entry.
func (s *Tags) UpdateGroup(ctx context.Context, prev, next tags.Group, entry audit.Entry) error {
	if err := tags.CheckGroup(next, entry); err != nil {
		return err
	}
	return groupKind.update(ctx, s.people, prev, next, entry)
}

// DeleteGroup implements tags.Store: the group (on condition of its version and of
// holding no tag), its name item, the count and the audit entry.
func (s *Tags) DeleteGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	if err := tags.CheckGroup(g, entry); err != nil {
		return err
	}
	return groupKind.delete(ctx, s.people, g, entry)
}

// Tags implements tags.Store with one strongly consistent Query.
func (s *Tags) Tags(ctx context.Context, orgID string) ([]tags.Tag, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return nil, err
	}
	return tagKind.list(ctx, s.people, orgID)
}

// Tag implements tags.Store with one strongly consistent GetItem.
func (s *Tags) Tag(ctx context.Context, orgID, id string) (tags.Tag, bool, error) {
	if err := tags.CheckKeys("tag", orgID, id); err != nil {
		return tags.Tag{}, false, err
	}
	return tagKind.get(ctx, s.people, orgID, id)
}

// CreateTag implements tags.Store: the tag, its name item, the count, the audit entry
// and, for a tag in a group, the group's count, in one TransactWriteItems.
func (s *Tags) CreateTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	if err := tags.CheckTag(t, entry); err != nil {
		return err
	}
	var extra []txItem
	if t.GroupID != "" {
		extra = append(extra, s.inGroup(t.OrgID, t.GroupID, +1, tags.ErrNoGroup))
	}
	return tagKind.create(ctx, s.people, t, entry, extra...)
}

// UpdateTag implements tags.Store: an UpdateItem of the tag on condition of its version,
// the name items on a rename, the groups' counts on a move, and the audit entry.
func (s *Tags) UpdateTag(ctx context.Context, prev, next tags.Tag, entry audit.Entry) error {
	if err := tags.CheckTag(next, entry); err != nil {
		return err
	}
	var extra []txItem
	if prev.GroupID != next.GroupID {
		if prev.GroupID != "" {
			extra = append(extra, s.inGroup(next.OrgID, prev.GroupID, -1, nil)) // it counts the tag

		}
		if next.GroupID != "" {
			extra = append(extra, s.inGroup(next.OrgID, next.GroupID, +1, tags.ErrNoGroup))
		}
	}
	return tagKind.update(ctx, s.people, prev, next, entry, extra...)
}

// DeleteTag implements tags.Store: the tag (on condition of its version), its name item,
// the count, its group's count and the audit entry.
func (s *Tags) DeleteTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	if err := tags.CheckTag(t, entry); err != nil {
		return err
	}
	var extra []txItem
	if t.GroupID != "" {
		extra = append(extra, s.inGroup(t.OrgID, t.GroupID, -1, tags.ErrChanged))
	}
	return tagKind.delete(ctx, s.people, t, entry, extra...)
}
