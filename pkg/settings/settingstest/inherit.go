package settingstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// treeDoc is the area of the inheritance suite: a number with a cross-field rule (limit
// at least min), a text, an object inherited as a whole, and a field the default leaves
// out.
type treeDoc struct {
	Min   int       `json:"min"`
	Limit int       `json:"limit"`
	Text  string    `json:"text"`
	Box   treeBox   `json:"box"`
	Tags  *[]string `json:"tags,omitempty"`
}

type treeBox struct {
	On    bool `json:"on"`
	Level int  `json:"level"`
}

func (d treeDoc) Validate() error {
	var f problem.Fields
	if d.Limit < d.Min {
		f.Add("limit", "must be at least min (%d)", d.Min)
	}
	return f.Err()
}

var treeArea = settings.Area[treeDoc]{Name: "tree", Defaults: func() treeDoc { return treeDoc{Min: 1, Limit: 5, Text: "hello"} }}

// tree is a three-level path root > mid > leaf with fresh ids.
type tree struct {
	root, mid, leaf string
	svc             *settings.Service[treeDoc]
	store           settings.Store
}

func newTree(s settings.Store) tree {
	tr := tree{root: newOrg(), mid: newOrg(), leaf: newOrg(), store: s}
	tr.svc = settings.NewService(treeArea, s, nil).UseOrgs(fakeTree{tr})
	return tr
}

// fakeTree is the organisation tree of a tree (orgs.Lookup and the descendants listing).
type fakeTree struct{ tr tree }

func (f fakeTree) Org(_ context.Context, id string) (orgs.Org, bool, error) {
	switch id {
	case f.tr.mid:
		return orgs.Org{ID: id, ParentID: f.tr.root, Path: []string{f.tr.root, id}}, true, nil
	case f.tr.leaf:
		return orgs.Org{ID: id, ParentID: f.tr.mid, Path: []string{f.tr.root, f.tr.mid, id}}, true, nil
	}
	return orgs.Org{}, false, nil
}

func (f fakeTree) Descendants(ctx context.Context, id, after string, limit int) (orgs.Page, error) {
	var out []orgs.Org
	for _, d := range []string{f.tr.mid, f.tr.leaf} {
		if o, _, _ := f.Org(ctx, d); o.Sees(id) && o.ID != id && d > after {
			out = append(out, o)
		}
	}
	return orgs.Page{Orgs: out}, nil
}

// as returns the context of a request by an admin of org acting on target (org or a
// descendant), with target's path as the HTTP front puts it.
func (tr tree) as(target string) context.Context {
	path := []string{tr.root}
	switch target {
	case tr.mid:
		path = append(path, tr.mid)
	case tr.leaf:
		path = append(path, tr.mid, tr.leaf)
	}
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin@" + target, OrgID: tr.root, Role: auth.RoleAdmin})
	return orgs.WithPath(ctx, path)
}

func (tr tree) get(t *testing.T, org string) settings.Current[treeDoc] {
	t.Helper()
	cur, err := tr.svc.Load(tr.as(org), org)
	if err != nil {
		t.Fatalf("Load(%s): %v", org, err)
	}
	return cur
}

func (tr tree) patch(t *testing.T, org, body string) settings.Current[treeDoc] {
	t.Helper()
	cur, err := tr.svc.Patch(tr.as(org), org, "", []byte(body))
	if err != nil {
		t.Fatalf("PATCH %s %s: %v", org, body, err)
	}
	return cur
}

func (tr tree) name(org string) string {
	switch org {
	case tr.root:
		return "root"
	case tr.mid:
		return "mid"
	case tr.leaf:
		return "leaf"
	}
	return org
}

// sources renders cur's sources of the fields named, with the tree's names.
func (tr tree) sources(cur settings.Current[treeDoc], fields ...string) string {
	var out []string
	for _, f := range fields {
		out = append(out, f+"="+tr.name(cur.Sources[f]))
	}
	return strings.Join(out, " ")
}

