// Package agentstest is the contract suite every agents.Store adapter must pass.
package agentstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/roles"
)

// Lister is what the suite needs to check that writes stored their audit entry.
type Lister interface {
	ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
}

// Env is an adapter under test: the agent store, the custom-role store of the same
// table or file (whose holders counts the agents' writes keep), and the audit log.
type Env struct {
	Store agents.Store
	Roles roles.Store
	// Units is the business-unit store of the same table or file, whose members counts
	// the agents' writes keep.
	Units businessunits.Store
	Audit Lister
	// SetCount sets the organisation's agent counter (creating MaxAgents agents would
	// take too long).
	SetCount func(t *testing.T, orgID string, n int)
}

// Run runs the contract suite against the stores newEnv returns (they may be shared
// between subtests: each uses its own organisation ids and emails).
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e Env)
	}{
		{"CreateGet", testCreateGet},
		{"EmailIsUniqueAcrossOrganisations", testEmailUnique},
		{"ConcurrentCreatesOfOneEmail", testConcurrentOneEmail},
		{"ConcurrentCreatesInOneOrganisation", testConcurrentOneOrg},
		{"UpdateIsConditional", testUpdate},
		{"RoleHolders", testHolders},
		{"AnAncestorsRoleHolders", testAncestorHolders},
		{"BusinessUnitMembers", testUnitMembers},
		{"Search", testSearch},
		{"SearchPages", testSearchPages},
		{"CredentialsAndInvitations", testCredentials},
		{"PasswordHistory", testPasswordHistory},
		{"WritesAreAudited", testAudited},
		{"MalformedIDs", testMalformed},
		{"Limit", testLimit},
		{"ByEmail", testByEmail},
		{"RacingLoginFailures", testRacingFailures},
		{"LoginSucceeded", testLoginSucceeded},
		{"ANewPasswordLiftsASuspension", testCredentialsLift},
		{"EnableLiftsASuspension", testEnableLifts},
		{"SignInWritesRefuse", testSignInRefusals},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newEnv(t))
		})
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mainUnit is the business unit every agent of the suite belongs to (agent()).
const mainUnit = "bu_main"

// newOrg returns an organisation id no other test uses, with the business unit mainUnit.
func newOrg(t *testing.T, e Env) string {
	t.Helper()
	org := "org-" + randHex(6)
	newUnit(t, e, org, mainUnit)
	return org
}

// newUnit creates the business unit id in org.
func newUnit(t *testing.T, e Env, org, id string) {
	t.Helper()
	name := "Unit " + id
	u := businessunits.Unit{OrgID: org, ID: id, Name: name, NameKey: caseless.Key(name), ChatbotIDs: []string{}, Version: 1,
		CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin"}
	en := audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base, Actor: "admin", Area: businessunits.Area, Action: "create",
		Changes: []audit.Change{}}
	if err := e.Units.Create(context.Background(), u, en); err != nil {
		t.Fatalf("business unit %s: %v", id, err)
	}
}

// members returns the members count of a business unit.
func members(t *testing.T, e Env, org, id string) int {
	t.Helper()
	u, found, err := e.Units.Get(context.Background(), org, id)
	if err != nil || !found {
		t.Fatalf("business unit %s: %v, %v", id, found, err)
	}
	return u.Members
}

// newEmail is an address no other test (or earlier run on a shared table) uses.
func newEmail(name string) string { return name + "." + randHex(6) + "@example.com" }

var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func entry(org, action string) audit.Entry {
	return audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base, Actor: "admin@" + org, Area: agents.AuditArea,
		Action: action, RequestID: "req-" + action, Changes: []audit.Change{}}
}

func agent(name, email, role string) agents.Agent {
	return agents.New(ids.New(agents.IDPrefix), email, agents.Profile{Name: name, Role: role, Language: "en",
		BusinessUnitIDs: []string{mainUnit}}, base)
}

func create(t *testing.T, e Env, org string, a agents.Agent) agents.Agent {
	t.Helper()
	if err := e.Store.Create(context.Background(), org, a, agents.Credentials{}, entry(org, "create")); err != nil {
		t.Fatalf("create %s: %v", a.Email, err)
	}
	return a
}

func get(t *testing.T, e Env, org, id string) (agents.Agent, bool) {
	t.Helper()
	a, found, err := e.Store.Get(context.Background(), org, id)
	if err != nil {
		t.Fatal(err)
	}
	return a, found
}

