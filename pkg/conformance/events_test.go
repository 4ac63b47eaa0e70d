package conformance_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/local"
)

// functionPackage returns the folder (relative to the repository) of the package that
// declares f, found through its HTTP mount function.
func functionPackage(t *testing.T, f app.Function) string {
	t.Helper()
	var fn any = f.HTTP
	switch f.Kind() {
	case app.KindEvent:
		fn = f.Events.Handler
	case app.KindSweep:
		fn = f.Sweep.Run
	}
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	// e.g. github.com/convrs/admin/pkg/settings/general.init.func1
	slash := strings.LastIndex(name, "/")
	dot := strings.Index(name[slash+1:], ".")
	pkg := name[:slash+1+dot]
	rel, ok := strings.CutPrefix(pkg, module)
	if !ok {
		t.Fatalf("%s is declared outside the module (%s)", f.Name, name)
	}
	return rel
}

// TestEventSamples checks events/ against the functions: every folder is a function and
// every function has samples; every sample is a well-formed API Gateway event for a route
// of its function (apitest.CheckSample); and the package that declares each function
// replays its samples in its own tests (apitest.ReplayEvents, which also requires an
// expected outcome for every file).
func TestEventSamples(t *testing.T) {
	dirs, err := os.ReadDir(repoPath("events"))
	if err != nil {
		t.Fatal(err)
	}
	folders := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() {
			t.Errorf("events/%s: samples live in events/<function>/", d.Name())
			continue
		}
		folders[d.Name()] = true
		if _, ok := functionNamed(d.Name()); !ok {
			t.Errorf("events/%s: no function %q in local.Functions", d.Name(), d.Name())
		}
	}
	for _, f := range local.Functions {
		t.Run(f.Name, func(t *testing.T) {
			files, _ := filepath.Glob(repoPath("events", f.Name, "*.json"))
			if len(files) == 0 {
				t.Fatalf("events/%s/ has no samples", f.Name)
			}
			for _, file := range files {
				t.Run(filepath.Base(file), func(t *testing.T) {
					if f.Kind() == app.KindHTTP {
						apitest.CheckSample(t, f, mustRead(t, file))
					} else {
						apitest.CheckTriggerSample(t, f, mustRead(t, file))
					}
				})
			}
			// A package may declare several functions (webchatfn: SecretFunction and
			// IdentifyFunction): its tests must replay as many folders as it declares.
			dir := functionPackage(t, f)
			declared := 0
			for _, g := range local.Functions {
				if functionPackage(t, g) == dir {
					declared++
				}
			}
			tests, _ := filepath.Glob(repoPath(filepath.FromSlash(dir), "*_test.go"))
			call := regexp.MustCompile(`apitest\.ReplayEvents\(t, ` + regexp.QuoteMeta(filepath.Base(dir)) + `\.[A-Za-z]*Function\b`)
			replays := 0
			for _, tf := range tests {
				replays += len(call.FindAllIndex(mustRead(t, tf), -1))
			}
			if replays < declared {
				t.Errorf("the tests in %s replay %d events/ folders, but it declares %d functions: replay events/%s/ (apitest.ReplayEvents(t, %s.<Name>Function, ...))",
					dir, replays, declared, f.Name, filepath.Base(dir))
			}
		})
	}
}
