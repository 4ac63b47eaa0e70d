// Package tagstest is the contract suite every tags.Store adapter must pass (package
// dynamo on DynamoDB Local, package bolt): records, names unique per organisation
// case-insensitively (tags among tags, groups among groups) even under racing creates,
// the bounds, version conditions, each group's count of its tags kept with every tag
// write, and an audit entry with every write.
package tagstest

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
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/tags"
	"github.com/convrs/admin/pkg/tagsfn"
)

// Harness is an adapter under test.
type Harness struct {
	Store tags.Store
	// Audit reads the audit log the store writes to.
	Audit interface {
		ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
	}
}

// Run runs the suite against the harness newHarness returns. Harnesses may share a
// store: each test uses its own organisations.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"GroupsCreateGetList", testGroups},
		{"TagsCreateGetList", testTags},
		{"EveryWriteIsAudited", testAudited},
		{"NamesAreUniqueCaseInsensitively", testNames},
		{"RacingCreatesOneWins", testRacing},
		{"RacingServiceCreatesOne201", testRacingService},
		{"AtMostMaxGroupsAndMaxTags", testLimits},
		{"GroupsCountTheirTags", testCounts},
		{"TagInAGroupThatIsGone", testNoGroup},
		{"GroupDeleteRules", testGroupDelete},
		{"GroupDeleteRacesATag", testGroupDeleteRace},
		{"UpdatesNeedTheVersionRead", testVersions},
		{"RenamesMoveNames", testRenames},
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

