package dirblob

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/blob/blobtest"
	"github.com/convrs/admin/pkg/problem"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), ".local", "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestLayoutAndPermissions(t *testing.T) {
	s := newStore(t)
	if err := s.Put(t.Context(), "orgs/demo/logo", "image/png", []byte("PNG")); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(s.root, "orgs.d", "demo.d", "logo.blob")
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), "dirblob/1 image/png\nPNG"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	for _, dir := range []string{s.root, filepath.Dir(name), filepath.Dir(filepath.Dir(name))} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s mode = %v, want 0700", dir, perm)
		}
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %v, want 0600", perm)
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only logo.blob", len(entries))
	}
}

func TestCorruptFile(t *testing.T) {
	s := newStore(t)
	if err := os.WriteFile(filepath.Join(s.root, "bad.blob"), []byte("not a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(t.Context(), "bad")
	if err == nil || problem.CodeOf(err) != problem.Internal {
		t.Errorf("Get of corrupt file = %v, want internal error", err)
	}
}

func TestLongSegment(t *testing.T) {
	s := newStore(t)
	long := make([]byte, maxSegmentLen+1)
	for i := range long {
		long[i] = 'k'
	}
	err := s.Put(t.Context(), string(long), "text/plain", nil)
	if !problem.Is(err, problem.BadRequest) {
		t.Errorf("Put with long segment = %v, want bad_request", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(""); err == nil {
		t.Error("New(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file); err == nil {
		t.Error("New(file) succeeded")
	}
	// An existing root is reused and keeps its objects.
	root := t.TempDir()
	s1, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Put(t.Context(), "k", "text/plain", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s2, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s2.Get(t.Context(), "k")
	if err != nil || string(obj.Data) != "v" {
		t.Errorf("Get after reopening = %+v, %v", obj, err)
	}
}
