// Package roles holds custom roles: named sets of permissions an organisation defines
// beside the predefined roles of API.md "Permissions and roles" (package auth holds the
// permissions and the predefined roles). It is a domain package: the Store port is
// adapted by package dynamo and package bolt, and both pass the contract suite in
// package rolestest.
//
// Item layout in the single table (see package dynamo):
//
//	custom role    pk=ROLES#<orgId>                    sk=ROLE#<roleId>
//	name claim     pk=ROLENAME#<orgId>#<name key>       sk=NAME   (roleId)
//
// A role's name is unique in its organisation through its name claim, written in the same
// transaction as the role (a rename swaps the claims), so two creates of one name at once
// give one role and one ErrNameTaken. Holders counts the agents that have the role: the
// agents' own transactions keep it (they add 1 on condition that the role exists, and
// subtract 1), and Delete is conditional on it being 0, so a role cannot be deleted while
// an agent is being given it.
//
// Custom roles are inherited down the organisation tree: an agent of a sub-organisation
// may hold a custom role of any organisation of its path (Find reads them all at once),
// and the holders count lives on the role's item in its own organisation's partition.
package roles

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/freetext"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// Limits. MaxRoles bounds an organisation's custom roles so that listing them is one
// bounded read (a role item is well under 1 KB: 100 roles are one Query page) and the
// role picker of the dashboard stays usable; real organisations define a handful.
const (
	MaxNameLen = 50
	MaxRoles   = 100
	// IDPrefix starts every custom role id ("role_..."), which no predefined role id does.
	IDPrefix = "role"
	// AuditArea is the audit log area of role changes.
	AuditArea = "roles"
)

// Role is a custom role.
type Role struct {
	OrgID       string
	ID          string
	Name        string
	Permissions []string // in catalogue order, no repeats
	// Holders is the number of agents that have the role (kept by the agents' writes).
	Holders   int
	Version   int64 // 1 when created, +1 per change
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
}

// Errors of the Store.
var (
	// ErrNameTaken: another role of the organisation (or a predefined role) has the name.
	ErrNameTaken = errors.New("roles: the name is taken")
	// ErrConflict: the role changed since the version the caller read (or is gone).
	ErrConflict = errors.New("roles: the role changed")
	// ErrInUse: agents hold the role.
	ErrInUse = errors.New("roles: agents hold the role")
	// ErrTooMany: the organisation has MaxRoles custom roles.
	ErrTooMany = errors.New("roles: too many roles")
)

// Store is the port of custom roles. Writes store their audit entry in the same
// transaction. Every method refuses an organisation or role id that is not valid
// (package ids) with a problem.NotFound error.
type Store interface {
	// Get returns a role, strongly consistent.
	Get(ctx context.Context, orgID, roleID string) (Role, bool, error)
	// Find returns the custom role roleID of whichever organisation of path holds it
	// (custom roles are inherited down the tree: path is an organisation's path, root
	// first, at most orgs.MaxDepth valid ids), strongly consistent, with one batched read
	// whatever the depth. Role ids are made by the server and unique, so at most one
	// organisation holds it; were there several, the one nearest the path's end wins.
	Find(ctx context.Context, path []string, roleID string) (Role, bool, error)
	// List returns the organisation's custom roles (at most MaxRoles), by name key.
	List(ctx context.Context, orgID string) ([]Role, error)
	// Create stores a new role (Version 1) with its name claim, or returns ErrNameTaken
	// (the name is claimed) or ErrTooMany (the organisation has MaxRoles roles: checked
	// on a list read before the write, so a burst of creates may pass it by a few).
	Create(ctx context.Context, r Role, entry audit.Entry) error
	// Update replaces a role stored at version r.Version-1 (its name and permissions;
	// Holders is kept), moving its name claim from oldName when the name key changed.
	// ErrConflict when the stored version differs, ErrNameTaken when the new name is
	// claimed.
	Update(ctx context.Context, r Role, oldName string, entry audit.Entry) error
	// Delete removes a role stored at version and its name claim, on condition that no
	// agent holds it (ErrInUse) and the version is still version (ErrConflict).
	Delete(ctx context.Context, orgID, roleID string, version int64, name string, entry audit.Entry) error
}

// NameKey is the form in which names are compared: Unicode simple case folding (each
// character upper-cased, then lower-cased, so "ΣΊΣΥΦΟΣ" and "σίσυφος" meet; full
// folding such as "ß" = "ss" is not applied), with runs of white space, "_" and "-" made
// one space, so that "agent_manager", "Agent Manager" and "agent-manager" are one name.
// (golang.org/x/text/cases would fold fully, at ~250 KB in every function's bootstrap,
// since the stores that every function links compare names.)
func NameKey(name string) string {
	folded := strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, name)
	return strings.Join(strings.FieldsFunc(folded, func(r rune) bool {
		return r == '_' || r == '-' || unicode.IsSpace(r)
	}), " ")
}

