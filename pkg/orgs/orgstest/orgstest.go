// Package orgstest is the contract suite every orgs.Store adapter must pass (package
// dynamo on DynamoDB Local, package bolt): records and paths, roots without records (a
// root's children count still reads as a root), the depth bound even under racing
// creates at the limit, the parent's condition, descendants listed and paged in id order,
// soft deletes of leaves only (a delete racing a child's create: one wins), and an audit
// entry in the parent's log with every write.
package orgstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// Harness is an adapter under test.
type Harness struct {
	Store orgs.Store
	// Audit reads the audit log the store writes to.
	Audit interface {
		ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
	}
}

// Run runs the suite against the harness newHarness returns. Harnesses may share a
// store: each test uses its own roots.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"CreateAndRead", testCreateAndRead},
		{"RootsHaveNoRecord", testRoots},
		{"AtMostMaxDepth", testDepth},
		{"RacingCreatesAtTheDepthLimit", testRacingAtTheLimit},
		{"TheParentMustBeLive", testParent},
		{"DescendantsPaged", testDescendants},
		{"DeleteLeavesOnly", testDelete},
		{"DeleteRacesAChildCreate", testDeleteRacesACreate},
		{"EveryWriteIsAudited", testAudited},
		{"MalformedIDs", testMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t))
		})
	}
}

func newRoot() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "root-" + hex.EncodeToString(b[:])
}

var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// child is a new sub-organisation of parent (whose path is given).
func child(parent orgs.Org, name string) orgs.Org {
	id := ids.New(orgs.IDPrefix)
	return orgs.Org{ID: id, Name: name, ParentID: parent.ID, Path: append(slices.Clone(parent.Path), id), CreatedAt: base}
}

func entry(org, action, id string) audit.Entry {
	to, from := json.RawMessage(`"x"`), json.RawMessage(`null`)
	if action == "delete" {
		to, from = from, to
	}
	return audit.Entry{ID: audit.NewID(time.Now()), OrgID: org, At: base.Add(time.Hour), Actor: "admin@" + org, Area: orgs.Area, Action: action,
		RequestID: "r-" + action, Changes: []audit.Change{{Field: id + ".name", From: from, To: to}}}
}

// retry calls write until it does not collide with a concurrent transaction.
func retry(t *testing.T, write func() error) error {
	t.Helper()
	for try := 0; ; try++ {
		err := write()
		if !errors.Is(err, optimistic.ErrContended) || try == 50 {
			return err
		}
		time.Sleep(time.Duration(try+1) * time.Millisecond)
	}
}

func mustCreate(t *testing.T, h Harness, o orgs.Org) orgs.Org {
	t.Helper()
	if err := retry(t, func() error { return h.Store.Create(context.Background(), o, entry(o.ParentID, "create", o.ID)) }); err != nil {
		t.Fatalf("Create(%s under %v): %v", o.ID, o.Path, err)
	}
	return o
}

func mustDelete(t *testing.T, h Harness, o orgs.Org) orgs.Org {
	t.Helper()
	var got orgs.Org
	err := retry(t, func() (err error) {
		got, err = h.Store.Delete(context.Background(), o.ID, entry(o.ParentID, "delete", o.ID))
		return err
	})
	if err != nil {
		t.Fatalf("Delete(%s): %v", o.ID, err)
	}
	return got
}

func mustOrg(t *testing.T, h Harness, id string) (orgs.Org, bool) {
	t.Helper()
	o, found, err := h.Store.Org(context.Background(), id)
	if err != nil {
		t.Fatalf("Org(%s): %v", id, err)
	}
	return o, found
}

func same(a, b orgs.Org) bool {
	return a.ID == b.ID && a.Name == b.Name && a.ParentID == b.ParentID && slices.Equal(a.Path, b.Path) && a.CreatedAt.Equal(b.CreatedAt) &&
		(a.DeletedAt == nil) == (b.DeletedAt == nil) && (a.DeletedAt == nil || a.DeletedAt.Equal(*b.DeletedAt))
}

// all lists every descendant of id, page by page (limit each), checking the pages.
func all(t *testing.T, h Harness, id string, limit int) []orgs.Org {
	t.Helper()
	var out []orgs.Org
	after := ""
	for page := 0; ; page++ {
		p, err := h.Store.Descendants(context.Background(), id, after, limit)
		if err != nil {
			t.Fatalf("Descendants(%s, %q, %d): %v", id, after, limit, err)
		}
		if len(p.Orgs) > limit {
			t.Fatalf("Descendants(%s): a page of %d, limit %d", id, len(p.Orgs), limit)
		}
		if p.Next != "" && len(p.Orgs) == 0 {
			t.Fatalf("Descendants(%s): an empty page with a next page", id)
		}
		out = append(out, p.Orgs...)
		if p.Next == "" {
			return out
		}
		if page > 100 {
			t.Fatalf("Descendants(%s): more than 100 pages", id)
		}
		after = p.Next
	}
}

