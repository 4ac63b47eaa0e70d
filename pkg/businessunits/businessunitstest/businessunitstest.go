// Package businessunitstest is the contract suite every businessunits.Store adapter must
// pass (package dynamo on DynamoDB Local, package bolt): records, the members count and
// its contract, and the checks of every store of named records (package
// optimistictest): names unique per organisation case-insensitively even under racing
// creates, the bound, version conditions, and an audit entry with every write.
package businessunitstest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/businessunitsfn"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic/optimistictest"
	"github.com/convrs/admin/pkg/problem"
)

// Harness is an adapter under test.
type Harness struct {
	Store businessunits.Store
	// Audit reads the audit log the store writes to.
	Audit optimistictest.Lister
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
		{"NamesAreUniqueCaseInsensitively", func(t *testing.T, h Harness) { units(h).CheckNames(t) }},
		{"RacingCreatesOneWins", func(t *testing.T, h Harness) { optimistictest.RaceCreates(t, units(h)) }},
		{"RacingServiceCreatesOne201", testRacingService},
		{"AtMostMaxUnits", func(t *testing.T, h Harness) { units(h).CheckLimit(t, newOrg()) }},
		{"UpdateNeedsTheVersionRead", testUpdateVersion},
		{"RenameMovesTheName", func(t *testing.T, h Harness) { units(h).CheckRename(t) }},
		{"DeleteRules", func(t *testing.T, h Harness) { units(h).CheckDelete(t, members(h)) }},
		{"MemberContract", testMembers},
		{"DeleteRacesAJoin", func(t *testing.T, h Harness) { units(h).CheckDeleteRaces(t, members(h)) }},
		{"MalformedIDs", testMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t))
		})
	}
}

var (
	newOrg = optimistictest.NewOrg
	base   = optimistictest.Base
)

func unit(org, name string, chatbots ...string) businessunits.Unit {
	if chatbots == nil {
		chatbots = []string{}
	}
	return businessunits.Unit{OrgID: org, ID: ids.New(businessunits.IDPrefix), Name: name, NameKey: caseless.Key(name), ChatbotIDs: chatbots, Version: 1,
		CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func entry(org, action, field string) audit.Entry {
	return optimistictest.Entry(org, businessunits.Area, action, field)
}

// units is the harness's store as the checks of named records see it.
func units(h Harness) *optimistictest.Kind[businessunits.Unit] {
	return &optimistictest.Kind[businessunits.Unit]{
		What: "business unit", Area: businessunits.Area, Audit: h.Audit, Max: businessunits.MaxUnits,
		ErrNameTaken: businessunits.ErrNameTaken, ErrLimit: businessunits.ErrLimit, ErrChanged: businessunits.ErrChanged,
		New: func(org, name string) businessunits.Unit { return unit(org, name) },
		Fields: func(u *businessunits.Unit) (id, name, nameKey *string, version *int64) {
			return &u.ID, &u.Name, &u.NameKey, &u.Version
		},
		Same:   same,
		Create: h.Store.Create, Get: h.Store.Get, List: h.Store.List, Update: h.Store.Update, Delete: h.Store.Delete,
	}
}

// members makes a unit hold one more member, as an agent that joins it.
func members(h Harness) optimistictest.Holder[businessunits.Unit] {
	return optimistictest.Holder[businessunits.Unit]{
		Hold: func(ctx context.Context, org string, u businessunits.Unit) (func() error, error) {
			return func() error { return h.AddMember(ctx, org, u.ID, -1) }, h.AddMember(ctx, org, u.ID, +1)
		},
		ErrGone: businessunits.ErrNoSuchUnit, ErrHolds: businessunits.ErrHasMembers,
	}
}

func mustCreate(t *testing.T, h Harness, u businessunits.Unit) businessunits.Unit {
	t.Helper()
	return units(h).MustCreate(t, u.OrgID, u)
}

func mustGet(t *testing.T, h Harness, org, id string) (businessunits.Unit, bool) {
	t.Helper()
	return units(h).MustGet(t, org, id)
}

func same(a, b businessunits.Unit) bool {
	return a.OrgID == b.OrgID && a.ID == b.ID && a.Name == b.Name && slices.Equal(a.ChatbotIDs, b.ChatbotIDs) &&
		a.Members == b.Members && a.Version == b.Version && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.UpdatedBy == b.UpdatedBy
}

func mustList(t *testing.T, h Harness, org string) []businessunits.Unit {
	t.Helper()
	return units(h).MustList(t, org)
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
	list := mustList(t, h, org) // by name
	if len(list) != 2 || !same(list[0], a) || !same(list[1], b) {
		t.Errorf("List: got %+v, want the two units", list)
	}
	if other := mustList(t, h, newOrg()); len(other) != 0 {
		t.Errorf("List of an organisation without units: %+v", other)
	}
}

func testAudited(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	u := unit(org, "Sales")
	next := u
	next.Name, next.NameKey, next.Version = "Sales EMEA", caseless.Key("Sales EMEA"), 2
	optimistictest.CheckAudited(t, h.Audit, org, businessunits.Area,
		optimistictest.Step{Action: "create", Run: func(e audit.Entry) error { return h.Store.Create(ctx, u, e) }},
		optimistictest.Step{Action: "patch", Run: func(e audit.Entry) error { return h.Store.Update(ctx, u, next, e) }},
		optimistictest.Step{Action: "delete", Run: func(e audit.Entry) error { return h.Store.Delete(ctx, next, e) }})
}

// testRacingService: racing creates through the Service: one unit, every other caller a
// problem.Conflict.
func testRacingService(t *testing.T, h Harness) {
	org := newOrg()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin@" + org, OrgID: org, Role: auth.RoleAdmin})
	svc := businessunitsfn.NewService(h.Store, nil, nil)
	optimistictest.RaceService(t, 6, func(i int) error {
		_, err := svc.Create(ctx, org, businessunitsfn.Fields{Name: []string{" Retail", "retail ", "RETAIL"}[i%3]})
		return err
	})
}

// testUpdateVersion: the checks of versions of every named record, then a change of
// the chatbots, and the members left as stored by an Update.
func testUpdateVersion(t *testing.T, h Harness) {
	units(h).CheckVersions(t)
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
