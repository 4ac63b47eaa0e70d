// Package nodetest runs the tests that check our tokens against the npm package jose
// (run by node): finding node and jose, and skipping without them except under CI=true,
// where scripts/test.sh installs them and a missing one is a failure.
package nodetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SkipOrFail skips the test for reason, or fails it with CI=true.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if v := os.Getenv("CI"); v == "true" || v == "1" {
		t.Fatalf("%s; with CI=true this test must run (scripts/test.sh installs the npm dev dependencies)", reason)
	}
	t.Skip(reason)
}

// ModuleRoot is the folder of go.mod, where package.json and node_modules are.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Jose returns the path of node once node and the npm package jose are both there (else
// SkipOrFail, saying why: what without them cannot be done). jose is looked for here too,
// not only by the scripts, so that go test's cache, which records the files a test looks
// at, sees it come and go.
func Jose(t testing.TB, why string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		SkipOrFail(t, "node is not installed, so "+why)
	}
	if _, err := os.Stat(filepath.Join(ModuleRoot(t), "node_modules", "jose", "package.json")); err != nil {
		SkipOrFail(t, "the npm package jose is not installed (npm ci at the repository root installs it)")
	}
	return node
}
