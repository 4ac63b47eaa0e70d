package bolt_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/businessunits/businessunitstest"
	"github.com/convrs/admin/pkg/tags/tagstest"
)

// openStore returns a new bolt file's store.
func openStore(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.OpenWith(filepath.Join(tb.TempDir(), "convrs.db"), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestBusinessUnitsContract(t *testing.T) {
	t.Parallel()
	businessunitstest.Run(t, func(t *testing.T) businessunitstest.Harness {
		s := openStore(t)
		units, err := s.BusinessUnits()
		if err != nil {
			t.Fatal(err)
		}
		return businessunitstest.Harness{Store: units, Audit: s,
			AddMember: func(_ context.Context, org, unit string, delta int) error { return units.AddMember(org, unit, delta) }}
	})
}

func TestTagsContract(t *testing.T) {
	t.Parallel()
	tagstest.Run(t, func(t *testing.T) tagstest.Harness {
		s := openStore(t)
		ts, err := s.Tags()
		if err != nil {
			t.Fatal(err)
		}
		return tagstest.Harness{Store: ts, Audit: s}
	})
}
