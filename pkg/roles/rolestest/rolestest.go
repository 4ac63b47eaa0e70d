// Package rolestest is the contract suite every roles.Store adapter must pass.
package rolestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/roles"
)

// Lister is what the suite needs to check that writes stored their audit entry.
type Lister interface {
	ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
}

// Env is an adapter under test: the store, the audit log it writes to, and a way to set
// a role's holders count as the agents' writes will.
type Env struct {
	Store      roles.Store
	Audit      Lister
	SetHolders func(t *testing.T, orgID, roleID string, n int)
}

// Run runs the contract suite against the stores newEnv returns (they may be shared
// between subtests: each uses its own organisation ids).
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e Env)
	}{
		{"CreateGetList", testCreateGetList},
		{"NamesAreUniqueCaseInsensitively", testUniqueNames},
		{"ConcurrentCreatesOfOneName", testConcurrentCreates},
		{"UpdateIsConditionalAndMovesTheName", testUpdate},
		{"DeleteFreesTheName", testDelete},
		{"DeleteRefusedWhileHeld", testInUse},
		{"WritesAreAudited", testAudited},
		{"MalformedIDs", testMalformed},
		{"FindOnAPath", testFind},
		{"Limit", testLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newEnv(t))
		})
	}
}

func newOrg() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "org-" + hex.EncodeToString(b[:])
}

var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func entry(org, action string) audit.Entry {
	return audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base, Actor: "admin@" + org, Area: roles.AuditArea,
		Action: action, RequestID: "req-" + action, Changes: []audit.Change{}}
}

func role(org, name string, perms ...string) roles.Role {
	if perms == nil {
		perms = []string{}
	}
	return roles.Role{OrgID: org, ID: ids.New(roles.IDPrefix), Name: name, Permissions: perms, CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func create(t *testing.T, e Env, r roles.Role) roles.Role {
	t.Helper()
	if err := e.Store.Create(context.Background(), r, entry(r.OrgID, "create")); err != nil {
		t.Fatalf("create %q: %v", r.Name, err)
	}
	r.Version = 1
	return r
}

func get(t *testing.T, e Env, org, id string) (roles.Role, bool) {
	t.Helper()
	r, found, err := e.Store.Get(context.Background(), org, id)
	if err != nil {
		t.Fatal(err)
	}
	return r, found
}

func testCreateGetList(t *testing.T, e Env) {
	org := newOrg()
	a := create(t, e, role(org, "Supervisors", auth.PermAgentsRead, auth.PermChatsRead))
	b := create(t, e, role(org, "auditors"))
	got, found := get(t, e, org, a.ID)
	if !found || got.Name != "Supervisors" || !slices.Equal(got.Permissions, a.Permissions) || got.Version != 1 || got.Holders != 0 ||
		!got.CreatedAt.Equal(base) || !got.UpdatedAt.Equal(base) || got.UpdatedBy != "admin@"+org || got.OrgID != org || got.ID != a.ID {
		t.Errorf("got %+v, found %v; want %+v", got, found, a)
	}
	if got, _ := get(t, e, org, b.ID); got.Permissions == nil || len(got.Permissions) != 0 {
		t.Errorf("a role with no permissions came back with %#v, want an empty list", got.Permissions)
	}
	if _, found := get(t, e, org, "role_missing"); found {
		t.Error("found a role never created")
	}
	if _, found := get(t, e, newOrg(), a.ID); found {
		t.Error("another organisation sees the role")
	}
	list, err := e.Store.List(context.Background(), org)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Errorf("list %+v, %v; want auditors then Supervisors", list, err)
	}
	if list, err := e.Store.List(context.Background(), newOrg()); err != nil || len(list) != 0 {
		t.Errorf("list of an organisation without roles: %+v, %v", list, err)
	}
}

func testUniqueNames(t *testing.T, e Env) {
	org := newOrg()
	create(t, e, role(org, "Team Leads"))
	for _, name := range []string{"team leads", "TEAM LEADS", "team_leads", "Team-Leads", "team  leads"} {
		if err := e.Store.Create(context.Background(), role(org, name), entry(org, "create")); !errors.Is(err, roles.ErrNameTaken) {
			t.Errorf("%q: %v, want ErrNameTaken", name, err)
		}
	}
	// Case folding beyond ASCII: Greek final sigma.
	create(t, e, role(org, "Σίσυφος"))
	if err := e.Store.Create(context.Background(), role(org, "ΣΊΣΥΦΟΣ"), entry(org, "create")); !errors.Is(err, roles.ErrNameTaken) {
		t.Errorf("ΣΊΣΥΦΟΣ after Σίσυφος: %v, want ErrNameTaken", err)
	}
	// Another organisation may use the name.
	create(t, e, role(newOrg(), "Team Leads"))
}

func testConcurrentCreates(t *testing.T, e Env) {
	org := newOrg()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = e.Store.Create(context.Background(), role(org, fmt.Sprintf("Night Shift%s", []string{"", " "}[i%2])), entry(org, "create"))
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, roles.ErrNameTaken), errors.Is(err, roles.ErrConflict):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	list, _ := e.Store.List(context.Background(), org)
	if ok != 1 || len(list) != 1 {
		t.Errorf("%d creates succeeded, %d roles stored; want 1 and 1", ok, len(list))
	}
}

