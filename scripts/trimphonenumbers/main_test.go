package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const committed = "../../third_party/phonenumbers"

// upstreamOrSkip finds the module in the module cache or downloads it; without the
// module proxy the tests skip, except in CI.
func upstreamOrSkip(t *testing.T) module {
	t.Helper()
	m, err := upstream()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip("the upstream module cannot be had:", err)
	}
	return m
}

// TestCopyIsUpstreamTrimmed: third_party/phonenumbers is exactly what the command makes
// from the version go.mod requires: the upstream files byte for byte, less the removals
// and changes its doc comment lists. Regenerate it with go run ./scripts/trimphonenumbers.
func TestCopyIsUpstreamTrimmed(t *testing.T) {
	t.Parallel()
	m := upstreamOrSkip(t)
	out := t.TempDir()
	var log bytes.Buffer
	if err := trim(m, out, &log); err != nil {
		t.Fatal(err)
	}
	want, got := tree(t, out), tree(t, committed)
	for name, b := range want {
		c, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s is missing from %s: run go run ./scripts/trimphonenumbers", name, committed)
		case !bytes.Equal(b, c):
			t.Errorf("%s differs from what the command makes of upstream %s: run go run ./scripts/trimphonenumbers", name, m.Version)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is in %s but not in upstream %s as trimmed: run go run ./scripts/trimphonenumbers", name, committed, m.Version)
		}
	}
	// What the removals take away is gone; the numbering plans are there.
	for _, p := range []string{"geocoding.go", "carrier.go", "timezone.go", "data/prefix_to_geocodings/en.txt.gz"} {
		if _, ok := got[p]; ok {
			t.Errorf("%s is in the copy", p)
		}
	}
	for _, p := range []string{"LICENSE", "data/metadata.xml.gz", "data/shortnumber_metadata.xml.gz", "data/countrycode_to_region.xml.gz", "phonenumberutil.go"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s is not in the copy", p)
		}
	}
}

func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCopyDecodesLikeUpstream: the copy's Unmarshal, without the protobuf runtime, reads
// the embedded numbering plans and short-number metadata into the same values as the
// module's protobuf runtime (both printed as JSON by a throwaway program).
func TestCopyDecodesLikeUpstream(t *testing.T) {
	t.Parallel()
	m := upstreamOrSkip(t)
	if err := compareDecoded(m, committed); err != nil {
		t.Fatal(err)
	}
}

// TestCopyTestsPass runs the copy's own tests: upstream's, less those of the removed
// lookups, and internal/proto's.
func TestCopyTestsPass(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go test in another module")
	}
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = committed
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		if !strings.Contains(string(out), "FAIL") && os.Getenv("CI") != "true" {
			t.Skipf("go test in %s could not run: %v\n%s", committed, err, out)
		}
		t.Fatalf("go test in %s: %v\n%s", committed, err, out)
	}
}

// TestRemovalsAreListed: the command's log names every removal and change, so that
// running it says what it takes away.
func TestRemovalsAreListed(t *testing.T) {
	t.Parallel()
	m := upstreamOrSkip(t)
	var log bytes.Buffer
	if err := trim(m, t.TempDir(), &log); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(committed, "TRIMMED.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range removed {
		if !strings.Contains(log.String(), "remove "+r.path) || !bytes.Contains(doc, []byte("`"+r.path+"`")) {
			t.Errorf("%s: not in the log or TRIMMED.md", r.path)
		}
	}
	for _, want := range append(slices.Clone(removedVars), "TestGetGeocodingForNumber", "TestGetCarrierForNumber", "TestGetTimeZonesForPrefix",
		"PhoneNumber.ProtoReflect", "file_phonemetadata_proto_rawDesc", "golang.org/x/text") {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not name %s:\n%s", want, log.String())
		}
	}
}
