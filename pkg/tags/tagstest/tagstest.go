// Package tagstest is the contract suite every tags.Store adapter must pass (package
// dynamo on DynamoDB Local, package bolt): records, each group's count of its tags kept
// with every tag write, and the checks of every store of named records (package
// optimistictest) for groups and for tags: names unique per organisation
// case-insensitively (tags among tags, groups among groups) even under racing creates,
// the bounds, version conditions, and an audit entry with every write.
package tagstest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic/optimistictest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/tags"
	"github.com/convrs/admin/pkg/tagsfn"
)

// Harness is an adapter under test.
type Harness struct {
	Store tags.Store
	// Audit reads the audit log the store writes to.
	Audit optimistictest.Lister
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
		{"RacingCreatesOneWins", func(t *testing.T, h Harness) { optimistictest.RaceCreates(t, groups(h), tagsOf(h)) }},
		{"RacingServiceCreatesOne201", testRacingService},
		{"AtMostMaxGroupsAndMaxTags", func(t *testing.T, h Harness) {
			org := newOrg()
			groups(h).CheckLimit(t, org)
			tagsOf(h).CheckLimit(t, org)
		}},
		{"GroupsCountTheirTags", testCounts},
		{"TagInAGroupThatIsGone", testNoGroup},
		{"GroupDeleteRules", func(t *testing.T, h Harness) {
			groups(h).CheckDelete(t, tagsIn(h))
			tagsOf(h).CheckDelete(t, optimistictest.Holder[tags.Tag]{})
		}},
		{"GroupDeleteRacesATag", func(t *testing.T, h Harness) { groups(h).CheckDeleteRaces(t, tagsIn(h)) }},
		{"UpdatesNeedTheVersionRead", testVersions},
		{"RenamesMoveNames", func(t *testing.T, h Harness) {
			tagsOf(h).CheckRename(t)
			groups(h).CheckRename(t)
		}},
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

func group(org, name string) tags.Group {
	return tags.Group{OrgID: org, ID: ids.New(tags.GroupIDPrefix), Name: name, NameKey: caseless.Key(name), Version: 1, CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func tag(org, name, groupID string) tags.Tag {
	return tags.Tag{OrgID: org, ID: ids.New(tags.TagIDPrefix), Name: name, NameKey: caseless.Key(name), GroupID: groupID, AppliesTo: tags.AppliesToBoth,
		Version: 1, CreatedAt: base, UpdatedAt: base, UpdatedBy: "admin@" + org}
}

func entry(org, action, field string) audit.Entry {
	return optimistictest.Entry(org, tags.Area, action, field)
}

// groups is the harness's store of groups as the checks of named records see it.
func groups(h Harness) *optimistictest.Kind[tags.Group] {
	return &optimistictest.Kind[tags.Group]{
		What: "tag group", Area: tags.Area, Audit: h.Audit, Max: tags.MaxGroups,
		ErrNameTaken: tags.ErrNameTaken, ErrLimit: tags.ErrLimit, ErrChanged: tags.ErrChanged,
		New: group,
		Fields: func(g *tags.Group) (id, name, nameKey *string, version *int64) {
			return &g.ID, &g.Name, &g.NameKey, &g.Version
		},
		Same:   sameGroup,
		Create: h.Store.CreateGroup, Get: h.Store.Group, List: h.Store.Groups, Update: h.Store.UpdateGroup, Delete: h.Store.DeleteGroup,
	}
}

// tagsOf is the harness's store of tags as the checks of named records see it.
func tagsOf(h Harness) *optimistictest.Kind[tags.Tag] {
	return &optimistictest.Kind[tags.Tag]{
		What: "tag", Area: tags.Area, Audit: h.Audit, Max: tags.MaxTags, Long: true,
		ErrNameTaken: tags.ErrNameTaken, ErrLimit: tags.ErrLimit, ErrChanged: tags.ErrChanged,
		New: func(org, name string) tags.Tag { return tag(org, name, "") },
		Fields: func(t *tags.Tag) (id, name, nameKey *string, version *int64) {
			return &t.ID, &t.Name, &t.NameKey, &t.Version
		},
		Same:   sameTag,
		Create: h.Store.CreateTag, Get: h.Store.Tag, List: h.Store.Tags, Update: h.Store.UpdateTag, Delete: h.Store.DeleteTag,
	}
}

// tagsIn makes a group hold one more tag: a tag created in it.
func tagsIn(h Harness) optimistictest.Holder[tags.Group] {
	return optimistictest.Holder[tags.Group]{
		Hold: func(ctx context.Context, org string, g tags.Group) (func() error, error) {
			tg := tag(org, "In "+g.Name, g.ID)
			release := func() error { return h.Store.DeleteTag(ctx, tg, entry(org, "delete", tg.ID+".name")) }
			return release, h.Store.CreateTag(ctx, tg, entry(org, "create", tg.ID+".name"))
		},
		ErrGone: tags.ErrNoGroup, ErrHolds: tags.ErrGroupNotEmpty,
	}
}

func mustGroup(t *testing.T, h Harness, g tags.Group) tags.Group {
	t.Helper()
	return groups(h).MustCreate(t, g.OrgID, g)
}

func mustTag(t *testing.T, h Harness, tg tags.Tag) tags.Tag {
	t.Helper()
	return tagsOf(h).MustCreate(t, tg.OrgID, tg)
}

func getGroup(t *testing.T, h Harness, org, id string) (tags.Group, bool) {
	t.Helper()
	return groups(h).MustGet(t, org, id)
}

func getTag(t *testing.T, h Harness, org, id string) (tags.Tag, bool) {
	t.Helper()
	return tagsOf(h).MustGet(t, org, id)
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
	return groups(h).MustList(t, org)
}

func listTags(t *testing.T, h Harness, org string) []tags.Tag {
	t.Helper()
	return tagsOf(h).MustList(t, org)
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

func testAudited(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	g := group(org, "Group")
	tg := tag(org, "Tag", g.ID)
	next := g
	next.Name, next.NameKey, next.Version = "Group 2", caseless.Key("Group 2"), 2
	tnext := tg
	tnext.Name, tnext.NameKey, tnext.GroupID, tnext.Version = "Tag 2", caseless.Key("Tag 2"), "", 2
	optimistictest.CheckAudited(t, h.Audit, org, tags.Area,
		optimistictest.Step{Action: "create", Run: func(e audit.Entry) error { return h.Store.CreateGroup(ctx, g, e) }},
		optimistictest.Step{Action: "create", Run: func(e audit.Entry) error { return h.Store.CreateTag(ctx, tg, e) }},
		optimistictest.Step{Action: "patch", Run: func(e audit.Entry) error { return h.Store.UpdateGroup(ctx, g, next, e) }},
		optimistictest.Step{Action: "patch", Run: func(e audit.Entry) error { return h.Store.UpdateTag(ctx, tg, tnext, e) }},
		optimistictest.Step{Action: "delete", Run: func(e audit.Entry) error { return h.Store.DeleteTag(ctx, tnext, e) }},
		optimistictest.Step{Action: "delete", Run: func(e audit.Entry) error { return h.Store.DeleteGroup(ctx, next, e) }})
}

// testNames: the checks of names of every named record for groups and for tags; and a
// tag and a group may share a name.
func testNames(t *testing.T, h Harness) {
	groups(h).CheckNames(t)
	tagsOf(h).CheckNames(t)
	org := newOrg()
	mustGroup(t, h, group(org, "Region"))
	mustTag(t, h, tag(org, "Straße", ""))
	mustTag(t, h, tag(org, "Region", ""))
	mustGroup(t, h, group(org, "Strasse"))
}

// testRacingService: racing creates through the Service: one tag, every other caller a
// problem.Conflict.
func testRacingService(t *testing.T, h Harness) {
	org := newOrg()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "marketing@" + org, OrgID: org, Role: auth.RoleMarketing})
	svc := tagsfn.NewService(h.Store, nil)
	optimistictest.RaceService(t, 6, func(i int) error {
		_, err := svc.CreateTag(ctx, org, tagsfn.TagFields{Name: []string{"Lead", " lead", "LEAD "}[i%3], AppliesTo: tags.AppliesToChats})
		return err
	})
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
	// The tag is gone: deleting it again changes nothing.
	if err := h.Store.DeleteTag(ctx, two, entry(org, "delete", two.ID+".name")); !errors.Is(err, tags.ErrChanged) {
		t.Errorf("DeleteTag of a deleted tag in a group: got %v, want ErrChanged", err)
	}
	if got, _ := getGroup(t, h, org, a.ID); got.Tags != 0 {
		t.Errorf("after deleting a deleted tag: %+v, want 0 tags", got)
	}
}

func testNoGroup(t *testing.T, h Harness) {
	ctx, org := context.Background(), newOrg()
	tg := tag(org, "Orphan", ids.New(tags.GroupIDPrefix))
	e := entry(org, "create", tg.ID+".name")
	if err := h.Store.CreateTag(ctx, tg, e); !errors.Is(err, tags.ErrNoGroup) {
		t.Errorf("CreateTag in a group that does not exist: got %v, want ErrNoGroup", err)
	}
	if _, ok := optimistictest.AuditEntries(t, h.Audit, org, tags.Area)[e.ID]; ok {
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

// testVersions: the checks of versions of every named record for groups and for tags,
// and an update that removes a tag's colour.
func testVersions(t *testing.T, h Harness) {
	groups(h).CheckVersions(t)
	tagsOf(h).CheckVersions(t)
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
