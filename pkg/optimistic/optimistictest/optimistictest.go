// Package optimistictest holds the contract checks that every store of versioned, named
// records passes; businessunitstest runs them for business units and tagstest for tag
// groups and tags. A Kind describes one kind of record through its store; its checks
// assert names unique per organisation regardless of case (even under racing creates),
// the bound on an organisation's records, renames that move the name, writes conditional
// on the version read, and an audit entry with every write and none with a refused one.
package optimistictest

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/problem"
)

// Lister reads the audit log a store writes to.
type Lister interface {
	ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
}

// Base is the time of the records and audit entries the suites write.
var Base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// NewOrg returns a new organisation id, so that suites sharing a store never meet.
func NewOrg() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "org-" + hex.EncodeToString(b[:])
}

// Entry returns a new audit entry of org and area, with one change of field.
func Entry(org, area, action, field string) audit.Entry {
	return audit.Entry{ID: audit.NewID(Base), OrgID: org, At: Base, Actor: "admin@" + org, Area: area, Action: action,
		RequestID: "r-" + action, Changes: []audit.Change{{Field: field, From: json.RawMessage(`null`), To: json.RawMessage(`"x"`)}}}
}

// AuditEntries returns the entries of org's audit log in area, by id.
func AuditEntries(t *testing.T, l Lister, org, area string) map[string]audit.Entry {
	t.Helper()
	page, err := l.ListAudit(context.Background(), org, audit.Query{Area: area, Limit: 100})
	if err != nil {
		t.Fatalf("ListAudit(%s): %v", org, err)
	}
	out := map[string]audit.Entry{}
	for _, e := range page.Items {
		out[e.ID] = e
	}
	return out
}

// A Step is one write of CheckAudited: Run writes with the entry it is given.
type Step struct {
	Action string
	Run    func(e audit.Entry) error
}

// CheckAudited runs the steps, each with a new entry of org and area, and checks that
// the audit log holds each entry as written, and nothing else.
func CheckAudited(t *testing.T, l Lister, org, area string, steps ...Step) {
	t.Helper()
	var want []audit.Entry
	for _, s := range steps {
		e := Entry(org, area, s.Action, "x.name")
		if err := s.Run(e); err != nil {
			t.Fatalf("%s: %v", s.Action, err)
		}
		want = append(want, e)
	}
	got := AuditEntries(t, l, org, area)
	for _, w := range want {
		e, ok := got[w.ID]
		if !ok {
			t.Errorf("the %s entry %s is not in the audit log", w.Action, w.ID)
			continue
		}
		if e.Action != w.Action || e.Actor != w.Actor || e.RequestID != w.RequestID || len(e.Changes) != 1 ||
			e.Changes[0].Field != w.Changes[0].Field || !e.At.Equal(w.At) {
			t.Errorf("audit entry %s (%s): got %+v, want %+v", w.ID, w.Action, e, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("audit log holds %d entries, want %d", len(got), len(want))
	}
}

// RaceService calls create(i) for i in [0, n) at once, each through the service that
// retries writes which lost a race, and checks that exactly one succeeds and every
// other is a problem.Conflict (what the API answers 409 with).
func RaceService(t *testing.T, n int, create func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = create(i) })
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
			t.Errorf("create: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("racing creates: %d succeeded and %d were conflicts, want 1 and %d", ok, conflicts, n-1)
	}
}

// Kind is one kind of versioned, named record, T, through its store.
type Kind[T any] struct {
	What  string // what a record is called in messages ("business unit")
	Area  string // the audit area of its writes
	Audit Lister
	Max   int  // the most records an organisation may have
	Long  bool // creating Max records takes long: under -short CheckLimit skips
	// The errors of the store.
	ErrNameTaken, ErrLimit, ErrChanged error

	New func(org, name string) T // a new record (a new id, version 1), not stored
	// Fields points at a record's id, name, name key (caseless.Key of the name) and
	// version.
	Fields func(r *T) (id, name, nameKey *string, version *int64)
	Same   func(a, b T) bool // a and b hold the same (times compared as instants)

	Create func(ctx context.Context, r T, e audit.Entry) error
	Get    func(ctx context.Context, org, id string) (T, bool, error)
	List   func(ctx context.Context, org string) ([]T, error)
	Update func(ctx context.Context, prev, next T, e audit.Entry) error
	Delete func(ctx context.Context, r T, e audit.Entry) error
}

// ID returns r's id.
func (k *Kind[T]) ID(r T) string {
	id, _, _, _ := k.Fields(&r)
	return *id
}

