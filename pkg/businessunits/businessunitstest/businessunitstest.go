// Package businessunitstest is the contract suite every businessunits.Store adapter must
// pass (package dynamo on DynamoDB Local, package bolt): records, names unique per
// organisation case-insensitively even under racing creates, the bound, version
// conditions, the members count and its contract, and an audit entry with every write.
package businessunitstest

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

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/businessunitsfn"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/problem"
)

// Harness is an adapter under test.
type Harness struct {
	Store businessunits.Store
	// Audit reads the audit log the store writes to.
	Audit interface {
		ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
	}
	// AddMember applies the member contract of package businessunits (an agent joins,
	// delta +1, or leaves, delta -1) in a write of its own, as the agents store will in
	// an agent's transaction.
	AddMember func(ctx context.Context, orgID, unitID string, delta int) error
}

// Run runs the suite against the harness newHarness returns. Harnesses may share a
// store: each test uses its own organisations.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"CreateGetList", testCreateGetList},
		{"EveryWriteIsAudited", testAudited},
		{"NamesAreUniqueCaseInsensitively", testNames},
		{"RacingCreatesOneWins", testRacingCreates},
		{"RacingServiceCreatesOne201", testRacingService},
		{"AtMostMaxUnits", testLimit},
		{"UpdateNeedsTheVersionRead", testUpdateVersion},
		{"RenameMovesTheName", testRename},
		{"DeleteRules", testDelete},
		{"MemberContract", testMembers},
		{"DeleteRacesAJoin", testDeleteRacesAJoin},
		{"MalformedIDs", testMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t))
		})
	}
}

func newOrg() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "org-" + hex.EncodeToString(b[:])
}

