package httpx_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// headerAuthn takes the caller from test headers: X-Org and X-Role.
type headerAuthn struct{}

func (headerAuthn) Authenticate(r *http.Request) (auth.Principal, error) {
	return auth.Principal{Subject: "u", OrgID: r.Header.Get("X-Org"), Role: r.Header.Get("X-Role")}, nil
}

// tree is an orgs.Lookup over fixed records, counting its reads.
type tree struct {
	mu    sync.Mutex
	recs  map[string]orgs.Org
	reads int
	err   error
}

func (t *tree) Org(_ context.Context, id string) (orgs.Org, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reads++
	o, ok := t.recs[id]
	return o, ok, t.err
}

// pathRoles is an auth.Roles holding custom roles by "org/role", recording the paths it
// is asked about.
type pathRoles struct {
	mu    sync.Mutex
	perms map[string][]string
	asked [][]string
}

func (r *pathRoles) RolePermissions(_ context.Context, path []string, role string) ([]string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, slices.Clone(path))
	for _, org := range path {
		if p, ok := r.perms[org+"/"+role]; ok {
			return p, true, nil
		}
	}
	return nil, false, nil
}

// The tree of the tests: acme (a root, no record) > org_a > org_a1, acme > org_b, and
// org_gone, a deleted child of org_a.
func testTree() *tree {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	rec := func(path ...string) orgs.Org {
		id := path[len(path)-1]
		return orgs.Org{ID: id, Name: id, ParentID: path[len(path)-2], Path: path, CreatedAt: at}
	}
	gone := orgs.MarkDeleted(rec("acme", "org_a", "org_gone"), at)
	return &tree{recs: map[string]orgs.Org{
		"org_a": rec("acme", "org_a"), "org_a1": rec("acme", "org_a", "org_a1"), "org_b": rec("acme", "org_b"), "org_gone": gone,
	}}
}