func idsOf(os []orgs.Org) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

func sorted(ids ...string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func auditOf(t *testing.T, h Harness, org string) map[string]audit.Entry {
	t.Helper()
	page, err := h.Audit.ListAudit(context.Background(), org, audit.Query{Area: orgs.Area, Limit: 100})
	if err != nil {
		t.Fatalf("ListAudit(%s): %v", org, err)
	}
	out := map[string]audit.Entry{}
	for _, e := range page.Items {
		out[e.ID] = e
	}
	return out
}

func testCreateAndRead(t *testing.T, h Harness) {
	root := orgs.Root(newRoot())
	a := mustCreate(t, h, child(root, "Acme EMEA"))
	b := mustCreate(t, h, child(a, "Acme UK · ロンドン"))
	for _, want := range []orgs.Org{a, b} {
		got, found := mustOrg(t, h, want.ID)
		if !found || !same(got, want) {
			t.Errorf("Org(%s): got %+v (found %v), want %+v", want.ID, got, found, want)
		}
	}
	if got, _ := mustOrg(t, h, b.ID); got.Depth() != 3 || !got.Sees(root.ID) || !got.Sees(a.ID) || !got.Sees(b.ID) || got.Deleted() {
		t.Errorf("Org(%s) = %+v: want depth 3, seen by its path, live", b.ID, got)
	}
}

func testRoots(t *testing.T, h Harness) {
	root := orgs.Root(newRoot())
	if _, found := mustOrg(t, h, root.ID); found {
		t.Error("a root with no children has a record")
	}
	c := mustCreate(t, h, child(root, "Child"))
	// The root's children count must not make it a record.
	if o, found := mustOrg(t, h, root.ID); found {
		t.Errorf("a root with a child reads as a record: %+v", o)
	}
	mustDelete(t, h, c)
	if o, found := mustOrg(t, h, root.ID); found {
		t.Errorf("a root whose child was deleted reads as a record: %+v", o)
	}
	if _, found := mustOrg(t, h, ids.New(orgs.IDPrefix)); found {
		t.Error("an organisation never created has a record")
	}
}

func testDepth(t *testing.T, h Harness) {
	ctx := context.Background()
	o := orgs.Root(newRoot())
	for o.Depth() < orgs.MaxDepth {
		o = mustCreate(t, h, child(o, "Level"))
	}
	if o.Depth() != orgs.MaxDepth {
		t.Fatalf("depth %d", o.Depth())
	}
	deep := child(o, "Too deep")
	e := entry(o.ID, "create", deep.ID)
	if err := h.Store.Create(ctx, deep, e); !errors.Is(err, orgs.ErrTooDeep) {
		t.Errorf("Create at depth %d: got %v, want ErrTooDeep", deep.Depth(), err)
	}
	if _, found := mustOrg(t, h, deep.ID); found {
		t.Error("the refused organisation was stored")
	}
	if _, ok := auditOf(t, h, o.ID)[e.ID]; ok {
		t.Error("the refused create left an audit entry")
	}
	if got := all(t, h, o.Path[0], 100); len(got) != orgs.MaxDepth-1 {
		t.Errorf("the root has %d descendants, want %d", len(got), orgs.MaxDepth-1)
	}
}

// testRacingAtTheLimit: many creates under one parent at depth MaxDepth-1 at once: every
// one is stored (their depth is MaxDepth), the parent counts them all, none of them can
// have a child, and the parent cannot be deleted until each is.
func testRacingAtTheLimit(t *testing.T, h Harness) {
	ctx := context.Background()
	parent := orgs.Root(newRoot())
	for parent.Depth() < orgs.MaxDepth-1 {
		parent = mustCreate(t, h, child(parent, "Level"))
	}
	const n = 8
	kids := make([]orgs.Org, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		kids[i] = child(parent, "Leaf")
		wg.Go(func() {
			<-start
			errs[i] = retry(t, func() error { return h.Store.Create(ctx, kids[i], entry(parent.ID, "create", kids[i].ID)) })
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d under the parent at depth %d: %v", i, parent.Depth(), err)
		}
	}
	if got := idsOf(all(t, h, parent.ID, 3)); !slices.Equal(got, sorted(idsOf(kids)...)) {
		t.Errorf("descendants of the parent: %v, want the %d leaves", got, n)
	}
	for _, k := range kids {
		if err := h.Store.Create(ctx, child(k, "Too deep"), entry(k.ID, "create", "x")); !errors.Is(err, orgs.ErrTooDeep) {
			t.Errorf("Create under a leaf at depth %d: got %v, want ErrTooDeep", k.Depth(), err)
		}
	}
	for i, k := range kids {
		if _, err := h.Store.Delete(ctx, parent.ID, entry(parent.ParentID, "delete", parent.ID)); !errors.Is(err, orgs.ErrHasChildren) {
			t.Fatalf("Delete of the parent with %d children: got %v, want ErrHasChildren", n-i, err)
		}
		mustDelete(t, h, k)
	}
	mustDelete(t, h, parent)
}

func testParent(t *testing.T, h Harness) {
	ctx := context.Background()
	root := orgs.Root(newRoot())
	a := mustCreate(t, h, child(root, "A"))
	for _, tc := range []struct {
		name string
		o    orgs.Org
	}{
		// The path says a is a root: it is a sub-organisation.
		{"a parent that is not a root", child(orgs.Root(a.ID), "x")},
		// The path says the parent is a sub-organisation: it was never created.
		{"a parent never created", child(child(root, "ghost"), "x")},
		// The path puts a under another root.
		{"a parent under another root", child(orgs.Org{ID: a.ID, ParentID: "elsewhere", Path: []string{"elsewhere", a.ID}}, "x")},
	} {
		e := entry(tc.o.ParentID, "create", tc.o.ID)
		if err := h.Store.Create(ctx, tc.o, e); !errors.Is(err, orgs.ErrNoParent) {
			t.Errorf("%s: got %v, want ErrNoParent", tc.name, err)
		}
		if _, found := mustOrg(t, h, tc.o.ID); found {
			t.Errorf("%s: stored", tc.name)
		}
		if _, ok := auditOf(t, h, tc.o.ParentID)[e.ID]; ok {
			t.Errorf("%s: audited", tc.name)
		}
	}
	b := mustCreate(t, h, child(a, "B"))
	mustDelete(t, h, b)
	if err := h.Store.Create(ctx, child(b, "under a deleted"), entry(b.ID, "create", "x")); !errors.Is(err, orgs.ErrNoParent) {
		t.Errorf("Create under a deleted organisation: got %v, want ErrNoParent", err)
	}
	// The same id twice is refused.
	c := mustCreate(t, h, child(a, "C"))
	if err := h.Store.Create(ctx, c, entry(a.ID, "create", c.ID)); !errors.Is(err, orgs.ErrExists) {
		t.Errorf("Create of an id that exists: got %v, want ErrExists", err)
	}
	// a counts one live child (c): b's delete uncounted b.
	if _, err := h.Store.Delete(ctx, a.ID, entry(root.ID, "delete", a.ID)); !errors.Is(err, orgs.ErrHasChildren) {
		t.Errorf("Delete of a with one live child: got %v, want ErrHasChildren", err)
	}
	mustDelete(t, h, c)
	mustDelete(t, h, a)
}

func testDescendants(t *testing.T, h Harness) {
	ctx := context.Background()
	root := orgs.Root(newRoot())
	a := mustCreate(t, h, child(root, "A"))
	b := mustCreate(t, h, child(root, "B"))
	a1 := mustCreate(t, h, child(a, "A1"))
	a2 := mustCreate(t, h, child(a, "A2"))
	a1x := mustCreate(t, h, child(a1, "A1x"))
	want := map[string]orgs.Org{a.ID: a, b.ID: b, a1.ID: a1, a2.ID: a2, a1x.ID: a1x}
	for _, limit := range []int{1, 2, 5, 100} {
		got := all(t, h, root.ID, limit)
		if ids := idsOf(got); !slices.Equal(ids, sorted(a.ID, b.ID, a1.ID, a2.ID, a1x.ID)) {
			t.Errorf("descendants of the root, pages of %d: %v, want the five in id order", limit, ids)
		}
		for _, o := range got {
			if !same(o, want[o.ID]) {
				t.Errorf("listed %+v, want %+v", o, want[o.ID])
			}
		}
	}
	if got := idsOf(all(t, h, a.ID, 2)); !slices.Equal(got, sorted(a1.ID, a2.ID, a1x.ID)) {
		t.Errorf("descendants of A: %v", got)
	}
	if got := all(t, h, b.ID, 10); len(got) != 0 {
		t.Errorf("descendants of the leaf B: %v", idsOf(got))
	}
	if got := all(t, h, newRoot(), 10); len(got) != 0 {
		t.Errorf("descendants of another root: %v", idsOf(got))
	}
	// A page ends exactly at the last descendant: no empty page follows.
	p, err := h.Store.Descendants(ctx, a.ID, "", 3)
	if err != nil || len(p.Orgs) != 3 || p.Next != "" {
		t.Errorf("a page of 3 of A's 3 descendants: %v next %q err %v, want all three and no next page", idsOf(p.Orgs), p.Next, err)
	}
	// After an id that is not a descendant: those after it in id order.
	if p, err := h.Store.Descendants(ctx, root.ID, sorted(a.ID, b.ID, a1.ID, a2.ID, a1x.ID)[2], 100); err != nil || len(p.Orgs) != 2 {
		t.Errorf("after the third: %v, %v; want the last two", idsOf(p.Orgs), err)
	}
	mustDelete(t, h, a1x)
	if got := idsOf(all(t, h, root.ID, 2)); !slices.Equal(got, sorted(a.ID, b.ID, a1.ID, a2.ID)) {
		t.Errorf("descendants of the root after a delete: %v", got)
	}
	if got := idsOf(all(t, h, a1.ID, 2)); len(got) != 0 {
		t.Errorf("descendants of A1 after its child's delete: %v", got)
	}
}

func testDelete(t *testing.T, h Harness) {
	ctx := context.Background()
	root := orgs.Root(newRoot())
	a := mustCreate(t, h, child(root, "A"))
	b := mustCreate(t, h, child(a, "B"))
	e := entry(root.ID, "delete", a.ID)
	if _, err := h.Store.Delete(ctx, a.ID, e); !errors.Is(err, orgs.ErrHasChildren) {
		t.Errorf("Delete of a non-leaf: got %v, want ErrHasChildren", err)
	}
	if got, _ := mustOrg(t, h, a.ID); got.Deleted() {
		t.Error("a refused delete marked the organisation deleted")
	}
	if _, ok := auditOf(t, h, root.ID)[e.ID]; ok {
		t.Error("a refused delete left an audit entry")
	}
	del := mustDelete(t, h, b)
	if del.DeletedAt == nil || !del.DeletedAt.Equal(base.Add(time.Hour)) || del.ID != b.ID || !slices.Equal(del.Path, b.Path) {
		t.Errorf("Delete returned %+v, want the record deleted at the entry's time", del)
	}
	// Soft: the record stays, deleted.
	got, found := mustOrg(t, h, b.ID)
	if !found || !same(got, del) || !got.Deleted() {
		t.Errorf("Org after Delete: %+v (found %v), want the record, deleted", got, found)
	}
	for _, tc := range []struct{ what, id, parent string }{
		{"a deleted organisation", b.ID, a.ID}, {"a root", root.ID, root.ID}, {"an organisation never created", ids.New(orgs.IDPrefix), root.ID},
	} {
		if _, err := h.Store.Delete(ctx, tc.id, entry(tc.parent, "delete", tc.id)); !errors.Is(err, orgs.ErrNotFound) {
			t.Errorf("Delete of %s: got %v, want ErrNotFound", tc.what, err)
		}
	}
	// An audit entry in another log than the parent's is a bug, refused.
	if _, err := h.Store.Delete(ctx, a.ID, entry(a.ID, "delete", a.ID)); err == nil || errors.Is(err, orgs.ErrNotFound) || errors.Is(err, orgs.ErrHasChildren) {
		t.Errorf("Delete with the audit entry in its own log: %v, want a plain error", err)
	}
	// Now a leaf.
	mustDelete(t, h, a)
}

// testDeleteRacesACreate: an organisation's delete and the create of its child at once:
// exactly one succeeds, and the tree agrees with it.
func testDeleteRacesACreate(t *testing.T, h Harness) {
	ctx := context.Background()
	root := orgs.Root(newRoot())
	wins := map[string]int{}
	for round := range 12 {
		p := mustCreate(t, h, child(root, "P"))
		c := child(p, "C")
		var delErr, createErr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			delErr = retry(t, func() (err error) {
				_, err = h.Store.Delete(ctx, p.ID, entry(root.ID, "delete", p.ID))
				return err
			})
		})
		wg.Go(func() {
			<-start
			// A delete reads the record before it writes: let it go first in some rounds.
			time.Sleep(time.Duration(round%4) * 3 * time.Millisecond)
			createErr = retry(t, func() error { return h.Store.Create(ctx, c, entry(p.ID, "create", c.ID)) })
		})
		close(start)
		wg.Wait()
		switch {
		case delErr == nil && createErr == nil:
			t.Fatalf("round %d: both the delete and the child's create succeeded", round)
		case delErr == nil:
			wins["delete"]++
			if !errors.Is(createErr, orgs.ErrNoParent) {
				t.Errorf("round %d: the create lost with %v, want ErrNoParent", round, createErr)
			}
			if _, found := mustOrg(t, h, c.ID); found {
				t.Errorf("round %d: the child of a deleted organisation was stored", round)
			}
		case createErr == nil:
			wins["create"]++
			if !errors.Is(delErr, orgs.ErrHasChildren) {
				t.Errorf("round %d: the delete lost with %v, want ErrHasChildren", round, delErr)
			}
			if got, _ := mustOrg(t, h, p.ID); got.Deleted() {
				t.Errorf("round %d: the parent of a live child is deleted", round)
			}
		default:
			t.Errorf("round %d: both failed: delete %v, create %v", round, delErr, createErr)
		}
	}
	// The root's index agrees: every live organisation listed, no deleted one.
	for _, o := range all(t, h, root.ID, 100) {
		if got, _ := mustOrg(t, h, o.ID); got.Deleted() {
			t.Errorf("a deleted organisation %s is listed", o.ID)
		}
	}
	t.Logf("winners: %v", wins)
}

