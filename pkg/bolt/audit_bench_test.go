package bolt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/settings"
)

// seedAudit opens a store holding n audit entries of org "acme", every fourth of area
// "general" and the rest spread over two other areas, written in batches for speed.
func seedAudit(tb testing.TB, n int) *bolt.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "convrs.db")
	s, err := bolt.OpenWith(path, bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	versions := map[string]int64{}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		area := "office-hours"
		switch {
		case i%4 == 0:
			area = "general"
		case i%2 == 0:
			area = "chat-handling"
		}
		versions[area]++
		at = at.Add(time.Second)
		rec := settings.Record{OrgID: "acme", Area: area, Version: versions[area], UpdatedAt: at, UpdatedBy: "u", Data: json.RawMessage(`{}`)}
		e := audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Actor: "u", Area: area, Action: "patch",
			Changes: []audit.Change{{Field: "f", From: json.RawMessage(`1`), To: json.RawMessage(`2`)}}}
		if err := s.Save(context.Background(), rec, e); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func listPage(tb testing.TB, s *bolt.Store, area string) {
	p, err := s.ListAudit(context.Background(), "acme", audit.Query{Area: area, Limit: 25})
	if err != nil || len(p.Items) != 25 {
		tb.Fatalf("ListAudit(area %q): %d items, %v", area, len(p.Items), err)
	}
}

// An ?area= page costs the page, not the organisation's history: the embedded store used
// to decode every entry of the org to filter (53 ms and 160k allocations at 10,000).
func TestAreaFilterCostIsConstant(t *testing.T) {
	small, large := seedAudit(t, 300), seedAudit(t, 3000)
	a := testing.AllocsPerRun(20, func() { listPage(t, small, "general") })
	b := testing.AllocsPerRun(20, func() { listPage(t, large, "general") })
	if b > a*1.1+5 {
		t.Errorf("allocations per ?area= page: %.0f at 300 entries, %.0f at 3,000; want the same", a, b)
	}
}

func BenchmarkListAudit(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		s := seedAudit(b, n)
		for _, area := range []string{"", "general"} {
			b.Run(fmt.Sprintf("entries=%d/area=%s", n, area), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					listPage(b, s, area)
				}
			})
		}
	}
}

// A file written before the index existed gets it on first open.
func TestOpenIndexesOldFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "convrs.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, area := range []string{"general", "office-hours", "general"} {
		at = at.Add(time.Second)
		rec := settings.Record{OrgID: "acme", Area: area, Version: int64(1 + i/2), UpdatedAt: at, UpdatedBy: "u", Data: json.RawMessage(`{}`)}
		if err := s.Save(context.Background(), rec, audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Area: area, Action: "patch"}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("auditByArea")) }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.ListAudit(context.Background(), "acme", audit.Query{Area: "general"})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("?area=general after reindexing: %d items, %v; want 2", len(p.Items), err)
	}
}

// A second process on the same file is told at once who holds it.
func TestOpenHeldFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "convrs.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = bolt.Open(path)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("second Open: %v after %v; want a prompt error", err, time.Since(start))
	}
	if want := "another process (a running server?) is using this data folder"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// A settings record written as JSON by an earlier version is still read (and rewritten in
// the binary form on the next save).
func TestReadsJSONRecords(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "convrs.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := `{"version":2,"updatedAt":"2026-01-02T03:04:05.5Z","updatedBy":"u1","data":{"maxChatsPerAgent":4}}`
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("settings")).Put([]byte("acme\x00chat-handling"), []byte(old))
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Get(context.Background(), "acme", "chat-handling", settings.Strong)
	if err != nil || rec.Version != 2 || rec.UpdatedBy != "u1" || string(rec.Data) != `{"maxChatsPerAgent":4}` ||
		!rec.UpdatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC)) {
		t.Fatalf("got %+v, %v", rec, err)
	}
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	next := settings.Record{OrgID: "acme", Area: "chat-handling", Version: 3, UpdatedAt: at, UpdatedBy: "u2", Data: json.RawMessage(`{"maxChatsPerAgent":5}`)}
	if err := s.Save(context.Background(), next, audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Area: "chat-handling", Action: "patch"}); err != nil {
		t.Fatalf("save over a JSON record: %v", err)
	}
}
