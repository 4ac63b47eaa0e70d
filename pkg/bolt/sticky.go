package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/sticky"
)

var (
	bucketStickyUsers  = []byte("stickyUsers")  // <org>\x00<user> -> 8-byte ms + agentId
	bucketStickyAgents = []byte("stickyAgents") // <org>\x00<agent>\x00<user> -> nil
)

// Sticky is the sticky.Store of a bbolt file.
type Sticky struct{ s *Store }

var _ sticky.Store = (*Sticky)(nil)

// Sticky returns the sticky-user store of the file, creating its buckets.
func (s *Store) Sticky() (*Sticky, error) {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketStickyUsers, bucketStickyAgents} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: init sticky users: %w", err)
	}
	return &Sticky{s: s}, nil
}

func decodeSticky(v []byte) (string, int64) {
	if len(v) < 8 {
		return "", 0
	}
	return string(v[8:]), int64(binary.BigEndian.Uint64(v[:8]))
}

// Agent implements sticky.Store.
func (st *Sticky) Agent(ctx context.Context, orgID, userID string) (agent string, at time.Time, err error) {
	if err := ctx.Err(); err != nil {
		return "", time.Time{}, err
	}
	if err := sticky.CheckIDs(orgID, userID); err != nil {
		return "", time.Time{}, err
	}
	err = st.s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketStickyUsers).Get(key(orgID, userID))
		if v == nil {
			return nil
		}
		a, ms := decodeSticky(v)
		agent, at = a, time.UnixMilli(ms).UTC()
		return nil
	})
	return agent, at, err
}

// Apply implements sticky.Store in one write transaction.
func (st *Sticky) Apply(ctx context.Context, orgID, userID, agentID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sticky.CheckIDs(orgID, userID); err != nil {
		return err
	}
	if agentID != "" {
		if err := sticky.CheckIDs(agentID); err != nil {
			return err
		}
	}
	ms := at.UnixMilli()
	return st.s.db.Update(func(tx *bbolt.Tx) error {
		users, agents := tx.Bucket(bucketStickyUsers), tx.Bucket(bucketStickyAgents)
		uk := key(orgID, userID)
		if v := users.Get(uk); v != nil {
			old, oldMs := decodeSticky(v)
			if oldMs >= ms {
				return sticky.ErrStale
			}
			if old != "" && old != agentID {
				if err := agents.Delete(key(orgID, old+"\x00"+userID)); err != nil {
					return err
				}
			}
		}
		v := make([]byte, 8, 8+len(agentID))
		binary.BigEndian.PutUint64(v, uint64(ms))
		if err := users.Put(uk, append(v, agentID...)); err != nil {
			return err
		}
		if agentID != "" {
			return agents.Put(key(orgID, agentID+"\x00"+userID), nil)
		}
		return nil
	})
}

// Users implements sticky.Store.
func (st *Sticky) Users(ctx context.Context, orgID, agentID string, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sticky.CheckIDs(orgID, agentID); err != nil {
		return nil, err
	}
	if limit < 1 || limit > sticky.MaxUsers {
		return nil, fmt.Errorf("bolt: sticky users limit %d outside 1..%d", limit, sticky.MaxUsers)
	}
	out := []string{}
	err := st.s.db.View(func(tx *bbolt.Tx) error {
		prefix := key(orgID, agentID+"\x00")
		c := tx.Bucket(bucketStickyAgents).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			out = append(out, string(k[len(prefix):]))
		}
		return nil
	})
	return out, err
}