func testUpdate(t *testing.T, e Env) {
	org := newOrg()
	ctx := context.Background()
	a := create(t, e, role(org, "Alpha", auth.PermChatsRead))
	create(t, e, role(org, "Beta"))
	next := a
	next.Name, next.Permissions, next.Version = "Gamma", []string{auth.PermAuditRead}, 2
	next.UpdatedAt, next.UpdatedBy = base.Add(time.Hour), "other@"+org
	if err := e.Store.Update(ctx, next, a.Name, entry(org, "replace")); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, e, org, a.ID)
	if got.Name != "Gamma" || !slices.Equal(got.Permissions, []string{auth.PermAuditRead}) || got.Version != 2 ||
		!got.UpdatedAt.Equal(base.Add(time.Hour)) || got.UpdatedBy != "other@"+org || !got.CreatedAt.Equal(base) {
		t.Errorf("after update: %+v", got)
	}
	// The old name is free, the new one taken.
	create(t, e, role(org, "alpha"))
	if err := e.Store.Create(ctx, role(org, "GAMMA"), entry(org, "create")); !errors.Is(err, roles.ErrNameTaken) {
		t.Errorf("create of the new name: %v, want ErrNameTaken", err)
	}
	// A stale version changes nothing.
	stale := next
	stale.Name, stale.Version = "Delta", 2
	if err := e.Store.Update(ctx, stale, "Gamma", entry(org, "replace")); !errors.Is(err, roles.ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	// Renaming onto a taken name changes nothing.
	taken := next
	taken.Name, taken.Version = "beta", 3
	if err := e.Store.Update(ctx, taken, "Gamma", entry(org, "replace")); !errors.Is(err, roles.ErrNameTaken) {
		t.Errorf("rename onto Beta: %v, want ErrNameTaken", err)
	}
	if got, _ := get(t, e, org, a.ID); got.Name != "Gamma" || got.Version != 2 {
		t.Errorf("refused updates changed the role: %+v", got)
	}
	// A change of case only keeps the claim.
	recase := next
	recase.Name, recase.Version = "GAMMA", 3
	if err := e.Store.Update(ctx, recase, "Gamma", entry(org, "replace")); err != nil {
		t.Errorf("recase: %v", err)
	}
	if err := e.Store.Create(ctx, role(org, "gamma"), entry(org, "create")); !errors.Is(err, roles.ErrNameTaken) {
		t.Errorf("after recase, gamma: %v, want ErrNameTaken", err)
	}
	missing := role(org, "Zeta")
	missing.Version = 2
	if err := e.Store.Update(ctx, missing, "Zeta", entry(org, "replace")); !errors.Is(err, roles.ErrConflict) {
		t.Errorf("update of a missing role: %v, want ErrConflict", err)
	}
}

func testDelete(t *testing.T, e Env) {
	org := newOrg()
	ctx := context.Background()
	a := create(t, e, role(org, "Temp"))
	if err := e.Store.Delete(ctx, org, a.ID, 2, a.Name, entry(org, "delete")); !errors.Is(err, roles.ErrConflict) {
		t.Errorf("delete at a stale version: %v, want ErrConflict", err)
	}
	if err := e.Store.Delete(ctx, org, a.ID, 1, a.Name, entry(org, "delete")); err != nil {
		t.Fatal(err)
	}
	if _, found := get(t, e, org, a.ID); found {
		t.Error("deleted role still found")
	}
	create(t, e, role(org, "temp"))
	if err := e.Store.Delete(ctx, org, a.ID, 1, a.Name, entry(org, "delete")); !errors.Is(err, roles.ErrConflict) {
		t.Errorf("second delete: %v, want ErrConflict", err)
	}
}

func testInUse(t *testing.T, e Env) {
	org := newOrg()
	ctx := context.Background()
	a := create(t, e, role(org, "Held"))
	e.SetHolders(t, org, a.ID, 2)
	if err := e.Store.Delete(ctx, org, a.ID, 1, a.Name, entry(org, "delete")); !errors.Is(err, roles.ErrInUse) {
		t.Errorf("delete of a held role: %v, want ErrInUse", err)
	}
	next := a
	next.Version, next.Permissions = 2, []string{auth.PermChatsRead}
	if err := e.Store.Update(ctx, next, a.Name, entry(org, "replace")); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, org, a.ID); got.Holders != 2 {
		t.Errorf("an update lost the holders count: %d", got.Holders)
	}
	e.SetHolders(t, org, a.ID, 0)
	if err := e.Store.Delete(ctx, org, a.ID, 2, a.Name, entry(org, "delete")); err != nil {
		t.Errorf("delete once no agent holds it: %v", err)
	}
}

