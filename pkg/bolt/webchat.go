package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/webchat"
)

var _ webchat.Revisions = (*Store)(nil)

type revision struct {
	Committed  int64     `json:"committed"`
	Claimed    int64     `json:"claimed"`
	LeaseUntil time.Time `json:"leaseUntil"`
}

func getRevision(tx *bbolt.Tx, orgID string) (webchat.Revision, error) {
	v := tx.Bucket(bucketWebchat).Get([]byte(orgID))
	if v == nil {
		return webchat.Revision{}, nil
	}
	var r revision
	if err := json.Unmarshal(v, &r); err != nil {
		return webchat.Revision{}, fmt.Errorf("bolt: decode webchat revision of %s: %w", orgID, err)
	}
	return webchat.Revision(r), nil
}

func putRevision(tx *bbolt.Tx, orgID string, r webchat.Revision) error {
	v, err := json.Marshal(revision(r))
	if err != nil {
		return err
	}
	return tx.Bucket(bucketWebchat).Put([]byte(orgID), v)
}

// Revision implements webchat.Revisions.
func (s *Store) Revision(ctx context.Context, orgID string) (webchat.Revision, error) {
	if err := ctx.Err(); err != nil {
		return webchat.Revision{}, err
	}
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return webchat.Revision{}, err
	}
	var out webchat.Revision
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = getRevision(tx, orgID)
		return err
	})
	return out, err
}

// Claim implements webchat.Revisions.
func (s *Store) Claim(ctx context.Context, orgID string, cur webchat.Revision, now, leaseUntil time.Time) (webchat.Revision, error) {
	if err := ctx.Err(); err != nil {
		return webchat.Revision{}, err
	}
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return webchat.Revision{}, err
	}
	next := webchat.Revision{Committed: cur.Committed, Claimed: cur.Committed + 1, LeaseUntil: leaseUntil.UTC().Truncate(time.Millisecond)}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		stored, err := getRevision(tx, orgID)
		if err != nil {
			return err
		}
		if !sameRevision(stored, cur) || stored.InProgress(now) {
			return webchat.ErrChanged
		}
		return putRevision(tx, orgID, next)
	})
	if err != nil {
		return webchat.Revision{}, err
	}
	return next, nil
}

// Commit implements webchat.Revisions.
func (s *Store) Commit(ctx context.Context, orgID string, claimed webchat.Revision, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return err
	}
	if entry.OrgID != orgID || !audit.ValidID(entry.ID) || !audit.ValidArea(entry.Area) {
		return fmt.Errorf("bolt: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	aval, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("bolt: encode audit: %w", err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		stored, err := getRevision(tx, orgID)
		if err != nil {
			return err
		}
		if !sameRevision(stored, claimed) || claimed.Claimed != claimed.Committed+1 {
			return webchat.ErrChanged
		}
		if err := putRevision(tx, orgID, webchat.Revision{Committed: claimed.Claimed, Claimed: claimed.Claimed}); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

func sameRevision(a, b webchat.Revision) bool {
	return a.Committed == b.Committed && a.Claimed == b.Claimed && a.LeaseUntil.Equal(b.LeaseUntil)
}
