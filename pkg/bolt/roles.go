package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/roles"
)

var (
	bucketRoles     = []byte("roles")     // <org>\x00<roleId> -> roleRecord (JSON)
	bucketRoleNames = []byte("roleNames") // <org>\x00<name key> -> roleId
)

type roleRecord struct {
	Name        string    `json:"name"`
	Permissions []string  `json:"permissions"`
	Holders     int       `json:"holders"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	UpdatedBy   string    `json:"updatedBy"`
}

// Roles is the roles.Store of a bbolt file (every write one transaction with its audit
// entry).
type Roles struct{ s *Store }

var _ roles.Store = (*Roles)(nil)

// Roles returns the custom-role store of the file, creating its buckets.
func (s *Store) Roles() (*Roles, error) {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketRoles, bucketRoleNames} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: init roles: %w", err)
	}
	return &Roles{s: s}, nil
}

func getRole(tx *bbolt.Tx, orgID, roleID string) (roles.Role, bool, error) {
	v := tx.Bucket(bucketRoles).Get(key(orgID, roleID))
	if v == nil {
		return roles.Role{}, false, nil
	}
	var rec roleRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return roles.Role{}, false, fmt.Errorf("bolt: decode role %s/%s: %w", orgID, roleID, err)
	}
	return roles.Role{OrgID: orgID, ID: roleID, Name: rec.Name, Permissions: rec.Permissions, Holders: rec.Holders,
		Version: rec.Version, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy}, true, nil
}

func putRole(tx *bbolt.Tx, r roles.Role) error {
	v, err := json.Marshal(roleRecord{Name: r.Name, Permissions: r.Permissions, Holders: r.Holders, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), UpdatedBy: r.UpdatedBy})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRoles).Put(key(r.OrgID, r.ID), v)
}

func auditValue(entry audit.Entry) ([]byte, error) {
	if !audit.ValidID(entry.ID) || entry.Area != roles.AuditArea {
		return nil, fmt.Errorf("bolt: audit entry %q area %q is not a role change's", entry.ID, entry.Area)
	}
	return json.Marshal(entry)
}

// Get implements roles.Store.
func (r *Roles) Get(ctx context.Context, orgID, roleID string) (role roles.Role, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return roles.Role{}, false, err
	}
	if err := roles.CheckIDs(orgID, roleID); err != nil {
		return roles.Role{}, false, err
	}
	err = r.s.db.View(func(tx *bbolt.Tx) error {
		role, found, err = getRole(tx, orgID, roleID)
		return err
	})
	return role, found, err
}

// Find implements roles.Store: the role's key in every organisation of the path, in one
// read transaction.
func (r *Roles) Find(ctx context.Context, path []string, roleID string) (role roles.Role, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return roles.Role{}, false, err
	}
	if err := roles.CheckPath(path); err != nil {
		return roles.Role{}, false, err
	}
	if err := roles.CheckIDs(path[0], roleID); err != nil {
		return roles.Role{}, false, err
	}
	err = r.s.db.View(func(tx *bbolt.Tx) error {
		for i := len(path) - 1; i >= 0 && !found; i-- {
			if role, found, err = getRole(tx, path[i], roleID); err != nil {
				return err
			}
		}
		return nil
	})
	return role, found, err
}

// List implements roles.Store.
func (r *Roles) List(ctx context.Context, orgID string) ([]roles.Role, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := roles.CheckIDs(orgID, ""); err != nil {
		return nil, err
	}
	var out []roles.Role
	err := r.s.db.View(func(tx *bbolt.Tx) error {
		prefix := key(orgID, "")
		c := tx.Bucket(bucketRoles).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			role, _, err := getRole(tx, orgID, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, role)
		}
		return nil
	})
	roles.SortByName(out)
	return out, err
}

func countRoles(tx *bbolt.Tx, orgID string) int {
	prefix := key(orgID, "")
	n := 0
	c := tx.Bucket(bucketRoles).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// Create implements roles.Store.
func (r *Roles) Create(ctx context.Context, role roles.Role, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := roles.CheckIDs(role.OrgID, role.ID); err != nil {
		return err
	}
	aval, err := auditValue(entry)
	if err != nil {
		return err
	}
	role.Version, role.Holders = 1, 0
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		if countRoles(tx, role.OrgID) >= roles.MaxRoles {
			return roles.ErrTooMany
		}
		if tx.Bucket(bucketRoles).Get(key(role.OrgID, role.ID)) != nil {
			return roles.ErrConflict
		}
		names := tx.Bucket(bucketRoleNames)
		nk := key(role.OrgID, roles.NameKey(role.Name))
		if names.Get(nk) != nil {
			return roles.ErrNameTaken
		}
		if err := names.Put(nk, []byte(role.ID)); err != nil {
			return err
		}
		if err := putRole(tx, role); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// Update implements roles.Store.
func (r *Roles) Update(ctx context.Context, role roles.Role, oldName string, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := roles.CheckIDs(role.OrgID, role.ID); err != nil {
		return err
	}
	aval, err := auditValue(entry)
	if err != nil {
		return err
	}
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		stored, found, err := getRole(tx, role.OrgID, role.ID)
		if err != nil {
			return err
		}
		if !found || stored.Version != role.Version-1 {
			return roles.ErrConflict
		}
		if roles.NameKey(oldName) != roles.NameKey(role.Name) {
			names := tx.Bucket(bucketRoleNames)
			nk := key(role.OrgID, roles.NameKey(role.Name))
			if names.Get(nk) != nil {
				return roles.ErrNameTaken
			}
			if err := names.Delete(key(role.OrgID, roles.NameKey(oldName))); err != nil {
				return err
			}
			if err := names.Put(nk, []byte(role.ID)); err != nil {
				return err
			}
		}
		role.Holders, role.CreatedAt = stored.Holders, stored.CreatedAt
		if err := putRole(tx, role); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// Delete implements roles.Store.
func (r *Roles) Delete(ctx context.Context, orgID, roleID string, version int64, name string, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := roles.CheckIDs(orgID, roleID); err != nil {
		return err
	}
	aval, err := auditValue(entry)
	if err != nil {
		return err
	}
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		stored, found, err := getRole(tx, orgID, roleID)
		if err != nil {
			return err
		}
		switch {
		case !found || stored.Version != version:
			return roles.ErrConflict
		case stored.Holders > 0:
			return roles.ErrInUse
		}
		if err := tx.Bucket(bucketRoles).Delete(key(orgID, roleID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRoleNames).Delete(key(orgID, roles.NameKey(name))); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// SetHoldersForTest sets a role's holders count (the agents' writes keep it; until they
// exist, tests of the delete rule set it here).
func (r *Roles) SetHoldersForTest(orgID, roleID string, n int) error {
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		stored, found, err := getRole(tx, orgID, roleID)
		if err != nil || !found {
			return fmt.Errorf("bolt: role %s/%s: found %v, %v", orgID, roleID, found, err)
		}
		stored.Holders = n
		return putRole(tx, stored)
	})
}