func testCreateGet(t *testing.T, e Env) {
	org := newOrg(t, e)
	a := agent("Ana Silva", newEmail("ana"), "agent")
	a.MaxChats = new(3)
	a.Mobile = new("+442079460958")
	create(t, e, org, a)
	got, found := get(t, e, org, a.ID)
	a.Version = 1
	if !found || jsonOf(t, got) != jsonOf(t, a) || !got.CreatedAt.Equal(base) || *got.MaxChats != 3 || *got.Mobile != "+442079460958" {
		t.Errorf("got %+v, found %v; want %+v", got, found, a)
	}
	if _, found := get(t, e, org, "agent_missing"); found {
		t.Error("found an agent never created")
	}
	if _, found := get(t, e, newOrg(t, e), a.ID); found {
		t.Error("another organisation sees the agent")
	}
	if _, found, err := e.Store.Credentials(context.Background(), newOrg(t, e), a.ID); found || err != nil {
		t.Errorf("another organisation reads the credentials: %v, %v", found, err)
	}
	// The same id again is a conflict, whatever the email.
	again := a
	again.Email = newEmail("other")
	if err := e.Store.Create(context.Background(), org, again, agents.Credentials{}, entry(org, "create")); !errors.Is(err, agents.ErrConflict) {
		t.Errorf("create of a taken id: %v, want ErrConflict", err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testEmailUnique(t *testing.T, e Env) {
	org, other := newOrg(t, e), newOrg(t, e)
	email := newEmail("bo")
	create(t, e, org, agent("Bo", email, "agent"))
	for _, o := range []string{org, other} {
		err := e.Store.Create(context.Background(), o, agent("Bo again", email, "agent"), agents.Credentials{}, entry(o, "create"))
		if !errors.Is(err, agents.ErrEmailTaken) {
			t.Errorf("second create of %s in %s: %v, want ErrEmailTaken", email, o, err)
		}
	}
	// The refused creates stored nothing: the other organisation has no agent.
	if page, err := e.Store.Search(context.Background(), other, agents.Query{}); err != nil || len(page.Agents) != 0 {
		t.Errorf("after a refused create the organisation lists %d agents, %v", len(page.Agents), err)
	}
}

func testConcurrentOneEmail(t *testing.T, e Env) {
	orgs := []string{newOrg(t, e), newOrg(t, e)}
	email := newEmail("race")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			org := orgs[i%2]
			errs[i] = e.Store.Create(context.Background(), org, agent(fmt.Sprint("Racer ", i), email, "agent"), agents.Credentials{}, entry(org, "create"))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, agents.ErrEmailTaken):
			t.Errorf("create %d: %v, want nil or ErrEmailTaken", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates of one email succeeded, want 1", won)
	}
	total := 0
	for _, org := range orgs {
		page, err := e.Store.Search(context.Background(), org, agents.Query{Limit: agents.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Agents)
	}
	if total != 1 {
		t.Errorf("%d agents stored, want 1", total)
	}
}

func testConcurrentOneOrg(t *testing.T, e Env) {
	org := newOrg(t, e)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = e.Store.Create(context.Background(), org, agent("Crowd", newEmail("crowd"), "agent"), agents.Credentials{}, entry(org, "create"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d of distinct emails at once: %v", i, err)
		}
	}
	if page, err := e.Store.Search(context.Background(), org, agents.Query{Limit: agents.MaxLimit}); err != nil || len(page.Agents) != n {
		t.Errorf("%d agents listed, %v; want %d", len(page.Agents), err, n)
	}
}

func testUpdate(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := create(t, e, org, agent("Cy", newEmail("cy"), "agent"))
	a.Version = 1
	next := a
	next.Name, next.Version, next.UpdatedAt = "Cy Twain", 2, base.Add(time.Hour)
	if err := e.Store.Update(ctx, org, next, a, entry(org, "update")); err != nil {
		t.Fatal(err)
	}
	// A write based on version 1 again is refused.
	stale := a
	stale.Name, stale.Version = "Stale", 2
	if err := e.Store.Update(ctx, org, stale, a, entry(org, "update")); !errors.Is(err, agents.ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	disabled := next
	disabled.Status, disabled.Version = agents.StatusDisabled, 3
	if err := e.Store.Update(ctx, org, disabled, a, entry(org, "disable")); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, e, org, a.ID)
	if got.Name != "Cy Twain" || got.Version != 3 || got.Status != agents.StatusDisabled || !got.UpdatedAt.Equal(base.Add(time.Hour)) {
		t.Errorf("got %+v", got)
	}
	// An agent never created cannot be updated.
	ghost := agent("Ghost", newEmail("ghost"), "agent")
	ghost.Version = 2
	if err := e.Store.Update(ctx, org, ghost, ghost, entry(org, "update")); !errors.Is(err, agents.ErrConflict) {
		t.Errorf("update of a missing agent: %v, want ErrConflict", err)
	}
	// Another organisation's agent of that id is not this one.
	moved := next
	moved.Version = 4
	if err := e.Store.Update(ctx, newOrg(t, e), moved, next, entry(org, "update")); !errors.Is(err, agents.ErrConflict) {
		t.Errorf("update through another organisation: %v, want ErrConflict", err)
	}
}

func newRole(t *testing.T, e Env, org, name string) string {
	t.Helper()
	r := roles.Role{OrgID: org, ID: ids.New(roles.IDPrefix), Name: name, Permissions: []string{}, CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin"}
	en := audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base, Actor: "admin", Area: roles.AuditArea, Action: "create", Changes: []audit.Change{}}
	if err := e.Roles.Create(context.Background(), r, en); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func holders(t *testing.T, e Env, org, roleID string) int {
	t.Helper()
	r, found, err := e.Roles.Get(context.Background(), org, roleID)
	if err != nil || !found {
		t.Fatalf("role %s: %v, %v", roleID, found, err)
	}
	return r.Holders
}

func testHolders(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	sup, aud := newRole(t, e, org, "Supervisors"), newRole(t, e, org, "Auditors")
	a := create(t, e, org, agent("Di", newEmail("di"), sup))
	create(t, e, org, agent("Ed", newEmail("ed"), sup))
	if h := holders(t, e, org, sup); h != 2 {
		t.Errorf("after two creates the role has %d holders, want 2", h)
	}
	// A custom role that does not exist: refused, and nothing is stored (the email is free).
	email := newEmail("fay")
	err := e.Store.Create(ctx, org, agent("Fay", email, "role_missing"), agents.Credentials{}, entry(org, "create"))
	if !errors.Is(err, agents.ErrNoSuchRole) {
		t.Errorf("create with a missing role: %v, want ErrNoSuchRole", err)
	}
	if _, found, _ := e.Roles.Get(ctx, org, "role_missing"); found {
		t.Error("the refused create made a role item")
	}
	create(t, e, org, agent("Fay", email, "agent"))
	// A role change moves the count; a change to a predefined role only takes one.
	a.Version = 1
	steps := []string{aud, "agent_manager", sup}
	want := [][2]int{{1, 1}, {1, 0}, {2, 0}}
	prev := a
	for i, role := range steps {
		a.Role, a.Version = role, a.Version+1
		if err := e.Store.Update(ctx, org, a, prev, entry(org, "update")); err != nil {
			t.Fatalf("role change to %s: %v", role, err)
		}
		prev = a
		if got := [2]int{holders(t, e, org, sup), holders(t, e, org, aud)}; got != want[i] {
			t.Errorf("after the change to %s: holders %v, want %v", role, got, want[i])
		}
	}
	// A change to a missing custom role is refused and changes no count.
	a.Role, a.Version = "role_gone", a.Version+1
	if err := e.Store.Update(ctx, org, a, prev, entry(org, "update")); !errors.Is(err, agents.ErrNoSuchRole) {
		t.Errorf("change to a missing role: %v, want ErrNoSuchRole", err)
	}
	if got := holders(t, e, org, sup); got != 2 {
		t.Errorf("after a refused change: holders %d, want 2", got)
	}
	// A role held cannot be deleted (roles.ErrInUse): the count is the one roles reads.
	r, _, _ := e.Roles.Get(ctx, org, sup)
	en := audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base, Actor: "admin", Area: roles.AuditArea, Action: "delete", Changes: []audit.Change{}}
	if err := e.Roles.Delete(ctx, org, sup, r.Version, r.Name, en); !errors.Is(err, roles.ErrInUse) {
		t.Errorf("delete of a held role: %v, want ErrInUse", err)
	}
}

// testAncestorHolders: custom roles are inherited, so an agent may hold a role of an
// ancestor organisation (RoleOrgID names it): the holder is counted on the role's item in
// the ancestor's partition, moved away on a role change, and keeps the role from being
// deleted; a role of the right id in the wrong organisation is not found.
func testAncestorHolders(t *testing.T, e Env) {
	ctx := context.Background()
	parent, child := newOrg(t, e), newOrg(t, e)
	top, local := newRole(t, e, parent, "Regional leads"), newRole(t, e, child, "Shift leads")
	a := agent("Gil", newEmail("gil"), top)
	a.RoleOrgID = parent
	create(t, e, child, a)
	if h := holders(t, e, parent, top); h != 1 {
		t.Errorf("after the create the ancestor's role has %d holders, want 1", h)
	}
	if got, _ := get(t, e, child, a.ID); got.Role != top || got.RoleOrgID != "" {
		t.Errorf("stored agent: role %q, RoleOrgID %q (not stored)", got.Role, got.RoleOrgID)
	}
	// The role is held: its organisation cannot delete it.
	r, _, _ := e.Roles.Get(ctx, parent, top)
	en := audit.Entry{ID: audit.NewID(time.Now()), OrgID: parent, At: base, Actor: "admin", Area: roles.AuditArea, Action: "delete", Changes: []audit.Change{}}
	if err := e.Roles.Delete(ctx, parent, top, r.Version, r.Name, en); !errors.Is(err, roles.ErrInUse) {
		t.Errorf("delete of the ancestor's held role: %v, want ErrInUse", err)
	}
	// Without the owner, the role is looked for in the agent's own organisation: missing.
	b := agent("Hal", newEmail("hal"), top)
	if err := e.Store.Create(ctx, child, b, agents.Credentials{}, entry(child, "create")); !errors.Is(err, agents.ErrNoSuchRole) {
		t.Errorf("create naming the ancestor's role in the wrong partition: %v, want ErrNoSuchRole", err)
	}
	// A change to the organisation's own role moves the holder down; back up again.
	next := a
	next.Role, next.RoleOrgID, next.Version = local, "", 2
	if err := e.Store.Update(ctx, child, next, a, entry(child, "update")); err != nil {
		t.Fatalf("change to the own role: %v", err)
	}
	if got := [2]int{holders(t, e, parent, top), holders(t, e, child, local)}; got != [2]int{0, 1} {
		t.Errorf("after the change down: holders %v, want [0 1]", got)
	}
	back := next
	back.Role, back.RoleOrgID, back.Version = top, parent, 3
	if err := e.Store.Update(ctx, child, back, next, entry(child, "update")); err != nil {
		t.Fatalf("change back to the ancestor's role: %v", err)
	}
	if got := [2]int{holders(t, e, parent, top), holders(t, e, child, local)}; got != [2]int{1, 0} {
		t.Errorf("after the change back: holders %v, want [1 0]", got)
	}
	// Leaving it for a predefined role frees it.
	last := back
	last.Role, last.RoleOrgID, last.Version = "agent", "", 4
	if err := e.Store.Update(ctx, child, last, back, entry(child, "update")); err != nil {
		t.Fatal(err)
	}
	if h := holders(t, e, parent, top); h != 0 {
		t.Errorf("after the change to a predefined role: %d holders, want 0", h)
	}
}

func ids_(as []agents.Agent) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

func testSearch(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	tag := randHex(3)
	ana := create(t, e, org, agent("Ana Souza", "ana."+tag+"@acme.example", "agent"))
	create(t, e, org, agent("Bruno Anaya", "bruno."+tag+"@acme.example", "agent"))
	create(t, e, org, agent("Célia", "celia."+tag+"@other.example", "admin"))
	ana.Status, ana.Version = agents.StatusDisabled, 2
	if err := e.Store.Update(ctx, org, ana, ana, entry(org, "disable")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    agents.Query
		want []string
	}{
		{agents.Query{}, []string{"Ana Souza", "Bruno Anaya", "Célia"}},
		{agents.Query{Text: "ANA"}, []string{"Ana Souza", "Bruno Anaya"}},
		{agents.Query{Text: "  other.EXAMPLE "}, []string{"Célia"}},
		{agents.Query{Text: "célia"}, []string{"Célia"}},
		{agents.Query{Text: "ana", Status: agents.StatusActive}, []string{"Bruno Anaya"}},
		{agents.Query{Status: agents.StatusDisabled}, []string{"Ana Souza"}},
		{agents.Query{Text: "nobody"}, nil},
		// The separator of name and email matches no query.
		{agents.Query{Text: "souza ana"}, nil},
	} {
		page, err := e.Store.Search(ctx, org, c.q)
		if err != nil {
			t.Fatal(err)
		}
		got := ids_(page.Agents)
		slices.Sort(got)
		if !slices.Equal(got, c.want) || page.Next != "" {
			t.Errorf("search %+v: %v next %q, want %v", c.q, got, page.Next, c.want)
		}
	}
	if _, err := e.Store.Search(ctx, org, agents.Query{Text: strings.Repeat("a", agents.MaxQuery+1)}); problem.CodeOf(err) != problem.Invalid {
		t.Errorf("search text too long: %v, want Invalid", err)
	}
	if page, err := e.Store.Search(ctx, newOrg(t, e), agents.Query{Text: "ana"}); err != nil || len(page.Agents) != 0 {
		t.Errorf("another organisation finds %d agents, %v", len(page.Agents), err)
	}
}

func testSearchPages(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	var want []string
	for i := range 7 {
		name := "Member"
		if i%2 == 0 {
			name = "Zed"
		}
		a := create(t, e, org, agent(name, newEmail("p"), "agent"))
		if name == "Zed" {
			want = append(want, a.ID)
		}
	}
	slices.Sort(want)
	for _, q := range []agents.Query{{Text: "zed", Limit: 1}, {Text: "zed", Limit: 3}, {Limit: 2, Status: agents.StatusActive, Text: "zed"}} {
		var got []string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("the pages do not end")
			}
			page, err := e.Store.Search(ctx, org, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Agents) > q.Limit {
				t.Errorf("a page of %d agents, limit %d", len(page.Agents), q.Limit)
			}
			for _, a := range page.Agents {
				got = append(got, a.ID)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging by %d: %v, want %v (in id order)", q.Limit, got, want)
		}
	}
}

func testCredentials(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := agent("Gil", newEmail("gil"), "agent")
	token, inv := agents.NewInvitation(base)
	_ = token
	if err := e.Store.Create(ctx, org, a, agents.Credentials{Invitation: &inv}, entry(org, "create")); err != nil {
		t.Fatal(err)
	}
	ref, found, err := e.Store.Invitation(ctx, inv.TokenHash)
	if err != nil || !found || ref.OrgID != org || ref.AgentID != a.ID || !ref.ExpiresAt.Equal(inv.ExpiresAt) {
		t.Fatalf("invitation %+v, %v, %v", ref, found, err)
	}
	c, found, err := e.Store.Credentials(ctx, org, a.ID)
	if err != nil || !found || c.Invitation == nil || c.Invitation.TokenHash != inv.TokenHash || c.PasswordHash != "" {
		t.Fatalf("credentials %v, %v (invitation %v)", found, err, c.Invitation)
	}
	hash := cheapHash(t, "correct horse battery")
	// Accepting the invitation: a password, no invitation; the index entry goes.
	a.Version = 1
	set := a
	set.Version, set.PasswordChangedAt = 2, new(base)
	next := agents.Credentials{PasswordHash: hash}
	if err := e.Store.SetCredentials(ctx, org, set, next, c, entry(org, "password")); err != nil {
		t.Fatal(err)
	}
	if _, found, err := e.Store.Invitation(ctx, inv.TokenHash); found || err != nil {
		t.Errorf("a used invitation is still found: %v, %v", found, err)
	}
	got, _, _ := e.Store.Credentials(ctx, org, a.ID)
	if got.PasswordHash != hash || got.Invitation != nil {
		t.Errorf("credentials after set: hash kept %v, invitation %v", got.PasswordHash == hash, got.Invitation)
	}
	// A stale write (credentials read at version 1) is refused and changes nothing.
	if err := e.Store.SetCredentials(ctx, org, set, agents.Credentials{}, c, entry(org, "password")); !errors.Is(err, agents.ErrConflict) {
		t.Errorf("stale credentials write: %v, want ErrConflict", err)
	}
	if got, _, _ := e.Store.Credentials(ctx, org, a.ID); got.PasswordHash != hash {
		t.Error("a refused write changed the credentials")
	}
	// A new invitation is indexed.
	_, inv2 := agents.NewInvitation(base)
	set2 := set
	set2.Version = 3
	if err := e.Store.SetCredentials(ctx, org, set2, agents.Credentials{PasswordHash: hash, Invitation: &inv2}, next, entry(org, "invite")); err != nil {
		t.Fatal(err)
	}
	if ref, found, err := e.Store.Invitation(ctx, inv2.TokenHash); !found || err != nil || ref.AgentID != a.ID {
		t.Errorf("new invitation: %+v, %v, %v", ref, found, err)
	}
	// The profile never carries secrets: the agent's JSON names none.
	p, _ := get(t, e, org, a.ID)
	for _, secret := range []string{hash, inv.TokenHash, inv2.TokenHash} {
		if strings.Contains(fmt.Sprintf("%+v", p), secret) {
			t.Error("the profile read carries a secret")
		}
	}
	if _, found, err := e.Store.Invitation(ctx, "not a hash"); found || err != nil {
		t.Errorf("malformed token hash: %v, %v", found, err)
	}
}

// cheapHash is an argon2id hash of password with 64 KiB of memory: verified as a real one
// is (the parameters are in the hash), in a fraction of a millisecond.
func cheapHash(t *testing.T, password string) string {
	t.Helper()
	h, err := passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testPasswordHistory checks passwords.History, the password-policy check's view of the
// stored credentials (the reuse rule), over the store: an agent's current and earlier
// passwords are reused, compared in NFC; a fresh one is not; an agent the organisation
// does not have (another's, a missing or malformed id) is NotFound for Known and Reused
// alike; a request that ended gets its error, never an answer.
func testPasswordHistory(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := create(t, e, org, agent("Joy", newEmail("joy"), "agent"))
	h := passwords.History{Store: e.Store}
	if err := h.Known(ctx, org, a.ID); err != nil {
		t.Errorf("Known of an agent without a password: %v", err)
	}
	if r, err := h.Reused(ctx, org, a.ID, "Pass-1"); r || err != nil {
		t.Errorf("Reused of an agent without a password: %v, %v; want false", r, err)
	}
	// Three passwords set in turn, as every set does: the replaced hash joins the history.
	var c agents.Credentials
	cur := a
	cur.Version = 1
	for _, p := range []string{"Pass-1", "Pass-2", "Cr\u00e8me-3"} {
		next := agents.Credentials{PasswordHash: cheapHash(t, p), History: c.History.Push(c.PasswordHash)}
		set := cur
		set.Version, set.PasswordChangedAt = cur.Version+1, new(base)
		if err := e.Store.SetCredentials(ctx, org, set, next, c, entry(org, "password")); err != nil {
			t.Fatal(err)
		}
		c, cur = next, set
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"Cr\u00e8me-3", true},  // the current one
		{"Cre\u0300me-3", true}, // the current one, its accent typed as a combining mark
		{"Pass-2", true},        // earlier
		{"Pass-1", true},        // the earliest
		{"Pass-4", false},       // fresh
		{"pass-1", false},       // case matters
		{"Pass-1 ", false},      // so does a space
	} {
		if r, err := h.Reused(ctx, org, a.ID, tc.password); r != tc.want || err != nil {
			t.Errorf("Reused(%q) = %v, %v; want %v", tc.password, r, err, tc.want)
		}
	}
	if err := h.Known(ctx, org, a.ID); err != nil {
		t.Errorf("Known: %v", err)
	}
	for _, c := range []struct{ org, id string }{{newOrg(t, e), a.ID}, {org, "agent_missing"}, {org, "bad id"}, {"bad org", a.ID}} {
		if err := h.Known(ctx, c.org, c.id); problem.CodeOf(err) != problem.NotFound {
			t.Errorf("Known(%q, %q): %v, want NotFound", c.org, c.id, err)
		}
		if r, err := h.Reused(ctx, c.org, c.id, "Pass-1"); r || problem.CodeOf(err) != problem.NotFound {
			t.Errorf("Reused(%q, %q): %v, %v; want NotFound", c.org, c.id, r, err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if r, err := h.Reused(done, org, a.ID, "Pass-1"); r || !errors.Is(err, context.Canceled) {
		t.Errorf("Reused with an ended context: %v, %v; want context.Canceled", r, err)
	}
}

func testAudited(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := create(t, e, org, agent("Hal", newEmail("hal"), "agent"))
	a.Version, a.Name = 2, "Hal B"
	if err := e.Store.Update(ctx, org, a, a, entry(org, "update")); err != nil {
		t.Fatal(err)
	}
	// A refused write stores no entry.
	_ = e.Store.Update(ctx, org, a, a, entry(org, "refused"))
	_ = e.Store.Create(ctx, org, agent("Hal again", a.Email, "agent"), agents.Credentials{}, entry(org, "refused-create"))
	page, err := e.Audit.ListAudit(ctx, org, audit.Query{Area: agents.AuditArea, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range page.Items {
		actions = append(actions, en.Action)
	}
	if !slices.Equal(actions, []string{"update", "create"}) {
		t.Errorf("audit actions %v, want update, create", actions)
	}
	// An entry of another area is refused, and so is the write.
	bad := entry(org, "create")
	bad.Area = "general"
	b := agent("Ivy", newEmail("ivy"), "agent")
	if err := e.Store.Create(ctx, org, b, agents.Credentials{}, bad); err == nil {
		t.Error("a create with an entry of another area was accepted")
	}
	if _, found := get(t, e, org, b.ID); found {
		t.Error("the refused create stored the agent")
	}
}

func testMalformed(t *testing.T, e Env) {
	ctx := context.Background()
	for _, c := range []struct{ org, id string }{{"", "agent_a"}, {"bad org", "agent_a"}, {"org1", "bad id"}, {"org1", strings.Repeat("a", 65)}} {
		if _, _, err := e.Store.Get(ctx, c.org, c.id); problem.CodeOf(err) != problem.NotFound {
			t.Errorf("Get(%q, %q): %v, want NotFound", c.org, c.id, err)
		}
		if _, _, err := e.Store.Credentials(ctx, c.org, c.id); problem.CodeOf(err) != problem.NotFound {
			t.Errorf("Credentials(%q, %q): %v, want NotFound", c.org, c.id, err)
		}
		a := agent("X", newEmail("x"), "agent")
		a.ID = c.id
		if err := e.Store.Create(ctx, c.org, a, agents.Credentials{}, entry("org1", "create")); problem.CodeOf(err) != problem.NotFound {
			t.Errorf("Create(%q, %q): %v, want NotFound", c.org, c.id, err)
		}
	}
	if _, err := e.Store.Search(ctx, "bad org", agents.Query{}); problem.CodeOf(err) != problem.NotFound {
		t.Errorf("Search of a malformed org: %v, want NotFound", err)
	}
	if _, err := e.Store.Search(ctx, "org1", agents.Query{After: "bad id"}); problem.CodeOf(err) != problem.Invalid {
		t.Errorf("Search after a malformed id: %v, want Invalid", err)
	}
}

func testLimit(t *testing.T, e Env) {
	org := newOrg(t, e)
	create(t, e, org, agent("First", newEmail("first"), "agent"))
	e.SetCount(t, org, agents.MaxAgents-1)
	create(t, e, org, agent("Last", newEmail("last"), "agent"))
	email := newEmail("over")
	if err := e.Store.Create(context.Background(), org, agent("Over", email, "agent"), agents.Credentials{}, entry(org, "create")); !errors.Is(err, agents.ErrTooMany) {
		t.Errorf("create over the limit: %v, want ErrTooMany", err)
	}
	// The refused create claimed nothing: the email is free elsewhere.
	create(t, e, newOrg(t, e), agent("Over", email, "agent"))
}

func testUnitMembers(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	newUnit(t, e, org, "bu_sales")
	newUnit(t, e, org, "bu_vip")
	counts := func() [3]int {
		return [3]int{members(t, e, org, mainUnit), members(t, e, org, "bu_sales"), members(t, e, org, "bu_vip")}
	}
	a := create(t, e, org, agent("Ivo", newEmail("ivo"), "agent"))
	b := agent("Jo", newEmail("jo"), "agent")
	b.BusinessUnitIDs = []string{mainUnit, "bu_sales"}
	create(t, e, org, b)
	if got := counts(); got != [3]int{2, 1, 0} {
		t.Errorf("after two creates: members %v, want [2 1 0]", got)
	}
	// A unit that does not exist: refused, and nothing is stored (the email is free, no
	// unit counted, no unit item made).
	ghost := agent("Kim", newEmail("kim"), "agent")
	ghost.BusinessUnitIDs = []string{"bu_sales", "bu_gone"}
	if err := e.Store.Create(ctx, org, ghost, agents.Credentials{}, entry(org, "create")); !errors.Is(err, agents.ErrNoSuchBusinessUnit) {
		t.Errorf("create in a missing unit: %v, want ErrNoSuchBusinessUnit", err)
	}
	if _, found, _ := e.Units.Get(ctx, org, "bu_gone"); found {
		t.Error("the refused create made a unit item")
	}
	if got := counts(); got != [3]int{2, 1, 0} {
		t.Errorf("after a refused create: members %v, want [2 1 0]", got)
	}
	ghost.BusinessUnitIDs = []string{"bu_sales"}
	create(t, e, org, ghost)
	// An update counts the agent out of the units it leaves and into those it joins.
	a.Version = 1
	prev := a
	a.BusinessUnitIDs, a.Version = []string{"bu_vip", "bu_sales"}, 2
	if err := e.Store.Update(ctx, org, a, prev, entry(org, "update")); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got != [3]int{1, 3, 1} {
		t.Errorf("after a move: members %v, want [1 3 1]", got)
	}
	// Joining a unit that does not exist changes nothing, the version included.
	refused := a
	refused.BusinessUnitIDs, refused.Version = []string{"bu_gone"}, 3
	if err := e.Store.Update(ctx, org, refused, a, entry(org, "update")); !errors.Is(err, agents.ErrNoSuchBusinessUnit) {
		t.Errorf("move to a missing unit: %v, want ErrNoSuchBusinessUnit", err)
	}
	if got, _ := get(t, e, org, a.ID); got.Version != 2 || counts() != [3]int{1, 3, 1} {
		t.Errorf("after a refused move: version %d, members %v; want 2, [1 3 1]", got.Version, counts())
	}
	// A change that keeps the units (disable) keeps the counts.
	disabled := a
	disabled.Status, disabled.Version = agents.StatusDisabled, 3
	if err := e.Store.Update(ctx, org, disabled, a, entry(org, "disable")); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got != [3]int{1, 3, 1} {
		t.Errorf("after a disable: members %v, want [1 3 1]", got)
	}
	// The count is what guards the unit's delete.
	vip, _, _ := e.Units.Get(ctx, org, "bu_vip")
	del := audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base, Actor: "admin", Area: businessunits.Area, Action: "delete", Changes: []audit.Change{}}
	if err := e.Units.Delete(ctx, vip, del); !errors.Is(err, businessunits.ErrHasMembers) {
		t.Errorf("delete of a unit with a member: %v, want ErrHasMembers", err)
	}
	// Search by unit, disabled agents included; the Members lister pages through it.
	for unit, want := range map[string][]string{mainUnit: {"Jo"}, "bu_sales": {"Ivo", "Jo", "Kim"}, "bu_vip": {"Ivo"}} {
		page, err := e.Store.Search(ctx, org, agents.Query{BusinessUnitID: unit, Limit: agents.MaxLimit})
		got := ids_(page.Agents)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("agents of %s: %v, %v; want %v", unit, got, err, want)
		}
		list, err := agents.Members{Store: e.Store}.BusinessUnitMembers(ctx, org, unit, 2)
		if err != nil || len(list) != min(2, len(want)) {
			t.Errorf("BusinessUnitMembers(%s, 2) = %v, %v; want %d ids", unit, list, err, min(2, len(want)))
		}
	}
	// Agents joining one unit at once are each counted.
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := agent(fmt.Sprint("Crowd ", i), newEmail("crowd"), "agent")
			c.BusinessUnitIDs = []string{"bu_vip"}
			errs[i] = e.Store.Create(ctx, org, c, agents.Credentials{}, entry(org, "create"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent create %d: %v", i, err)
		}
	}
	if got := members(t, e, org, "bu_vip"); got != 1+n {
		t.Errorf("after %d concurrent joins: members %d, want %d", n, got, 1+n)
	}
}

// testByEmail: the email claim finds its agent, whatever the case and the surrounding
// white space of the address given; an unknown or malformed address is not found, and
// is not an error.
func testByEmail(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	local := "ann." + randHex(6)
	a := create(t, e, org, agent("Ann", local+"@example.com", "agent"))
	for _, given := range []string{local + "@example.com", " \t" + strings.ToUpper(local) + "@Example.COM \n", strings.ToUpper(local + "@example.com")} {
		o, id, found, err := e.Store.ByEmail(ctx, given)
		if err != nil || !found || o != org || id != a.ID {
			t.Errorf("ByEmail(%q) = %q, %q, %v, %v; want %q, %q", given, o, id, found, err, org, a.ID)
		}
	}
	for _, given := range []string{
		newEmail("nobody"),                // unknown
		"",                                // empty
		"   ",                             // blank
		local + "@example.com.",           // another domain
		local + "\u200b@example.com",      // an invisible character
		"Ann <" + local + "@example.com>", // a display name
		local + "@example\u212Aom",        // the Kelvin sign is not k
		strings.Repeat("a", 300) + "@example.com", // too long
		"not an address",
	} {
		if o, id, found, err := e.Store.ByEmail(ctx, given); found || err != nil || o != "" || id != "" {
			t.Errorf("ByEmail(%q) = %q, %q, %v, %v; want not found", given, o, id, found, err)
		}
	}
}

func suspendEntry(org string) audit.Entry { return entry(org, "suspend") }

// auditActions lists the organisation's agent audit actions, newest first.
func auditActions(t *testing.T, e Env, org string) []string {
	t.Helper()
	page, err := e.Audit.ListAudit(context.Background(), org, audit.Query{Area: agents.AuditArea, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range page.Items {
		out = append(out, en.Action)
	}
	return out
}

func failed(t *testing.T, e Env, org, id string, limit int, at time.Time) (int, bool) {
	t.Helper()
	n, suspended, err := e.Store.LoginFailed(context.Background(), org, id, limit, at, suspendEntry(org))
	if err != nil {
		t.Fatalf("LoginFailed: %v", err)
	}
	return n, suspended
}

// testRacingFailures: failed sign-ins at once are each counted (counts 1..n, each seen
// once), the agent is suspended from the limit on, by exactly one of them (one audit
// entry, one version), and later failures keep counting without another suspension.
func testRacingFailures(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := create(t, e, org, agent("Kit", newEmail("kit"), "agent"))
	const n, limit = 8, 5
	at := base.Add(time.Hour)
	type result struct {
		n         int
		suspended bool
		err       error
	}
	res := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var r result
			r.n, r.suspended, r.err = e.Store.LoginFailed(ctx, org, a.ID, limit, at, suspendEntry(org))
			res[i] = r
		})
	}
	wg.Wait()
	var counts []int
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("failure %d: %v", i, r.err)
		}
		counts = append(counts, r.n)
		// At the limit the agent is suspended; below it, a failure that read the profile
		// after a racing one suspended it may say so too.
		if r.n >= limit && !r.suspended {
			t.Errorf("failure %d of %d (limit %d): not suspended", r.n, n, limit)
		}
	}
	slices.Sort(counts)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(counts, want) {
		t.Errorf("counts %v, want %v (each failure counted once)", counts, want)
	}
	got, _ := get(t, e, org, a.ID)
	if got.SuspendedAt == nil || !got.SuspendedAt.Equal(at) || got.Version != 2 || !got.UpdatedAt.Equal(at) {
		t.Errorf("after the race: suspendedAt %v, version %d, updatedAt %v; want %v, 2 (one suspension), %v", got.SuspendedAt, got.Version, got.UpdatedAt, at, at)
	}
	if acts := auditActions(t, e, org); !slices.Equal(acts, []string{"suspend", "create"}) {
		t.Errorf("audit actions %v, want one suspend after the create", acts)
	}
	// The representation shows the suspension; never the count.
	if js := jsonOf(t, got); !strings.Contains(js, `"suspendedAt":"`) || strings.Contains(js, "ailure") {
		t.Errorf("representation %s", js)
	}
	// Another failure counts on, suspended, with no second suspension.
	if c, s := failed(t, e, org, a.ID, limit, at.Add(time.Minute)); c != n+1 || !s {
		t.Errorf("failure after the suspension: %d, %v; want %d, true", c, s, n+1)
	}
	// A higher limit (the setting changed) does not lift it either.
	if c, s := failed(t, e, org, a.ID, 20, at.Add(time.Minute)); c != n+2 || !s {
		t.Errorf("failure under a higher limit: %d, %v; want %d, true", c, s, n+2)
	}
	if got, _ := get(t, e, org, a.ID); got.Version != 2 || !got.SuspendedAt.Equal(at) {
		t.Errorf("later failures moved the profile: version %d, suspendedAt %v", got.Version, got.SuspendedAt)
	}
	if acts := auditActions(t, e, org); len(acts) != 2 {
		t.Errorf("audit actions %v, want create and one suspend", acts)
	}
	// A suspended agent's sign-in is refused, and changes nothing.
	if err := e.Store.LoginSucceeded(ctx, org, a.ID, at); !errors.Is(err, agents.ErrSuspended) {
		t.Errorf("LoginSucceeded of a suspended agent: %v, want ErrSuspended", err)
	}
	if got, _ := get(t, e, org, a.ID); got.Version != 2 || got.LastLoginAt != nil {
		t.Errorf("a refused sign-in wrote: version %d, lastLoginAt %v", got.Version, got.LastLoginAt)
	}
	// Below the limit nothing is suspended, in another agent's count.
	b := create(t, e, org, agent("Lu", newEmail("lu"), "agent"))
	for i := 1; i < limit; i++ {
		if c, s := failed(t, e, org, b.ID, limit, at); c != i || s {
			t.Errorf("failure %d of another agent: %d, %v; want %d, false", i, c, s, i)
		}
	}
	if got, _ := get(t, e, org, b.ID); got.SuspendedAt != nil || got.Version != 1 {
		t.Errorf("failures below the limit wrote the profile: %v, version %d", got.SuspendedAt, got.Version)
	}
}

// testLoginSucceeded: a sign-in resets the count (the next failure is the first) and sets
// lastLoginAt, moving the version but not updatedAt, with no audit entry; a disabled
// agent's sign-in is refused.
func testLoginSucceeded(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := create(t, e, org, agent("Max", newEmail("max"), "agent"))
	at := base.Add(2 * time.Hour)
	failed(t, e, org, a.ID, 3, at)
	if c, _ := failed(t, e, org, a.ID, 3, at); c != 2 {
		t.Fatalf("second failure: %d", c)
	}
	if err := e.Store.LoginSucceeded(ctx, org, a.ID, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, e, org, a.ID)
	if got.LastLoginAt == nil || !got.LastLoginAt.Equal(at.Add(time.Minute)) || got.Version != 2 || !got.UpdatedAt.Equal(base) || got.SuspendedAt != nil {
		t.Errorf("after the sign-in: %+v", got)
	}
	if c, s := failed(t, e, org, a.ID, 3, at); c != 1 || s {
		t.Errorf("failure after a sign-in: %d, %v; want 1, false (the count was reset)", c, s)
	}
	if err := e.Store.LoginSucceeded(ctx, org, a.ID, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, org, a.ID); !got.LastLoginAt.Equal(at.Add(2*time.Minute)) || got.Version != 3 {
		t.Errorf("second sign-in: %v, version %d", got.LastLoginAt, got.Version)
	}
	if acts := auditActions(t, e, org); !slices.Equal(acts, []string{"create"}) {
		t.Errorf("audit actions %v: a sign-in is not audited", acts)
	}
	// A disabled agent (disabled while its password was checked): refused, nothing written.
	cur, _ := get(t, e, org, a.ID)
	dis := cur
	dis.Status, dis.Version = agents.StatusDisabled, cur.Version+1
	if err := e.Store.Update(ctx, org, dis, cur, entry(org, "disable")); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.LoginSucceeded(ctx, org, a.ID, at.Add(time.Hour)); !errors.Is(err, agents.ErrDisabled) {
		t.Errorf("LoginSucceeded of a disabled agent: %v, want ErrDisabled", err)
	}
	if got, _ := get(t, e, org, a.ID); got.Version != dis.Version || !got.LastLoginAt.Equal(at.Add(2*time.Minute)) {
		t.Errorf("a refused sign-in wrote: version %d, lastLoginAt %v", got.Version, got.LastLoginAt)
	}
}

// suspended creates an agent and suspends it (limit 1) at base+1h.
func suspended(t *testing.T, e Env, org, name string) agents.Agent {
	t.Helper()
	a := create(t, e, org, agent(name, newEmail(strings.ToLower(name)), "agent"))
	if c, s := failed(t, e, org, a.ID, 1, base.Add(time.Hour)); c != 1 || !s {
		t.Fatalf("failure at limit 1: %d, %v", c, s)
	}
	got, _ := get(t, e, org, a.ID)
	if got.SuspendedAt == nil || got.Version != 2 {
		t.Fatalf("suspended agent: %v, version %d", got.SuspendedAt, got.Version)
	}
	return got
}

// testCredentialsLift: a new password (an admin's reset, an invitation accepted, the
// agent's own change) lifts a suspension and resets the count, even when the caller's
// copy of the agent still carries SuspendedAt.
func testCredentialsLift(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := suspended(t, e, org, "Ned")
	failed(t, e, org, a.ID, 1, base.Add(time.Hour)) // count 2
	c, _, err := e.Store.Credentials(ctx, org, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := a
	next.Version, next.MustChangePassword, next.PasswordChangedAt = a.Version+1, true, new(base.Add(2*time.Hour))
	if err := e.Store.SetCredentials(ctx, org, next, agents.Credentials{PasswordHash: cheapHash(t, "Reset-1")}, c, entry(org, "password-reset")); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, e, org, a.ID)
	if got.SuspendedAt != nil || got.Version != 3 {
		t.Errorf("after a new password: suspendedAt %v, version %d; want nil, 3", got.SuspendedAt, got.Version)
	}
	if n, s := failed(t, e, org, a.ID, 3, base.Add(3*time.Hour)); n != 1 || s {
		t.Errorf("failure after a new password: %d, %v; want 1, false", n, s)
	}
	if err := e.Store.LoginSucceeded(ctx, org, a.ID, base.Add(4*time.Hour)); err != nil {
		t.Errorf("sign-in after the reset: %v", err)
	}
}

// testEnableLifts: an update that clears SuspendedAt (enable) resets the count in its
// transaction; an update that keeps it (a rename) does not.
func testEnableLifts(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := suspended(t, e, org, "Oz")
	renamed := a
	renamed.Name, renamed.Version = "Oz B", a.Version+1
	if err := e.Store.Update(ctx, org, renamed, a, entry(org, "patch")); err != nil {
		t.Fatal(err)
	}
	if n, s := failed(t, e, org, a.ID, 5, base.Add(time.Hour)); n != 2 || !s {
		t.Errorf("failure after a rename: %d, %v; want 2, true (the suspension and count stand)", n, s)
	}
	enabled := renamed
	enabled.SuspendedAt, enabled.Version = nil, renamed.Version+1
	if err := e.Store.Update(ctx, org, enabled, renamed, entry(org, "enable")); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, org, a.ID); got.SuspendedAt != nil || got.Version != 4 {
		t.Errorf("after enable: suspendedAt %v, version %d", got.SuspendedAt, got.Version)
	}
	if n, s := failed(t, e, org, a.ID, 5, base.Add(time.Hour)); n != 1 || s {
		t.Errorf("failure after enable: %d, %v; want 1, false (the count was reset)", n, s)
	}
	// A stale enable (version moved) is refused and resets nothing.
	if err := e.Store.Update(ctx, org, enabled, renamed, entry(org, "enable")); !errors.Is(err, agents.ErrConflict) {
		t.Errorf("stale enable: %v, want ErrConflict", err)
	}
	if n, _ := failed(t, e, org, a.ID, 5, base.Add(time.Hour)); n != 2 {
		t.Errorf("failure after a refused enable: %d, want 2", n)
	}
}

// testSignInRefusals: the sign-in writes refuse an agent that does not exist or ids that
// cannot be stored (NotFound), a limit out of range and an entry of another area (an
// error, nothing counted).
func testSignInRefusals(t *testing.T, e Env) {
	ctx := context.Background()
	org := newOrg(t, e)
	a := create(t, e, org, agent("Pat", newEmail("pat"), "agent"))
	for _, c := range []struct{ org, id string }{{org, "agent_missing"}, {newOrg(t, e), a.ID}, {"bad org", a.ID}, {org, "bad id"}, {org, ""}} {
		if _, _, err := e.Store.LoginFailed(ctx, c.org, c.id, 5, base, suspendEntry(org)); problem.CodeOf(err) != problem.NotFound {
			t.Errorf("LoginFailed(%q, %q): %v, want NotFound", c.org, c.id, err)
		}
		if err := e.Store.LoginSucceeded(ctx, c.org, c.id, base); problem.CodeOf(err) != problem.NotFound {
			t.Errorf("LoginSucceeded(%q, %q): %v, want NotFound", c.org, c.id, err)
		}
	}
	if got, _ := get(t, e, org, "agent_missing"); got.ID != "" {
		t.Error("a failure of a missing agent made a profile")
	}
	if _, found, _ := e.Store.Credentials(ctx, org, "agent_missing"); found {
		t.Error("a failure of a missing agent made credentials")
	}
	other := suspendEntry(org)
	other.Area = "general"
	for name, call := range map[string]func() error{
		"limit 0": func() error { _, _, err := e.Store.LoginFailed(ctx, org, a.ID, 0, base, suspendEntry(org)); return err },
		"limit 21": func() error {
			_, _, err := e.Store.LoginFailed(ctx, org, a.ID, 21, base, suspendEntry(org))
			return err
		},
		"an entry of another area": func() error {
			_, _, err := e.Store.LoginFailed(ctx, org, a.ID, 1, base, other)
			return err
		},
	} {
		if err := call(); err == nil {
			t.Errorf("LoginFailed with %s was accepted", name)
		}
	}
	if n, s := failed(t, e, org, a.ID, 2, base); n != 1 || s {
		t.Errorf("first valid failure: %d, %v; want 1, false (refused calls count nothing)", n, s)
	}
	if got, _ := get(t, e, org, a.ID); got.Version != 1 {
		t.Errorf("refused calls moved the profile to version %d", got.Version)
	}
}
