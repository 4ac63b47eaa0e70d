// Package bolt is the embedded settings store: a single bbolt file, used by the local dev
// server. Keys:
//
//	bucket "settings": <orgId> 0x00 <area>           -> JSON record
//	bucket "audit":    <orgId> 0x00 <auditId>        -> JSON audit entry
//
// A change and its audit entry are written in one bbolt transaction.
package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

var (
	bucketSettings = []byte("settings")
	bucketAudit    = []byte("audit")
)

// Store is a settings.Store on a bbolt file.
type Store struct {
	db *bbolt.DB
}

var _ settings.Store = (*Store)(nil)

// Open opens (creating if needed, mode 0600) the database file at path. It fails after
// five seconds when another process holds the file.
func Open(path string) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketSettings, bucketAudit} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: init: %w", err)
	}
	return &Store{db: db}, nil
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

// Get implements settings.Store.
func (s *Store) Get(ctx context.Context, orgID, area string) (settings.Record, error) {
	if err := ctx.Err(); err != nil {
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
func (s *Store) Save(ctx context.Context, rec settings.Record, entry settings.AuditEntry) error {
	if err := ctx.Err(); err != nil {
		return err
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
		return tx.Bucket(bucketAudit).Put(key(entry.OrgID, entry.ID), aval)
	})
}

// ListAudit implements settings.Store.
func (s *Store) ListAudit(ctx context.Context, orgID string, q settings.AuditQuery) (settings.AuditPage, error) {
	if err := settings.NormalizeAuditQuery(&q); err != nil {
		return settings.AuditPage{}, err
	}
	prefix := key(orgID, "")
	start := key(orgID, "\xff")
	if q.Cursor != "" {
		last, err := settings.DecodeCursor(orgID, q.Area, q.Cursor)
		if err != nil {
			return settings.AuditPage{}, err
		}
		start = key(orgID, last)
	}
	var page settings.AuditPage
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		k, v := c.Seek(start)
		if k == nil {
			k, v = c.Last()
		}
		// Seek lands on start or the next key after it; step back below start.
		for k != nil && bytes.Compare(k, start) >= 0 {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var e settings.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("bolt: decode audit: %w", err)
			}
			if q.Area != "" && e.Area != q.Area {
				continue
			}
			if len(page.Items) == q.Limit {
				last := page.Items[len(page.Items)-1]
				page.NextCursor = settings.EncodeCursor(orgID, q.Area, last.ID)
				return nil
			}
			e.OrgID = orgID
			page.Items = append(page.Items, e)
		}
		return nil
	})
	return page, err
}