func testAudited(t *testing.T, h Harness) {
	root := orgs.Root(newRoot())
	ctx := context.Background()
	a := child(root, "A")
	create := entry(root.ID, "create", a.ID)
	if err := retry(t, func() error { return h.Store.Create(ctx, a, create) }); err != nil {
		t.Fatal(err)
	}
	del := entry(root.ID, "delete", a.ID)
	if err := retry(t, func() (err error) { _, err = h.Store.Delete(ctx, a.ID, del); return err }); err != nil {
		t.Fatal(err)
	}
	got := auditOf(t, h, root.ID)
	for _, want := range []audit.Entry{create, del} {
		e, ok := got[want.ID]
		if !ok {
			t.Errorf("the %s entry is not in the parent's audit log", want.Action)
			continue
		}
		if e.Action != want.Action || e.Actor != want.Actor || e.RequestID != want.RequestID || len(e.Changes) != 1 ||
			e.Changes[0].Field != want.Changes[0].Field || !e.At.Equal(want.At) {
			t.Errorf("audit entry: got %+v, want %+v", e, want)
		}
	}
	if len(got) != 2 {
		t.Errorf("the parent's audit log holds %d entries, want 2", len(got))
	}
	if own := auditOf(t, h, a.ID); len(own) != 0 {
		t.Errorf("the sub-organisation's own log holds %d entries, want none", len(own))
	}
	// An entry of another log or area is a bug, refused.
	b := child(root, "B")
	wrong := entry(root.ID, "create", b.ID)
	wrong.Area = "roles"
	if err := h.Store.Create(ctx, b, wrong); err == nil {
		t.Error("Create with an audit entry of another area: no error")
	}
	if err := h.Store.Create(ctx, b, entry(b.ID, "create", b.ID)); err == nil {
		t.Error("Create with an audit entry of its own log: no error")
	}
}

func testMalformed(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, id := range []string{"", "a#b", "a\x00b", strings.Repeat("x", 65), "-a", "a/b"} {
		if _, _, err := h.Store.Org(ctx, id); !problem.Is(err, problem.NotFound) {
			t.Errorf("Org(%q): got %v, want NotFound", id, err)
		}
		if _, err := h.Store.Descendants(ctx, id, "", 10); !problem.Is(err, problem.NotFound) {
			t.Errorf("Descendants(%q): got %v, want NotFound", id, err)
		}
		if _, err := h.Store.Delete(ctx, id, entry("root", "delete", "x")); !problem.Is(err, problem.NotFound) {
			t.Errorf("Delete(%q): got %v, want NotFound", id, err)
		}
		o := child(orgs.Root("root"), "x")
		o.ID, o.Path[1] = id, id
		if err := h.Store.Create(ctx, o, entry("root", "create", "x")); !problem.Is(err, problem.NotFound) {
			t.Errorf("Create(%q): got %v, want NotFound", id, err)
		}
	}
	if _, err := h.Store.Descendants(ctx, "root", "a#b", 10); !problem.Is(err, problem.BadRequest) {
		t.Errorf("Descendants after a malformed id: got %v, want BadRequest", err)
	}
}
