// Package rolesfn serves the permission catalogue and the roles of organisations (API.md
// "Permissions and roles"): functions/roles.
package rolesfn

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/roles"
)

// Function is the roles function: GET /v1/permissions and the roles routes.
var Function = app.Function{Name: "roles", Needs: app.Needs{Roles: app.Write, Orgs: app.Read},
	HTTP: func(api *httpx.API, d app.Deps) { Register(api, d.Roles, d.Now) }}

// Permission is one entry of the catalogue.
type Permission struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Role is a role as the API shows it.
type Role struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	Predefined  bool       `json:"predefined"`
	Version     *int64     `json:"version"`
	UpdatedAt   *time.Time `json:"updatedAt"`
	UpdatedBy   *string    `json:"updatedBy"`
	// InheritedFrom is, for a custom role of an ancestor organisation (which the
	// organisation's agents may hold, but only the ancestor may change), that ancestor.
	InheritedFrom string `json:"inheritedFrom,omitempty"`
}

// List is the answer of GET .../roles.
type List struct {
	Items []Role `json:"items"`
}

func predefined(p roles.Predefined) Role {
	perms, _ := auth.PredefinedPermissions(p.ID)
	return Role{ID: p.ID, Name: p.Name, Permissions: perms, Predefined: true}
}

func custom(r roles.Role) Role {
	v, at, by := r.Version, r.UpdatedAt, r.UpdatedBy
	return Role{ID: r.ID, Name: r.Name, Permissions: r.Permissions, Version: &v, UpdatedAt: &at, UpdatedBy: &by}
}

type service struct {
	store roles.Store
	now   func() time.Time
}

// Register serves the routes on api.
func Register(api *httpx.API, store roles.Store, now func() time.Time) {
	s := &service{store: store, now: now}
	manage := auth.Permission(auth.PermRolesManage)
	api.Handle(http.MethodGet, "/v1/permissions", auth.Authenticated, func(w http.ResponseWriter, r *http.Request) {
		out := make([]Permission, 0, len(auth.AllPermissions))
		for _, p := range auth.AllPermissions {
			out = append(out, Permission{Name: p, Description: auth.Describe(p)})
		}
		httpx.WriteJSON(w, r, http.StatusOK, map[string]any{"items": out})
	})
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/roles", auth.AnyRole, s.list)
	api.Handle(http.MethodPost, "/v1/orgs/{orgId}/roles", manage, s.create)
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/roles/{roleId}", auth.AnyRole, s.get)
	api.Handle(http.MethodPut, "/v1/orgs/{orgId}/roles/{roleId}", manage, s.replace)
	api.Handle(http.MethodDelete, "/v1/orgs/{orgId}/roles/{roleId}", manage, s.delete)
}

func (s *service) list(w http.ResponseWriter, r *http.Request) {
	rs, err := s.store.List(r.Context(), r.PathValue("orgId"))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	out := List{Items: make([]Role, 0, len(roles.PredefinedRoles)+len(rs))}
	for _, p := range roles.PredefinedRoles {
		out.Items = append(out.Items, predefined(p))
	}
	for _, c := range rs {
		out.Items = append(out.Items, custom(c))
	}
	// The custom roles of the ancestors, nearest first: the organisation's agents may hold
	// them (one Query per ancestor; a path holds at most orgs.MaxDepth organisations).
	org := r.PathValue("orgId")
	if path, ok := orgs.PathFrom(r.Context(), org); ok {
		for i := len(path) - 2; i >= 0; i-- {
			up, err := s.store.List(r.Context(), path[i])
			if err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			for _, c := range up {
				v := custom(c)
				v.InheritedFrom = path[i]
				out.Items = append(out.Items, v)
			}
		}
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}

func findPredefined(id string) (roles.Predefined, bool) {
	i := slices.IndexFunc(roles.PredefinedRoles, func(p roles.Predefined) bool { return p.ID == id })
	if i < 0 {
		return roles.Predefined{}, false
	}
	return roles.PredefinedRoles[i], true
}

var errNotFound = problem.New(problem.NotFound, "role not found")

func readOnly(id string) error {
	return problem.New(problem.Conflict, "%s is a predefined role; predefined roles are read-only (create a custom role instead)", id)
}

// load reads a custom role, 404 when there is none.
func (s *service) load(ctx context.Context, org, id string) (roles.Role, error) {
	if !ids.Valid(id) {
		return roles.Role{}, errNotFound
	}
	c, found, err := s.store.Get(ctx, org, id)
	if err == nil && !found {
		err = errNotFound
	}
	return c, err
}

func writeRole(w http.ResponseWriter, r *http.Request, status int, c roles.Role) {
	w.Header().Set("ETag", optimistic.ETag(c.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", "/v1/orgs/"+c.OrgID+"/roles/"+c.ID)
	}
	httpx.WriteJSON(w, r, status, custom(c))
}

func (s *service) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("roleId")
	if p, ok := findPredefined(id); ok {
		httpx.WriteJSON(w, r, http.StatusOK, predefined(p))
		return
	}
	c, err := s.load(r.Context(), r.PathValue("orgId"), id)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	writeRole(w, r, http.StatusOK, c)
}

// input decodes and validates a role body (strict JSON, every field error at once).
func input(r *http.Request) (name string, perms []string, err error) {
	data, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		return "", nil, err
	}
	var in roles.Input
	if err := httpx.Unmarshal(data, &in); err != nil {
		return "", nil, err
	}
	return roles.Validate(in)
}