// RunInheritance runs the inheritance rules of API.md "Organisations and inheritance"
// through a settings.Service on the store newStore returns, over a three-level path.
func RunInheritance(t *testing.T, newStore func(t *testing.T) settings.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, tr tree)
	}{
		{"InheritThroughThreeLevels", testInheritThree},
		{"NullReturnsToInheritingAndPutOverridesWhatItSends", testNullAndPut},
		{"LocksAtEveryLevel", testLocks},
		{"AuditSaysWhatBecameOverriddenOrInherited", testInheritAudit},
		{"ETagFollowsTheAncestors", testInheritETag},
		{"ParentLockRacingChildOverride", testLockRace},
		{"AChangeThatBreaksADescendantIsRefused", testBreaksDescendant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newTree(newStore(t)))
		})
	}
}

func testInheritThree(t *testing.T, tr tree) {
	if cur := tr.get(t, tr.leaf); cur.Doc.Limit != 5 || tr.sources(cur, "limit", "text", "tags") != "limit=default text=default tags=default" {
		t.Errorf("never saved: %+v %v", cur.Doc, cur.Sources)
	}
	tr.patch(t, tr.root, `{"limit":9,"text":"root text"}`)
	tr.patch(t, tr.mid, `{"text":"mid text","box":{"on":true}}`)
	tr.patch(t, tr.leaf, `{"box":{"level":3}}`)
	leaf := tr.get(t, tr.leaf)
	if leaf.Doc.Limit != 9 || leaf.Doc.Text != "mid text" || leaf.Doc.Box != (treeBox{On: true, Level: 3}) {
		t.Errorf("leaf: %+v", leaf.Doc)
	}
	if got := tr.sources(leaf, "min", "limit", "text", "box"); got != "min=default limit=root text=mid box=leaf" {
		t.Errorf("leaf sources: %s", got)
	}
	// A parent change shows at once in every descendant that inherits.
	tr.patch(t, tr.root, `{"limit":11}`)
	if leaf := tr.get(t, tr.leaf); leaf.Doc.Limit != 11 {
		t.Errorf("after the root's change the leaf has limit %d, want 11", leaf.Doc.Limit)
	}
	// A field the default leaves out is inherited too.
	tr.patch(t, tr.root, `{"tags":["a","b"]}`)
	if leaf := tr.get(t, tr.leaf); leaf.Doc.Tags == nil || fmt.Sprint(*leaf.Doc.Tags) != "[a b]" || leaf.Sources["tags"] != tr.root {
		t.Errorf("tags: %+v %v", leaf.Doc.Tags, leaf.Sources)
	}
	// Cross-field rules hold on the document in effect: the leaf cannot set min above the
	// limit it inherits.
	_, err := tr.svc.Patch(tr.as(tr.leaf), tr.leaf, "", []byte(`{"min":12}`))
	if fe := fieldErrors(err); fe["limit"] == "" {
		t.Errorf("min above the inherited limit: %v", err)
	}
}

func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	var pe *problem.Error
	if errors.As(err, &pe) {
		for _, f := range pe.Fields {
			out[f.Field] = f.Message
		}
	}
	return out
}