var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func unit(org, name string, chatbots ...string) businessunits.Unit {
	if chatbots == nil {
		chatbots = []string{}
	}
	return businessunits.Unit{OrgID: org, ID: ids.New(businessunits.IDPrefix), Name: name, NameKey: caseless.Key(name), ChatbotIDs: chatbots, Version: 1,
		CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func entry(org, action, field string) audit.Entry {
	return audit.Entry{ID: audit.NewID(base), OrgID: org, At: base, Actor: "admin@" + org, Area: businessunits.Area, Action: action,
		RequestID: "r-" + action, Changes: []audit.Change{{Field: field, From: json.RawMessage(`null`), To: json.RawMessage(`"x"`)}}}
}

func mustCreate(t *testing.T, h Harness, u businessunits.Unit) businessunits.Unit {
	t.Helper()
	if err := h.Store.Create(context.Background(), u, entry(u.OrgID, "create", u.ID+".name")); err != nil {
		t.Fatalf("Create(%s %q): %v", u.ID, u.Name, err)
	}
	return u
}

func mustGet(t *testing.T, h Harness, org, id string) (businessunits.Unit, bool) {
	t.Helper()
	u, found, err := h.Store.Get(context.Background(), org, id)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", org, id, err)
	}
	return u, found
}

func same(a, b businessunits.Unit) bool {
	return a.OrgID == b.OrgID && a.ID == b.ID && a.Name == b.Name && slices.Equal(a.ChatbotIDs, b.ChatbotIDs) &&
		a.Members == b.Members && a.Version == b.Version && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.UpdatedBy == b.UpdatedBy
}

func mustList(t *testing.T, h Harness, org string) []businessunits.Unit {
	t.Helper()
	us, err := h.Store.List(context.Background(), org)
	if err != nil {
		t.Fatalf("List(%s): %v", org, err)
	}
	return us
}

func testCreateGetList(t *testing.T, h Harness) {
	org := newOrg()
	a := mustCreate(t, h, unit(org, "Sales", "bot_1", "bot-2"))
	b := mustCreate(t, h, unit(org, "Support · 日本"))
	if got, found := mustGet(t, h, org, a.ID); !found || !same(got, a) {
		t.Errorf("Get: got %+v (found %v), want %+v", got, found, a)
	}
	if got, _ := mustGet(t, h, org, b.ID); got.ChatbotIDs == nil || len(got.ChatbotIDs) != 0 {
		t.Errorf("Get: chatbot ids %#v, want an empty list", got.ChatbotIDs)
	}
	if _, found := mustGet(t, h, org, ids.New(businessunits.IDPrefix)); found {
		t.Error("Get of an unknown unit: found")
	}
	if _, found := mustGet(t, h, newOrg(), a.ID); found {
		t.Error("Get of another organisation's unit: found")
	}
	list := mustList(t, h, org)
	slices.SortFunc(list, func(x, y businessunits.Unit) int { return strings.Compare(x.Name, y.Name) })
	if len(list) != 2 || !same(list[0], a) || !same(list[1], b) {
		t.Errorf("List: got %+v, want the two units", list)
	}
	if other := mustList(t, h, newOrg()); len(other) != 0 {
		t.Errorf("List of an organisation without units: %+v", other)
	}
}

func auditIDs(t *testing.T, h Harness, org string) map[string]audit.Entry {
	t.Helper()
	page, err := h.Audit.ListAudit(context.Background(), org, audit.Query{Area: businessunits.Area, Limit: 100})
	if err != nil {
		t.Fatalf("ListAudit(%s): %v", org, err)
	}
	out := map[string]audit.Entry{}
	for _, e := range page.Items {
		out[e.ID] = e
	}
	return out
}

func testAudited(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	u := unit(org, "Sales")
	create := entry(org, "create", u.ID+".name")
	if err := h.Store.Create(ctx, u, create); err != nil {
		t.Fatal(err)
	}
	next := u
	next.Name, next.NameKey, next.Version = "Sales EMEA", caseless.Key("Sales EMEA"), 2
	patch := entry(org, "patch", u.ID+".name")
	if err := h.Store.Update(ctx, u, next, patch); err != nil {
		t.Fatal(err)
	}
	del := entry(org, "delete", u.ID+".name")
	if err := h.Store.Delete(ctx, next, del); err != nil {
		t.Fatal(err)
	}
	got := auditIDs(t, h, org)
	for _, want := range []audit.Entry{create, patch, del} {
		e, ok := got[want.ID]
		if !ok {
			t.Errorf("the %s entry is not in the audit log", want.Action)
			continue
		}
		if e.Action != want.Action || e.Actor != want.Actor || e.RequestID != want.RequestID || len(e.Changes) != 1 ||
			e.Changes[0].Field != want.Changes[0].Field || !e.At.Equal(want.At) {
			t.Errorf("audit entry: got %+v, want %+v", e, want)
		}
	}
	if len(got) != 3 {
		t.Errorf("audit log holds %d entries, want 3", len(got))
	}
}

func testNames(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	mustCreate(t, h, unit(org, "Sales"))
	mustCreate(t, h, unit(org, "Straße"))
	mustCreate(t, h, unit(org, "Caf\u00e9"))
	for _, name := range []string{"sales", "SALES", "sAlEs", "STRASSE", "strasse", "Cafe\u0301", "CAF\u00c9"} {
		u := unit(org, name)
		e := entry(org, "create", u.ID+".name")
		if err := h.Store.Create(ctx, u, e); !errors.Is(err, businessunits.ErrNameTaken) {
			t.Errorf("Create %q after Sales, Straße, Café: got %v, want ErrNameTaken", name, err)
		}
		if _, found := mustGet(t, h, org, u.ID); found {
			t.Errorf("the refused %q was stored", name)
		}
		if _, ok := auditIDs(t, h, org)[e.ID]; ok {
			t.Errorf("the refused %q left an audit entry", name)
		}
	}
	// Other names, and the same names in another organisation, are free.
	mustCreate(t, h, unit(org, "Sales 2"))
	mustCreate(t, h, unit(org, "\uff33\uff41\uff4c\uff45\uff53")) // full-width: another name
	other := newOrg()
	mustCreate(t, h, unit(other, "SALES"))
	if n := len(mustList(t, h, org)); n != 5 {
		t.Errorf("List: %d units, want 5", n)
	}
}

// testRacingCreates: many creates of one name (in different cases) at once; exactly one
// is stored. A loser is ErrNameTaken, or contended (nothing written) and then
// ErrNameTaken when tried again.
func testRacingCreates(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	names := []string{"Billing", "billing", "BILLING", "BiLLing", "billinG", "Billing", "bILLING", "billing"}
	var wins sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for _, name := range names {
		wins.Add(1)
		go func() {
			defer wins.Done()
			u := unit(org, name)
			for try := 0; ; try++ {
				err := h.Store.Create(ctx, u, entry(org, "create", u.ID+".name"))
				switch {
				case err == nil:
					mu.Lock()
					won++
					mu.Unlock()
					return
				case errors.Is(err, businessunits.ErrNameTaken):
					return
				case errors.Is(err, optimistic.ErrContended) && try < 50:
					time.Sleep(time.Duration(try+1) * time.Millisecond)
				default:
					t.Errorf("Create %q: %v", name, err)
					return
				}
			}
		}()
	}
	wins.Wait()
	if won != 1 {
		t.Errorf("%d of the racing creates won, want 1", won)
	}
	if n := len(mustList(t, h, org)); n != 1 {
		t.Errorf("List: %d units, want 1", n)
	}
}

// testRacingService: the same race through the Service: one unit, every other caller a
// problem.Conflict (what the API answers 409 with).
func testRacingService(t *testing.T, h Harness) {
	org := newOrg()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin@" + org, OrgID: org, Role: auth.RoleAdmin})
	svc := businessunitsfn.NewService(h.Store, nil, nil)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Create(ctx, org, businessunitsfn.Fields{Name: []string{" Retail", "retail ", "RETAIL"}[i%3]})
		}()
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case problem.Is(err, problem.Conflict):
			conflicts++
		default:
			t.Errorf("Create: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("racing creates: %d succeeded and %d were conflicts, want 1 and %d", ok, conflicts, n-1)
	}
}

