package bolt

// The tags.Store of the embedded store (Tags, from Store.Tags). Keys (ids are package
// ids: no NUL; <key> is the record's NameKey, caseless.Key of its name: 64 hex digits):
//
//	bucket "tagGroups":     <org> 0 <group>  -> group JSON (its tags count included)
//	bucket "tagGroupNames": <org> 0 <key>    -> <group>
//	bucket "tags":          <org> 0 <tag>    -> tag JSON
//	bucket "tagNames":      <org> 0 <key>    -> <tag>
//
// Groups and tags are two kinds of named record (named.go): every write is one bbolt
// transaction that checks names, versions, counts and the group, then writes the record,
// its name key, the group's tags count and the audit entry.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/tags"
)

var (
	bucketTagGroups     = []byte("tagGroups")
	bucketTagGroupNames = []byte("tagGroupNames")
	bucketTags          = []byte("tags")
	bucketTagNames      = []byte("tagNames")
)

// Tags is the tags.Store of a bolt Store. It is safe for concurrent use; writes are
// serialised by bbolt.
type Tags struct {
	db *bbolt.DB
}

var _ tags.Store = (*Tags)(nil)

// Tags returns the tag store kept in s's file, creating its buckets the first time.
func (s *Store) Tags() (*Tags, error) {
	if err := s.buckets(bucketTagGroups, bucketTagGroupNames, bucketTags, bucketTagNames); err != nil {
		return nil, fmt.Errorf("bolt: init tags: %w", err)
	}
	return &Tags{db: s.db}, nil
}

type groupRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	NameKey   string    `json:"nameKey"`
	Tags      int       `json:"tags"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

type tagRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	NameKey   string    `json:"nameKey"`
	GroupID   string    `json:"groupId,omitempty"`
	AppliesTo string    `json:"appliesTo"`
	Color     string    `json:"color,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

var groupKind = &namedKind[tags.Group]{
	records: bucketTagGroups, names: bucketTagGroupNames, bound: tags.MaxGroups, one: "tag group", held: "tags",
	errNameTaken: tags.ErrNameTaken, errLimit: tags.ErrLimit, errChanged: tags.ErrChanged, errHolds: tags.ErrGroupNotEmpty,
	fields: func(g *tags.Group) namedFields {
		return namedFields{orgID: &g.OrgID, id: &g.ID, nameKey: &g.NameKey, version: &g.Version, held: &g.Tags}
	},
	encode: func(g tags.Group) ([]byte, error) {
		return json.Marshal(groupRecord{ID: g.ID, Name: g.Name, NameKey: g.NameKey, Tags: g.Tags, Version: g.Version,
			CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, UpdatedBy: g.UpdatedBy})
	},
	decode: func(orgID string, v []byte) (tags.Group, error) {
		var r groupRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return tags.Group{}, fmt.Errorf("bolt: decode tag group of %s: %w", orgID, err)
		}
		return tags.Group{OrgID: orgID, ID: r.ID, Name: r.Name, NameKey: r.NameKey, Tags: r.Tags, Version: r.Version,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
	},
}

var tagKind = &namedKind[tags.Tag]{
	records: bucketTags, names: bucketTagNames, bound: tags.MaxTags, one: "tag",
	errNameTaken: tags.ErrNameTaken, errLimit: tags.ErrLimit, errChanged: tags.ErrChanged,
	fields: func(t *tags.Tag) namedFields {
		return namedFields{orgID: &t.OrgID, id: &t.ID, nameKey: &t.NameKey, version: &t.Version}
	},
	encode: func(t tags.Tag) ([]byte, error) {
		return json.Marshal(tagRecord{ID: t.ID, Name: t.Name, NameKey: t.NameKey, GroupID: t.GroupID, AppliesTo: t.AppliesTo, Color: t.Color,
			Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy})
	},
	decode: func(orgID string, v []byte) (tags.Tag, error) {
		var r tagRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return tags.Tag{}, fmt.Errorf("bolt: decode tag of %s: %w", orgID, err)
		}
		return tags.Tag{OrgID: orgID, ID: r.ID, Name: r.Name, NameKey: r.NameKey, GroupID: r.GroupID, AppliesTo: r.AppliesTo, Color: r.Color,
			Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
	},
}

// countTag counts one more or one fewer tag in a group (none for a tag in no group):
// tags.ErrNoGroup when the group to count one more in does not exist.
func countTag(tx *bbolt.Tx, orgID, groupID string, delta int) error {
	if groupID == "" {
		return nil
	}
	return groupKind.hold(tx, orgID, groupID, delta, tags.ErrNoGroup)
}

// Groups implements tags.Store.
func (s *Tags) Groups(ctx context.Context, orgID string) ([]tags.Group, error) {
	return groupKind.list(ctx, s.db, orgID, tags.CheckOrg(orgID))
}

// Group implements tags.Store.
func (s *Tags) Group(ctx context.Context, orgID, id string) (tags.Group, bool, error) {
	return groupKind.read(ctx, s.db, orgID, id, tags.CheckKeys("tag group", orgID, id))
}

// Tags implements tags.Store.
func (s *Tags) Tags(ctx context.Context, orgID string) ([]tags.Tag, error) {
	return tagKind.list(ctx, s.db, orgID, tags.CheckOrg(orgID))
}

// Tag implements tags.Store.
func (s *Tags) Tag(ctx context.Context, orgID, id string) (tags.Tag, bool, error) {
	return tagKind.read(ctx, s.db, orgID, id, tags.CheckKeys("tag", orgID, id))
}

// CreateGroup implements tags.Store.
func (s *Tags) CreateGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	g.Tags = 0
	return groupKind.create(ctx, s.db, g, tags.CheckGroup(g, entry), entry, nil)
}

// UpdateGroup implements tags.Store.
func (s *Tags) UpdateGroup(ctx context.Context, prev, next tags.Group, entry audit.Entry) error {
	return groupKind.update(ctx, s.db, prev, next, tags.CheckGroup(next, entry), entry, nil)
}

// DeleteGroup implements tags.Store.
func (s *Tags) DeleteGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	return groupKind.delete(ctx, s.db, g, tags.CheckGroup(g, entry), entry, nil)
}

// CreateTag implements tags.Store: the tag counted in its group first (tags.ErrNoGroup
// before a name taken).
func (s *Tags) CreateTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	return tagKind.create(ctx, s.db, t, tags.CheckTag(t, entry), entry, func(tx *bbolt.Tx) error {
		return countTag(tx, t.OrgID, t.GroupID, +1)
	})
}

// UpdateTag implements tags.Store: on a move the tag is counted in its new group first
// (tags.ErrNoGroup before a name taken), then uncounted in its old one.
func (s *Tags) UpdateTag(ctx context.Context, prev, next tags.Tag, entry audit.Entry) error {
	return tagKind.update(ctx, s.db, prev, next, tags.CheckTag(next, entry), entry, func(tx *bbolt.Tx, stored tags.Tag) error {
		if stored.GroupID == next.GroupID {
			return nil
		}
		if err := countTag(tx, next.OrgID, next.GroupID, +1); err != nil {
			return err
		}
		return countTag(tx, next.OrgID, stored.GroupID, -1)
	})
}

// DeleteTag implements tags.Store: the tag uncounted in its group.
func (s *Tags) DeleteTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	return tagKind.delete(ctx, s.db, t, tags.CheckTag(t, entry), entry, func(tx *bbolt.Tx, stored tags.Tag) error {
		return countTag(tx, t.OrgID, stored.GroupID, -1)
	})
}
