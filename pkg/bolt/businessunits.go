package bolt

// The businessunits.Store of the embedded store (BusinessUnits, from
// Store.BusinessUnits). Keys (ids are package ids: no NUL; <key> is the unit's NameKey,
// caseless.Key of its name: 64 hex digits):
//
//	bucket "businessUnits":     <org> 0 <unit>   -> unit JSON (members included)
//	bucket "businessUnitNames": <org> 0 <key>    -> <unit> (the unit that holds the name)
//
// Every write is one bbolt transaction that checks the name, the version, the count (a
// walk of the organisation's keys, at most businessunits.MaxUnits) and the members, then
// writes the unit, its name key and its audit entry. bbolt serialises writes, so two
// creates of one name give one unit and one ErrNameTaken.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/businessunits"
)

var (
	bucketBusinessUnits     = []byte("businessUnits")
	bucketBusinessUnitNames = []byte("businessUnitNames")
)

// BusinessUnits is the businessunits.Store of a bolt Store. It is safe for concurrent
// use; writes are serialised by bbolt.
type BusinessUnits struct {
	db *bbolt.DB
}

var _ businessunits.Store = (*BusinessUnits)(nil)

// BusinessUnits returns the business unit store kept in s's file, creating its buckets
// the first time.
func (s *Store) BusinessUnits() (*BusinessUnits, error) {
	if err := s.buckets(bucketBusinessUnits, bucketBusinessUnitNames); err != nil {
		return nil, fmt.Errorf("bolt: init business units: %w", err)
	}
	return &BusinessUnits{db: s.db}, nil
}

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

