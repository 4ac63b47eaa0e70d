package bolt

// The tags.Store of the embedded store (Tags, from Store.Tags). Keys (ids are package
// ids: no NUL; <key> is the record's NameKey, caseless.Key of its name: 64 hex digits):
//
//	bucket "tagGroups":     <org> 0 <group>  -> group JSON (its tags count included)
//	bucket "tagGroupNames": <org> 0 <key>    -> <group>
//	bucket "tags":          <org> 0 <tag>    -> tag JSON
//	bucket "tagNames":      <org> 0 <key>    -> <tag>
//
// Every write is one bbolt transaction that checks names, versions, counts and the
// group, then writes the record, its name key, the group's tags count and the audit
// entry.

import (
	"bytes"
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

func getGroup(tx *bbolt.Tx, orgID, id string) (tags.Group, bool, error) {
	v := tx.Bucket(bucketTagGroups).Get(key(orgID, id))
	if v == nil {
		return tags.Group{}, false, nil
	}
	g, err := decodeGroup(orgID, v)
	return g, err == nil, err
}

func decodeGroup(orgID string, v []byte) (tags.Group, error) {
	var r groupRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return tags.Group{}, fmt.Errorf("bolt: decode tag group of %s: %w", orgID, err)
	}
	return tags.Group{OrgID: orgID, ID: r.ID, Name: r.Name, NameKey: r.NameKey, Tags: r.Tags, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
}

func putGroup(tx *bbolt.Tx, g tags.Group) error {
	v, err := json.Marshal(groupRecord{ID: g.ID, Name: g.Name, NameKey: g.NameKey, Tags: g.Tags, Version: g.Version,
		CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, UpdatedBy: g.UpdatedBy})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketTagGroups).Put(key(g.OrgID, g.ID), v)
}

func getTag(tx *bbolt.Tx, orgID, id string) (tags.Tag, bool, error) {
	v := tx.Bucket(bucketTags).Get(key(orgID, id))
	if v == nil {
		return tags.Tag{}, false, nil
	}
	t, err := decodeTag(orgID, v)
	return t, err == nil, err
}

func decodeTag(orgID string, v []byte) (tags.Tag, error) {
	var r tagRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return tags.Tag{}, fmt.Errorf("bolt: decode tag of %s: %w", orgID, err)
	}
	return tags.Tag{OrgID: orgID, ID: r.ID, Name: r.Name, NameKey: r.NameKey, GroupID: r.GroupID, AppliesTo: r.AppliesTo, Color: r.Color,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
}