// The guard decides visibility in one place with one read of the path organisation: a
// caller acts on its organisation and its descendants (with its own role, resolved on
// its own path), never a sibling or an ancestor, and nobody on a deleted organisation.
func TestGuardFollowsTheTree(t *testing.T) {
	t.Parallel()
	tr := testTree()
	roles := &pathRoles{perms: map[string][]string{
		"acme/role_top": {auth.PermSettingsManage}, "org_a/role_mid": {auth.PermSettingsManage}, "org_a1/role_low": {auth.PermSettingsManage}}}
	api := httpx.New(headerAuthn{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	api.SetRoles(roles)
	api.SetOrgs(tr)
	var seen []string
	var mu sync.Mutex
	handler := func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("orgId")
		path, ok := orgs.PathFrom(r.Context(), org)
		if !ok {
			t.Errorf("%s: no path in the context", r.URL.Path)
		}
		// The record the front read is there too: the handler need not read it again.
		if o, ok := orgs.OrgFrom(r.Context(), org); !ok || o.ID != org || !slices.Equal(o.Path, path) || (len(path) > 1) != (o.ParentID != "") {
			t.Errorf("%s: OrgFrom = %+v, %v", r.URL.Path, o, ok)
		}
		mu.Lock()
		seen = path
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/any", auth.AnyRole, handler)
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/manage", auth.Permission(auth.PermSettingsManage), handler)
	api.Handle(http.MethodGet, "/v1/me", auth.Authenticated, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	api.Handle(http.MethodGet, "/healthz", auth.Public, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	call := func(org, role, path string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Org", org)
		req.Header.Set("X-Role", role)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		org, role, route string
		want             int
		path, asked      []string // the path the handler sees; the path the roles were asked on
	}{
		// Its own organisation and every descendant.
		{"acme", auth.RoleAdmin, "/v1/orgs/acme/manage", 204, []string{"acme"}, nil},
		{"acme", auth.RoleAdmin, "/v1/orgs/org_a1/manage", 204, []string{"acme", "org_a", "org_a1"}, nil},
		{"org_a", auth.RoleAgent, "/v1/orgs/org_a1/any", 204, []string{"acme", "org_a", "org_a1"}, nil},
		{"org_a", auth.RoleAgent, "/v1/orgs/org_a1/manage", 403, nil, nil},
		// Never an ancestor, a sibling, another tree, a deleted organisation.
		{"org_a", auth.RoleAdmin, "/v1/orgs/acme/any", 404, nil, nil},
		{"org_a1", auth.RoleAdmin, "/v1/orgs/org_a/manage", 404, nil, nil},
		{"org_a", auth.RoleAdmin, "/v1/orgs/org_b/any", 404, nil, nil},
		{"org_b", auth.RoleAdmin, "/v1/orgs/org_a1/any", 404, nil, nil},
		{"globex", auth.RoleAdmin, "/v1/orgs/acme/any", 404, nil, nil},
		{"acme", auth.RoleAdmin, "/v1/orgs/org_gone/any", 404, nil, nil},
		{"org_a", auth.RoleAdmin, "/v1/orgs/org_gone/manage", 404, nil, nil},
		{"org_gone", auth.RoleAdmin, "/v1/orgs/org_gone/any", 404, nil, nil},
		// Custom roles: inherited from any ancestor of the caller, resolved on the
		// caller's own path even when it acts on a descendant.
		{"org_a1", "role_top", "/v1/orgs/org_a1/manage", 204, []string{"acme", "org_a", "org_a1"}, []string{"acme", "org_a", "org_a1"}},
		{"org_a1", "role_mid", "/v1/orgs/org_a1/manage", 204, []string{"acme", "org_a", "org_a1"}, []string{"acme", "org_a", "org_a1"}},
		{"org_a", "role_mid", "/v1/orgs/org_a1/manage", 204, []string{"acme", "org_a", "org_a1"}, []string{"acme", "org_a"}},
		// A descendant's role is not the caller's to hold.
		{"org_a", "role_low", "/v1/orgs/org_a1/manage", 403, nil, []string{"acme", "org_a"}},
		{"acme", "role_mid", "/v1/orgs/org_a/manage", 403, nil, []string{"acme"}},
	} {
		tr.mu.Lock()
		tr.reads = 0
		tr.mu.Unlock()
		roles.mu.Lock()
		roles.asked = nil
		roles.mu.Unlock()
		mu.Lock()
		seen = nil
		mu.Unlock()
		got := call(tc.org, tc.role, tc.route)
		name := tc.role + " of " + tc.org + " " + tc.route
		if got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
		if tr.reads != 1 {
			t.Errorf("%s: %d reads of the tree, want 1", name, tr.reads)
		}
		if !slices.Equal(seen, tc.path) {
			t.Errorf("%s: the handler saw the path %v, want %v", name, seen, tc.path)
		}
		var asked []string
		if len(roles.asked) > 0 {
			asked = roles.asked[0]
		}
		if len(roles.asked) > 1 || !slices.Equal(asked, tc.asked) {
			t.Errorf("%s: roles asked on %v, want one read on %v", name, roles.asked, tc.asked)
		}
	}
	// Public and Authenticated routes name no organisation: no read.
	tr.reads = 0
	if got := call("acme", auth.RoleAdmin, "/v1/me"); got != 204 || tr.reads != 0 {
		t.Errorf("GET /v1/me: %d after %d reads, want 204 after none", got, tr.reads)
	}
	if got := call("", "", "/healthz"); got != 204 || tr.reads != 0 {
		t.Errorf("GET /healthz: %d after %d reads, want 204 after none", got, tr.reads)
	}
	// A malformed organisation id is 404 without a read.
	if got := call("acme", auth.RoleAdmin, "/v1/orgs/a%23b/any"); got != 404 || tr.reads != 0 {
		t.Errorf("malformed id: %d after %d reads, want 404 after none", got, tr.reads)
	}
}

// A failed read of the tree is the store's error (a throttled table: 503 with
// Retry-After), never an answer about visibility.
func TestGuardReadFailure(t *testing.T) {
	t.Parallel()
	tr := testTree()
	tr.err = &problem.Error{Code: problem.Unavailable, Message: "the store is busy, please retry", RetryAfter: time.Second}
	api := httpx.New(headerAuthn{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	api.SetOrgs(tr)
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/any", auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		t.Error("the handler ran")
	})
	req := httptest.NewRequest(http.MethodGet, "/v1/orgs/org_a/any", nil)
	req.Header.Set("X-Org", "acme")
	req.Header.Set("X-Role", auth.RoleAdmin)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	var p map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Header().Get("Content-Type"), "problem+json") {
		t.Errorf("a throttled read: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// Without SetOrgs every organisation is a root: its own callers only.
func TestGuardWithoutTheTree(t *testing.T) {
	t.Parallel()
	api := httpx.New(headerAuthn{}, nil)
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/any", auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		if p, ok := orgs.PathFrom(r.Context(), r.PathValue("orgId")); !ok || len(p) != 1 {
			t.Errorf("path %v %v, want the organisation alone", p, ok)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	for org, want := range map[string]int{"acme": 204, "org_a": 404} {
		req := httptest.NewRequest(http.MethodGet, "/v1/orgs/"+org+"/any", nil)
		req.Header.Set("X-Org", "acme")
		req.Header.Set("X-Role", auth.RoleAgent)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("acme's agent on %s: %d, want %d", org, rec.Code, want)
		}
	}
}
