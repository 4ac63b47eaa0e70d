package filesecrets

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/secrets"
	"github.com/convrs/admin/pkg/secrets/secretstest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), ".local", "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	secretstest.Run(t, func(t *testing.T) secrets.Store { return newStore(t) })
}

// files lists every file and folder under root, relative, with its mode.
func files(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLayoutAndPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not kept on Windows")
	}
	s := newStore(t)
	long := strings.Repeat("x", 130) // 260 hex characters: a folder of 240 and a file of 20
	for _, n := range []string{"org/a", long} {
		if err := s.Put(t.Context(), n, []byte("value of "+n)); err != nil {
			t.Fatal(err)
		}
	}
	longDir := strings.Repeat("78", 120) + ".d"
	want := map[string]fs.FileMode{
		".":                 fs.ModeDir | 0o700,
		"6f72672f61.secret": 0o600,
		longDir:             fs.ModeDir | 0o700,
		longDir + "/" + strings.Repeat("78", 10) + ".secret": 0o600,
	}
	got := files(t, s.root)
	if len(got) != len(want) {
		t.Errorf("files = %v, want %v (no temporary files left)", got, want)
	}
	for name, mode := range want {
		if got[name] != mode {
			t.Errorf("%s: mode %v, want %v", name, got[name], mode)
		}
	}
	raw, err := os.ReadFile(filepath.Join(s.root, "6f72672f61.secret"))
	if err != nil || string(raw) != "value of org/a" {
		t.Errorf("file = %q, %v; want the value's bytes alone", raw, err)
	}
}

func TestInvalidNameTouchesNothing(t *testing.T) {
	s := newStore(t)
	for _, n := range []string{"../x", "/x", "a b", "..", "x/"} {
		if err := s.Put(t.Context(), n, []byte("v")); !problem.Is(err, problem.BadRequest) {
			t.Errorf("Put(%q) = %v, want bad_request", n, err)
		}
		if _, err := s.Get(t.Context(), n); !problem.Is(err, problem.BadRequest) {
			t.Errorf("Get(%q) = %v, want bad_request", n, err)
		}
	}
	for _, v := range [][]byte{nil, make([]byte, secrets.MaxValueLen+1)} {
		if err := s.Put(t.Context(), "ok", v); err == nil {
			t.Errorf("Put of %d bytes succeeded", len(v))
		}
	}
	if got := files(t, s.root); len(got) != 1 {
		t.Errorf("root holds %v after refused calls, want nothing", got)
	}
	if got := files(t, filepath.Dir(s.root)); len(got) != 2 {
		t.Errorf("root's parent holds %v, want only root", got)
	}
}

func TestHandEditedFiles(t *testing.T) {
	s := newStore(t)
	write := func(name string, data []byte) {
		t.Helper()
		rel, err := relPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.root, rel), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("empty", nil)
	write("huge", make([]byte, secrets.MaxValueLen+1))
	write("fine", []byte(`{"kid":"k1"}`))
	for _, n := range []string{"empty", "huge"} {
		v, err := s.Get(t.Context(), n)
		if err == nil || problem.CodeOf(err) != problem.Internal || v != nil {
			t.Errorf("Get(%q) = %d bytes, %v; want an internal error", n, len(v), err)
		}
	}
	if v, err := s.Get(t.Context(), "fine"); err != nil || string(v) != `{"kid":"k1"}` {
		t.Errorf("Get(fine) = %q, %v", v, err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(""); err == nil {
		t.Error(`New("") succeeded`)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file); err == nil {
		t.Error("New(file) succeeded")
	}
	if runtime.GOOS != "windows" {
		open := t.TempDir()
		if err := os.Chmod(open, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := New(open); err == nil || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("New(folder with mode 0755) = %v, want an error saying to chmod it", err)
		}
	}
	// An existing root is reused and keeps its secrets.
	root := filepath.Join(t.TempDir(), "secrets")
	s1, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Put(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s2, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s2.Get(t.Context(), "k"); err != nil || string(v) != "v" {
		t.Errorf("Get after reopening = %q, %v", v, err)
	}
}

// TestProcesses runs writers in other processes (this test binary, re-executed) sharing
// the folder with readers here: every read is one writer's whole value.
func TestProcesses(t *testing.T) {
	if root := os.Getenv("FILESECRETS_WRITER_ROOT"); root != "" {
		writer(t, root, os.Getenv("FILESECRETS_WRITER_ID"))
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newStore(t)
	if err := s.Put(t.Context(), "shared", processValue("0")); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const writers = 3
	var cmds []*exec.Cmd
	for i := range writers {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), "FILESECRETS_WRITER_ROOT="+s.root, fmt.Sprintf("FILESECRETS_WRITER_ID=%d", i+1))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("writer %d output:\n%s", i+1, out.String())
			}
		})
		cmds = append(cmds, cmd)
	}
	done := make(chan error, writers)
	for _, cmd := range cmds {
		go func() { done <- cmd.Wait() }()
	}
	seen := map[string]bool{}
	for finished := 0; finished < writers; {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("writer: %v", err)
			}
			finished++
		default:
		}
		v, err := s.Get(t.Context(), "shared")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		id := string(v[:1])
		if !bytes.Equal(v, processValue(id)) {
			t.Fatalf("torn read across processes: %d bytes starting %.8q", len(v), v)
		}
		seen[id] = true
	}
	t.Logf("values seen: %v", seen)
	if got := files(t, s.root); len(got) != 2 {
		t.Errorf("root holds %v, want only the one secret", got)
	}
}

