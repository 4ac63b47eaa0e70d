package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/settingstest"
	"github.com/convrs/admin/pkg/webchat/revision/revisiontest"
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

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte{1, 2, 0, 1, 'u', '{', '}'})
	f.Add([]byte(`{"version":1,"updatedAt":"2026-01-01T00:00:00Z","updatedBy":"u","data":{}}`))
	f.Add([]byte{1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		_, _, by, data, err := bolt.DecodeRecordForTest(v)
		if err != nil {
			return
		}
		if len(v) > 0 && v[0] == 1 && len(by)+len(data) > len(v) {
			t.Fatalf("decoded more than was stored")
		}
	})
}

func TestWebchatRevisionsContract(t *testing.T) {
	revisiontest.Run(t, func(t *testing.T) revisiontest.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestInheritance(t *testing.T) {
	settingstest.RunInheritance(t, func(t *testing.T) settings.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
