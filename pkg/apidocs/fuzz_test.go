package apidocs_test

import (
	"testing"

	admin "github.com/convrs/admin"
	"github.com/convrs/admin/pkg/apidocs"
)

// FuzzRender feeds arbitrary bytes to the parser and the page: either is allowed to refuse
// them, neither may panic or hang.
func FuzzRender(f *testing.F) {
	f.Add(admin.OpenAPI)
	f.Add([]byte("openapi: 3.1.0\npaths: {}\n"))
	f.Add([]byte("openapi: 3.1.0\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/x'}\n"))
	f.Add([]byte("openapi: 3.0.3\npaths: {/a: {get: {parameters: [&p {name: x, in: query, schema: *p}]}}}\n"))
	f.Add([]byte("a: &a [*a]\nopenapi: 3.1.0\npaths: {/x: *a}\n"))
	f.Add([]byte("openapi: 3.1.0\npaths: {}\ncomponents: {schemas: {S: {$ref: '#/components/schemas/S'}, T: {type: [string, null], enum: [1, {a: b}], default: !!binary aGk=}}}\n"))
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/p":{"post":{"requestBody":{"content":{"a/b":{"schema":{"oneOf":[{"type":"object","properties":{"x":{}}}]}}}}}}}}`))
	f.Fuzz(func(t *testing.T, spec []byte) {
		doc, err := apidocs.Parse(spec)
		if err != nil {
			return
		}
		if doc == nil {
			t.Fatal("Parse: no document and no error")
		}
		if _, err := apidocs.Render(spec); err != nil {
			t.Fatalf("Render failed on a document Parse accepted: %v", err)
		}
	})
}
