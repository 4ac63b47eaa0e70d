package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/app"
)

const module = "github.com/convrs/admin/"

// outer lists the packages that know about AWS, the process or the tests: the Lambda
// bootstrap, the one list of functions with the embedded adapters, the test harness and
// every adapter. Adapters are named here; a new one must be added.
var outer = map[string]bool{
	"pkg/lambdafn": true, "pkg/local": true, "pkg/apitest": true, "pkg/conformance": true, "pkg/iam": true,
	"pkg/dynamo": true, "pkg/bolt": true, "pkg/s3blob": true, "pkg/dirblob": true,
	"pkg/smsecrets": true, "pkg/filesecrets": true, "pkg/devkeys": true, "pkg/kmssigner": true,
	"pkg/ebbus": true, "pkg/membus": true,
	"pkg/sesmail": true, "pkg/outbox": true,
}

// isOuter reports whether a package of this module may depend on AWS clients and
// adapters: the outer packages, contract suites (<port>test), commands and functions.
func isOuter(rel string) bool {
	return outer[rel] || strings.HasSuffix(rel, "test") || strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "functions/") ||
		strings.HasPrefix(rel, "internal/") || strings.HasPrefix(rel, "build/")
}

// TestDependenciesPointInward checks DESIGN's first layout rule: no domain or area package
// imports, even indirectly, the Lambda bootstrap, package local, an adapter or an AWS SDK
// service client. (Rule violations show up as the path of the forbidden dependency.)
func TestDependenciesPointInward(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue
		}
		rel := strings.TrimPrefix(fields[0], module)
		if isOuter(rel) {
			continue
		}
		checked++
		for _, dep := range fields[1:] {
			depRel, ours := strings.CutPrefix(dep, module)
			switch {
			case ours && isOuter(depRel):
				t.Errorf("%s depends on %s: domain and area packages never import the bootstrap, local or an adapter", rel, depRel)
			case strings.HasPrefix(dep, "github.com/aws/aws-sdk-go-v2/service/"):
				t.Errorf("%s depends on %s: domain and area packages never import an AWS service client", rel, dep)
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked only %d packages; the go list output was not understood", checked)
	}
}

// TestPortPackagesDeclareNoFunction checks the second rule: a package that defines a port
// held in app.Deps never declares an app.Function (that is what <feature>fn packages are
// for), which keeps the import graph acyclic.
func TestPortPackagesDeclareNoFunction(t *testing.T) {
	deps := reflect.TypeFor[app.Deps]()
	for i := range deps.NumField() {
		pkg := deps.Field(i).Type.PkgPath()
		rel, ours := strings.CutPrefix(pkg, module)
		if !ours {
			continue
		}
		files, err := filepath.Glob(repoPath(filepath.FromSlash(rel), "*.go"))
		if err != nil || len(files) == 0 {
			t.Errorf("%s (port of app.Deps.%s): no Go files found", rel, deps.Field(i).Name)
			continue
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), "app.Function{") {
				t.Errorf("%s declares an app.Function, but it defines the port of app.Deps.%s", f, deps.Field(i).Name)
			}
		}
	}
}

// TestFunctionsLinkNoDevelopmentCode checks what each Lambda bootstrap links: never the
// local server's pieces (package local, the dev token keys, the test harness), and a JWT
// library only where the function checks widget tokens itself (in AWS the API Gateway
// authorizer verifies admin tokens; a bootstrap carrying a JWT verifier it never calls
// pays for it in size and cold start).
func TestFunctionsLinkNoDevelopmentCode(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		n++
		fn := strings.TrimPrefix(fields[0], module)
		deps := map[string]bool{}
		for _, d := range fields[1:] {
			deps[d] = true
		}
		for _, banned := range []string{"pkg/local", "pkg/devkeys", "pkg/apitest", "pkg/conformance"} {
			if deps[module+banned] {
				t.Errorf("%s links %s, which only the local server and the tests may use", fn, banned)
			}
		}
		// text/template's method lookup by name makes the linker keep every exported
		// method of every type in an interface: all the SDK clients' operations (the
		// missed-chat report's templates took its bootstrap from 9.96 MB to 16.1 MB).
		for _, banned := range []string{"text/template", "html/template"} {
			if deps[banned] {
				t.Errorf("%s links %s, which keeps every method of the SDK clients in the bootstrap (BENCHMARKS.md, function size)", fn, banned)
			}
		}
		if deps["github.com/golang-jwt/jwt/v5"] && !deps[module+"pkg/webchat/token"] {
			t.Errorf("%s links golang-jwt but checks no widget token: which package brings it in?", fn)
		}
	}
	if n < 10 {
		t.Errorf("checked %d functions; the go list output was not understood", n)
	}
}