// Name returns r's name.
func (k *Kind[T]) Name(r T) string {
	_, name, _, _ := k.Fields(&r)
	return *name
}

// Renamed returns r with the name (and its name key), one version on.
func (k *Kind[T]) Renamed(r T, name string) T {
	_, n, key, version := k.Fields(&r)
	*n, *key, *version = name, caseless.Key(name), *version+1
	return r
}

// entry returns a new audit entry of a write of r.
func (k *Kind[T]) entry(org, action string, r T) audit.Entry {
	return Entry(org, k.Area, action, k.ID(r)+".name")
}

// MustCreate stores r, failing the test otherwise.
func (k *Kind[T]) MustCreate(t *testing.T, org string, r T) T {
	t.Helper()
	if err := k.Create(context.Background(), r, k.entry(org, "create", r)); err != nil {
		t.Fatalf("create %s %s %q: %v", k.What, k.ID(r), k.Name(r), err)
	}
	return r
}

// MustGet reads a record, failing the test on an error.
func (k *Kind[T]) MustGet(t *testing.T, org, id string) (T, bool) {
	t.Helper()
	r, found, err := k.Get(context.Background(), org, id)
	if err != nil {
		t.Fatalf("get %s %s/%s: %v", k.What, org, id, err)
	}
	return r, found
}

// MustList lists org's records by name, failing the test on an error.
func (k *Kind[T]) MustList(t *testing.T, org string) []T {
	t.Helper()
	rs, err := k.List(context.Background(), org)
	if err != nil {
		t.Fatalf("list %s of %s: %v", k.What, org, err)
	}
	slices.SortFunc(rs, func(a, b T) int { return strings.Compare(k.Name(a), k.Name(b)) })
	return rs
}

// refused checks that a write of r with entry e gave want and left neither r (unless
// stored, which r must still be) nor e.
func (k *Kind[T]) refused(t *testing.T, org, what string, err, want error, r T, stored bool, e audit.Entry) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
	if got, found := k.MustGet(t, org, k.ID(r)); found != stored || stored && !k.Same(got, r) {
		t.Errorf("after the refused %s: got %+v (found %v), want %+v (found %v)", what, got, found, r, stored)
	}
	if _, ok := AuditEntries(t, k.Audit, org, k.Area)[e.ID]; ok {
		t.Errorf("the refused %s left an audit entry", what)
	}
}

// CheckNames checks that names are unique in an organisation regardless of case and of
// Unicode normalisation, and that other names, and the names of another organisation,
// are free.
func (k *Kind[T]) CheckNames(t *testing.T) {
	ctx, org := context.Background(), NewOrg()
	for _, name := range []string{"Sales", "Straße", "Caf\u00e9"} {
		k.MustCreate(t, org, k.New(org, name))
	}
	for _, name := range []string{"Sales", "sales", "SALES", "sAlEs", "Stra\u00dfe", "STRASSE", "strasse", "Cafe\u0301", "CAF\u00c9"} {
		r := k.New(org, name)
		e := k.entry(org, "create", r)
		k.refused(t, org, fmt.Sprintf("create of %s %q after Sales, Straße, Café", k.What, name), k.Create(ctx, r, e), k.ErrNameTaken, r, false, e)
	}
	k.MustCreate(t, org, k.New(org, "Sales 2"))
	k.MustCreate(t, org, k.New(org, "\uff33\uff41\uff4c\uff45\uff53")) // full-width: another name
	other := NewOrg()
	k.MustCreate(t, other, k.New(other, "SALES"))
	if n := len(k.MustList(t, org)); n != 5 {
		t.Errorf("list: %d %s records, want 5", n, k.What)
	}
}

// Racer is a kind whose creates race in RaceCreates (a *Kind).
type Racer interface {
	raceCreate(t *testing.T, org, name string) (won bool)
	count(t *testing.T, org string) int
	what() string
}

func (k *Kind[T]) what() string                       { return k.What }
func (k *Kind[T]) count(t *testing.T, org string) int { return len(k.MustList(t, org)) }

// raceCreate creates a record named name, again while the write collides with another
// transaction: won is whether it was stored (the name was free).
func (k *Kind[T]) raceCreate(t *testing.T, org, name string) (won bool) {
	r := k.New(org, name)
	for try := 0; ; try++ {
		err := k.Create(context.Background(), r, k.entry(org, "create", r))
		switch {
		case err == nil:
			return true
		case errors.Is(err, k.ErrNameTaken):
			return false
		case errors.Is(err, optimistic.ErrContended) && try < 50:
			time.Sleep(time.Duration(try+1) * time.Millisecond)
		default:
			t.Errorf("create %s %q: %v", k.What, name, err)
			return false
		}
	}
}

