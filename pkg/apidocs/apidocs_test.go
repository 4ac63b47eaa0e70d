package apidocs_test

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	admin "github.com/convrs/admin"
	"github.com/convrs/admin/pkg/apidocs"
)

func mustGet(t *testing.T, h http.Handler, method string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/docs", nil))
	return rec.Result()
}

func mustBody(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// operations lists the "METHOD path" and operationId of every operation of a document.
func operations(t *testing.T, spec []byte) (paths, ids []string) {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			m, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			paths = append(paths, strings.ToUpper(method)+" "+path)
			if id, _ := m["operationId"].(string); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return paths, ids
}

// TestHandlerRendersEveryOperation renders the project's own openapi.yaml: every
// operationId and path is on the page, with a table of contents linking to each, and the
// page loads nothing from elsewhere.
func TestHandlerRendersEveryOperation(t *testing.T) {
	t.Parallel()
	h, err := apidocs.Handler(admin.OpenAPI)
	if err != nil {
		t.Fatalf("Handler: %v", err)
	}
	resp := mustGet(t, h, http.MethodGet)
	body := mustBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type: got %q, want text/html; charset=utf-8", ct)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy: got %q, want default-src 'none'", csp)
	}
	paths, ids := operations(t, admin.OpenAPI)
	if len(ids) < 10 {
		t.Fatalf("found %d operations in openapi.yaml, want at least 10", len(ids))
	}
	for _, id := range ids {
		if !strings.Contains(body, `<code>`+id+`</code>`) {
			t.Errorf("the page does not name operation %s", id)
		}
		if !strings.Contains(body, `href="#op-`+id+`"`) || !strings.Contains(body, `id="op-`+id+`"`) {
			t.Errorf("the contents do not link to operation %s", id)
		}
	}
	for _, p := range paths {
		method, path, _ := strings.Cut(p, " ")
		if !strings.Contains(body, `title="`+method+` `+path+`"`) || !strings.Contains(body, `<code>`+path+`</code>`) {
			t.Errorf("the page does not show %s", p)
		}
	}
	for _, want := range []string{
		`<code>maxChatsPerAgent</code>`, `1–9`, `default <code>3</code>`, // a bounded field with its default
		`pattern ^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`,                    // a pattern
		`one of &#34;image/png&#34;, &#34;image/jpeg&#34;, &#34;image/gif&#34;`, // an enum
		`id="schema-Problem"`, `<code>stickyUsers</code>`, // schemas, nested
		`Content Too Large`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, re := range []string{`<script`, `<link`, `<img`, `@import`, `src=`, `https?://[^"<\s]*\.(css|js)`} {
		if m := regexp.MustCompile(re).FindString(body); m != "" {
			t.Errorf("the page loads something: found %q", m)
		}
	}

	if resp := mustGet(t, h, http.MethodHead); resp.StatusCode != http.StatusOK || mustBody(t, resp) != "" {
		t.Errorf("HEAD: got %d with a body, want 200 without", resp.StatusCode)
	}
	if resp := mustGet(t, h, http.MethodPost); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: got %d, want 405", resp.StatusCode)
	}
}

func TestSpecHandlerServesTheBytes(t *testing.T) {
	t.Parallel()
	spec := []byte("openapi: 3.1.0\npaths: {}\n# as is\n")
	resp := mustGet(t, apidocs.SpecHandler(spec), http.MethodGet)
	if got := mustBody(t, resp); got != string(spec) {
		t.Errorf("body: got %q, want %q", got, spec)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type: got %q, want application/yaml", ct)
	}
}

const hostile = `<script>alert(1)</script>`

// TestDescriptionsAreEscaped puts markup everywhere a document carries text and checks
// none of it reaches the page as markup.
func TestDescriptionsAreEscaped(t *testing.T) {
	t.Parallel()
	spec := strings.ReplaceAll(`
openapi: 3.1.0
info:
  title: "T X"
  version: "X"
  description: "Intro X with `+"`code X`"+`"
tags:
  - name: "tag X"
    description: "X"
servers:
  - url: "https://example.com/X"
    description: "X"
paths:
  /things/{id}/X:
    get:
      operationId: "op X"
      tags: ["tag X"]
      summary: "X"
      description: |
        - item X
        - item two

        para X
      parameters:
        - name: "id X"
          in: path
          required: true
          description: "X"
          example: "X"
          schema: {type: string, pattern: "X", enum: ["X"]}
      responses:
        "200":
          description: "X"
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
              example: {name: "X"}
components:
  schemas:
    Thing:
      type: object
      description: "X"
      properties:
        "name X":
          type: string
          description: "X"
          default: "X"
          example: "X"
`, "X", hostile)
	h, err := apidocs.Handler([]byte(spec))
	if err != nil {
		t.Fatalf("Handler: %v", err)
	}
	body := mustBody(t, mustGet(t, h, http.MethodGet))
	if strings.Contains(body, "<script") || strings.Contains(body, "</script") {
		i := strings.Index(body, "<script")
		t.Fatalf("markup from the document reached the page:\n%s", body[max(0, i-200):min(len(body), i+200)])
	}
	escaped := strings.Count(body, html.EscapeString(hostile)) + strings.Count(body, "&lt;script&gt;alert(1)&lt;/script&gt;") +
		strings.Count(body, `\u003cscript\u003e`) + strings.Count(body, "&#34;&lt;script&gt;")
	if escaped < 15 {
		t.Errorf("found the escaped text %d times, want it everywhere it was put (at least 15)", escaped)
	}
	for _, want := range []string{`<code>code `, `<li>item `, `<p>para `} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s (the small markup descriptions may use)", want)
		}
	}
}