func testLimit(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	for i := range businessunits.MaxUnits {
		mustCreate(t, h, unit(org, fmt.Sprintf("Unit %03d", i)))
	}
	extra := unit(org, "One too many")
	if err := h.Store.Create(ctx, extra, entry(org, "create", extra.ID+".name")); !errors.Is(err, businessunits.ErrLimit) {
		t.Fatalf("Create beyond %d: got %v, want ErrLimit", businessunits.MaxUnits, err)
	}
	list := mustList(t, h, org)
	if len(list) != businessunits.MaxUnits {
		t.Fatalf("List: %d units, want %d", len(list), businessunits.MaxUnits)
	}
	// A delete frees a place.
	if err := h.Store.Delete(ctx, list[0], entry(org, "delete", list[0].ID+".name")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, h, extra)
}

func testUpdateVersion(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	u := mustCreate(t, h, unit(org, "Sales"))
	next := u
	next.ChatbotIDs, next.Version, next.UpdatedAt, next.UpdatedBy = []string{"bot_9"}, 2, base.Add(time.Minute), "manager@"+org
	if err := h.Store.Update(ctx, u, next, entry(org, "patch", u.ID+".chatbotIds")); err != nil {
		t.Fatal(err)
	}
	if got, _ := mustGet(t, h, org, u.ID); !same(got, next) {
		t.Errorf("after Update: got %+v, want %+v", got, next)
	}
	// Based on version 1 again: refused, nothing written.
	stale := u
	stale.Name, stale.NameKey, stale.Version = "Stale", caseless.Key("Stale"), 2
	e := entry(org, "patch", u.ID+".name")
	if err := h.Store.Update(ctx, u, stale, e); !errors.Is(err, businessunits.ErrChanged) {
		t.Errorf("Update from a stale version: got %v, want ErrChanged", err)
	}
	if got, _ := mustGet(t, h, org, u.ID); !same(got, next) {
		t.Errorf("after a refused Update: got %+v, want %+v", got, next)
	}
	if _, ok := auditIDs(t, h, org)[e.ID]; ok {
		t.Error("a refused Update left an audit entry")
	}
	// The name the stale write wanted stayed free.
	mustCreate(t, h, unit(org, "stale"))
	// A unit that is gone cannot be updated.
	never := unit(org, "Gone")
	gone := never
	gone.Version = 2
	if err := h.Store.Update(ctx, never, gone, entry(org, "patch", gone.ID+".name")); !errors.Is(err, businessunits.ErrChanged) {
		t.Errorf("Update of a unit never stored: got %v, want ErrChanged", err)
	}
	// Members are the agents store's: an Update leaves them as stored.
	if err := h.AddMember(ctx, org, u.ID, +1); err != nil {
		t.Fatal(err)
	}
	third := next
	third.Name, third.NameKey, third.Version = "Sales 3", caseless.Key("Sales 3"), 3
	if err := h.Store.Update(ctx, next, third, entry(org, "patch", u.ID+".name")); err != nil {
		t.Fatal(err)
	}
	if got, _ := mustGet(t, h, org, u.ID); got.Members != 1 || got.Version != 3 {
		t.Errorf("after AddMember and Update: members %d version %d, want 1 and 3", got.Members, got.Version)
	}
}

