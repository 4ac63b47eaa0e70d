// Package bolt is the embedded settings store: a single bbolt file, used by the local dev
// server and the tests. Keys (organisation ids and area names never contain NUL, package
// ids and settings.CheckKeys, so every key reads one way):
//
//	bucket "settings":    <orgId> 0x00 <area>                 -> JSON record
//	bucket "audit":       <orgId> 0x00 <auditId>              -> JSON audit entry
//	bucket "auditByArea": <orgId> 0x00 <area> 0x00 <auditId>  -> empty (index of "audit")
//	bucket "webchat":     <orgId>                             -> JSON key-set revision
//
// A change, its audit entry and its index key are written in one bbolt transaction. The
// auditByArea index makes ?area= listings cost the page, not the organisation's history.
//
// The chats.Store of the same file (Store.Chats) keeps its own buckets, listed in chats.go;
// so do the other stores (roles.go, agents.go, businessunits.go, tags.go, orgs.go,
// sessions.go, ...).
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
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
	bucketWebchat     = []byte("webchat")
)

// ErrLocked is returned (wrapped) by Open when another process holds the file.
var ErrLocked = errors.New("another process (a running server?) is using this data folder")

// Store is a settings.Store and a revision.Store on a bbolt file.
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
		for _, b := range [][]byte{bucketSettings, bucketAudit, bucketAuditByArea, bucketWebchat} {
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

// A settings record is stored in a small binary form (read on every GET, so it is not
// JSON): the byte recordV1, the version (uvarint), updatedAt in Unix nanoseconds
// (varint), the length of updatedBy (uvarint), updatedBy, then the document's JSON. A
// record with locked fields starts with recordV2 instead and has, after updatedBy, the
// length (uvarint) and JSON array of its locked fields. Records written as JSON by
// earlier versions ({"version":...}) are still read.
const (
	recordV1 = 0x01
	recordV2 = 0x02
)

type record struct {
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updatedAt"`
	UpdatedBy string          `json:"updatedBy"`
	Data      json.RawMessage `json:"data"`
	Locked    []string        `json:"locked,omitempty"`
}

var errCorruptRecord = errors.New("corrupt settings record")

func encodeRecord(r record) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(r.UpdatedBy)+len(r.Data))
	format := byte(recordV1)
	if len(r.Locked) > 0 {
		format = recordV2
	}
	b = append(b, format)
	b = binary.AppendUvarint(b, uint64(r.Version))
	b = binary.AppendVarint(b, r.UpdatedAt.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(r.UpdatedBy)))
	b = append(b, r.UpdatedBy...)
	if format == recordV2 {
		locked, _ := json.Marshal(r.Locked) // a []string always encodes
		b = binary.AppendUvarint(b, uint64(len(locked)))
		b = append(b, locked...)
	}
	return append(b, r.Data...)
}

// decodeRecord reads a stored record; the result does not alias v (bbolt's memory is only
// valid inside its transaction).
func decodeRecord(v []byte) (record, error) {
	if len(v) > 0 && v[0] == '{' {
		var r record
		err := json.Unmarshal(v, &r)
		return r, err
	}
	bad := errCorruptRecord
	if len(v) == 0 || (v[0] != recordV1 && v[0] != recordV2) {
		return record{}, bad
	}
	format := v[0]
	v = v[1:]
	version, n := binary.Uvarint(v)
	if n <= 0 {
		return record{}, bad
	}
	v = v[n:]
	nanos, n := binary.Varint(v)
	if n <= 0 {
		return record{}, bad
	}
	v = v[n:]
	byLen, n := binary.Uvarint(v)
	if n <= 0 || byLen > uint64(len(v)-n) {
		return record{}, bad
	}
	v = v[n:]
	by := string(v[:byLen])
	v = v[byLen:]
	var locked []string
	if format == recordV2 {
		n, k := binary.Uvarint(v)
		if k <= 0 || n > uint64(len(v)-k) {
			return record{}, bad
		}
		if err := json.Unmarshal(v[k:k+int(n)], &locked); err != nil {
			return record{}, bad
		}
		v = v[k+int(n):]
	}
	return record{Version: int64(version), UpdatedAt: time.Unix(0, nanos).UTC(), UpdatedBy: by,
		Data: json.RawMessage(bytes.Clone(v)), Locked: locked}, nil
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
		r, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("bolt: decode %s/%s: %w", orgID, area, err)
		}
		out = settings.Record{OrgID: orgID, Area: area, Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, Data: r.Data, Locked: r.Locked}
		return nil
	})
	return out, err
}

// Save implements settings.Store.
func (s *Store) Save(ctx context.Context, rec settings.Record, entry audit.Entry, guards ...settings.Guard) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := settings.CheckKeys(rec.OrgID, rec.Area); err != nil {
		return err
	}
	if entry.OrgID != rec.OrgID || !audit.ValidID(entry.ID) || !audit.ValidArea(entry.Area) {
		return fmt.Errorf("bolt: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	val := encodeRecord(record{Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy, Data: rec.Data, Locked: rec.Locked})
	aval, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("bolt: encode audit: %w", err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		k := key(rec.OrgID, rec.Area)
		for _, g := range append([]settings.Guard{{OrgID: rec.OrgID, Version: rec.Version - 1}}, guards...) {
			stored, err := storedVersion(b, g.OrgID, rec.Area)
			if err != nil {
				return err
			}
			if stored != g.Version {
				return settings.ErrVersionConflict
			}
		}
		if err := b.Put(k, val); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// putAudit stores an audit entry (encoded as aval) and its index key in tx. An entry id
// already present is an error: ids are unique, so that would be a bug.
func putAudit(tx *bbolt.Tx, entry audit.Entry, aval []byte) error {
	b := tx.Bucket(bucketAudit)
	k := key(entry.OrgID, entry.ID)
	if b.Get(k) != nil {
		return fmt.Errorf("bolt: audit entry %s of %s exists", entry.ID, entry.OrgID)
	}
	if err := b.Put(k, aval); err != nil {
		return err
	}
	return tx.Bucket(bucketAuditByArea).Put(areaKey(entry.OrgID, entry.Area, entry.ID), nil)
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

// storedVersion is the version of the settings record of org and area in b (0: none).
func storedVersion(b *bbolt.Bucket, org, area string) (int64, error) {
	v := b.Get(key(org, area))
	if v == nil {
		return 0, nil
	}
	r, err := decodeRecord(v)
	if err != nil {
		return 0, fmt.Errorf("bolt: decode %s/%s: %w", org, area, err)
	}
	return r.Version, nil
}

// GetPath implements settings.Store with one read transaction.
func (s *Store) GetPath(ctx context.Context, path []string, area string, _ settings.Consistency) ([]settings.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(path) == 0 || len(path) > settings.MaxPath {
		return nil, fmt.Errorf("bolt: a path of %d organisations", len(path))
	}
	for _, org := range path {
		if err := settings.CheckKeys(org, area); err != nil {
			return nil, err
		}
	}
	out := make([]settings.Record, len(path))
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		for i, org := range path {
			out[i] = settings.Record{OrgID: org, Area: area}
			v := b.Get(key(org, area))
			if v == nil {
				continue
			}
			r, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("bolt: decode %s/%s: %w", org, area, err)
			}
			out[i] = settings.Record{OrgID: org, Area: area, Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, Data: r.Data, Locked: r.Locked}
		}
		return nil
	})
	return out, err
}