// RaceCreates creates records of one name, in different cases, all at once in one
// organisation, eight of every kind: exactly one of each kind is stored. A loser is
// ErrNameTaken, or contended (nothing written) and ErrNameTaken when tried again.
func RaceCreates(t *testing.T, kinds ...Racer) {
	org := NewOrg()
	won := make([]atomic.Int32, len(kinds))
	var wg sync.WaitGroup
	for _, name := range []string{"Billing", "billing", "BILLING", "BiLLing", "billinG", "Billing", "bILLING", "billing"} {
		for i, k := range kinds {
			wg.Go(func() {
				if k.raceCreate(t, org, name) {
					won[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	for i, k := range kinds {
		if n := won[i].Load(); n != 1 {
			t.Errorf("%d of the racing creates of a %s won, want 1", n, k.what())
		}
		if n := k.count(t, org); n != 1 {
			t.Errorf("after the race: %d %s records, want 1", n, k.what())
		}
	}
}

// CheckLimit checks, in org, that an organisation has at most Max records, and that a
// delete frees a place.
func (k *Kind[T]) CheckLimit(t *testing.T, org string) {
	if k.Long && testing.Short() {
		t.Logf("-short: the bound of %d %s records is left out", k.Max, k.What)
		return
	}
	ctx := context.Background()
	var last T
	for i := range k.Max {
		last = k.MustCreate(t, org, k.New(org, fmt.Sprintf("Record %04d", i)))
	}
	extra := k.New(org, "One too many")
	if err := k.Create(ctx, extra, k.entry(org, "create", extra)); !errors.Is(err, k.ErrLimit) {
		t.Fatalf("create of a %s beyond %d: got %v, want ErrLimit", k.What, k.Max, err)
	}
	if n := len(k.MustList(t, org)); n != k.Max {
		t.Fatalf("list: %d %s records, want %d", n, k.What, k.Max)
	}
	if err := k.Delete(ctx, last, k.entry(org, "delete", last)); err != nil {
		t.Fatal(err)
	}
	k.MustCreate(t, org, extra)
}

// CheckVersions checks that updates and deletes are conditional on the version read:
// one based on a version behind or ahead of the stored one, or on a record never
// stored, is ErrChanged and writes nothing.
func (k *Kind[T]) CheckVersions(t *testing.T) {
	ctx, org := context.Background(), NewOrg()
	r := k.MustCreate(t, org, k.New(org, "Hot"))
	next := k.Renamed(r, "Warm")
	if err := k.Update(ctx, r, next, k.entry(org, "patch", r)); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.MustGet(t, org, k.ID(r)); !k.Same(got, next) {
		t.Errorf("after the update: got %+v, want %+v", got, next)
	}
	// Based on version 1 again: refused, nothing written, and the name stays free.
	e := k.entry(org, "patch", r)
	k.refused(t, org, "update from a stale version", k.Update(ctx, r, k.Renamed(r, "Stale"), e), k.ErrChanged, next, true, e)
	k.MustCreate(t, org, k.New(org, "stale"))
	// Based on a version not stored yet.
	ahead := k.Renamed(next, "Ahead")
	e = k.entry(org, "patch", r)
	k.refused(t, org, "update from a version ahead", k.Update(ctx, ahead, k.Renamed(ahead, "Beyond"), e), k.ErrChanged, next, true, e)
	// Of a record never stored.
	never := k.New(org, "Gone")
	e = k.entry(org, "patch", never)
	k.refused(t, org, "update of a record never stored", k.Update(ctx, never, k.Renamed(never, "Gone"), e), k.ErrChanged, never, false, e)
	// A delete at a version not stored.
	e = k.entry(org, "delete", r)
	k.refused(t, org, "delete at a stale version", k.Delete(ctx, r, e), k.ErrChanged, next, true, e)
}

// CheckRename checks that a rename onto another record's name (in another case) is
// ErrNameTaken, that a change of case keeps the name, and that a rename frees the old
// name and takes the new one.
func (k *Kind[T]) CheckRename(t *testing.T) {
	ctx, org := context.Background(), NewOrg()
	a := k.MustCreate(t, org, k.New(org, "Sales"))
	k.MustCreate(t, org, k.New(org, "Support"))
	e := k.entry(org, "patch", a)
	k.refused(t, org, "rename onto another record's name", k.Update(ctx, a, k.Renamed(a, "SUPPORT"), e), k.ErrNameTaken, a, true, e)
	cased := k.Renamed(a, "SALES")
	if err := k.Update(ctx, a, cased, k.entry(org, "patch", a)); err != nil {
		t.Fatalf("rename to another case: %v", err)
	}
	moved := k.Renamed(cased, "Revenue")
	if err := k.Update(ctx, cased, moved, k.entry(org, "patch", a)); err != nil {
		t.Fatal(err)
	}
	k.MustCreate(t, org, k.New(org, "sales"))
	taken := k.New(org, "REVENUE")
	if err := k.Create(ctx, taken, k.entry(org, "create", taken)); !errors.Is(err, k.ErrNameTaken) {
		t.Errorf("create with the new name: got %v, want ErrNameTaken", err)
	}
}

// A Holder makes a record of a kind that holds what other writes add to it (a unit's
// members, a group's tags) hold one more, in a write of its own: Hold returns what undoes
// it, or the error of the write (ErrGone when the record does not exist). The zero
// Holder is that of a kind whose records hold nothing.
type Holder[T any] struct {
	Hold    func(ctx context.Context, org string, r T) (release func() error, err error)
	ErrGone error // the record to hold one more is gone
	// ErrHolds is the kind's error of a delete of a record that holds something.
	ErrHolds error
}

// CheckDelete checks that a delete at a version not stored is ErrChanged, that one of a
// record that holds something is hd.ErrHolds and writes nothing (with a Hold), that a
// delete once it holds nothing removes it with its audit entry, that a delete of a deleted record is
// ErrChanged, and that the name is free again.
func (k *Kind[T]) CheckDelete(t *testing.T, hd Holder[T]) {
	ctx, org := context.Background(), NewOrg()
	r := k.MustCreate(t, org, k.New(org, "Sales"))
	e := k.entry(org, "delete", r)
	k.refused(t, org, "delete at a version not stored", k.Delete(ctx, k.Renamed(r, k.Name(r)), e), k.ErrChanged, r, true, e)
	if hd.Hold != nil {
		release, err := hd.Hold(ctx, org, r)
		if err != nil {
			t.Fatal(err)
		}
		e = k.entry(org, "delete", r)
		if err := k.Delete(ctx, r, e); !errors.Is(err, hd.ErrHolds) {
			t.Errorf("delete of a %s that holds one: got %v, want %v", k.What, err, hd.ErrHolds)
		}
		if _, found := k.MustGet(t, org, k.ID(r)); !found {
			t.Errorf("a %s that holds one was deleted", k.What)
		}
		if _, ok := AuditEntries(t, k.Audit, org, k.Area)[e.ID]; ok {
			t.Error("a refused delete left an audit entry")
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
	}
	e = k.entry(org, "delete", r)
	if err := k.Delete(ctx, r, e); err != nil {
		t.Fatalf("delete once it holds nothing: %v", err)
	}
	if _, found := k.MustGet(t, org, k.ID(r)); found {
		t.Errorf("%s found after its delete", k.What)
	}
	if _, ok := AuditEntries(t, k.Audit, org, k.Area)[e.ID]; !ok {
		t.Error("the delete left no audit entry")
	}
	e = k.entry(org, "delete", r)
	k.refused(t, org, "delete of a deleted record", k.Delete(ctx, r, e), k.ErrChanged, r, false, e)
	k.MustCreate(t, org, k.New(org, "SALES")) // the name is free again
}

// CheckDeleteRaces checks, over ten rounds, that a record's delete and a write that
// makes it hold one more, at once, never both succeed (the record would be gone while it
// holds something): the delete fails with hd.ErrHolds, the other with hd.ErrGone, or
// either contended.
func (k *Kind[T]) CheckDeleteRaces(t *testing.T, hd Holder[T]) {
	ctx, org := context.Background(), NewOrg()
	for round := range 10 {
		r := k.MustCreate(t, org, k.New(org, fmt.Sprintf("Round %d", round)))
		var delErr, holdErr error
		var wg sync.WaitGroup
		wg.Go(func() { delErr = k.Delete(ctx, r, k.entry(org, "delete", r)) })
		wg.Go(func() { _, holdErr = hd.Hold(ctx, org, r) })
		wg.Wait()
		if delErr == nil && holdErr == nil {
			t.Fatalf("round %d: both the delete and the write that holds the %s succeeded", round, k.What)
		}
		if delErr != nil && !errors.Is(delErr, hd.ErrHolds) && !errors.Is(delErr, optimistic.ErrContended) {
			t.Errorf("round %d: delete: %v", round, delErr)
		}
		if holdErr != nil && !errors.Is(holdErr, hd.ErrGone) && !errors.Is(holdErr, optimistic.ErrContended) {
			t.Errorf("round %d: hold: %v", round, holdErr)
		}
	}
}