func putTag(tx *bbolt.Tx, t tags.Tag) error {
	v, err := json.Marshal(tagRecord{ID: t.ID, Name: t.Name, NameKey: t.NameKey, GroupID: t.GroupID, AppliesTo: t.AppliesTo, Color: t.Color,
		Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketTags).Put(key(t.OrgID, t.ID), v)
}

func (s *Tags) view(ctx context.Context, orgID string, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tags.CheckOrg(orgID); err != nil {
		return err
	}
	return s.db.View(fn)
}

// forPrefix calls fn with the value of every key of bucket b that starts with the
// organisation's prefix.
func forPrefix(tx *bbolt.Tx, b []byte, orgID string, fn func(v []byte) error) error {
	prefix := key(orgID, "")
	c := tx.Bucket(b).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// Groups implements tags.Store.
func (s *Tags) Groups(ctx context.Context, orgID string) ([]tags.Group, error) {
	var out []tags.Group
	err := s.view(ctx, orgID, func(tx *bbolt.Tx) error {
		return forPrefix(tx, bucketTagGroups, orgID, func(v []byte) error {
			g, err := decodeGroup(orgID, v)
			out = append(out, g)
			return err
		})
	})
	return out, err
}

// Group implements tags.Store.
func (s *Tags) Group(ctx context.Context, orgID, id string) (tags.Group, bool, error) {
	if err := tags.CheckKeys("tag group", orgID, id); err != nil {
		return tags.Group{}, false, err
	}
	var g tags.Group
	var found bool
	err := s.view(ctx, orgID, func(tx *bbolt.Tx) error {
		var err error
		g, found, err = getGroup(tx, orgID, id)
		return err
	})
	return g, found, err
}

// Tags implements tags.Store.
func (s *Tags) Tags(ctx context.Context, orgID string) ([]tags.Tag, error) {
	var out []tags.Tag
	err := s.view(ctx, orgID, func(tx *bbolt.Tx) error {
		return forPrefix(tx, bucketTags, orgID, func(v []byte) error {
			t, err := decodeTag(orgID, v)
			out = append(out, t)
			return err
		})
	})
	return out, err
}

// Tag implements tags.Store.
func (s *Tags) Tag(ctx context.Context, orgID, id string) (tags.Tag, bool, error) {
	if err := tags.CheckKeys("tag", orgID, id); err != nil {
		return tags.Tag{}, false, err
	}
	var t tags.Tag
	var found bool
	err := s.view(ctx, orgID, func(tx *bbolt.Tx) error {
		var err error
		t, found, err = getTag(tx, orgID, id)
		return err
	})
	return t, found, err
}

func nameKey(orgID, nk string) []byte { return key(orgID, nk) }

// update runs fn in a write transaction after the checks every write makes, then stores
// the audit entry in the same transaction.
func (s *Tags) update(ctx context.Context, check error, entry audit.Entry, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if check != nil {
		return check
	}
	aval, err := encodeAudit(entry)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// rename moves the name item of id in bucket b from the name key oldNK to newNK (nothing
// when they are equal): tags.ErrNameTaken when newNK is held.
func rename(tx *bbolt.Tx, b []byte, orgID, id, oldNK, newNK string) error {
	names := tx.Bucket(b)
	oldKey, newKey := nameKey(orgID, oldNK), nameKey(orgID, newNK)
	if bytes.Equal(oldKey, newKey) {
		return nil
	}
	if names.Get(newKey) != nil {
		return tags.ErrNameTaken
	}
	if err := names.Delete(oldKey); err != nil {
		return err
	}
	return names.Put(newKey, []byte(id))
}

// countTag counts one more or one fewer tag in a group: tags.ErrNoGroup when the group to
// count one more in does not exist.
func countTag(tx *bbolt.Tx, orgID, groupID string, delta int) error {
	g, found, err := getGroup(tx, orgID, groupID)
	if err != nil {
		return err
	}
	if !found {
		if delta > 0 {
			return tags.ErrNoGroup
		}
		return fmt.Errorf("bolt: tag group %s/%s is gone but still held a tag", orgID, groupID)
	}
	if g.Tags+delta < 0 {
		return fmt.Errorf("bolt: tag group %s/%s counts %d tags, not %d", orgID, groupID, g.Tags, -delta)
	}
	g.Tags += delta
	return putGroup(tx, g)
}

// CreateGroup implements tags.Store.
func (s *Tags) CreateGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	g.Tags = 0
	return s.update(ctx, tags.CheckGroup(g, entry), entry, func(tx *bbolt.Tx) error {
		names := tx.Bucket(bucketTagGroupNames)
		nk := nameKey(g.OrgID, g.NameKey)
		if names.Get(nk) != nil {
			return tags.ErrNameTaken
		}
		if countPrefix(tx, bucketTagGroups, key(g.OrgID, "")) >= tags.MaxGroups {
			return tags.ErrLimit
		}
		if _, found, err := getGroup(tx, g.OrgID, g.ID); err != nil || found {
			return fmt.Errorf("bolt: tag group %s/%s exists (%v)", g.OrgID, g.ID, err)
		}
		if err := putGroup(tx, g); err != nil {
			return err
		}
		return names.Put(nk, []byte(g.ID))
	})
}

// UpdateGroup implements tags.Store.
func (s *Tags) UpdateGroup(ctx context.Context, prev, next tags.Group, entry audit.Entry) error {
	check := tags.CheckGroup(next, entry)
	if check == nil && (prev.OrgID != next.OrgID || prev.ID != next.ID || next.Version != prev.Version+1) {
		check = fmt.Errorf("bolt: update of tag group %s/%s from v%d to v%d", prev.OrgID, prev.ID, prev.Version, next.Version)
	}
	return s.update(ctx, check, entry, func(tx *bbolt.Tx) error {
		stored, found, err := getGroup(tx, next.OrgID, next.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != prev.Version {
			return tags.ErrChanged
		}
		if err := rename(tx, bucketTagGroupNames, next.OrgID, next.ID, stored.NameKey, next.NameKey); err != nil {
			return err
		}
		next.Tags = stored.Tags
		return putGroup(tx, next)
	})
}

// DeleteGroup implements tags.Store.
func (s *Tags) DeleteGroup(ctx context.Context, g tags.Group, entry audit.Entry) error {
	return s.update(ctx, tags.CheckGroup(g, entry), entry, func(tx *bbolt.Tx) error {
		stored, found, err := getGroup(tx, g.OrgID, g.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != g.Version {
			return tags.ErrChanged
		}
		if stored.Tags > 0 {
			return tags.ErrGroupNotEmpty
		}
		if err := tx.Bucket(bucketTagGroups).Delete(key(g.OrgID, g.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketTagGroupNames).Delete(nameKey(g.OrgID, stored.NameKey))
	})
}

// CreateTag implements tags.Store.
func (s *Tags) CreateTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	return s.update(ctx, tags.CheckTag(t, entry), entry, func(tx *bbolt.Tx) error {
		if t.GroupID != "" {
			if err := countTag(tx, t.OrgID, t.GroupID, +1); err != nil {
				return err
			}
		}
		names := tx.Bucket(bucketTagNames)
		nk := nameKey(t.OrgID, t.NameKey)
		if names.Get(nk) != nil {
			return tags.ErrNameTaken
		}
		if countPrefix(tx, bucketTags, key(t.OrgID, "")) >= tags.MaxTags {
			return tags.ErrLimit
		}
		if _, found, err := getTag(tx, t.OrgID, t.ID); err != nil || found {
			return fmt.Errorf("bolt: tag %s/%s exists (%v)", t.OrgID, t.ID, err)
		}
		if err := putTag(tx, t); err != nil {
			return err
		}
		return names.Put(nk, []byte(t.ID))
	})
}

// UpdateTag implements tags.Store.
func (s *Tags) UpdateTag(ctx context.Context, prev, next tags.Tag, entry audit.Entry) error {
	check := tags.CheckTag(next, entry)
	if check == nil && (prev.OrgID != next.OrgID || prev.ID != next.ID || next.Version != prev.Version+1) {
		check = fmt.Errorf("bolt: update of tag %s/%s from v%d to v%d", prev.OrgID, prev.ID, prev.Version, next.Version)
	}
	return s.update(ctx, check, entry, func(tx *bbolt.Tx) error {
		stored, found, err := getTag(tx, next.OrgID, next.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != prev.Version {
			return tags.ErrChanged
		}
		if stored.GroupID != next.GroupID {
			if next.GroupID != "" {
				if err := countTag(tx, next.OrgID, next.GroupID, +1); err != nil {
					return err
				}
			}
			if stored.GroupID != "" {
				if err := countTag(tx, next.OrgID, stored.GroupID, -1); err != nil {
					return err
				}
			}
		}
		if err := rename(tx, bucketTagNames, next.OrgID, next.ID, stored.NameKey, next.NameKey); err != nil {
			return err
		}
		return putTag(tx, next)
	})
}

// DeleteTag implements tags.Store.
func (s *Tags) DeleteTag(ctx context.Context, t tags.Tag, entry audit.Entry) error {
	return s.update(ctx, tags.CheckTag(t, entry), entry, func(tx *bbolt.Tx) error {
		stored, found, err := getTag(tx, t.OrgID, t.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != t.Version {
			return tags.ErrChanged
		}
		if stored.GroupID != "" {
			if err := countTag(tx, t.OrgID, stored.GroupID, -1); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketTags).Delete(key(t.OrgID, t.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketTagNames).Delete(nameKey(t.OrgID, stored.NameKey))
	})
}
