package bolt

// Named records: what the business unit and tag stores (BusinessUnits, Tags) share. A
// kind of named record (business units; tag groups; tags) keeps two buckets:
//
//	records bucket:  <org> 0 <id>    -> the record's JSON (what it holds counted in it)
//	names bucket:    <org> 0 <key>   -> <id> (the record that holds the name)
//
// (ids are package ids: no NUL; <key> is the record's NameKey, caseless.Key of its name:
// 64 hex digits.) Every write is one bbolt transaction that checks the name, the
// version, the count (a walk of the organisation's keys, at most the kind's bound) and
// what the record holds, then writes the record, its name key and its audit entry. bbolt
// serialises writes, so two creates of one name give one record and one ErrNameTaken.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
)

// buckets creates the named buckets when missing.
func (s *Store) buckets(names ...[]byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range names {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// countPrefix counts the keys of bucket b that start with prefix.
func countPrefix(tx *bbolt.Tx, b []byte, prefix []byte) int {
	n := 0
	c := tx.Bucket(b).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

func encodeAudit(entry audit.Entry) ([]byte, error) {
	v, err := json.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("bolt: encode audit: %w", err)
	}
	return v, nil
}

// write runs fn in a write transaction, after ctx's and check's errors, then stores the
// audit entry in the same transaction.
func write(ctx context.Context, db *bbolt.DB, check error, entry audit.Entry, fn func(tx *bbolt.Tx) error) error {
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
	return db.Update(func(tx *bbolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// namedFields points at the fields of one record that the writes of its kind read.
type namedFields struct {
	orgID, id, nameKey *string
	version            *int64
	held               *int // what the record holds (nil: its kind holds nothing)
}

// namedKind is one kind of named record, T.
type namedKind[T any] struct {
	records, names []byte // the buckets
	bound          int    // the most records an organisation may have
	one            string // what a record is called in errors
	held           string // what it holds, in errors
	// The errors of the kind's store.
	errNameTaken, errLimit, errChanged, errHolds error

	fields func(*T) namedFields
	encode func(T) ([]byte, error)
	decode func(orgID string, v []byte) (T, error)
}

func (k *namedKind[T]) get(tx *bbolt.Tx, orgID, id string) (T, bool, error) {
	v := tx.Bucket(k.records).Get(key(orgID, id))
	if v == nil {
		var zero T
		return zero, false, nil
	}
	r, err := k.decode(orgID, v)
	return r, err == nil, err
}

func (k *namedKind[T]) put(tx *bbolt.Tx, r T) error {
	v, err := k.encode(r)
	if err != nil {
		return err
	}
	f := k.fields(&r)
	return tx.Bucket(k.records).Put(key(*f.orgID, *f.id), v)
}

// list returns the organisation's records, after ctx's and check's errors.
func (k *namedKind[T]) list(ctx context.Context, db *bbolt.DB, orgID string, check error) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if check != nil {
		return nil, check
	}
	var out []T
	err := db.View(func(tx *bbolt.Tx) error {
		prefix := key(orgID, "")
		c := tx.Bucket(k.records).Cursor()
		for kb, v := c.Seek(prefix); kb != nil && bytes.HasPrefix(kb, prefix); kb, v = c.Next() {
			r, err := k.decode(orgID, v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// read returns a record, after ctx's and check's errors.
func (k *namedKind[T]) read(ctx context.Context, db *bbolt.DB, orgID, id string, check error) (r T, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return r, false, err
	}
	if check != nil {
		return r, false, check
	}
	err = db.View(func(tx *bbolt.Tx) error {
		r, found, err = k.get(tx, orgID, id)
		return err
	})
	return r, found, err
}

// create stores r, holding nothing, its name key and the audit entry, after check and
// first (the kind's own checks and writes): errNameTaken, errLimit, or everything.
func (k *namedKind[T]) create(ctx context.Context, db *bbolt.DB, r T, check error, entry audit.Entry, first func(tx *bbolt.Tx) error) error {
	f := k.fields(&r)
	if f.held != nil {
		*f.held = 0
	}
	return write(ctx, db, check, entry, func(tx *bbolt.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		names := tx.Bucket(k.names)
		nk := key(*f.orgID, *f.nameKey)
		if names.Get(nk) != nil {
			return k.errNameTaken
		}
		if countPrefix(tx, k.records, key(*f.orgID, "")) >= k.bound {
			return k.errLimit
		}
		if tx.Bucket(k.records).Get(key(*f.orgID, *f.id)) != nil {
			return fmt.Errorf("bolt: %s %s/%s exists", k.one, *f.orgID, *f.id)
		}
		if err := k.put(tx, r); err != nil {
			return err
		}
		return names.Put(nk, []byte(*f.id))
	})
}

// stored returns the stored record r was read as: errChanged when it is gone or at
// another version.
func (k *namedKind[T]) stored(tx *bbolt.Tx, r T) (T, error) {
	f := k.fields(&r)
	s, found, err := k.get(tx, *f.orgID, *f.id)
	if err == nil && (!found || *k.fields(&s).version != *f.version) {
		err = k.errChanged
	}
	return s, err
}

// update stores next over prev (the same record, one version on) and the audit entry,
// on condition that the stored record is still at prev's version (errChanged), after
// check and first (the kind's own checks and writes, given the stored record): the name
// key moves on a rename (errNameTaken when the new one is held), and what the record
// holds stays as stored.
func (k *namedKind[T]) update(ctx context.Context, db *bbolt.DB, prev, next T, check error, entry audit.Entry, first func(tx *bbolt.Tx, stored T) error) error {
	pf, nf := k.fields(&prev), k.fields(&next)
	if check == nil && (*pf.orgID != *nf.orgID || *pf.id != *nf.id || *nf.version != *pf.version+1) {
		check = fmt.Errorf("bolt: update of %s %s/%s from v%d to %s/%s v%d", k.one, *pf.orgID, *pf.id, *pf.version, *nf.orgID, *nf.id, *nf.version)
	}
	return write(ctx, db, check, entry, func(tx *bbolt.Tx) error {
		stored, err := k.stored(tx, prev)
		if err == nil && first != nil {
			err = first(tx, stored)
		}
		if err != nil {
			return err
		}
		sf := k.fields(&stored)
		names := tx.Bucket(k.names)
		if oldKey, newKey := key(*sf.orgID, *sf.nameKey), key(*nf.orgID, *nf.nameKey); !bytes.Equal(oldKey, newKey) {
			if names.Get(newKey) != nil {
				return k.errNameTaken
			}
			if err := names.Delete(oldKey); err != nil {
				return err
			}
			if err := names.Put(newKey, []byte(*nf.id)); err != nil {
				return err
			}
		}
		if nf.held != nil {
			*nf.held = *sf.held
		}
		return k.put(tx, next)
	})
}

// delete removes r and its name key and stores the audit entry, on condition that the
// stored record is still at r's version (errChanged) and holds nothing (errHolds), after
// check and first (the kind's own writes, given the stored record).
func (k *namedKind[T]) delete(ctx context.Context, db *bbolt.DB, r T, check error, entry audit.Entry, first func(tx *bbolt.Tx, stored T) error) error {
	return write(ctx, db, check, entry, func(tx *bbolt.Tx) error {
		stored, err := k.stored(tx, r)
		if err != nil {
			return err
		}
		f := k.fields(&stored)
		if f.held != nil && *f.held > 0 {
			return k.errHolds
		}
		if first != nil {
			if err := first(tx, stored); err != nil {
				return err
			}
		}
		if err := tx.Bucket(k.records).Delete(key(*f.orgID, *f.id)); err != nil {
			return err
		}
		return tx.Bucket(k.names).Delete(key(*f.orgID, *f.nameKey))
	})
}

// hold counts delta more (delta > 0) or fewer (delta < 0) of what a record holds, in the
// transaction of the write that adds or takes out what it holds: errGone when the record
// to count more in does not exist, an error when a count would go below 0. The record's
// version does not change.
func (k *namedKind[T]) hold(tx *bbolt.Tx, orgID, id string, delta int, errGone error) error {
	r, found, err := k.get(tx, orgID, id)
	if err != nil {
		return err
	}
	if !found {
		if delta > 0 {
			return errGone
		}
		return fmt.Errorf("bolt: %s %s/%s is gone but still had %s", k.one, orgID, id, k.held)
	}
	n := k.fields(&r).held
	if *n+delta < 0 {
		return fmt.Errorf("bolt: %s %s/%s counts %d %s, not %d", k.one, orgID, id, *n, k.held, -delta)
	}
	*n += delta
	return k.put(tx, r)
}