// Predefined describes a predefined role for the roles list.
type Predefined struct {
	ID, Name string
}

// PredefinedRoles are the predefined roles with their display names, in API.md's order.
var PredefinedRoles = []Predefined{
	{auth.RoleAdmin, "Admin"}, {auth.RoleAgentManager, "Agent manager"}, {auth.RoleClientManager, "Client manager"},
	{auth.RoleMarketing, "Marketing"}, {auth.RoleCompliance, "Compliance"}, {auth.RoleAgent, "Agent"},
}

// reserved reports whether a name key is that of a predefined role (its id or name).
func reserved(key string) bool {
	for _, p := range PredefinedRoles {
		if key == NameKey(p.ID) || key == NameKey(p.Name) {
			return true
		}
	}
	return false
}

// Input is what a client sends to create or replace a role.
type Input struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// MaxPermissions bounds the list a client may send (the catalogue has 11; repeats are
// folded).
const MaxPermissions = 64

// Validate checks and normalises in: the name as free text of 1-50 characters that is not
// a predefined role's name, the permissions known ones, returned in catalogue order
// without repeats. Every failing field is reported at once (problem.Invalid).
func Validate(in Input) (name string, perms []string, err error) {
	var fields []problem.FieldError
	name = freetext.Normalize(in.Name)
	switch msg := freetext.Problem(name, 1, MaxNameLen); {
	case msg != "":
		fields = append(fields, problem.FieldError{Field: "name", Message: msg})
	case reserved(NameKey(name)):
		fields = append(fields, problem.FieldError{Field: "name", Message: "is the name of a predefined role"})
	}
	switch {
	case in.Permissions == nil:
		fields = append(fields, problem.FieldError{Field: "permissions", Message: "is required (an empty list is a role with no permission)"})
	case len(in.Permissions) > MaxPermissions:
		fields = append(fields, problem.FieldError{Field: "permissions", Message: "must list at most 64 permissions"})
	default:
		var unknown []string
		for _, p := range in.Permissions {
			if !slices.Contains(auth.AllPermissions, p) && !slices.Contains(unknown, p) {
				unknown = append(unknown, p)
			}
		}
		if len(unknown) > 0 {
			fields = append(fields, problem.FieldError{Field: "permissions", Message: "unknown permission " + quoteList(unknown) + "; the permissions are " + strings.Join(auth.AllPermissions, ", ")})
		}
		for _, p := range auth.AllPermissions {
			if slices.Contains(in.Permissions, p) {
				perms = append(perms, p)
			}
		}
		if perms == nil {
			perms = []string{}
		}
	}
	if len(fields) > 0 {
		return "", nil, &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid", Fields: fields}
	}
	return name, perms, nil
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		if len(v) > 64 {
			v = v[:64] + "..."
		}
		q[i] = `"` + strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r == '"' {
				return '?'
			}
			return r
		}, v) + `"`
	}
	return strings.Join(q, ", ")
}

// SortByName orders roles by name key (then id), as List returns them.
func SortByName(rs []Role) {
	slices.SortFunc(rs, func(a, b Role) int {
		if c := strings.Compare(NameKey(a.Name), NameKey(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// CheckIDs refuses ids that cannot be stored (problem.NotFound: a path naming no role).
func CheckIDs(orgID, roleID string) error {
	if !ids.Valid(orgID) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	if roleID != "" && !ids.Valid(roleID) {
		return problem.New(problem.NotFound, "role not found")
	}
	return nil
}

// CheckPath refuses a path Find cannot read: empty, longer than orgs.MaxDepth, or holding
// an id that is not valid (problem.NotFound, as for a path naming no organisation).
func CheckPath(path []string) error {
	if len(path) == 0 || len(path) > orgs.MaxDepth {
		return problem.New(problem.NotFound, "organisation not found")
	}
	for _, id := range path {
		if !ids.Valid(id) {
			return problem.New(problem.NotFound, "organisation not found")
		}
	}
	return nil
}

// Resolver adapts a Store to auth.Roles: the permissions of a custom role of any
// organisation of the caller's path, one strongly consistent (batched) read, so a change
// applies to the next request of every holder.
type Resolver struct{ Store Store }

// RolePermissions implements auth.Roles.
func (r Resolver) RolePermissions(ctx context.Context, path []string, roleID string) ([]string, bool, error) {
	if r.Store == nil || CheckPath(path) != nil || !ids.Valid(roleID) {
		return nil, false, nil
	}
	role, found, err := r.Store.Find(ctx, path, roleID)
	if err != nil || !found {
		return nil, false, err
	}
	return role.Permissions, true, nil
}
