package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/sticky"
	"github.com/convrs/admin/pkg/sticky/stickytest"
)

func TestStickyContract(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	st, err := s.Sticky()
	if err != nil {
		t.Fatal(err)
	}
	stickytest.Run(t, func(*testing.T) sticky.Store { return st })
}