func testRename(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	a := mustCreate(t, h, unit(org, "Sales"))
	mustCreate(t, h, unit(org, "Support"))
	// Onto another unit's name (in another case): refused, nothing written.
	clash := a
	clash.Name, clash.NameKey, clash.Version = "SUPPORT", caseless.Key("SUPPORT"), 2
	if err := h.Store.Update(ctx, a, clash, entry(org, "patch", a.ID+".name")); !errors.Is(err, businessunits.ErrNameTaken) {
		t.Errorf("rename onto another unit's name: got %v, want ErrNameTaken", err)
	}
	if got, _ := mustGet(t, h, org, a.ID); got.Name != "Sales" || got.Version != 1 {
		t.Errorf("after a refused rename: %+v", got)
	}
	// A change of case keeps the name.
	cased := a
	cased.Name, cased.NameKey, cased.Version = "SALES", caseless.Key("SALES"), 2
	if err := h.Store.Update(ctx, a, cased, entry(org, "patch", a.ID+".name")); err != nil {
		t.Fatalf("rename to another case: %v", err)
	}
	// A rename frees the old name and takes the new one.
	moved := cased
	moved.Name, moved.NameKey, moved.Version = "Revenue", caseless.Key("Revenue"), 3
	if err := h.Store.Update(ctx, cased, moved, entry(org, "patch", a.ID+".name")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, h, unit(org, "sales"))
	taken := unit(org, "REVENUE")
	if err := h.Store.Create(ctx, taken, entry(org, "create", taken.ID+".name")); !errors.Is(err, businessunits.ErrNameTaken) {
		t.Errorf("Create with the new name: got %v, want ErrNameTaken", err)
	}
}

func testDelete(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	u := mustCreate(t, h, unit(org, "Sales"))
	stale := u
	stale.Version = 2
	if err := h.Store.Delete(ctx, stale, entry(org, "delete", u.ID+".name")); !errors.Is(err, businessunits.ErrChanged) {
		t.Errorf("Delete at a version not stored: got %v, want ErrChanged", err)
	}
	if err := h.AddMember(ctx, org, u.ID, +1); err != nil {
		t.Fatal(err)
	}
	e := entry(org, "delete", u.ID+".name")
	if err := h.Store.Delete(ctx, u, e); !errors.Is(err, businessunits.ErrHasMembers) {
		t.Errorf("Delete with a member: got %v, want ErrHasMembers", err)
	}
	if _, found := mustGet(t, h, org, u.ID); !found {
		t.Error("a unit with a member was deleted")
	}
	if _, ok := auditIDs(t, h, org)[e.ID]; ok {
		t.Error("a refused Delete left an audit entry")
	}
	if err := h.AddMember(ctx, org, u.ID, -1); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.Delete(ctx, u, e); err != nil {
		t.Fatalf("Delete once the member left: %v", err)
	}
	if _, found := mustGet(t, h, org, u.ID); found {
		t.Error("Get after Delete: found")
	}
	if _, ok := auditIDs(t, h, org)[e.ID]; !ok {
		t.Error("the Delete left no audit entry")
	}
	if err := h.Store.Delete(ctx, u, entry(org, "delete", u.ID+".name")); !errors.Is(err, businessunits.ErrChanged) {
		t.Errorf("Delete of a deleted unit: got %v, want ErrChanged", err)
	}
	// The name is free again.
	mustCreate(t, h, unit(org, "SALES"))
}

