package bolt

// The businessunits.Store of the embedded store (BusinessUnits, from
// Store.BusinessUnits). Keys (ids are package ids: no NUL; <key> is the unit's NameKey,
// caseless.Key of its name: 64 hex digits):
//
//	bucket "businessUnits":     <org> 0 <unit>   -> unit JSON (members included)
//	bucket "businessUnitNames": <org> 0 <key>    -> <unit> (the unit that holds the name)
//
// Units are named records (named.go): every write is one bbolt transaction that checks
// the name, the version, the count (at most businessunits.MaxUnits) and the members,
// then writes the unit, its name key and its audit entry.

import (
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

var unitKind = &namedKind[businessunits.Unit]{
	records: bucketBusinessUnits, names: bucketBusinessUnitNames, bound: businessunits.MaxUnits,
	one: "business unit", held: "members",
	errNameTaken: businessunits.ErrNameTaken, errLimit: businessunits.ErrLimit, errChanged: businessunits.ErrChanged,
	errHolds: businessunits.ErrHasMembers,
	fields: func(u *businessunits.Unit) namedFields {
		return namedFields{orgID: &u.OrgID, id: &u.ID, nameKey: &u.NameKey, version: &u.Version, held: &u.Members}
	},
	encode: func(u businessunits.Unit) ([]byte, error) {
		return json.Marshal(unitRecord{ID: u.ID, Name: u.Name, NameKey: u.NameKey, ChatbotIDs: u.ChatbotIDs, Members: u.Members, Version: u.Version,
			CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, UpdatedBy: u.UpdatedBy})
	},
	decode: func(orgID string, v []byte) (businessunits.Unit, error) {
		var r unitRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return businessunits.Unit{}, fmt.Errorf("bolt: decode business unit of %s: %w", orgID, err)
		}
		if r.ChatbotIDs == nil {
			r.ChatbotIDs = []string{}
		}
		return businessunits.Unit{OrgID: orgID, ID: r.ID, Name: r.Name, NameKey: r.NameKey, ChatbotIDs: r.ChatbotIDs, Members: r.Members,
			Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
	},
}

// addBusinessUnitMember is the member contract of package businessunits for the agents
// store: in the agent's own bbolt transaction, it counts one more (delta > 0) or one
// fewer (delta < 0) agent in the unit. Joining a unit that does not exist is
// businessunits.ErrNoSuchUnit; leaving one that counts fewer members than that is an
// error. The unit's version does not change.
func addBusinessUnitMember(tx *bbolt.Tx, orgID, unitID string, delta int) error {
	return unitKind.hold(tx, orgID, unitID, delta, businessunits.ErrNoSuchUnit)
}

// List implements businessunits.Store.
func (s *BusinessUnits) List(ctx context.Context, orgID string) ([]businessunits.Unit, error) {
	return unitKind.list(ctx, s.db, orgID, businessunits.CheckOrg(orgID))
}

// Get implements businessunits.Store.
func (s *BusinessUnits) Get(ctx context.Context, orgID, id string) (businessunits.Unit, bool, error) {
	return unitKind.read(ctx, s.db, orgID, id, businessunits.CheckKeys(orgID, id))
}

// Create implements businessunits.Store.
func (s *BusinessUnits) Create(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	return unitKind.create(ctx, s.db, u, businessunits.CheckUnit(u, entry), entry, nil)
}

// Update implements businessunits.Store.
func (s *BusinessUnits) Update(ctx context.Context, prev, next businessunits.Unit, entry audit.Entry) error {
	return unitKind.update(ctx, s.db, prev, next, businessunits.CheckUnit(next, entry), entry, nil)
}

// Delete implements businessunits.Store.
func (s *BusinessUnits) Delete(ctx context.Context, u businessunits.Unit, entry audit.Entry) error {
	return unitKind.delete(ctx, s.db, u, businessunits.CheckUnit(u, entry), entry, nil)
}