type unitRecord struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	NameKey    string    `json:"nameKey"`
	ChatbotIDs []string  `json:"chatbotIds"`
	Members    int       `json:"members"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	UpdatedBy  string    `json:"updatedBy"`
}

func encodeUnit(u businessunits.Unit) ([]byte, error) {
	return json.Marshal(unitRecord{ID: u.ID, Name: u.Name, NameKey: u.NameKey, ChatbotIDs: u.ChatbotIDs, Members: u.Members, Version: u.Version,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, UpdatedBy: u.UpdatedBy})
}

func decodeUnit(orgID string, v []byte) (businessunits.Unit, error) {
	var r unitRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return businessunits.Unit{}, fmt.Errorf("bolt: decode business unit of %s: %w", orgID, err)
	}
	if r.ChatbotIDs == nil {
		r.ChatbotIDs = []string{}
	}
	return businessunits.Unit{OrgID: orgID, ID: r.ID, Name: r.Name, NameKey: r.NameKey, ChatbotIDs: r.ChatbotIDs, Members: r.Members,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
}

func getUnit(tx *bbolt.Tx, orgID, id string) (businessunits.Unit, bool, error) {
	v := tx.Bucket(bucketBusinessUnits).Get(key(orgID, id))
	if v == nil {
		return businessunits.Unit{}, false, nil
	}
	u, err := decodeUnit(orgID, v)
	return u, err == nil, err
}

func putUnit(tx *bbolt.Tx, u businessunits.Unit) error {
	v, err := encodeUnit(u)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketBusinessUnits).Put(key(u.OrgID, u.ID), v)
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

// addBusinessUnitMember is the member contract of package businessunits for the agents
// store: in the agent's own bbolt transaction, it counts one more (delta > 0) or one
// fewer (delta < 0) agent in the unit. Joining a unit that does not exist is
// businessunits.ErrNoSuchUnit; leaving one that counts fewer members than that is an
// error. The unit's version does not change.
func addBusinessUnitMember(tx *bbolt.Tx, orgID, unitID string, delta int) error {
	u, found, err := getUnit(tx, orgID, unitID)
	if err != nil {
		return err
	}
	if !found {
		if delta > 0 {
			return businessunits.ErrNoSuchUnit
		}
		return fmt.Errorf("bolt: business unit %s/%s is gone but still had members", orgID, unitID)
	}
	if u.Members+delta < 0 {
		return fmt.Errorf("bolt: business unit %s/%s counts %d members, not %d", orgID, unitID, u.Members, -delta)
	}
	u.Members += delta
	return putUnit(tx, u)
}

func encodeAudit(entry audit.Entry) ([]byte, error) {
	v, err := json.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("bolt: encode audit: %w", err)
	}
	return v, nil
}

// List implements businessunits.Store.
func (s *BusinessUnits) List(ctx context.Context, orgID string) ([]businessunits.Unit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := businessunits.CheckOrg(orgID); err != nil {
		return nil, err
	}
	var out []businessunits.Unit
	err := s.db.View(func(tx *bbolt.Tx) error {
		prefix := key(orgID, "")
		c := tx.Bucket(bucketBusinessUnits).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			u, err := decodeUnit(orgID, v)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// Get implements businessunits.Store.
func (s *BusinessUnits) Get(ctx context.Context, orgID, id string) (businessunits.Unit, bool, error) {
	if err := ctx.Err(); err != nil {
		return businessunits.Unit{}, false, err
	}
	if err := businessunits.CheckKeys(orgID, id); err != nil {
		return businessunits.Unit{}, false, err
	}
	var u businessunits.Unit
	var found bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		u, found, err = getUnit(tx, orgID, id)
		return err
	})
	return u, found, err
}

func unitNameKey(orgID, nameKey string) []byte { return key(orgID, nameKey) }

// Create implements businessunits.Store.
func (s *BusinessUnits) Create(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := businessunits.CheckUnit(u, entry); err != nil {
		return err
	}
	aval, err := encodeAudit(entry)
	if err != nil {
		return err
	}
	u.Members = 0
	return s.db.Update(func(tx *bbolt.Tx) error {
		names := tx.Bucket(bucketBusinessUnitNames)
		nk := unitNameKey(u.OrgID, u.NameKey)
		if names.Get(nk) != nil {
			return businessunits.ErrNameTaken
		}
		if countPrefix(tx, bucketBusinessUnits, key(u.OrgID, "")) >= businessunits.MaxUnits {
			return businessunits.ErrLimit
		}
		if tx.Bucket(bucketBusinessUnits).Get(key(u.OrgID, u.ID)) != nil {
			return fmt.Errorf("bolt: business unit %s/%s exists", u.OrgID, u.ID)
		}
		if err := putUnit(tx, u); err != nil {
			return err
		}
		if err := names.Put(nk, []byte(u.ID)); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// Update implements businessunits.Store.
func (s *BusinessUnits) Update(ctx context.Context, prev, next businessunits.Unit, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := businessunits.CheckUnit(next, entry); err != nil {
		return err
	}
	if prev.OrgID != next.OrgID || prev.ID != next.ID || next.Version != prev.Version+1 {
		return fmt.Errorf("bolt: update of business unit %s/%s from v%d to %s/%s v%d", prev.OrgID, prev.ID, prev.Version, next.OrgID, next.ID, next.Version)
	}
	aval, err := encodeAudit(entry)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		stored, found, err := getUnit(tx, next.OrgID, next.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != prev.Version {
			return businessunits.ErrChanged
		}
		names := tx.Bucket(bucketBusinessUnitNames)
		oldKey, newKey := unitNameKey(stored.OrgID, stored.NameKey), unitNameKey(next.OrgID, next.NameKey)
		if !bytes.Equal(oldKey, newKey) {
			if names.Get(newKey) != nil {
				return businessunits.ErrNameTaken
			}
			if err := names.Delete(oldKey); err != nil {
				return err
			}
			if err := names.Put(newKey, []byte(next.ID)); err != nil {
				return err
			}
		}
		next.Members = stored.Members
		if err := putUnit(tx, next); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// Delete implements businessunits.Store.
func (s *BusinessUnits) Delete(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := businessunits.CheckUnit(u, entry); err != nil {
		return err
	}
	aval, err := encodeAudit(entry)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		stored, found, err := getUnit(tx, u.OrgID, u.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != u.Version {
			return businessunits.ErrChanged
		}
		if stored.Members > 0 {
			return businessunits.ErrHasMembers
		}
		if err := tx.Bucket(bucketBusinessUnits).Delete(key(u.OrgID, u.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketBusinessUnitNames).Delete(unitNameKey(stored.OrgID, stored.NameKey)); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}
