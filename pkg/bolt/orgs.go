package bolt

// The orgs.Store of the embedded store (Orgs, from Store.Orgs). Keys (ids are package
// ids: no NUL):
//
//	bucket "orgs":     <id>                       -> record JSON (children: its live sub-organisations;
//	                                                 a root's entry holds only its children count)
//	bucket "suborgs":  <ancestor> 0 <descendant>  -> empty (one per ancestor of every live
//	                                                 sub-organisation; the record is in "orgs")
//
// Every write is one bbolt transaction that checks the parent (or the record), then
// writes the record, the index keys, the parent's count and the audit entry. bbolt
// serialises writes, so a delete and a create under the same organisation never both
// succeed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/orgs"
)

var (
	bucketOrgs    = []byte("orgs")
	bucketSuborgs = []byte("suborgs")
)

// Orgs is the orgs.Store of a bolt Store. It is safe for concurrent use; writes are
// serialised by bbolt.
type Orgs struct {
	db *bbolt.DB
}

var _ orgs.Store = (*Orgs)(nil)

// Orgs returns the organisation tree kept in s's file, creating its buckets the first
// time.
func (s *Store) Orgs() (*Orgs, error) {
	if err := s.buckets(bucketOrgs, bucketSuborgs); err != nil {
		return nil, fmt.Errorf("bolt: init organisations: %w", err)
	}
	return &Orgs{db: s.db}, nil
}

// orgRecord is an entry of "orgs": a sub-organisation's record (ParentID set) or a
// root's children count (ParentID "").
type orgRecord struct {
	ID        string     `json:"id,omitempty"`
	Name      string     `json:"name,omitempty"`
	ParentID  string     `json:"parentId,omitempty"`
	Path      []string   `json:"path,omitempty"`
	CreatedAt time.Time  `json:"createdAt,omitzero"`
	DeletedAt *time.Time `json:"deletedAt,omitempty"`
	Children  int        `json:"children"`
}

func getOrgRecord(tx *bbolt.Tx, id string) (orgRecord, bool, error) {
	v := tx.Bucket(bucketOrgs).Get([]byte(id))
	if v == nil {
		return orgRecord{}, false, nil
	}
	var r orgRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return orgRecord{}, false, fmt.Errorf("bolt: decode organisation %s: %w", id, err)
	}
	return r, true, nil
}

func putOrgRecord(tx *bbolt.Tx, id string, r orgRecord) error {
	return putJSON(tx.Bucket(bucketOrgs), []byte(id), r)
}

func (r orgRecord) org() (orgs.Org, bool) {
	if r.ParentID == "" {
		return orgs.Org{}, false
	}
	return orgs.Org{ID: r.ID, Name: r.Name, ParentID: r.ParentID, Path: slices.Clone(r.Path), CreatedAt: r.CreatedAt, DeletedAt: r.DeletedAt}, true
}

// Org implements orgs.Lookup.
func (s *Orgs) Org(ctx context.Context, id string) (o orgs.Org, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return orgs.Org{}, false, err
	}
	if err := orgs.CheckID(id); err != nil {
		return orgs.Org{}, false, err
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		r, ok, err := getOrgRecord(tx, id)
		if ok {
			o, found = r.org()
		}
		return err
	})
	return o, found, err
}

// Descendants implements orgs.Store.
func (s *Orgs) Descendants(ctx context.Context, id, after string, limit int) (orgs.Page, error) {
	if err := ctx.Err(); err != nil {
		return orgs.Page{}, err
	}
	if err := orgs.CheckPage(id, after, limit); err != nil {
		return orgs.Page{}, err
	}
	var page orgs.Page
	err := s.db.View(func(tx *bbolt.Tx) error {
		prefix := key(id, "")
		c := tx.Bucket(bucketSuborgs).Cursor()
		k, _ := c.Seek(key(id, after))
		if after != "" && bytes.Equal(k, key(id, after)) {
			k, _ = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(page.Orgs) == limit {
				page.Next = page.Orgs[limit-1].ID
				return nil
			}
			d := string(k[len(prefix):])
			r, _, err := getOrgRecord(tx, d)
			if err != nil {
				return err
			}
			o, ok := r.org()
			if !ok {
				return fmt.Errorf("bolt: descendant %s of %s has no record", d, id)
			}
			page.Orgs = append(page.Orgs, o)
		}
		return nil
	})
	return page, err
}

// Create implements orgs.Store.
func (s *Orgs) Create(ctx context.Context, o orgs.Org, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := orgs.CheckNew(o, entry); err != nil {
		return err
	}
	aval, err := encodeAudit(entry)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if _, exists, err := getOrgRecord(tx, o.ID); err != nil || exists {
			if err == nil {
				err = orgs.ErrExists
			}
			return err
		}
		parent, found, err := getOrgRecord(tx, o.ParentID)
		if err != nil {
			return err
		}
		ppath := o.Path[:len(o.Path)-1]
		switch {
		case len(ppath) == 1 && parent.ParentID != "":
			return orgs.ErrNoParent // the path says root; it is a sub-organisation
		case len(ppath) > 1 && (!found || parent.ParentID == "" || parent.DeletedAt != nil || !slices.Equal(parent.Path, ppath)):
			return orgs.ErrNoParent
		}
		parent.Children++
		if err := putOrgRecord(tx, o.ParentID, parent); err != nil {
			return err
		}
		rec := orgRecord{ID: o.ID, Name: o.Name, ParentID: o.ParentID, Path: o.Path, CreatedAt: o.CreatedAt.UTC()}
		if err := putOrgRecord(tx, o.ID, rec); err != nil {
			return err
		}
		for _, anc := range ppath {
			if err := tx.Bucket(bucketSuborgs).Put(key(anc, o.ID), nil); err != nil {
				return err
			}
		}
		return putAudit(tx, entry, aval)
	})
}

// Delete implements orgs.Store.
func (s *Orgs) Delete(ctx context.Context, id string, entry audit.Entry) (orgs.Org, error) {
	if err := ctx.Err(); err != nil {
		return orgs.Org{}, err
	}
	if err := orgs.CheckDelete(id, entry); err != nil {
		return orgs.Org{}, err
	}
	aval, err := encodeAudit(entry)
	if err != nil {
		return orgs.Org{}, err
	}
	var deleted orgs.Org
	err = s.db.Update(func(tx *bbolt.Tx) error {
		rec, found, err := getOrgRecord(tx, id)
		if err != nil {
			return err
		}
		o, ok := rec.org()
		if !found || !ok || o.Deleted() {
			return orgs.ErrNotFound
		}
		if err := orgs.CheckDeleteEntry(o, entry); err != nil {
			return err
		}
		if rec.Children > 0 {
			return orgs.ErrHasChildren
		}
		parent, found, err := getOrgRecord(tx, o.ParentID)
		if err != nil {
			return err
		}
		if !found || parent.Children < 1 {
			return fmt.Errorf("bolt: the parent %s of %s counts no children", o.ParentID, id)
		}
		parent.Children--
		if err := putOrgRecord(tx, o.ParentID, parent); err != nil {
			return err
		}
		deleted = orgs.MarkDeleted(o, entry.At)
		rec.DeletedAt = deleted.DeletedAt
		if err := putOrgRecord(tx, id, rec); err != nil {
			return err
		}
		for _, anc := range o.Path[:len(o.Path)-1] {
			if err := tx.Bucket(bucketSuborgs).Delete(key(anc, id)); err != nil {
				return err
			}
		}
		return putAudit(tx, entry, aval)
	})
	if err != nil {
		return orgs.Org{}, err
	}
	return deleted, nil
}