func testNullAndPut(t *testing.T, tr tree) {
	tr.patch(t, tr.root, `{"limit":8}`)
	tr.patch(t, tr.leaf, `{"limit":20,"text":"leaf"}`)
	leaf := tr.patch(t, tr.leaf, `{"limit":null}`)
	if leaf.Doc.Limit != 8 || leaf.Sources["limit"] != tr.root || leaf.Doc.Text != "leaf" {
		t.Errorf("after null: %+v %v", leaf.Doc, leaf.Sources)
	}
	// PUT overrides what it sends and returns the rest to inheriting.
	put, err := tr.svc.Put(tr.as(tr.leaf), tr.leaf, "", []byte(`{"min":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if put.Doc.Min != 2 || put.Doc.Text != "hello" || put.Doc.Limit != 8 || tr.sources(put, "min", "text", "limit") != "min=leaf text=default limit=root" {
		t.Errorf("after PUT: %+v %v", put.Doc, put.Sources)
	}
	// null on a root returns the field to its default.
	root := tr.patch(t, tr.root, `{"limit":null}`)
	if root.Doc.Limit != 5 || root.Sources["limit"] != settings.SourceDefault {
		t.Errorf("root null: %+v %v", root.Doc, root.Sources)
	}
}

func testLocks(t *testing.T, tr tree) {
	// The mid overrides text before the root locks it; the lock makes the mid's value
	// ignored below the root.
	tr.patch(t, tr.mid, `{"text":"mid"}`)
	tr.patch(t, tr.root, `{"text":"brand","locked":["text"]}`)
	for _, org := range []string{tr.mid, tr.leaf} {
		cur := tr.get(t, org)
		if cur.Doc.Text != "brand" || cur.Sources["text"] != tr.root || cur.LockedBy["text"] != tr.root {
			t.Errorf("%s under the lock: %+v %v %v", tr.name(org), cur.Doc, cur.Sources, cur.LockedBy)
		}
	}
	_, err := tr.svc.Patch(tr.as(tr.leaf), tr.leaf, "", []byte(`{"text":"mine"}`))
	if got := fieldErrors(err)["text"]; got != "is locked by organisation "+tr.root+": it cannot be overridden here" {
		t.Errorf("override of a locked field: %v", err)
	}
	// Sending back the value in effect (a document read and sent whole) is no override.
	cur := tr.get(t, tr.leaf)
	doc, _ := json.Marshal(cur.Doc)
	if _, err := tr.svc.Put(tr.as(tr.leaf), tr.leaf, "", doc); err != nil {
		t.Errorf("PUT of the document as read: %v", err)
	}
	if cur := tr.get(t, tr.leaf); cur.Sources["text"] != tr.root {
		t.Errorf("the echoed locked field became %s's", tr.name(cur.Sources["text"]))
	}
	// A lock in the middle binds the leaf only; the root stays free.
	tr.patch(t, tr.mid, `{"limit":7,"locked":["limit"]}`)
	_, err = tr.svc.Patch(tr.as(tr.leaf), tr.leaf, "", []byte(`{"limit":3}`))
	if got := fieldErrors(err)["limit"]; !strings.Contains(got, "locked by organisation "+tr.mid) {
		t.Errorf("leaf override of the mid's lock: %v", err)
	}
	tr.patch(t, tr.root, `{"limit":30}`)
	if leaf := tr.get(t, tr.leaf); leaf.Doc.Limit != 7 || leaf.LockedBy["limit"] != tr.mid {
		t.Errorf("leaf limit %d locked by %s, want 7 by mid", leaf.Doc.Limit, tr.name(leaf.LockedBy["limit"]))
	}
	// A leaf may lock for its own descendants; unknown fields cannot be locked.
	if leaf := tr.patch(t, tr.leaf, `{"locked":["box"]}`); fmt.Sprint(leaf.Locked) != "[box]" {
		t.Errorf("leaf locks %v", leaf.Locked)
	}
	_, err = tr.svc.Patch(tr.as(tr.leaf), tr.leaf, "", []byte(`{"locked":["box","nope","box"]}`))
	if fe := fieldErrors(err); fe["locked[1]"] == "" || fe["locked[2]"] != "repeats locked[0]" {
		t.Errorf("bad locks: %v", err)
	}
	// Unlocking (null) frees the field again.
	tr.patch(t, tr.mid, `{"locked":null}`)
	if leaf := tr.patch(t, tr.leaf, `{"limit":3}`); leaf.Doc.Limit != 3 || leaf.Sources["limit"] != tr.leaf {
		t.Errorf("after unlocking: %+v %v", leaf.Doc, leaf.Sources)
	}
}

func testInheritAudit(t *testing.T, tr tree) {
	tr.patch(t, tr.root, `{"limit":9}`)
	tr.patch(t, tr.leaf, `{"limit":9,"text":"own"}`) // 9 is the value in effect: overridden anyway
	tr.patch(t, tr.leaf, `{"text":null}`)
	page, err := tr.store.ListAudit(context.Background(), tr.leaf, audit.Query{Area: treeArea.Name, Limit: 10})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("leaf audit: %+v, %v", page, err)
	}
	last, first := page.Items[0], page.Items[1]
	byField := func(e audit.Entry) map[string]audit.Change {
		m := map[string]audit.Change{}
		for _, c := range e.Changes {
			m[c.Field] = c
		}
		return m
	}
	f := byField(first)
	if c := f["limit"]; c.Became != audit.BecameOverridden || string(c.From) != "9" || string(c.To) != "9" {
		t.Errorf("limit overridden with the same value: %+v", c)
	}
	if c := f["text"]; c.Became != audit.BecameOverridden || string(c.To) != `"own"` {
		t.Errorf("text overridden: %+v", c)
	}
	if c := byField(last)["text"]; c.Became != audit.BecameInherited || string(c.From) != `"own"` || string(c.To) != `"hello"` {
		t.Errorf("text inherited again: %+v", c)
	}
}

func testInheritETag(t *testing.T, tr tree) {
	leaf := tr.patch(t, tr.leaf, `{"text":"x"}`)
	tag := leaf.ETag()
	if want := `"0.0.1"`; tag != want {
		t.Errorf("leaf ETag %s, want %s", tag, want)
	}
	if root := tr.get(t, tr.root); root.ETag() != `"0"` {
		t.Errorf("root ETag %s", root.ETag())
	}
	tr.patch(t, tr.root, `{"limit":6}`)
	if _, err := tr.svc.Patch(tr.as(tr.leaf), tr.leaf, tag, []byte(`{"text":"y"}`)); !problem.Is(err, problem.PreconditionFailed) {
		t.Errorf("If-Match %s after the root changed: %v, want 412", tag, err)
	}
	if cur := tr.get(t, tr.leaf); cur.ETag() != `"1.0.1"` {
		t.Errorf("leaf ETag after the root's change: %s", cur.ETag())
	}
}

// A parent locking a field while a child overrides it: whatever the order, the child ends
// with the parent's value in effect (the lock wins), and the child's write either landed
// before the lock or was refused (422 once the lock is seen).
func testLockRace(t *testing.T, tr tree) {
	for i := range 5 {
		var wg sync.WaitGroup
		var childErr error
		value := fmt.Sprintf("child-%d", i)
		wg.Go(func() {
			_, childErr = tr.svc.Patch(tr.as(tr.leaf), tr.leaf, "", []byte(`{"text":"`+value+`"}`))
		})
		wg.Go(func() {
			if _, err := tr.svc.Patch(tr.as(tr.root), tr.root, "", []byte(`{"text":"parent-`+fmt.Sprint(i)+`","locked":["text"]}`)); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if childErr != nil && !problem.Is(childErr, problem.Invalid) {
			t.Errorf("round %d: the child's write failed with %v", i, childErr)
		}
		if cur := tr.get(t, tr.leaf); cur.Doc.Text != fmt.Sprint("parent-", i) || cur.Sources["text"] != tr.root {
			t.Errorf("round %d: the leaf has %q from %s", i, cur.Doc.Text, tr.name(cur.Sources["text"]))
		}
		tr.patch(t, tr.root, `{"locked":[]}`)
		tr.patch(t, tr.leaf, `{"text":null}`)
	}
}

// A parent's change that would make an inheriting descendant's document break a rule (the
// leaf's own min above the limit it inherits) is refused, naming the descendant.
func testBreaksDescendant(t *testing.T, tr tree) {
	tr.patch(t, tr.leaf, `{"min":4}`)
	_, err := tr.svc.Patch(tr.as(tr.root), tr.root, "", []byte(`{"limit":3}`))
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Invalid {
		t.Fatalf("a root change breaking the leaf: %v, want 422", err)
	}
	b, _ := json.Marshal(pe.Extensions)
	if !strings.Contains(string(b), `"orgId":"`+tr.leaf+`"`) || !strings.Contains(string(b), `"field":"limit"`) {
		t.Errorf("the refusal does not name the leaf and its field: %s", b)
	}
	if root := tr.get(t, tr.root); root.Doc.Limit != 5 || root.Version != 0 {
		t.Errorf("the refused change was saved: %+v", root)
	}
	// A change the leaf can live with goes through.
	if root := tr.patch(t, tr.root, `{"limit":4}`); root.Doc.Limit != 4 {
		t.Errorf("root limit %d", root.Doc.Limit)
	}
}