func group(org, name string) tags.Group {
	return tags.Group{OrgID: org, ID: ids.New(tags.GroupIDPrefix), Name: name, NameKey: caseless.Key(name), Version: 1, CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func tag(org, name, groupID string) tags.Tag {
	return tags.Tag{OrgID: org, ID: ids.New(tags.TagIDPrefix), Name: name, NameKey: caseless.Key(name), GroupID: groupID, AppliesTo: tags.AppliesToBoth,
		Version: 1, CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func entry(org, action, field string) audit.Entry {
	return audit.Entry{ID: audit.NewID(base), OrgID: org, At: base, Actor: "admin@" + org, Area: tags.Area, Action: action,
		RequestID: "r-" + action, Changes: []audit.Change{{Field: field, From: json.RawMessage(`null`), To: json.RawMessage(`"x"`)}}}
}

func mustGroup(t *testing.T, h Harness, g tags.Group) tags.Group {
	t.Helper()
	if err := h.Store.CreateGroup(context.Background(), g, entry(g.OrgID, "create", g.ID+".name")); err != nil {
		t.Fatalf("CreateGroup %q: %v", g.Name, err)
	}
	return g
}

func mustTag(t *testing.T, h Harness, tg tags.Tag) tags.Tag {
	t.Helper()
	if err := h.Store.CreateTag(context.Background(), tg, entry(tg.OrgID, "create", tg.ID+".name")); err != nil {
		t.Fatalf("CreateTag %q: %v", tg.Name, err)
	}
	return tg
}

func getGroup(t *testing.T, h Harness, org, id string) (tags.Group, bool) {
	t.Helper()
	g, found, err := h.Store.Group(context.Background(), org, id)
	if err != nil {
		t.Fatalf("Group(%s, %s): %v", org, id, err)
	}
	return g, found
}

func getTag(t *testing.T, h Harness, org, id string) (tags.Tag, bool) {
	t.Helper()
	tg, found, err := h.Store.Tag(context.Background(), org, id)
	if err != nil {
		t.Fatalf("Tag(%s, %s): %v", org, id, err)
	}
	return tg, found
}

func sameGroup(a, b tags.Group) bool {
	return a.OrgID == b.OrgID && a.ID == b.ID && a.Name == b.Name && a.Tags == b.Tags && a.Version == b.Version &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && a.UpdatedBy == b.UpdatedBy
}

func sameTag(a, b tags.Tag) bool {
	return a.OrgID == b.OrgID && a.ID == b.ID && a.Name == b.Name && a.GroupID == b.GroupID && a.AppliesTo == b.AppliesTo &&
		a.Color == b.Color && a.Version == b.Version && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.UpdatedBy == b.UpdatedBy
}

func listGroups(t *testing.T, h Harness, org string) []tags.Group {
	t.Helper()
	gs, err := h.Store.Groups(context.Background(), org)
	if err != nil {
		t.Fatalf("Groups(%s): %v", org, err)
	}
	slices.SortFunc(gs, func(a, b tags.Group) int { return strings.Compare(a.Name, b.Name) })
	return gs
}

func listTags(t *testing.T, h Harness, org string) []tags.Tag {
	t.Helper()
	ts, err := h.Store.Tags(context.Background(), org)
	if err != nil {
		t.Fatalf("Tags(%s): %v", org, err)
	}
	slices.SortFunc(ts, func(a, b tags.Tag) int { return strings.Compare(a.Name, b.Name) })
	return ts
}

func testGroups(t *testing.T, h Harness) {
	org := newOrg()
	a := mustGroup(t, h, group(org, "Customer type"))
	b := mustGroup(t, h, group(org, "Priorität"))
	if got, found := getGroup(t, h, org, a.ID); !found || !sameGroup(got, a) {
		t.Errorf("Group: got %+v (found %v), want %+v", got, found, a)
	}
	if _, found := getGroup(t, h, org, ids.New(tags.GroupIDPrefix)); found {
		t.Error("Group of an unknown id: found")
	}
	if _, found := getGroup(t, h, newOrg(), a.ID); found {
		t.Error("Group of another organisation: found")
	}
	if gs := listGroups(t, h, org); len(gs) != 2 || !sameGroup(gs[0], a) || !sameGroup(gs[1], b) {
		t.Errorf("Groups: got %+v", gs)
	}
	if gs := listGroups(t, h, newOrg()); len(gs) != 0 {
		t.Errorf("Groups of an organisation without any: %+v", gs)
	}
	if ts := listTags(t, h, org); len(ts) != 0 {
		t.Errorf("Tags of an organisation with only groups: %+v", ts)
	}
}

func testTags(t *testing.T, h Harness) {
	org := newOrg()
	g := mustGroup(t, h, group(org, "Customer type"))
	a := tag(org, "VIP", g.ID)
	a.Color, a.AppliesTo = "#FFD700", tags.AppliesToUsers
	mustTag(t, h, a)
	b := mustTag(t, h, tag(org, "Complaint", ""))
	if got, found := getTag(t, h, org, a.ID); !found || !sameTag(got, a) {
		t.Errorf("Tag: got %+v (found %v), want %+v", got, found, a)
	}
	if got, _ := getTag(t, h, org, b.ID); !sameTag(got, b) || got.GroupID != "" || got.Color != "" {
		t.Errorf("Tag without group or colour: got %+v, want %+v", got, b)
	}
	if _, found := getTag(t, h, newOrg(), a.ID); found {
		t.Error("Tag of another organisation: found")
	}
	if ts := listTags(t, h, org); len(ts) != 2 || !sameTag(ts[0], b) || !sameTag(ts[1], a) {
		t.Errorf("Tags: got %+v", ts)
	}
	if gs := listGroups(t, h, org); len(gs) != 1 || gs[0].Tags != 1 {
		t.Errorf("Groups: got %+v, want the group counting 1 tag", gs)
	}
}

func auditOf(t *testing.T, h Harness, org string) map[string]audit.Entry {
	t.Helper()
	page, err := h.Audit.ListAudit(context.Background(), org, audit.Query{Area: tags.Area, Limit: 100})
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
	g := group(org, "Group")
	tg := tag(org, "Tag", g.ID)
	next := g
	next.Name, next.NameKey, next.Version = "Group 2", caseless.Key("Group 2"), 2
	tnext := tg
	tnext.Name, tnext.NameKey, tnext.GroupID, tnext.Version = "Tag 2", caseless.Key("Tag 2"), "", 2
	var want []audit.Entry
	for _, step := range []struct {
		action string
		run    func(e audit.Entry) error
	}{
		{"create", func(e audit.Entry) error { return h.Store.CreateGroup(ctx, g, e) }},
		{"create", func(e audit.Entry) error { return h.Store.CreateTag(ctx, tg, e) }},
		{"patch", func(e audit.Entry) error { return h.Store.UpdateGroup(ctx, g, next, e) }},
		{"patch", func(e audit.Entry) error { return h.Store.UpdateTag(ctx, tg, tnext, e) }},
		{"delete", func(e audit.Entry) error { return h.Store.DeleteTag(ctx, tnext, e) }},
		{"delete", func(e audit.Entry) error { return h.Store.DeleteGroup(ctx, next, e) }},
	} {
		e := entry(org, step.action, "x.name")
		if err := step.run(e); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		want = append(want, e)
	}
	got := auditOf(t, h, org)
	for _, w := range want {
		e, ok := got[w.ID]
		if !ok || e.Action != w.Action || e.Actor != w.Actor || e.RequestID != w.RequestID || len(e.Changes) != 1 || !e.At.Equal(w.At) {
			t.Errorf("audit entry %s (%s): got %+v, want %+v", w.ID, w.Action, e, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("audit log holds %d entries, want %d", len(got), len(want))
	}
}

func testNames(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	mustGroup(t, h, group(org, "Region"))
	mustTag(t, h, tag(org, "Straße", ""))
	for _, name := range []string{"region", "REGION", "ReGiOn"} {
		g := group(org, name)
		e := entry(org, "create", g.ID+".name")
		if err := h.Store.CreateGroup(ctx, g, e); !errors.Is(err, tags.ErrNameTaken) {
			t.Errorf("CreateGroup %q after Region: got %v, want ErrNameTaken", name, err)
		}
		if _, ok := auditOf(t, h, org)[e.ID]; ok {
			t.Errorf("the refused group %q left an audit entry", name)
		}
	}
	for _, name := range []string{"STRASSE", "strasse", "Stra\u00dfe"} {
		tg := tag(org, name, "")
		if err := h.Store.CreateTag(ctx, tg, entry(org, "create", tg.ID+".name")); !errors.Is(err, tags.ErrNameTaken) {
			t.Errorf("CreateTag %q after Straße: got %v, want ErrNameTaken", name, err)
		}
		if _, found := getTag(t, h, org, tg.ID); found {
			t.Errorf("the refused tag %q was stored", name)
		}
	}
	// Tags and groups are names of their own kind; another organisation's are its own.
	mustTag(t, h, tag(org, "Region", ""))
	mustGroup(t, h, group(org, "Strasse"))
	other := newOrg()
	mustGroup(t, h, group(other, "REGION"))
	mustTag(t, h, tag(other, "strasse", ""))
}

func testRacing(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	groupsWon, tagsWon := 0, 0
	for i := range n {
		wg.Add(2)
		name := []string{"Urgent", "urgent", "URGENT", "uRGENT"}[i%4]
		retry := func(create func() error, won *int) {
			defer wg.Done()
			for try := 0; ; try++ {
				err := create()
				switch {
				case err == nil:
					mu.Lock()
					*won++
					mu.Unlock()
					return
				case errors.Is(err, tags.ErrNameTaken):
					return
				case errors.Is(err, optimistic.ErrContended) && try < 50:
					time.Sleep(time.Duration(try+1) * time.Millisecond)
				default:
					t.Errorf("create %q: %v", name, err)
					return
				}
			}
		}
		g, tg := group(org, name), tag(org, name, "")
		go retry(func() error { return h.Store.CreateGroup(ctx, g, entry(org, "create", g.ID+".name")) }, &groupsWon)
		go retry(func() error { return h.Store.CreateTag(ctx, tg, entry(org, "create", tg.ID+".name")) }, &tagsWon)
	}
	wg.Wait()
	if groupsWon != 1 || tagsWon != 1 {
		t.Errorf("racing creates: %d groups and %d tags won, want 1 and 1", groupsWon, tagsWon)
	}
	if gs, ts := listGroups(t, h, org), listTags(t, h, org); len(gs) != 1 || len(ts) != 1 {
		t.Errorf("after the race: %d groups and %d tags, want 1 and 1", len(gs), len(ts))
	}
}

func testRacingService(t *testing.T, h Harness) {
	org := newOrg()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "marketing@" + org, OrgID: org, Role: auth.RoleMarketing})
	svc := tagsfn.NewService(h.Store, nil)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.CreateTag(ctx, org, tagsfn.TagFields{Name: []string{"Lead", " lead", "LEAD "}[i%3], AppliesTo: tags.AppliesToChats})
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
			t.Errorf("CreateTag: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("racing creates: %d succeeded and %d were conflicts, want 1 and %d", ok, conflicts, n-1)
	}
}

func testLimits(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	var last tags.Group
	for i := range tags.MaxGroups {
		last = mustGroup(t, h, group(org, fmt.Sprintf("Group %03d", i)))
	}
	extra := group(org, "One group too many")
	if err := h.Store.CreateGroup(ctx, extra, entry(org, "create", extra.ID+".name")); !errors.Is(err, tags.ErrLimit) {
		t.Fatalf("CreateGroup beyond %d: got %v, want ErrLimit", tags.MaxGroups, err)
	}
	if err := h.Store.DeleteGroup(ctx, last, entry(org, "delete", last.ID+".name")); err != nil {
		t.Fatal(err)
	}
	mustGroup(t, h, extra)
	if testing.Short() {
		t.Log("-short: the MaxTags bound is left out")
		return
	}
	var lastTag tags.Tag
	for i := range tags.MaxTags {
		lastTag = mustTag(t, h, tag(org, fmt.Sprintf("Tag %04d", i), ""))
	}
	extraTag := tag(org, "One tag too many", "")
	if err := h.Store.CreateTag(ctx, extraTag, entry(org, "create", extraTag.ID+".name")); !errors.Is(err, tags.ErrLimit) {
		t.Fatalf("CreateTag beyond %d: got %v, want ErrLimit", tags.MaxTags, err)
	}
	if n := len(listTags(t, h, org)); n != tags.MaxTags {
		t.Fatalf("Tags: %d, want %d", n, tags.MaxTags)
	}
	if err := h.Store.DeleteTag(ctx, lastTag, entry(org, "delete", lastTag.ID+".name")); err != nil {
		t.Fatal(err)
	}
	mustTag(t, h, extraTag)
}

func groupCount(t *testing.T, h Harness, org, id string) int {
	t.Helper()
	g, found := getGroup(t, h, org, id)
	if !found {
		t.Fatalf("group %s is gone", id)
	}
	return g.Tags
}

func testCounts(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	a := mustGroup(t, h, group(org, "A"))
	b := mustGroup(t, h, group(org, "B"))
	t1 := mustTag(t, h, tag(org, "One", a.ID))
	mustTag(t, h, tag(org, "Two", a.ID))
	if n := groupCount(t, h, org, a.ID); n != 2 {
		t.Errorf("group A counts %d tags, want 2", n)
	}
	// A move takes the count along.
	moved := t1
	moved.GroupID, moved.Version = b.ID, 2
	if err := h.Store.UpdateTag(ctx, t1, moved, entry(org, "patch", t1.ID+".groupId")); err != nil {
		t.Fatal(err)
	}
	if na, nb := groupCount(t, h, org, a.ID), groupCount(t, h, org, b.ID); na != 1 || nb != 1 {
		t.Errorf("after a move: A %d, B %d, want 1 and 1", na, nb)
	}
	// Out of any group.
	out := moved
	out.GroupID, out.Version = "", 3
	if err := h.Store.UpdateTag(ctx, moved, out, entry(org, "patch", t1.ID+".groupId")); err != nil {
		t.Fatal(err)
	}
	if nb := groupCount(t, h, org, b.ID); nb != 0 {
		t.Errorf("after leaving B: B counts %d, want 0", nb)
	}
	// A rename of the group keeps its count and version rules.
	g, _ := getGroup(t, h, org, a.ID)
	renamed := g
	renamed.Name, renamed.NameKey, renamed.Version = "A renamed", caseless.Key("A renamed"), 2
	if err := h.Store.UpdateGroup(ctx, g, renamed, entry(org, "patch", a.ID+".name")); err != nil {
		t.Fatal(err)
	}
	if got, _ := getGroup(t, h, org, a.ID); got.Tags != 1 || got.Name != "A renamed" || got.Version != 2 {
		t.Errorf("after the rename: %+v, want 1 tag at version 2", got)
	}
	// A tag's delete uncounts it; a tag added does not change the group's version.
	two := listTags(t, h, org)[1]
	if two.Name != "Two" {
		t.Fatalf("tags: %+v", listTags(t, h, org))
	}
	if err := h.Store.DeleteTag(ctx, two, entry(org, "delete", two.ID+".name")); err != nil {
		t.Fatal(err)
	}
	if got, _ := getGroup(t, h, org, a.ID); got.Tags != 0 || got.Version != 2 {
		t.Errorf("after the delete: %+v, want 0 tags at version 2", got)
	}
}

func testNoGroup(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	tg := tag(org, "Orphan", ids.New(tags.GroupIDPrefix))
	e := entry(org, "create", tg.ID+".name")
	if err := h.Store.CreateTag(ctx, tg, e); !errors.Is(err, tags.ErrNoGroup) {
		t.Errorf("CreateTag in a group that does not exist: got %v, want ErrNoGroup", err)
	}
	if _, ok := auditOf(t, h, org)[e.ID]; ok {
		t.Error("the refused tag left an audit entry")
	}
	free := mustTag(t, h, tag(org, "orphan", "")) // the name stayed free
	moved := free
	moved.GroupID, moved.Version = ids.New(tags.GroupIDPrefix), 2
	if err := h.Store.UpdateTag(ctx, free, moved, entry(org, "patch", free.ID+".groupId")); !errors.Is(err, tags.ErrNoGroup) {
		t.Errorf("UpdateTag into a group that does not exist: got %v, want ErrNoGroup", err)
	}
	if got, _ := getTag(t, h, org, free.ID); !sameTag(got, free) {
		t.Errorf("after a refused move: %+v, want %+v", got, free)
	}
	// A missing group and a taken name at once: the group is told first.
	both := tag(org, "ORPHAN", ids.New(tags.GroupIDPrefix))
	if err := h.Store.CreateTag(ctx, both, entry(org, "create", both.ID+".name")); !errors.Is(err, tags.ErrNoGroup) {
		t.Errorf("CreateTag in a missing group with a taken name: got %v, want ErrNoGroup", err)
	}
	mustTag(t, h, tag(org, "Taken", ""))
	moved.Name, moved.NameKey = "taken", caseless.Key("taken")
	if err := h.Store.UpdateTag(ctx, free, moved, entry(org, "patch", free.ID+".groupId")); !errors.Is(err, tags.ErrNoGroup) {
		t.Errorf("UpdateTag into a missing group onto a taken name: got %v, want ErrNoGroup", err)
	}
	// A group of another organisation is no group of this one.
	og := mustGroup(t, h, group(newOrg(), "Elsewhere"))
	if err := h.Store.CreateTag(ctx, tag(org, "Foreign", og.ID), entry(org, "create", "x.name")); !errors.Is(err, tags.ErrNoGroup) {
		t.Errorf("CreateTag in another organisation's group: got %v, want ErrNoGroup", err)
	}
}

func testGroupDelete(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	g := mustGroup(t, h, group(org, "Topics"))
	tg := mustTag(t, h, tag(org, "Billing", g.ID))
	e := entry(org, "delete", g.ID+".name")
	if err := h.Store.DeleteGroup(ctx, g, e); !errors.Is(err, tags.ErrGroupNotEmpty) {
		t.Errorf("DeleteGroup holding a tag: got %v, want ErrGroupNotEmpty", err)
	}
	if _, ok := auditOf(t, h, org)[e.ID]; ok {
		t.Error("a refused DeleteGroup left an audit entry")
	}
	stale := g
	stale.Version = 5
	if err := h.Store.DeleteGroup(ctx, stale, entry(org, "delete", g.ID+".name")); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("DeleteGroup at a version not stored: got %v, want ErrChanged", err)
	}
	if err := h.Store.DeleteTag(ctx, tg, entry(org, "delete", tg.ID+".name")); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DeleteGroup(ctx, g, e); err != nil {
		t.Fatalf("DeleteGroup once empty: %v", err)
	}
	if _, found := getGroup(t, h, org, g.ID); found {
		t.Error("Group after DeleteGroup: found")
	}
	if _, ok := auditOf(t, h, org)[e.ID]; !ok {
		t.Error("DeleteGroup left no audit entry")
	}
	if err := h.Store.DeleteGroup(ctx, g, entry(org, "delete", g.ID+".name")); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("DeleteGroup of a deleted group: got %v, want ErrChanged", err)
	}
	if err := h.Store.DeleteTag(ctx, tg, entry(org, "delete", tg.ID+".name")); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("DeleteTag of a deleted tag: got %v, want ErrChanged", err)
	}
	mustGroup(t, h, group(org, "TOPICS"))
	mustTag(t, h, tag(org, "billing", ""))
}

// testGroupDeleteRace: a group's delete and a tag created in it at once never both
// succeed (the tag would be in a group that is gone).
func testGroupDeleteRace(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	for round := range 10 {
		g := mustGroup(t, h, group(org, fmt.Sprintf("Round %d", round)))
		var delErr, tagErr error
		var wg sync.WaitGroup
		wg.Add(2)
		tg := tag(org, fmt.Sprintf("Tag %d", round), g.ID)
		go func() { defer wg.Done(); delErr = h.Store.DeleteGroup(ctx, g, entry(org, "delete", g.ID+".name")) }()
		go func() { defer wg.Done(); tagErr = h.Store.CreateTag(ctx, tg, entry(org, "create", tg.ID+".name")) }()
		wg.Wait()
		if delErr == nil && tagErr == nil {
			t.Fatalf("round %d: both the group's delete and the tag's create succeeded", round)
		}
		if delErr != nil && !errors.Is(delErr, tags.ErrGroupNotEmpty) && !errors.Is(delErr, optimistic.ErrContended) {
			t.Errorf("round %d: DeleteGroup: %v", round, delErr)
		}
		if tagErr != nil && !errors.Is(tagErr, tags.ErrNoGroup) && !errors.Is(tagErr, optimistic.ErrContended) {
			t.Errorf("round %d: CreateTag: %v", round, tagErr)
		}
	}
}

func testVersions(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	tg := tag(org, "Hot", "")
	tg.Color = "#FF0000"
	mustTag(t, h, tg)
	next := tg
	next.Color, next.AppliesTo, next.Version, next.UpdatedAt = "", tags.AppliesToChats, 2, base.Add(time.Minute)
	if err := h.Store.UpdateTag(ctx, tg, next, entry(org, "patch", tg.ID+".color")); err != nil {
		t.Fatal(err)
	}
	if got, _ := getTag(t, h, org, tg.ID); !sameTag(got, next) {
		t.Errorf("after UpdateTag: got %+v, want %+v (colour removed)", got, next)
	}
	stale := tg
	stale.Name, stale.NameKey, stale.Version = "Cold", caseless.Key("Cold"), 2
	e := entry(org, "patch", tg.ID+".name")
	if err := h.Store.UpdateTag(ctx, tg, stale, e); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("UpdateTag from a stale version: got %v, want ErrChanged", err)
	}
	if _, ok := auditOf(t, h, org)[e.ID]; ok {
		t.Error("a refused UpdateTag left an audit entry")
	}
	mustTag(t, h, tag(org, "cold", "")) // the stale write's name stayed free
	stale2 := next
	stale2.Version = 9
	if err := h.Store.DeleteTag(ctx, stale2, entry(org, "delete", tg.ID+".name")); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("DeleteTag at a version not stored: got %v, want ErrChanged", err)
	}
	g := mustGroup(t, h, group(org, "G"))
	gs := g
	gs.Name, gs.NameKey, gs.Version = "H", caseless.Key("H"), 2
	if err := h.Store.UpdateGroup(ctx, gs, tags.Group{OrgID: org, ID: g.ID, Name: "I", NameKey: caseless.Key("I"), Version: 3, CreatedAt: base, UpdatedAt: base, UpdatedBy: "x"},
		entry(org, "patch", g.ID+".name")); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("UpdateGroup from a stale version: got %v, want ErrChanged", err)
	}
	if got, _ := getGroup(t, h, org, g.ID); !sameGroup(got, g) {
		t.Errorf("after a refused UpdateGroup: %+v, want %+v", got, g)
	}
}

