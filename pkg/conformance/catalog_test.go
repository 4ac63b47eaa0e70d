package conformance_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/local"
)

// repoPath names a file relative to the repository root (tests run in pkg/conformance).
func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

// route is one served method and ServeMux path pattern.
type route struct{ Method, Pattern string }

func (r route) String() string { return r.Method + " " + r.Pattern }

type routeSet map[route]bool

// missingFrom lists, sorted, the routes of s that other lacks.
func (s routeSet) missingFrom(other routeSet) []string {
	var out []string
	for r := range s {
		if !other[r] {
			out = append(out, r.String())
		}
	}
	slices.Sort(out)
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func routesOf(api *httpx.API) routeSet {
	out := routeSet{}
	for _, r := range api.Routes() {
		out[route{r.Method, r.Pattern}] = true
	}
	return out
}

// functionRoutes returns the routes f serves on its own (as its Lambda does).
func functionRoutes(f app.Function) routeSet {
	return routesOf(lambdafn.API(f, app.Deps{}, discardLogger()))
}

// publicRoutes returns the routes of f that need no token (auth.Public).
func publicRoutes(f app.Function) routeSet {
	out := routeSet{}
	for _, r := range lambdafn.API(f, app.Deps{}, discardLogger()).Routes() {
		if r.Policy.IsPublic() {
			out[route{r.Method, r.Pattern}] = true
		}
	}
	return out
}

// servedRoutes returns the routes of every function mounted on one API (as cmd/local).
func servedRoutes() routeSet {
	api := httpx.New(auth.Claims{}, discardLogger())
	local.MountAll(api, app.Deps{})
	return routesOf(api)
}

func functionNamed(name string) (app.Function, bool) {
	for _, f := range local.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return app.Function{}, false
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// mustParseYAML parses a YAML file into its root node. CloudFormation's short-form
// intrinsic functions (!Ref, !Sub, !GetAtt) stay tagged scalars and sequences.
func mustParseYAML(t *testing.T, path string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(mustRead(t, path), &doc); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: the document is not a mapping", path)
	}
	return doc.Content[0]
}

// at follows mapping keys from n; nil when a key is missing or a node is not a mapping.
func at(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// entry is one key and value of a mapping node.
type entry struct {
	Key   string
	Value *yaml.Node
}

// entries lists the pairs of a mapping node in document order (none for other nodes).
func entries(n *yaml.Node) []entry {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, entry{n.Content[i].Value, n.Content[i+1]})
	}
	return out
}

// scalar is the value of a scalar node ("" for nil and other kinds).
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// isTrue reports whether n is the boolean true (or the string "true", as CloudFormation
// also accepts).
func isTrue(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && strings.EqualFold(n.Value, "true")
}

// jsonText renders v as compact JSON, for comparing decoded values with expectations.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// The toolchain is pinned so that every machine builds with the same standard library
// (security fixes land deterministically when the line is raised).
func TestToolchainPinned(t *testing.T) {
	data := string(mustRead(t, repoPath("go.mod")))
	if !regexp.MustCompile(`(?m)^toolchain go1\.\d+\.\d+$`).MatchString(data) {
		t.Errorf("go.mod has no toolchain line such as `toolchain go1.26.8`")
	}
}
