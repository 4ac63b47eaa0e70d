// Package bolt is the embedded settings store: a single bbolt file, used by the local dev
// server and the tests. Keys (organisation ids and area names never contain NUL, package
// ids and settings.CheckKeys, so every key reads one way):
//
//	bucket "settings":    <orgId> 0x00 <area>                 -> JSON record
//	bucket "audit":       <orgId> 0x00 <auditId>              -> JSON audit entry
//	bucket "auditByArea": <orgId> 0x00 <area> 0x00 <auditId>  -> empty (index of "audit")
//
// A change, its audit entry and its index key are written in one bbolt transaction. The
// auditByArea index makes ?area= listings cost the page, not the organisation's history.
package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

var (
	bucketSettings    = []byte("settings")
	bucketAudit       = []byte("audit")
	bucketAuditByArea = []byte("auditByArea")
)

// ErrLocked is returned (wrapped) by Open when another process holds the file.
var ErrLocked = errors.New("another process (a running server?) is using this data folder")

// Store is a settings.Store on a bbolt file.
type Store struct {
	db *bbolt.DB
}

var _ settings.Store = (*Store)(nil)

// Options tune a store.
type Options struct {
	// NoSync skips the fsync of each write transaction: much faster, but a crash may lose
	// the last writes. Only for throwaway stores (tests, benchmarks that seed data).
	NoSync bool
}

// Open opens (creating if needed, mode 0600) the database file at path. It fails at once
// (after 200 ms) when another process holds the file, with an error that says so. A file
// written before the auditByArea index existed gets the index on first open.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 200 * time.Millisecond, NoSync: o.NoSync})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("bolt: open %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		index := tx.Bucket(bucketAuditByArea) == nil
		for _, b := range [][]byte{bucketSettings, bucketAudit, bucketAuditByArea} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if index {
			return reindex(tx)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: init: %w", err)
	}
	return &Store{db: db}, nil
}

// reindex fills auditByArea from the audit bucket.
func reindex(tx *bbolt.Tx) error {
	idx := tx.Bucket(bucketAuditByArea)
	return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
		org, id, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("bolt: audit key %q has no separator", k)
		}
		var e audit.Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("bolt: decode audit: %w", err)
		}
		return idx.Put(areaKey(string(org), e.Area, string(id)), nil)
	})
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

type record struct {
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updatedAt"`
	UpdatedBy string          `json:"updatedBy"`
	Data      json.RawMessage `json:"data"`
}

func key(a, b string) []byte { return []byte(a + "\x00" + b) }

func areaKey(org, area, id string) []byte { return []byte(org + "\x00" + area + "\x00" + id) }

// Get implements settings.Store. Every read of the file is consistent.
func (s *Store) Get(ctx context.Context, orgID, area string, _ settings.Consistency) (settings.Record, error) {
	if err := ctx.Err(); err != nil {
		return settings.Record{}, err
	}
	if err := settings.CheckKeys(orgID, area); err != nil {
		return settings.Record{}, err
	}
	var out settings.Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSettings).Get(key(orgID, area))
		if v == nil {
			return problem.New(problem.NotFound, "settings not found")
		}
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("bolt: decode %s/%s: %w", orgID, area, err)
		}
		out = settings.Record{OrgID: orgID, Area: area, Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, Data: r.Data}
		return nil
	})
	return out, err
}

// Save implements settings.Store.
func (s *Store) Save(ctx context.Context, rec settings.Record, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := settings.CheckKeys(rec.OrgID, rec.Area); err != nil {
		return err
	}
	if entry.OrgID != rec.OrgID || !audit.ValidID(entry.ID) || !audit.ValidArea(entry.Area) {
		return fmt.Errorf("bolt: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	val, err := json.Marshal(record{Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy, Data: rec.Data})
	if err != nil {
		return fmt.Errorf("bolt: encode: %w", err)
	}
	aval, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("bolt: encode audit: %w", err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		k := key(rec.OrgID, rec.Area)
		var stored int64
		if v := b.Get(k); v != nil {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bolt: decode: %w", err)
			}
			stored = r.Version
		}
		if stored != rec.Version-1 {
			return settings.ErrVersionConflict
		}
		if err := b.Put(k, val); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAudit).Put(key(entry.OrgID, entry.ID), aval); err != nil {
			return err
		}
		return tx.Bucket(bucketAuditByArea).Put(areaKey(entry.OrgID, entry.Area, entry.ID), nil)
	})
}

// ListAudit implements settings.Store. It walks the audit bucket (every area) or the
// auditByArea index (one area) backwards from After, reading one more entry than the page
// holds to know whether more follow; either way the cost is the page, not the history.
func (s *Store) ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error) {
	if err := audit.Normalize(&q); err != nil {
		return audit.Page{}, err
	}
	if err := settings.CheckKeys(orgID, q.Area); err != nil {
		return audit.Page{}, err
	}
	bucket, prefix := bucketAudit, key(orgID, "")
	if q.Area != "" {
		bucket, prefix = bucketAuditByArea, areaKey(orgID, q.Area, "")
	}
	// Ids are ASCII digits and hex, so 0xff sorts after every id of the prefix.
	start := append(bytes.Clone(prefix), 0xff)
	if q.After != "" {
		start = append(bytes.Clone(prefix), q.After...)
	}
	var page audit.Page
	err := s.db.View(func(tx *bbolt.Tx) error {
		entries := tx.Bucket(bucketAudit)
		c := tx.Bucket(bucket).Cursor()
		k, _ := c.Seek(start)
		if k == nil {
			k, _ = c.Last()
		}
		// Seek lands on start or the next key after it; step back below start.
		for k != nil && bytes.Compare(k, start) >= 0 {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(page.Items) == q.Limit {
				page.More = true
				return nil
			}
			id := string(k[len(prefix):])
			v := entries.Get(key(orgID, id))
			if v == nil {
				return fmt.Errorf("bolt: audit index names %s/%s, which is missing", orgID, id)
			}
			var e audit.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("bolt: decode audit: %w", err)
			}
			e.OrgID = orgID
			page.Items = append(page.Items, e)
		}
		return nil
	})
	return page, err
}