// entry is the audit entry of a change of a role, with its field changes.
func (s *service) entry(ctx context.Context, org, action string, before, after any, now time.Time) (audit.Entry, error) {
	p, _ := auth.FromContext(ctx)
	b, err := json.Marshal(before)
	if err != nil {
		return audit.Entry{}, err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return audit.Entry{}, err
	}
	changes, err := audit.Diff(b, a)
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{ID: audit.NewID(now), OrgID: org, At: now, Actor: p.Subject, Area: roles.AuditArea, Action: action,
		Changes: changes, RequestID: httpx.RequestID(ctx)}, nil
}

// audited is what the audit log records of a role: its id, name and permissions.
type audited struct {
	ID          *string  `json:"id"`
	Name        *string  `json:"name"`
	Permissions []string `json:"permissions"`
}

func auditedOf(c *roles.Role) audited {
	if c == nil {
		return audited{}
	}
	return audited{ID: &c.ID, Name: &c.Name, Permissions: c.Permissions}
}

func nameTaken(name string) error {
	return (&problem.Error{Code: problem.Conflict, Message: "a role of this organisation is already named " + strconv.Quote(name) + " (names are compared ignoring case)",
		Fields: []problem.FieldError{{Field: "name", Message: "is taken"}}})
}

func (s *service) create(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	name, perms, err := input(r)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(ctx)
	now := s.now().UTC().Truncate(time.Millisecond)
	c := roles.Role{OrgID: org, ID: ids.New(roles.IDPrefix), Name: name, Permissions: perms, Version: 1, CreatedAt: now, UpdatedAt: now, UpdatedBy: p.Subject}
	entry, err := s.entry(ctx, org, "create", auditedOf(nil), auditedOf(&c), now)
	if err == nil {
		err = s.store.Create(ctx, c, entry)
	}
	switch {
	case errors.Is(err, roles.ErrNameTaken):
		err = nameTaken(name)
	case errors.Is(err, roles.ErrTooMany):
		err = problem.New(problem.Conflict, "the organisation has %d custom roles, the most it may have; delete one first", roles.MaxRoles)
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	writeRole(w, r, http.StatusCreated, c)
}

// change reads the current custom role, checks it against the request's If-Match
// (ifMatch, "" for none) and calls write with it. A write that lost a race
// (roles.ErrConflict) is problem.PreconditionFailed with If-Match; without, it is tried
// again on the role read anew, with the bounded retries of package optimistic, and is a
// problem.Conflict once they are spent.
func (s *service) change(ctx context.Context, org, id, ifMatch string, write func(cur roles.Role) error) error {
	var retry optimistic.Retry
	for {
		cur, err := s.load(ctx, org, id)
		if err != nil {
			return err
		}
		if ifMatch != "" && !optimistic.Matches(ifMatch, cur.Version) {
			return problem.New(problem.PreconditionFailed, "If-Match %s does not match the current version %s", ifMatch, optimistic.ETag(cur.Version))
		}
		if err := write(cur); !errors.Is(err, roles.ErrConflict) {
			return err
		}
		if ifMatch != "" {
			return problem.New(problem.PreconditionFailed, "the role changed after If-Match %s was read", ifMatch)
		}
		again, err := retry.Again(ctx)
		if err != nil {
			return err
		}
		if !again {
			return problem.New(problem.Conflict, "the role is being changed by someone else; try again")
		}
	}
}

func (s *service) replace(w http.ResponseWriter, r *http.Request) {
	ctx, org, id := r.Context(), r.PathValue("orgId"), r.PathValue("roleId")
	if _, ok := findPredefined(id); ok {
		httpx.WriteError(w, r, readOnly(id))
		return
	}
	name, perms, err := input(r)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(ctx)
	var out roles.Role
	err = s.change(ctx, org, id, httpx.IfMatch(r), func(cur roles.Role) error {
		if cur.Name == name && slices.Equal(cur.Permissions, perms) {
			out = cur // unchanged: not a write
			return nil
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		next := cur
		next.Name, next.Permissions, next.Version, next.UpdatedAt, next.UpdatedBy = name, perms, cur.Version+1, now, p.Subject
		entry, err := s.entry(ctx, org, "replace", auditedOf(&cur), auditedOf(&next), now)
		if err == nil {
			err = s.store.Update(ctx, next, cur.Name, entry)
		}
		if errors.Is(err, roles.ErrNameTaken) {
			return nameTaken(name)
		}
		if err == nil {
			out = next
		}
		return err
	})
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	writeRole(w, r, http.StatusOK, out)
}

func (s *service) delete(w http.ResponseWriter, r *http.Request) {
	ctx, org, id := r.Context(), r.PathValue("orgId"), r.PathValue("roleId")
	if _, ok := findPredefined(id); ok {
		httpx.WriteError(w, r, readOnly(id))
		return
	}
	err := s.change(ctx, org, id, httpx.IfMatch(r), func(cur roles.Role) error {
		now := s.now().UTC().Truncate(time.Millisecond)
		entry, err := s.entry(ctx, org, "delete", auditedOf(&cur), auditedOf(nil), now)
		if err == nil {
			err = s.store.Delete(ctx, org, id, cur.Version, cur.Name, entry)
		}
		if errors.Is(err, roles.ErrInUse) {
			// The agents' ids come from the agents store once agents exist; until then no
			// agent can hold a role and this answer is not reached.
			return problem.New(problem.Conflict, "agents hold the role %q; give them another role first", cur.Name).With("agents", []string{})
		}
		return err
	})
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
