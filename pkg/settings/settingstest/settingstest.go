// Package settingstest is the contract suite every settings.Store adapter must pass.
package settingstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// Run runs the contract suite against the store newStore returns. Stores may be shared
// between subtests: each subtest uses its own organisation ids.
func Run(t *testing.T, newStore func(t *testing.T) settings.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s settings.Store)
	}{
		{"GetNeverSavedIsNotFound", testGetMissing},
		{"SaveThenGet", testSaveGet},
		{"StaleVersionWritesNothing", testStale},
		{"ConcurrentSavesOneWins", testConcurrent},
		{"OrganisationsAreIsolated", testIsolation},
		{"AuditNewestFirstWithAreaFilter", testAuditOrder},
		{"AuditPagesCoverEveryEntryOnce", testAuditPaging},
		{"AuditAfterMustBeAnAuditID", testAuditAfter},
		{"AuditLimitRange", testAuditLimit},
		{"EventualReadSeesSavedDocument", testEventual},
		{"MalformedIDsNeverReachKeys", testMalformedIDs},
		{"LockedFieldsRoundTrip", testLocked},
		{"GetPathReadsEveryOrganisation", testGetPath},
		{"GuardsMakeSaveConditional", testGuards},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func newOrg() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "org-" + hex.EncodeToString(b[:])
}

var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func rec(org, area string, version int64, data string) settings.Record {
	return settings.Record{OrgID: org, Area: area, Version: version,
		UpdatedAt: base.Add(time.Duration(version) * time.Minute), UpdatedBy: "user-1", Data: json.RawMessage(data)}
}

func entry(org, area string, at time.Time, field string) audit.Entry {
	return audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Actor: "user-1", Area: area,
		Action: "replace", RequestID: "req-" + field,
		Changes: []audit.Change{{Field: field, From: json.RawMessage(`1`), To: json.RawMessage(`{"a":[1,"x"]}`)}}}
}

func mustSave(t *testing.T, s settings.Store, r settings.Record, e audit.Entry) {
	t.Helper()
	if err := s.Save(context.Background(), r, e); err != nil {
		t.Fatalf("Save(%s/%s v%d): %v", r.OrgID, r.Area, r.Version, err)
	}
}

func mustList(t *testing.T, s settings.Store, org string, q audit.Query) audit.Page {
	t.Helper()
	p, err := s.ListAudit(context.Background(), org, q)
	if err != nil {
		t.Fatalf("ListAudit(%s, %+v): %v", org, q, err)
	}
	return p
}

func testGetMissing(t *testing.T, s settings.Store) {
	_, err := s.Get(context.Background(), newOrg(), "general", settings.Strong)
	if !problem.Is(err, problem.NotFound) {
		t.Fatalf("Get of an area never saved: got %v, want a NotFound problem", err)
	}
}

func testSaveGet(t *testing.T, s settings.Store) {
	org := newOrg()
	r := rec(org, "chat-handling", 1, `{"maxChatsPerAgent":4,"nested":{"x":"ü \"q\""}}`)
	mustSave(t, s, r, entry(org, "chat-handling", base, "maxChatsPerAgent"))
	got, err := s.Get(context.Background(), org, "chat-handling", settings.Strong)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Version != 1 || !got.UpdatedAt.Equal(r.UpdatedAt) || got.UpdatedBy != "user-1" || got.OrgID != org || got.Area != "chat-handling" {
		t.Errorf("got %+v, want version 1 at %v by user-1", got, r.UpdatedAt)
	}
	assertJSONEqual(t, got.Data, r.Data)
	mustSave(t, s, rec(org, "chat-handling", 2, `{"maxChatsPerAgent":5}`), entry(org, "chat-handling", base.Add(time.Second), "maxChatsPerAgent"))
	got, err = s.Get(context.Background(), org, "chat-handling", settings.Strong)
	if err != nil || got.Version != 2 {
		t.Fatalf("Get after second save: got version %d, err %v; want 2, nil", got.Version, err)
	}
	assertJSONEqual(t, got.Data, json.RawMessage(`{"maxChatsPerAgent":5}`))
}

func testStale(t *testing.T, s settings.Store) {
	org := newOrg()
	mustSave(t, s, rec(org, "general", 1, `{"name":"a"}`), entry(org, "general", base, "name"))
	for _, v := range []int64{1, 3, 0} {
		err := s.Save(context.Background(), rec(org, "general", v, `{"name":"stale"}`), entry(org, "general", base.Add(time.Hour), "stale"))
		if !errors.Is(err, settings.ErrVersionConflict) {
			t.Errorf("Save version %d over stored 1: got %v, want ErrVersionConflict", v, err)
		}
	}
	got, err := s.Get(context.Background(), org, "general", settings.Strong)
	if err != nil || got.Version != 1 {
		t.Fatalf("after stale saves: version %d err %v, want 1", got.Version, err)
	}
	assertJSONEqual(t, got.Data, json.RawMessage(`{"name":"a"}`))
	if p := mustList(t, s, org, audit.Query{}); len(p.Items) != 1 {
		t.Errorf("audit entries after stale saves: got %d, want 1 (a failed change writes no audit entry)", len(p.Items))
	}
}