func testRenames(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	a := mustTag(t, h, tag(org, "Alpha", ""))
	mustTag(t, h, tag(org, "Beta", ""))
	clash := a
	clash.Name, clash.NameKey, clash.Version = "BETA", caseless.Key("BETA"), 2
	if err := h.Store.UpdateTag(ctx, a, clash, entry(org, "patch", a.ID+".name")); !errors.Is(err, tags.ErrNameTaken) {
		t.Errorf("rename onto another tag's name: got %v, want ErrNameTaken", err)
	}
	cased := a
	cased.Name, cased.NameKey, cased.Version = "ALPHA", caseless.Key("ALPHA"), 2
	if err := h.Store.UpdateTag(ctx, a, cased, entry(org, "patch", a.ID+".name")); err != nil {
		t.Fatalf("rename to another case: %v", err)
	}
	moved := cased
	moved.Name, moved.NameKey, moved.Version = "Gamma", caseless.Key("Gamma"), 3
	if err := h.Store.UpdateTag(ctx, cased, moved, entry(org, "patch", a.ID+".name")); err != nil {
		t.Fatal(err)
	}
	mustTag(t, h, tag(org, "alpha", ""))
	g := mustGroup(t, h, group(org, "One"))
	mustGroup(t, h, group(org, "Two"))
	gc := g
	gc.Name, gc.NameKey, gc.Version = "two", caseless.Key("two"), 2
	if err := h.Store.UpdateGroup(ctx, g, gc, entry(org, "patch", g.ID+".name")); !errors.Is(err, tags.ErrNameTaken) {
		t.Errorf("rename onto another group's name: got %v, want ErrNameTaken", err)
	}
	gc.Name, gc.NameKey = "Three", caseless.Key("Three")
	if err := h.Store.UpdateGroup(ctx, g, gc, entry(org, "patch", g.ID+".name")); err != nil {
		t.Fatal(err)
	}
	mustGroup(t, h, group(org, "ONE"))
}

