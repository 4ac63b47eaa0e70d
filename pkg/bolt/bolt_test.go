package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/settingstest"
)

func TestContract(t *testing.T) {
	settingstest.Run(t, func(t *testing.T) settings.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