func testConcurrent(t *testing.T, s settings.Store) {
	org := newOrg()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Save(context.Background(), rec(org, "general", 1, fmt.Sprintf(`{"name":"w%d"}`, i)),
				entry(org, "general", base.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("w%d", i)))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, settings.ErrVersionConflict):
		default:
			t.Errorf("concurrent Save: unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("concurrent saves of version 1: %d succeeded, want exactly 1", won)
	}
	if p := mustList(t, s, org, audit.Query{}); len(p.Items) != 1 {
		t.Errorf("audit entries: got %d, want 1", len(p.Items))
	}
}

func testIsolation(t *testing.T, s settings.Store) {
	a, b := newOrg(), newOrg()
	mustSave(t, s, rec(a, "general", 1, `{"name":"a"}`), entry(a, "general", base, "name"))
	if _, err := s.Get(context.Background(), b, "general", settings.Strong); !problem.Is(err, problem.NotFound) {
		t.Errorf("Get of another org: got %v, want NotFound", err)
	}
	if p := mustList(t, s, b, audit.Query{}); len(p.Items) != 0 {
		t.Errorf("audit of another org: got %d entries, want 0", len(p.Items))
	}
}

func testAuditOrder(t *testing.T, s settings.Store) {
	org := newOrg()
	areas := []string{"general", "office-hours", "general", "chat-handling", "general"}
	versions := map[string]int64{}
	for i, area := range areas {
		versions[area]++
		mustSave(t, s, rec(org, area, versions[area], `{}`), entry(org, area, base.Add(time.Duration(i)*time.Second), fmt.Sprintf("f%d", i)))
	}
	p := mustList(t, s, org, audit.Query{})
	var got []string
	for _, e := range p.Items {
		got = append(got, e.Changes[0].Field)
	}
	if want := []string{"f4", "f3", "f2", "f1", "f0"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit order: got %v, want %v", got, want)
	}
	if p.More {
		t.Errorf("single page: got More, want none")
	}
	e := p.Items[0]
	if e.Actor != "user-1" || e.Area != "general" || e.Action != "replace" || e.RequestID != "req-f4" || !e.At.Equal(base.Add(4*time.Second)) {
		t.Errorf("audit entry fields: got %+v", e)
	}
	assertJSONEqual(t, e.Changes[0].To, json.RawMessage(`{"a":[1,"x"]}`))
	p = mustList(t, s, org, audit.Query{Area: "general"})
	got = nil
	for _, e := range p.Items {
		got = append(got, e.Changes[0].Field)
	}
	if want := []string{"f4", "f2", "f0"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit ?area=general: got %v, want %v", got, want)
	}
}

func testAuditPaging(t *testing.T, s settings.Store) {
	org := newOrg()
	const n = 23
	for i := range n {
		area := "general"
		if i%3 == 0 {
			area = "office-hours"
		}
		mustSave(t, s, rec(org, fmt.Sprintf("%s-%c", area, 'a'+i), 1, `{}`), entry(org, area, base.Add(time.Duration(i)*time.Second), fmt.Sprintf("f%02d", i)))
	}
	for _, area := range []string{"", "general", "office-hours"} {
		want := 0
		for i := range n {
			if area == "" || (area == "office-hours") == (i%3 == 0) {
				want++
			}
		}
		seen := map[string]bool{}
		q := audit.Query{Area: area, Limit: 4}
		pages := 0
		last := "~"
		for {
			p := mustList(t, s, org, q)
			pages++
			for _, e := range p.Items {
				if seen[e.ID] {
					t.Fatalf("area %q: entry %s listed twice", area, e.ID)
				}
				if e.ID >= last {
					t.Fatalf("area %q: entries not newest first (%s after %s)", area, e.ID, last)
				}
				last = e.ID
				seen[e.ID] = true
			}
			if len(p.Items) > 4 {
				t.Fatalf("page of %d items, limit 4", len(p.Items))
			}
			if !p.More {
				break
			}
			if len(p.Items) == 0 {
				t.Fatalf("area %q: an empty page says more follow", area)
			}
			q.After = p.Items[len(p.Items)-1].ID
			if pages > 20 {
				t.Fatal("paging does not end")
			}
		}
		if len(seen) != want {
			t.Errorf("area %q: %d entries over %d pages, want %d", area, len(seen), pages, want)
		}
		if wantPages := (want + 3) / 4; pages != wantPages {
			t.Errorf("area %q: %d pages, want %d (no empty last page)", area, pages, wantPages)
		}
	}
}

