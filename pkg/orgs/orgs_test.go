package orgs_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/orgs"
)

// The context carries what the HTTP front found: a path (cut at any organisation of it)
// and, for a sub-organisation, its record; nothing for an organisation off the path.
func TestContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, ok := orgs.PathFrom(ctx, "acme"); ok {
		t.Error("an empty context carries a path")
	}
	if _, ok := orgs.OrgFrom(ctx, "acme"); ok {
		t.Error("an empty context carries an organisation")
	}
	root := orgs.WithPath(ctx, []string{"acme"})
	if o, ok := orgs.OrgFrom(root, "acme"); !ok || o.ParentID != "" || !slices.Equal(o.Path, []string{"acme"}) {
		t.Errorf("OrgFrom of a root: %+v %v", o, ok)
	}
	leaf := orgs.Org{ID: "org_b", Name: "B", ParentID: "org_a", Path: []string{"acme", "org_a", "org_b"}, CreatedAt: time.Now()}
	sub := orgs.WithOrg(ctx, leaf)
	for id, want := range map[string][]string{"org_b": leaf.Path, "org_a": {"acme", "org_a"}, "acme": {"acme"}, "globex": nil} {
		got, ok := orgs.PathFrom(sub, id)
		if ok != (want != nil) || !slices.Equal(got, want) {
			t.Errorf("PathFrom(%s) = %v %v, want %v", id, got, ok, want)
		}
	}
	if o, ok := orgs.OrgFrom(sub, "org_b"); !ok || o.Name != "B" || o.ParentID != "org_a" {
		t.Errorf("OrgFrom of the record: %+v %v", o, ok)
	}
	// Ancestors are on the path, but their records are not in the context.
	for _, id := range []string{"org_a", "acme"} {
		if o, ok := orgs.OrgFrom(sub, id); ok {
			t.Errorf("OrgFrom(%s) = %+v: the context holds only org_b's record", id, o)
		}
	}
	// A caller appending to a path it got cannot change what the context carries.
	p, _ := orgs.PathFrom(sub, "org_a")
	_ = append(p, "x")
	if got, _ := orgs.PathFrom(sub, "org_b"); !slices.Equal(got, leaf.Path) {
		t.Errorf("the carried path changed: %v", got)
	}
}

func TestCheckNew(t *testing.T) {
	t.Parallel()
	now := time.Now()
	e := func(org string) audit.Entry {
		return audit.Entry{ID: audit.NewID(now), OrgID: org, At: now, Area: orgs.Area, Action: "create", Changes: []audit.Change{{Field: "x", From: json.RawMessage(`null`), To: json.RawMessage(`1`)}}}
	}
	ok := orgs.Org{ID: "org_c", Name: "C", ParentID: "org_b", Path: []string{"acme", "org_b", "org_c"}, CreatedAt: now}
	if err := orgs.CheckNew(ok, e("org_b")); err != nil {
		t.Errorf("a valid record: %v", err)
	}
	deep := ok
	deep.Path = []string{"a", "b", "c", "d", "e", "f", "g", "org_b", "org_c"}
	if err := orgs.CheckNew(deep, e("org_b")); !errors.Is(err, orgs.ErrTooDeep) {
		t.Errorf("a path of 9: %v, want ErrTooDeep", err)
	}
	for name, o := range map[string]orgs.Org{
		"the path does not end in the org": {ID: "org_c", Name: "C", ParentID: "org_b", Path: []string{"acme", "org_b"}, CreatedAt: now},
		"the parent is not the one before": {ID: "org_c", Name: "C", ParentID: "acme", Path: []string{"acme", "org_b", "org_c"}, CreatedAt: now},
		"an id twice":                      {ID: "org_c", Name: "C", ParentID: "org_c", Path: []string{"org_c", "org_c"}, CreatedAt: now},
		"a malformed id on the path":       {ID: "org_c", Name: "C", ParentID: "org_b", Path: []string{"a#b", "org_b", "org_c"}, CreatedAt: now},
		"no name":                          {ID: "org_c", ParentID: "org_b", Path: []string{"acme", "org_b", "org_c"}, CreatedAt: now},
		"a root (a path of one)":           {ID: "org_c", Name: "C", Path: []string{"org_c"}, CreatedAt: now},
		"no creation time":                 {ID: "org_c", Name: "C", ParentID: "org_b", Path: []string{"acme", "org_b", "org_c"}},
		"deleted":                          orgs.MarkDeleted(ok, now),
	} {
		if err := orgs.CheckNew(o, e(o.ParentID)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := orgs.CheckNew(ok, e("acme")); err == nil {
		t.Error("an audit entry outside the parent's log: accepted")
	}
}
