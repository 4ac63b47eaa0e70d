package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/webchat/revision"
)

var _ revision.Store = (*Store)(nil)

type revisionRecord struct {
	Committed  int64     `json:"committed"`
	Claimed    int64     `json:"claimed"`
	LeaseUntil time.Time `json:"leaseUntil"`
}

func getRevision(tx *bbolt.Tx, orgID string) (revision.Revision, error) {
	v := tx.Bucket(bucketWebchat).Get([]byte(orgID))
	if v == nil {
		return revision.Revision{}, nil
	}
	var r revisionRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return revision.Revision{}, fmt.Errorf("bolt: decode webchat revision of %s: %w", orgID, err)
	}
	return revision.Revision(r), nil
}

func putRevision(tx *bbolt.Tx, orgID string, r revision.Revision) error {
	v, err := json.Marshal(revisionRecord(r))
	if err != nil {
		return err
	}
	return tx.Bucket(bucketWebchat).Put([]byte(orgID), v)
}

// Revision implements revision.Store.
func (s *Store) Revision(ctx context.Context, orgID string) (revision.Revision, error) {
	if err := ctx.Err(); err != nil {
		return revision.Revision{}, err
	}
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return revision.Revision{}, err
	}
	var out revision.Revision
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = getRevision(tx, orgID)
		return err
	})
	return out, err
}

// Claim implements revision.Store.
func (s *Store) Claim(ctx context.Context, orgID string, cur revision.Revision, now, leaseUntil time.Time) (revision.Revision, error) {
	if err := ctx.Err(); err != nil {
		return revision.Revision{}, err
	}
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return revision.Revision{}, err
	}
	next := revision.Revision{Committed: cur.Committed, Claimed: cur.Committed + 1, LeaseUntil: leaseUntil.UTC().Truncate(time.Millisecond)}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		stored, err := getRevision(tx, orgID)
		if err != nil {
			return err
		}
		if !sameRevision(stored, cur) || stored.InProgress(now) {
			return revision.ErrChanged
		}
		return putRevision(tx, orgID, next)
	})
	if err != nil {
		return revision.Revision{}, err
	}
	return next, nil
}

// Commit implements revision.Store.
func (s *Store) Commit(ctx context.Context, orgID string, claimed revision.Revision, entry audit.Entry) error {
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
			return revision.ErrChanged
		}
		if err := putRevision(tx, orgID, revision.Revision{Committed: claimed.Claimed, Claimed: claimed.Claimed}); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

func sameRevision(a, b revision.Revision) bool {
	return a.Committed == b.Committed && a.Claimed == b.Claimed && a.LeaseUntil.Equal(b.LeaseUntil)
}
