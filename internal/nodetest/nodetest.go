// Package nodetest runs the tests that check our tokens against the npm package jose
// (run by node): finding node and jose, and skipping without them except under CI=true,
// where scripts/test.sh installs them and a missing one is a failure.
package nodetest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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

// Script runs node on script (a path) with input on its standard input, for at most a
// minute, and returns its standard output. The scripts exit 3 when jose is missing
// (SkipOrFail); any other failure fails the test with the script's standard error.
func Script(t testing.TB, node, script string, input []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			SkipOrFail(t, "the npm package jose is not installed (npm ci at the repository root installs it)")
		}
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return stdout.Bytes()
}