func TestParseRefusesNonDocuments(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{
		"",
		"{",
		"- a list",
		"just text",
		"openapi: 2.0\npaths: {}",
		"swagger: '2.0'\npaths: {}",
		"openapi: 3.1.0",
		"openapi: 3.1.0\npaths: [a]",
		"openapi: 3.1.0\npaths: {}\n---\nopenapi: 3.1.0\npaths: {}",
	} {
		if _, err := apidocs.Handler([]byte(spec)); err == nil {
			t.Errorf("%q: got no error, want one", spec)
		}
	}
}

// TestRecursiveAndBrokenSchemas renders schemas that refer to themselves, to each other,
// to nothing, through aliases, and more than the page's limits: the page is made, and
// says so when it is incomplete.
func TestRecursiveAndBrokenSchemas(t *testing.T) {
	t.Parallel()
	var wide strings.Builder
	wide.WriteString("    Wide:\n      type: object\n      properties:\n")
	for i := range 30 {
		wide.WriteString("        f" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": {$ref: \"#/components/schemas/Wide2\"}\n")
	}
	wide.WriteString("    Wide2:\n      type: object\n      properties:\n")
	for i := range 30 {
		wide.WriteString("        g" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": {type: string}\n")
	}
	spec := `
openapi: 3.1.0
paths:
  /tree:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Tree"}
        "201": &shared
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Wide"}
        "202": *shared
        "203": {$ref: "#/components/responses/Missing"}
components:
  schemas:
    Tree:
      type: object
      properties:
        children: {type: array, items: {$ref: "#/components/schemas/Tree"}}
        a: {$ref: "#/components/schemas/A"}
        missing: {$ref: "#/components/schemas/Nope"}
        loop: {allOf: [{$ref: "#/components/schemas/Loop"}]}
    A: {properties: {b: {$ref: "#/components/schemas/B"}}}
    B: {properties: {a: {$ref: "#/components/schemas/A"}}}
    Loop: {$ref: "#/components/schemas/Loop"}
` + wide.String()
	body, err := apidocs.Render([]byte(spec))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	for _, want := range []string{`id="schema-Tree"`, `<code>children</code>`, `href="#schema-Tree"`, `not shown: the table is too large`, `This page is incomplete`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// TestAliasBombsStayCheap renders documents whose YAML aliases describe trees far larger
// than the bytes: the page is made quickly, marked incomplete where it had to stop.
func TestAliasBombsStayCheap(t *testing.T) {
	t.Parallel()
	for _, kw := range []string{"allOf", "oneOf", "items", "enum", "default", "properties"} {
		t.Run(kw, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			b.WriteString("openapi: 3.1.0\nx:\n  l0: &l0 {type: string, enum: [a, b]}\n")
			for i := 1; i <= 30; i++ {
				var refs, props []string // ten references to the level below
				for j := range 10 {
					refs = append(refs, "*l"+itoa(i-1))
					props = append(props, "p"+itoa(j)+": *l"+itoa(i-1))
				}
				list := strings.Join(refs, ", ")
				var v string
				switch kw {
				case "allOf", "oneOf":
					v = "{" + kw + ": [" + list + "]}"
				case "items":
					v = "{type: array, items: {oneOf: [" + list + "]}}"
				case "enum", "default":
					v = "{type: object, " + kw + ": [" + list + "]}"
				case "properties":
					v = "{type: object, properties: {" + strings.Join(props, ", ") + "}}"
				}
				b.WriteString("  l" + itoa(i) + ": &l" + itoa(i) + " " + v + "\n")
			}
			b.WriteString("paths:\n  /a:\n    get:\n      parameters: [{name: a, in: query, schema: *l30}]\n      responses:\n        '200':\n          description: ok\n          content: {application/json: {schema: *l30}}\n")
			done := make(chan error, 1)
			go func() { _, err := apidocs.Render([]byte(b.String())); done <- err }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Render: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Render did not finish in 20 s")
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