func testMembers(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	if err := h.AddMember(ctx, org, ids.New(businessunits.IDPrefix), +1); !errors.Is(err, businessunits.ErrNoSuchUnit) {
		t.Errorf("joining a unit that does not exist: got %v, want ErrNoSuchUnit", err)
	}
	u := mustCreate(t, h, unit(org, "Sales"))
	if err := h.AddMember(ctx, org, u.ID, -1); err == nil {
		t.Error("leaving a unit with no members: no error")
	}
	for range 3 {
		if err := h.AddMember(ctx, org, u.ID, +1); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.AddMember(ctx, org, u.ID, -1); err != nil {
		t.Fatal(err)
	}
	got, _ := mustGet(t, h, org, u.ID)
	if got.Members != 2 || got.Version != 1 || got.Name != "Sales" {
		t.Errorf("after 3 joins and a leave: %+v, want 2 members at version 1", got)
	}
	if list := mustList(t, h, org); len(list) != 1 || list[0].Members != 2 {
		t.Errorf("List: %+v, want the unit with 2 members", list)
	}
}

// testDeleteRacesAJoin: a delete and an agent joining the unit at once never both
// succeed (the unit would be gone with a member).
func testDeleteRacesAJoin(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	for round := range 10 {
		u := mustCreate(t, h, unit(org, fmt.Sprintf("Round %d", round)))
		var delErr, joinErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); delErr = h.Store.Delete(ctx, u, entry(org, "delete", u.ID+".name")) }()
		go func() { defer wg.Done(); joinErr = h.AddMember(ctx, org, u.ID, +1) }()
		wg.Wait()
		if delErr == nil && joinErr == nil {
			t.Fatalf("round %d: both the delete and the join succeeded", round)
		}
		if delErr != nil && !errors.Is(delErr, businessunits.ErrHasMembers) && !errors.Is(delErr, optimistic.ErrContended) {
			t.Errorf("round %d: Delete: %v", round, delErr)
		}
		if joinErr != nil && !errors.Is(joinErr, businessunits.ErrNoSuchUnit) && !errors.Is(joinErr, optimistic.ErrContended) {
			t.Errorf("round %d: AddMember: %v", round, joinErr)
		}
	}
}

func testMalformed(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, org := range []string{"", "a#b", "a\x00b", strings.Repeat("x", 65), "-a"} {
		if _, err := h.Store.List(ctx, org); !problem.Is(err, problem.NotFound) {
			t.Errorf("List(%q): got %v, want NotFound", org, err)
		}
		if _, _, err := h.Store.Get(ctx, org, "bu_x"); !problem.Is(err, problem.NotFound) {
			t.Errorf("Get(%q): got %v, want NotFound", org, err)
		}
		u := unit("acme", "Sales")
		u.OrgID = org
		e := entry(org, "create", "x")
		if err := h.Store.Create(ctx, u, e); !problem.Is(err, problem.NotFound) {
			t.Errorf("Create in %q: got %v, want NotFound", org, err)
		}
	}
	for _, id := range []string{"", "bu#1", "bu/1", "bu 1"} {
		if _, _, err := h.Store.Get(ctx, "acme", id); !problem.Is(err, problem.NotFound) {
			t.Errorf("Get(acme, %q): got %v, want NotFound", id, err)
		}
	}
	// An audit entry of another organisation or area is a bug, refused.
	u := unit(newOrg(), "Sales")
	if err := h.Store.Create(ctx, u, entry("other", "create", "x")); err == nil {
		t.Error("Create with another organisation's audit entry: no error")
	}
}