func testAudited(t *testing.T, e Env) {
	org := newOrg()
	ctx := context.Background()
	a := create(t, e, role(org, "Audited"))
	next := a
	next.Version = 2
	_ = e.Store.Update(ctx, next, a.Name, entry(org, "replace"))
	_ = e.Store.Delete(ctx, org, a.ID, 2, a.Name, entry(org, "delete"))
	// A refused write stores no entry.
	_ = e.Store.Delete(ctx, org, a.ID, 2, a.Name, entry(org, "delete-again"))
	page, err := e.Audit.ListAudit(ctx, org, audit.Query{Area: roles.AuditArea, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range page.Items {
		actions = append(actions, en.Action)
	}
	if !slices.Equal(actions, []string{"delete", "replace", "create"}) {
		t.Errorf("audit actions %v, want delete, replace, create", actions)
	}
	// An entry of another area is refused, and so is the write.
	bad := entry(org, "create")
	bad.Area = "general"
	if err := e.Store.Create(ctx, role(org, "Sneaky"), bad); err == nil {
		t.Error("a create with another area's audit entry was stored")
	}
}

func testMalformed(t *testing.T, e Env) {
	ctx := context.Background()
	for _, org := range []string{"", "a#b", "acme\x00", "ROLES#x"} {
		if _, _, err := e.Store.Get(ctx, org, "role_x"); !problem.Is(err, problem.NotFound) {
			t.Errorf("Get(%q): %v, want NotFound", org, err)
		}
		if _, err := e.Store.List(ctx, org); !problem.Is(err, problem.NotFound) {
			t.Errorf("List(%q): %v, want NotFound", org, err)
		}
	}
	for _, id := range []string{"", "role#x", "r/x", "r x"} {
		if id == "" {
			continue
		}
		if _, _, err := e.Store.Get(ctx, "acme", id); !problem.Is(err, problem.NotFound) {
			t.Errorf("Get(role %q): %v, want NotFound", id, err)
		}
	}
}

func testLimit(t *testing.T, e Env) {
	if testing.Short() {
		t.Skip("creates 100 roles")
	}
	org := newOrg()
	for i := range roles.MaxRoles {
		create(t, e, role(org, fmt.Sprintf("Role %03d", i)))
	}
	if err := e.Store.Create(context.Background(), role(org, "One too many"), entry(org, "create")); !errors.Is(err, roles.ErrTooMany) {
		t.Errorf("role %d: %v, want ErrTooMany", roles.MaxRoles+1, err)
	}
}

// testFind: custom roles are inherited down the tree, so Find looks the role up in every
// organisation of a path at once.
func testFind(t *testing.T, e Env) {
	ctx := context.Background()
	root, mid, leaf := newOrg(), newOrg(), newOrg()
	path := []string{root, mid, leaf}
	top := create(t, e, role(root, "Top", auth.PermAuditRead))
	middle := create(t, e, role(mid, "Middle", auth.PermTagsManage, auth.PermChatsRead))
	for _, tc := range []struct {
		path  []string
		r     roles.Role
		found bool
	}{
		{path, top, true}, {path, middle, true}, {path[:2], middle, true}, {path[:1], top, true},
		// Never a descendant's role, nor another tree's.
		{path[:1], middle, false}, {path[1:], top, false}, {[]string{newOrg()}, top, false},
		// A path naming an organisation twice reads it once.
		{[]string{root, root}, top, true},
	} {
		got, found, err := e.Store.Find(ctx, tc.path, tc.r.ID)
		if err != nil || found != tc.found {
			t.Errorf("Find(%v, %s of %s): found %v, %v; want %v", tc.path, tc.r.Name, tc.r.OrgID, found, err, tc.found)
			continue
		}
		if found && (got.OrgID != tc.r.OrgID || got.ID != tc.r.ID || got.Name != tc.r.Name || !slices.Equal(got.Permissions, tc.r.Permissions) || got.Version != 1) {
			t.Errorf("Find(%v, %s): got %+v, want %+v", tc.path, tc.r.Name, got, tc.r)
		}
	}
	e.SetHolders(t, root, top.ID, 3)
	if got, _, err := e.Store.Find(ctx, path, top.ID); err != nil || got.Holders != 3 {
		t.Errorf("Find after 3 holders: %+v, %v", got, err)
	}
	if _, found, err := e.Store.Find(ctx, path, "role_missing"); err != nil || found {
		t.Errorf("Find of a role nowhere: found %v, %v", found, err)
	}
	long := make([]string, 9)
	for i := range long {
		long[i] = newOrg()
	}
	for _, p := range [][]string{nil, {}, long, {root, "a#b"}, {""}} {
		if _, _, err := e.Store.Find(ctx, p, top.ID); !problem.Is(err, problem.NotFound) {
			t.Errorf("Find(%q): got %v, want NotFound", p, err)
		}
	}
	if _, _, err := e.Store.Find(ctx, path, "role#1"); !problem.Is(err, problem.NotFound) {
		t.Errorf("Find of a malformed role id: got %v, want NotFound", err)
	}
}
