package conformance_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/roles"
)

// A function that serves a route needing a permission (or GET /v1/me, which lists them)
// must be able to resolve custom roles (Needs.Roles), and one that serves none must not
// have the grant.
func TestFunctionsThatCheckPermissionsReadRoles(t *testing.T) {
	t.Parallel()
	for _, f := range local.Functions {
		if f.Kind() != app.KindHTTP {
			if f.Needs.Roles != app.NoAccess {
				t.Errorf("%s serves no route but reads custom roles", f.Name)
			}
			continue
		}
		needs := false
		for _, r := range lambdafn.API(f, app.Deps{}, discardLogger()).Routes() {
			needs = needs || r.Policy.NeedsPermission() || r.Policy.IsAuthenticated()
		}
		switch {
		case needs && f.Needs.Roles == app.NoAccess:
			t.Errorf("%s serves routes that need a permission but cannot resolve custom roles: add Roles: app.Read to its Needs", f.Name)
		case !needs && f.Needs.Roles == app.Read:
			t.Errorf("%s reads custom roles but serves no route that needs a permission", f.Name)
		}
	}
}

// A function that serves a route needing a token reads the organisation tree (Needs.Orgs):
// the HTTP front reads the path organisation's record on every route with an {orgId}, and
// GET /v1/me the caller's, whose path its custom role may come from. An HTTP function
// serving only public routes must not have the grant, unless publicTreeReaders names it
// with its reason. (Event consumers and sweeps may read the tree, to follow a
// sub-organisation's inherited settings.)
func TestFunctionsWithOrganisationRoutesReadTheTree(t *testing.T) {
	t.Parallel()
	for _, f := range local.Functions {
		needs := false
		if f.Kind() == app.KindHTTP {
			for _, r := range lambdafn.API(f, app.Deps{}, discardLogger()).Routes() {
				needs = needs || !r.Policy.IsPublic()
			}
		}
		switch {
		case needs && f.Needs.Orgs == app.NoAccess:
			t.Errorf("%s serves routes that need a token but cannot read the organisation tree: add Orgs: app.Read to its Needs", f.Name)
		case !needs && f.Needs.Orgs != app.NoAccess && f.Kind() == app.KindHTTP && publicTreeReaders[f.Name] == "":
			t.Errorf("%s reads the organisation tree but serves no route that needs a token", f.Name)
		}
	}
}

// publicTreeReaders are the HTTP functions with only public routes that read the tree,
// with why.
var publicTreeReaders = map[string]string{
	"webchat-identify": "refuses the widget of a deleted organisation (the body names it)",
	"signin":           "refuses the agents of a deleted organisation and reads its inherited security, SSO and password-policy settings",
}

// The permission matrix of every route: for each predefined role and for custom roles,
// a route that needs permission P refuses (403) exactly the callers whose role lacks P,
// whatever else the request gets wrong; another organisation's path is 404 for all.
func TestPermissionMatrixOfEveryRoute(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "setup", OrgID: "acme", Role: auth.RoleAdmin})
	// Custom roles: one per permission, holding only it, and one holding all but it.
	only, allBut := map[string]string{}, map[string]string{}
	mk := func(name string, perms []string) string {
		r := roles.Role{OrgID: "acme", ID: ids.New(roles.IDPrefix), Name: name, Permissions: perms, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		e := audit.Entry{ID: audit.NewID(time.Now()), OrgID: "acme", At: time.Now(), Actor: "setup", Area: roles.AuditArea, Action: "create", Changes: []audit.Change{}}
		if err := srv.Deps.Roles.Create(ctx, r, e); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	for _, p := range auth.AllPermissions {
		only[p] = mk("only "+p, []string{p})
		allBut[p] = mk("all but "+p, slices.DeleteFunc(slices.Clone(auth.AllPermissions), func(q string) bool { return q == p }))
	}
	api := httpx.New(auth.Claims{}, discardLogger())
	local.MountAll(api, app.Deps{})
	param := regexp.MustCompile(`\{[a-zA-Z]+\}`)
	checked := 0
	for _, rt := range api.Routes() {
		if !rt.Policy.NeedsPermission() {
			continue
		}
		perm := rt.Policy.Permission
		path := param.ReplaceAllStringFunc(rt.Pattern, func(p string) string {
			if p == "{orgId}" {
				return "acme"
			}
			return "x1"
		})
		call := func(role string) int {
			return srv.As("acme", role, rt.Method, path, []byte(`{}`)).Status
		}
		for _, pr := range roles.PredefinedRoles {
			has, _ := auth.PredefinedPermissions(pr.ID)
			got := call(pr.ID)
			if slices.Contains(has, perm) == (got == http.StatusForbidden) || got == http.StatusUnauthorized {
				t.Errorf("%s %s as %s (has %s: %v): %d", rt.Method, rt.Pattern, pr.ID, perm, slices.Contains(has, perm), got)
			}
		}
		if got := call(only[perm]); got == http.StatusForbidden || got == http.StatusUnauthorized {
			t.Errorf("%s %s as a custom role holding only %s: %d", rt.Method, rt.Pattern, perm, got)
		}
		if got := call(allBut[perm]); got != http.StatusForbidden {
			t.Errorf("%s %s as a custom role holding all but %s: %d, want 403", rt.Method, rt.Pattern, perm, got)
		}
		if got := call("role_unknown"); got != http.StatusForbidden {
			t.Errorf("%s %s as a role that exists nowhere: %d, want 403", rt.Method, rt.Pattern, got)
		}
		other := param.ReplaceAllStringFunc(rt.Pattern, func(p string) string {
			if p == "{orgId}" {
				return "globex"
			}
			return "x1"
		})
		if got := srv.As("acme", auth.RoleAdmin, rt.Method, other, []byte(`{}`)).Status; got != http.StatusNotFound {
			t.Errorf("%s %s on another organisation: %d, want 404", rt.Method, other, got)
		}
		checked++
	}
	if checked < 30 {
		t.Errorf("checked %d routes; the route list was not read", checked)
	}
}

// openapi.yaml's permission enum is the catalogue, in its order.
func TestOpenAPIPermissionsAreTheCatalogue(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	items := obj(s.doc, "components", "schemas", "RoleInput", "properties", "permissions", "items")
	var got []string
	enum, _ := items["enum"].([]any)
	for _, v := range enum {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, auth.AllPermissions) {
		t.Errorf("RoleInput permissions enum %v, want the catalogue %v", got, auth.AllPermissions)
	}
}