func processValue(id string) []byte {
	n := 3000 + 1000*int(id[0]-'0')
	return bytes.Repeat([]byte(id), n)
}

func writer(t *testing.T, root, id string) {
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if err := s.Put(t.Context(), "shared", processValue(id)); err != nil {
			t.Fatal(err)
		}
	}
}

// checkPath checks relPath for one name: a valid name maps to a local path of hex
// chunks and suffixes only, each element within the file name limit, and nameOf maps it
// back (so the mapping is injective); an invalid name maps to nothing.
func checkPath(t *testing.T, name string) string {
	t.Helper()
	rel, err := relPath(name)
	if secrets.ValidateName(name) != nil {
		if err == nil || rel != "" {
			t.Fatalf("relPath(%q) = %q, %v for an invalid name", name, rel, err)
		}
		return ""
	}
	if err != nil {
		t.Fatalf("relPath(%q): %v", name, err)
	}
	if !filepath.IsLocal(filepath.FromSlash(rel)) || path.Clean(rel) != rel {
		t.Fatalf("relPath(%q) = %q is not a clean local path", name, rel)
	}
	elems := strings.Split(rel, "/")
	for i, e := range elems {
		suffix := dirSuffix
		if i == len(elems)-1 {
			suffix = fileSuffix
		}
		chunk, ok := strings.CutSuffix(e, suffix)
		if !ok || len(e) > 255 || strings.Trim(chunk, "0123456789abcdef") != "" || chunk == "" {
			t.Fatalf("relPath(%q) element %q: want 1-%d hex characters and %q", name, e, chunkLen, suffix)
		}
	}
	back, ok := nameOf(rel)
	if !ok || back != name {
		t.Fatalf("nameOf(relPath(%q) = %q) = %q, %v", name, rel, back, ok)
	}
	return rel
}

func FuzzPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"org/a", "org/ab"}, {"org/a", "Org/a"}, {"../x", "x"}, {"a/../b", "b"}, {"", "."},
		{strings.Repeat("x", 120), strings.Repeat("x", 121)},
		{strings.Repeat("x", 240), strings.Repeat("x", 241)},
		{strings.Repeat("y", secrets.MaxNameLen), strings.Repeat("y", secrets.MaxNameLen+1)},
		{"a\x00b", "a/b"}, {"6f72672f61", "6f72672f61.secret"}, {"ü", "\xff"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, pb := checkPath(t, a), checkPath(t, b)
		if pa == "" || pb == "" {
			return
		}
		if a != b && pa == pb {
			t.Fatalf("%q and %q both map to %q", a, b, pa)
		}
		// One name's file is never a folder on the way to another's.
		if strings.HasPrefix(pb, pa+"/") || strings.HasPrefix(pa, pb+"/") {
			t.Fatalf("%q (%q) and %q (%q) nest", a, pa, b, pb)
		}
	})
}

func TestNameOfRefuses(t *testing.T) {
	for _, p := range []string{
		"", ".secret", "6F.secret", "6.secret", "zz.secret", "61", "61.d", "61.d/62.secret",
		strings.Repeat("61", 121) + ".secret", "../61.secret", "2e2e.secret", "20.secret",
	} {
		if n, ok := nameOf(p); ok {
			t.Errorf("nameOf(%q) = %q, want refusal", p, n)
		}
	}
}