func testMalformed(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, org := range []string{"", "a#b", "a\x00b", strings.Repeat("x", 65)} {
		if _, err := h.Store.Groups(ctx, org); !problem.Is(err, problem.NotFound) {
			t.Errorf("Groups(%q): got %v, want NotFound", org, err)
		}
		if _, err := h.Store.Tags(ctx, org); !problem.Is(err, problem.NotFound) {
			t.Errorf("Tags(%q): got %v, want NotFound", org, err)
		}
		g := group("acme", "G")
		g.OrgID = org
		if err := h.Store.CreateGroup(ctx, g, entry(org, "create", "x")); !problem.Is(err, problem.NotFound) {
			t.Errorf("CreateGroup in %q: got %v, want NotFound", org, err)
		}
	}
	for _, id := range []string{"", "tag#1", "tag/1", "tag 1"} {
		if _, _, err := h.Store.Tag(ctx, "acme", id); !problem.Is(err, problem.NotFound) {
			t.Errorf("Tag(acme, %q): got %v, want NotFound", id, err)
		}
		if _, _, err := h.Store.Group(ctx, "acme", id); !problem.Is(err, problem.NotFound) {
			t.Errorf("Group(acme, %q): got %v, want NotFound", id, err)
		}
	}
	org := newOrg()
	bad := tag(org, "Bad", "")
	bad.AppliesTo = "everyone"
	if err := h.Store.CreateTag(ctx, bad, entry(org, "create", "x")); err == nil {
		t.Error("CreateTag with appliesTo everyone: no error")
	}
	bad = tag(org, "Bad", "")
	bad.Color = "#fff"
	if err := h.Store.CreateTag(ctx, bad, entry(org, "create", "x")); err == nil {
		t.Error("CreateTag with colour #fff: no error")
	}
	if err := h.Store.CreateTag(ctx, tag(org, "Bad", ""), entry("other", "create", "x")); err == nil {
		t.Error("CreateTag with another organisation's audit entry: no error")
	}
}
