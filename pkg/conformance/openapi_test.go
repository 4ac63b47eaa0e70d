package conformance_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/local"
	"go.yaml.in/yaml/v3"
)

var (
	openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	pathParam      = regexp.MustCompile(`\{([^}]+)\}`)
)

// TestOpenAPIMatchesServedRoutes checks that openapi.yaml describes exactly the routes
// the code serves (every function mounted on one API, as cmd/local does), and that the
// document hangs together: path parameters declared, references resolvable, operation
// ids unique, every operation answering success and 401.
func TestOpenAPIMatchesServedRoutes(t *testing.T) {
	doc := mustParseYAML(t, repoPath("openapi.yaml"))
	if v := scalar(at(doc, "openapi")); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	if at(doc, "components", "securitySchemes") == nil || at(doc, "security") == nil {
		t.Errorf("want a bearer security scheme applied globally")
	}

	served := servedRoutes()
	public := routeSet{}
	for _, f := range local.Functions {
		for r := range publicRoutes(f) {
			public[r] = true
		}
	}
	described := routeSet{}
	opIDs := map[string]string{}
	for _, p := range entries(at(doc, "paths")) {
		pathLevel := at(p.Value, "parameters")
		for _, op := range entries(p.Value) {
			if !slices.Contains(openAPIMethods, op.Key) {
				continue
			}
			r := route{strings.ToUpper(op.Key), p.Key}
			described[r] = true

			id := scalar(at(op.Value, "operationId"))
			if prev, dup := opIDs[id]; id == "" || dup {
				t.Errorf("%s: operationId %q is missing or also used by %s", r, id, prev)
			}
			opIDs[id] = r.String()

			declared := map[string]bool{}
			for _, params := range []*yaml.Node{pathLevel, at(op.Value, "parameters")} {
				for _, prm := range list(params) {
					prm = resolve(doc, prm)
					if scalar(at(prm, "in")) == "path" {
						declared[scalar(at(prm, "name"))] = true
						if !isTrue(at(prm, "required")) {
							t.Errorf("%s: path parameter %s must be required", r, scalar(at(prm, "name")))
						}
					}
				}
			}
			inPath := map[string]bool{}
			for _, m := range pathParam.FindAllStringSubmatch(p.Key, -1) {
				inPath[m[1]] = true
				if !declared[m[1]] {
					t.Errorf("%s: path parameter {%s} is not declared", r, m[1])
				}
			}
			for name := range declared {
				if !inPath[name] {
					t.Errorf("%s: declares path parameter %s that the path lacks", r, name)
				}
			}

			ok2xx := false
			for _, resp := range entries(at(op.Value, "responses")) {
				ok2xx = ok2xx || strings.HasPrefix(resp.Key, "2")
			}
			open := at(op.Value, "security") != nil && len(at(op.Value, "security").Content) == 0
			switch {
			case !ok2xx && at(op.Value, "responses", "405") == nil:
				// A route served only to refuse (DELETE of an agent: 405 with a problem
				// saying what to do instead) has a 405 and no 2xx.
				t.Errorf("%s: want a 2xx response", r)
			case public[r] && !open:
				t.Errorf("%s is public in the code (auth.Public): the operation needs `security: []`", r)
			case !public[r] && open:
				t.Errorf("%s says `security: []`, but the code requires a token", r)
			case !public[r] && at(op.Value, "responses", "401") == nil:
				t.Errorf("%s: want a 401 response", r)
			}
		}
	}

	undescribed := served.missingFrom(described)
	unserved := described.missingFrom(served)
	if len(undescribed) > 0 || len(unserved) > 0 {
		t.Errorf("openapi.yaml does not match the code\nserved but not described: %v\ndescribed but not served: %v",
			undescribed, unserved)
	}

	var walk func(n *yaml.Node, where string)
	walk = func(n *yaml.Node, where string) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for _, e := range entries(n) {
				if e.Key == "$ref" && resolvePointer(doc, scalar(e.Value)) == nil {
					t.Errorf("%s: $ref %q does not resolve", where, scalar(e.Value))
				}
				walk(e.Value, where+"/"+e.Key)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, where)
		}
	}
	walk(doc, "")
}

// resolve follows a $ref to a node of this document; other nodes are returned as is.
func resolve(doc, n *yaml.Node) *yaml.Node {
	for range 10 {
		ref := scalar(at(n, "$ref"))
		if ref == "" {
			return n
		}
		n = resolvePointer(doc, ref)
	}
	return n
}

// resolvePointer resolves a local reference "#/a/b" (RFC 6901) in doc, or returns nil.
func resolvePointer(doc *yaml.Node, ref string) *yaml.Node {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	n := doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if n = at(n, tok); n == nil {
			return nil
		}
	}
	return n
}