func testAuditAfter(t *testing.T, s settings.Store) {
	org := newOrg()
	mustSave(t, s, rec(org, "general", 1, `{}`), entry(org, "general", base, "x"))
	for _, after := range []string{"x", "../../etc", "0000000000000000001-zzzzzzzzzzzz", "\x00", "1-2"} {
		_, err := s.ListAudit(context.Background(), org, audit.Query{After: after})
		if !problem.Is(err, problem.BadRequest) {
			t.Errorf("After %q: got %v, want BadRequest", after, err)
		}
	}
	// After the oldest entry: an empty last page.
	p := mustList(t, s, org, audit.Query{})
	last := mustList(t, s, org, audit.Query{After: p.Items[0].ID})
	if len(last.Items) != 0 || last.More {
		t.Errorf("after the only entry: got %d items, more %v; want none", len(last.Items), last.More)
	}
}

func testEventual(t *testing.T, s settings.Store) {
	org := newOrg()
	mustSave(t, s, rec(org, "office-hours", 1, `{"timeZone":"UTC"}`), entry(org, "office-hours", base, "timeZone"))
	// DynamoDB's eventual reads usually see a write at once and always within a second.
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := s.Get(context.Background(), org, "office-hours", settings.Eventual)
		if err == nil && got.Version == 1 {
			assertJSONEqual(t, got.Data, json.RawMessage(`{"timeZone":"UTC"}`))
			return
		}
		if err != nil && !problem.Is(err, problem.NotFound) {
			t.Fatalf("eventual Get: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("eventual Get: got %+v, %v; want version 1 within 2 s", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Organisation ids that are not valid (package ids) never reach a key: an org "a\x00b"
// cannot see org "a"'s audit entries, an org "a/b" cannot write beside org "a".
func testMalformedIDs(t *testing.T, s settings.Store) {
	ctx := context.Background()
	org := newOrg()
	mustSave(t, s, rec(org, "general", 1, `{"name":"a"}`), entry(org, "general", base, "name"))
	for _, bad := range []string{org + "\x00x", org + "/x", org + "#x", "", "-" + org, org + " "} {
		if _, err := s.Get(ctx, bad, "general", settings.Strong); !problem.Is(err, problem.NotFound) {
			t.Errorf("Get(%q): got %v, want NotFound", bad, err)
		}
		if p, err := s.ListAudit(ctx, bad, audit.Query{}); !problem.Is(err, problem.NotFound) || len(p.Items) != 0 {
			t.Errorf("ListAudit(%q): got %d items, %v; want NotFound", bad, len(p.Items), err)
		}
		r := rec(bad, "general", 1, `{"name":"x"}`)
		e := entry(bad, "general", base, "name")
		if err := s.Save(ctx, r, e); err == nil {
			t.Errorf("Save(%q): accepted", bad)
		}
	}
	if err := s.Save(ctx, rec(org, "gen#eral", 1, `{}`), entry(org, "gen#eral", base, "x")); err == nil {
		t.Errorf("Save with area gen#eral: accepted")
	}
	if p := mustList(t, s, org, audit.Query{}); len(p.Items) != 1 {
		t.Errorf("org %s audit: got %d entries, want its 1", org, len(p.Items))
	}
}

func testAuditLimit(t *testing.T, s settings.Store) {
	for _, n := range []int{-1, 101, 1000} {
		_, err := s.ListAudit(context.Background(), newOrg(), audit.Query{Limit: n})
		if !problem.Is(err, problem.Invalid) {
			t.Errorf("limit %d: got %v, want Invalid", n, err)
		}
	}
}

func assertJSONEqual(t *testing.T, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("got %s, want %s", got, want)
	}
}

func testLocked(t *testing.T, s settings.Store) {
	ctx := context.Background()
	org := newOrg()
	r := rec(org, "general", 1, `{"name":"Acme"}`)
	r.Locked = []string{"name", "timeZone"}
	mustSave(t, s, r, entry(org, "general", base, "locked"))
	got, err := s.Get(ctx, org, "general", settings.Strong)
	if err != nil || fmt.Sprint(got.Locked) != "[name timeZone]" || string(got.Data) != `{"name":"Acme"}` {
		t.Fatalf("Get = %+v, %v; want the locked fields back", got, err)
	}
	// A later version without locks has none.
	r2 := rec(org, "general", 2, `{}`)
	mustSave(t, s, r2, entry(org, "general", base.Add(time.Second), "locked"))
	if got, _ := s.Get(ctx, org, "general", settings.Strong); len(got.Locked) != 0 || got.Version != 2 {
		t.Errorf("after unlocking: %+v", got)
	}
}

func testGetPath(t *testing.T, s settings.Store) {
	ctx := context.Background()
	root, mid, leaf := newOrg(), newOrg(), newOrg()
	r := rec(root, "general", 1, `{"name":"Root"}`)
	r.Locked = []string{"name"}
	mustSave(t, s, r, entry(root, "general", base, "name"))
	mustSave(t, s, rec(leaf, "general", 1, `{"timeZone":"UTC"}`), entry(leaf, "general", base, "timeZone"))
	mustSave(t, s, rec(mid, "other-area", 1, `{"x":1}`), entry(mid, "other-area", base, "x"))
	for _, c := range []settings.Consistency{settings.Strong, settings.Eventual} {
		got, err := s.GetPath(ctx, []string{root, mid, leaf}, "general", c)
		if err != nil || len(got) != 3 {
			t.Fatalf("GetPath = %v, %v", got, err)
		}
		if got[0].OrgID != root || got[0].Version != 1 || string(got[0].Data) != `{"name":"Root"}` || fmt.Sprint(got[0].Locked) != "[name]" {
			t.Errorf("root: %+v", got[0])
		}
		if got[1].OrgID != mid || got[1].Area != "general" || got[1].Version != 0 || got[1].Data != nil {
			t.Errorf("never saved (another area only): %+v", got[1])
		}
		if got[2].OrgID != leaf || got[2].Version != 1 || string(got[2].Data) != `{"timeZone":"UTC"}` {
			t.Errorf("leaf: %+v", got[2])
		}
	}
	one, err := s.GetPath(ctx, []string{leaf}, "general", settings.Strong)
	if err != nil || len(one) != 1 || one[0].Version != 1 {
		t.Errorf("a path of one: %+v, %v", one, err)
	}
	long := make([]string, settings.MaxPath+1)
	for i := range long {
		long[i] = newOrg()
	}
	if _, err := s.GetPath(ctx, long, "general", settings.Strong); err == nil {
		t.Error("a path longer than MaxPath was read")
	}
	if _, err := s.GetPath(ctx, []string{root, "bad#id"}, "general", settings.Strong); !problem.Is(err, problem.NotFound) {
		t.Errorf("a malformed id in the path: %v, want NotFound", err)
	}
}

func testGuards(t *testing.T, s settings.Store) {
	ctx := context.Background()
	parent, child := newOrg(), newOrg()
	mustSave(t, s, rec(parent, "general", 1, `{"name":"P"}`), entry(parent, "general", base, "name"))
	// Guarded by the parent's current version: saved.
	if err := s.Save(ctx, rec(child, "general", 1, `{"timeZone":"UTC"}`), entry(child, "general", base, "timeZone"),
		settings.Guard{OrgID: parent, Version: 1}); err != nil {
		t.Fatal(err)
	}
	// The parent moved on: the child's write is a conflict and writes nothing (no audit).
	mustSave(t, s, rec(parent, "general", 2, `{"name":"P2"}`), entry(parent, "general", base.Add(time.Second), "name"))
	stale := entry(child, "general", base.Add(2*time.Second), "stale")
	if err := s.Save(ctx, rec(child, "general", 2, `{"timeZone":"Europe/Lisbon"}`), stale, settings.Guard{OrgID: parent, Version: 1}); !errors.Is(err, settings.ErrVersionConflict) {
		t.Errorf("save guarded by a stale version: %v, want ErrVersionConflict", err)
	}
	if got, _ := s.Get(ctx, child, "general", settings.Strong); got.Version != 1 {
		t.Errorf("the refused save wrote version %d", got.Version)
	}
	for _, e := range mustList(t, s, child, audit.Query{Limit: 10}).Items {
		if e.ID == stale.ID {
			t.Error("the refused save stored its audit entry")
		}
	}
	// A guard on a record never saved is version 0, and fails once it exists.
	other := newOrg()
	if err := s.Save(ctx, rec(child, "general", 2, `{}`), entry(child, "general", base.Add(3*time.Second), "x"),
		settings.Guard{OrgID: parent, Version: 2}, settings.Guard{OrgID: other, Version: 0}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, rec(other, "general", 1, `{}`), entry(other, "general", base, "x"))
	if err := s.Save(ctx, rec(child, "general", 3, `{}`), entry(child, "general", base.Add(4*time.Second), "y"),
		settings.Guard{OrgID: other, Version: 0}); !errors.Is(err, settings.ErrVersionConflict) {
		t.Errorf("guard on a record saved since: %v, want ErrVersionConflict", err)
	}
}
