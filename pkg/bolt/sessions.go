package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/sessions"
)

var (
	bucketSessions = []byte("sessions") // <sessionId> -> JSON sessions.Session
	// bucketSessionExpiry indexes the sessions by when the store may forget them:
	// <ExpiresAt, epoch seconds rounded up, 8 bytes big-endian><sessionId> -> empty.
	bucketSessionExpiry = []byte("sessionExpiry")
)

const (
	// purgeBatch bounds the forgotten sessions one Create deletes: the file never holds
	// many more sessions than were active within sessions.MaxIdle.
	purgeBatch = 16
	// maxSessionRecord bounds the stored JSON of one session.
	maxSessionRecord = 1024
)

// Sessions is the sessions.Store of a bbolt file. Each Create also deletes (at most
// purgeBatch of) the sessions idle for longer than sessions.MaxIdle before the new
// session's LastActivity, so the file stays as small as the sessions in use.
type Sessions struct{ s *Store }

var _ sessions.Store = (*Sessions)(nil)

// Sessions returns the session store of the file, creating its buckets.
func (s *Store) Sessions() (*Sessions, error) {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketSessions, bucketSessionExpiry} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: init sessions: %w", err)
	}
	return &Sessions{s: s}, nil
}

func expiryKey(sess sessions.Session) []byte {
	exp := sess.ExpiresAt()
	secs := exp.Unix()
	if exp.Nanosecond() > 0 {
		secs++
	}
	return append(binary.BigEndian.AppendUint64(nil, uint64(secs)), sess.ID...)
}

// decodeSession reads the stored record of session id strictly (exact names, no unknown
// or repeated fields), refusing what Create, Touch and End never write.
func decodeSession(id string, v []byte) (sessions.Session, error) {
	var s sessions.Session
	if len(v) > maxSessionRecord {
		return s, fmt.Errorf("bolt: session %s: a record of %d bytes", id, len(v))
	}
	// The problem Unmarshal returns would be a client's error; a stored record that does
	// not decode is the server's (%v).
	if err := httpx.Unmarshal(v, &s); err != nil {
		return sessions.Session{}, fmt.Errorf("bolt: session %s: %v", id, err)
	}
	if s.ID != id || !ids.Valid(s.OrgID) || !ids.Valid(s.AgentID) || s.Version < 1 || s.CreatedAt.IsZero() || s.LastActivity.IsZero() {
		return sessions.Session{}, fmt.Errorf("bolt: session %s: a corrupt record", id)
	}
	s.CreatedAt, s.LastActivity = s.CreatedAt.UTC(), s.LastActivity.UTC()
	if s.EndedAt != nil {
		ended := s.EndedAt.UTC()
		s.EndedAt = &ended
	}
	return s, nil
}

func putSession(tx *bbolt.Tx, s sessions.Session) error {
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("bolt: encode session %s: %w", s.ID, err)
	}
	return tx.Bucket(bucketSessions).Put([]byte(s.ID), v)
}

// getSession reads a session inside tx (found false when there is none).
func getSession(tx *bbolt.Tx, id string) (sessions.Session, bool, error) {
	v := tx.Bucket(bucketSessions).Get([]byte(id))
	if v == nil {
		return sessions.Session{}, false, nil
	}
	s, err := decodeSession(id, v)
	return s, err == nil, err
}

// Create implements sessions.Store in one write transaction, which also forgets sessions
// expired before s.LastActivity.
func (st *Sessions) Create(ctx context.Context, s sessions.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sessions.Check(s); err != nil {
		return err
	}
	s.Version, s.CreatedAt, s.LastActivity = 1, s.CreatedAt.UTC(), s.LastActivity.UTC()
	return st.s.db.Update(func(tx *bbolt.Tx) error {
		if err := purge(tx, s.LastActivity); err != nil {
			return err
		}
		if tx.Bucket(bucketSessions).Get([]byte(s.ID)) != nil {
			return sessions.ErrConflict
		}
		if err := putSession(tx, s); err != nil {
			return err
		}
		return tx.Bucket(bucketSessionExpiry).Put(expiryKey(s), nil)
	})
}

// purge deletes at most purgeBatch sessions that expired before now.
func purge(tx *bbolt.Tx, now time.Time) error {
	byExpiry, all := tx.Bucket(bucketSessionExpiry), tx.Bucket(bucketSessions)
	var gone [][]byte
	c := byExpiry.Cursor()
	for k, _ := c.First(); k != nil && len(gone) < purgeBatch; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) >= now.Unix() {
			break
		}
		gone = append(gone, bytes.Clone(k))
	}
	for _, k := range gone {
		if err := byExpiry.Delete(k); err != nil {
			return err
		}
		if err := all.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}

// Get implements sessions.Store. Every read of the file is consistent.
func (st *Sessions) Get(ctx context.Context, id string) (s sessions.Session, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return sessions.Session{}, false, err
	}
	if !ids.Valid(id) {
		return sessions.Session{}, false, nil
	}
	err = st.s.db.View(func(tx *bbolt.Tx) error {
		s, found, err = getSession(tx, id)
		return err
	})
	return s, found, err
}

// Touch implements sessions.Store in one write transaction.
func (st *Sessions) Touch(ctx context.Context, id string, version int64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ids.Valid(id) {
		return sessions.ErrEnded
	}
	return st.s.db.Update(func(tx *bbolt.Tx) error {
		s, found, err := getSession(tx, id)
		switch {
		case err != nil:
			return err
		case !found || s.EndedAt != nil:
			return sessions.ErrEnded
		case s.Version != version:
			return sessions.ErrConflict
		}
		if err := tx.Bucket(bucketSessionExpiry).Delete(expiryKey(s)); err != nil {
			return err
		}
		s.LastActivity, s.Version = at.UTC(), s.Version+1
		if err := putSession(tx, s); err != nil {
			return err
		}
		return tx.Bucket(bucketSessionExpiry).Put(expiryKey(s), nil)
	})
}

// End implements sessions.Store in one write transaction, which changes nothing for an
// ended or unknown session.
func (st *Sessions) End(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ids.Valid(id) {
		return nil
	}
	return st.s.db.Update(func(tx *bbolt.Tx) error {
		s, found, err := getSession(tx, id)
		if err != nil || !found || s.EndedAt != nil {
			return err
		}
		ended := at.UTC()
		s.EndedAt, s.Version = &ended, s.Version+1
		return putSession(tx, s)
	})
}
