package conformance_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// mustJSONish decodes a YAML (or JSON) text into the validator's shapes.
func mustJSONish(t *testing.T, text string) any {
	t.Helper()
	var x any
	if err := yaml.Unmarshal([]byte(text), &x); err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	v, err := decodeJSONish(x)
	if err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// TestSchemaValidator checks each supported keyword with a value that passes and values
// that fail, so that the conformance tests built on it can be trusted.
func TestSchemaValidator(t *testing.T) {
	t.Parallel()
	root := mustJSONish(t, `
components:
  schemas:
    Day: {type: string, enum: [monday, tuesday]}
    Meta:
      type: integer
      readOnly: true
    Secret:
      type: string
      writeOnly: true
    Loop: {$ref: "#/components/schemas/Loop"}
`)
	v := newValidator(root)
	tests := []struct {
		name, schema string
		dir          direction
		pass, fail   []string // instances as JSON
		wantMsg      string   // a substring of the first failure's message
	}{
		{name: "type", schema: `{type: integer}`, pass: []string{`1`, `1.0`, `-3`}, fail: []string{`1.5`, `"1"`, `null`, `true`}, wantMsg: "must be of type integer"},
		{name: "type number", schema: `{type: number}`, pass: []string{`1.5`, `2`}, fail: []string{`"2"`}, wantMsg: "number"},
		{name: "type list", schema: `{type: [string, "null"]}`, pass: []string{`"a"`, `null`}, fail: []string{`1`, `{}`}, wantMsg: `["string","null"]`},
		{name: "boolean schemas", schema: `{properties: {a: true, b: false}}`, pass: []string{`{"a": 1}`}, fail: []string{`{"b": 1}`}, wantMsg: "no value is allowed"},
		{name: "properties required additionalProperties false", schema: `{type: object, required: [a], additionalProperties: false, properties: {a: {type: string}}}`,
			pass: []string{`{"a": "x"}`}, fail: []string{`{}`, `{"a": 1}`, `{"a": "x", "b": 1}`}, wantMsg: `property "a" is required`},
		{name: "additionalProperties schema and propertyNames", schema: `{type: object, propertyNames: {$ref: "#/components/schemas/Day"}, additionalProperties: {type: integer}}`,
			pass: []string{`{"monday": 1}`, `{}`}, fail: []string{`{"monday": "x"}`, `{"sunday": 1}`}, wantMsg: "must be of type integer"},
		{name: "items", schema: `{type: array, items: {type: integer, minimum: 1}}`, pass: []string{`[]`, `[1, 2]`}, fail: []string{`[0]`, `[1, "a"]`}, wantMsg: "at least 1"},
		{name: "enum", schema: `{enum: [a, 1, null]}`, pass: []string{`"a"`, `1`, `1.0`, `null`}, fail: []string{`"b"`, `2`}, wantMsg: "must be one of"},
		{name: "const", schema: `{const: true}`, pass: []string{`true`}, fail: []string{`false`, `"true"`}, wantMsg: "must be true"},
		{name: "minimum maximum", schema: `{minimum: 1, maximum: 9}`, pass: []string{`1`, `9`, `"x"`}, fail: []string{`0`, `10`, `9.5`}, wantMsg: "at least 1"},
		{name: "exclusive bounds", schema: `{exclusiveMinimum: 0, exclusiveMaximum: 10}`, pass: []string{`0.5`, `9`}, fail: []string{`0`, `10`}, wantMsg: "more than 0"},
		{name: "lengths count characters", schema: `{minLength: 2, maxLength: 3}`, pass: []string{`"ab"`, `"äöü"`, `"😀😀"`}, fail: []string{`"a"`, `"abcd"`, `"ääää"`}, wantMsg: "at least 2 characters"},
		{name: "pattern", schema: `{pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"}`, pass: []string{`"09:00:00"`, `"23:59:59"`}, fail: []string{`"24:00:00"`, `"9:00:00"`}, wantMsg: "must match"},
		{name: "minItems maxItems", schema: `{minItems: 1, maxItems: 2}`, pass: []string{`[1]`, `[1, 2]`}, fail: []string{`[]`, `[1, 2, 3]`}, wantMsg: "at least 1 items"},
		{name: "uniqueItems", schema: `{uniqueItems: true}`, pass: []string{`[1, 2]`, `[{"a": 1}, {"a": 2}]`}, fail: []string{`[1, 1.0]`, `[{"a": 1, "b": 2}, {"b": 2, "a": 1}]`}, wantMsg: "must be unique"},
		{name: "format date-time", schema: `{format: date-time}`, pass: []string{`"2026-03-08T07:30:00Z"`, `"2026-03-08T03:30:00.123-04:00"`}, fail: []string{`"2026-03-08"`, `"yesterday"`}, wantMsg: "RFC 3339"},
		{name: "format date", schema: `{format: date}`, pass: []string{`"2026-12-25"`}, fail: []string{`"2026-02-30"`, `"25/12/2026"`}, wantMsg: "YYYY-MM-DD"},
		{name: "format email", schema: `{format: email}`, pass: []string{`"reports@example.com"`}, fail: []string{`"reports"`, `"Reports <r@example.com>"`, `"r@localhost"`}, wantMsg: "email"},
		{name: "format uri", schema: `{format: uri}`, pass: []string{`"https://docs.convrs.com/problems/invalid"`}, fail: []string{`"/relative"`}, wantMsg: "absolute URI"},
		{name: "ref with siblings", schema: `{$ref: "#/components/schemas/Day", description: d, not: {const: tuesday}}`, pass: []string{`"monday"`}, fail: []string{`"sunday"`, `"tuesday"`}, wantMsg: "must be one of"},
		{name: "allOf", schema: `{allOf: [{minimum: 1}, {maximum: 2}]}`, pass: []string{`1`, `2`}, fail: []string{`0`, `3`}, wantMsg: "at least 1"},
		{name: "anyOf", schema: `{anyOf: [{type: string}, {type: integer}]}`, pass: []string{`"a"`, `1`}, fail: []string{`null`}, wantMsg: "none of anyOf"},
		{name: "oneOf", schema: `{oneOf: [{type: integer}, {minimum: 0}]}`, pass: []string{`-1`, `0.5`}, fail: []string{`1`, `-0.5`}, wantMsg: "exactly one must match"},
		{name: "read-only in a request", schema: `{type: object, required: [version], properties: {version: {$ref: "#/components/schemas/Meta"}}}`, dir: inRequest,
			pass: []string{`{}`}, fail: []string{`{"version": 1}`}, wantMsg: "read-only"},
		{name: "read-only in a response", schema: `{type: object, required: [version], properties: {version: {$ref: "#/components/schemas/Meta"}}}`, dir: inResponse,
			pass: []string{`{"version": 1}`}, fail: []string{`{}`}, wantMsg: "is required"},
		{name: "write-only in a response", schema: `{properties: {secret: {$ref: "#/components/schemas/Secret"}}}`, dir: inResponse,
			pass: []string{`{}`}, fail: []string{`{"secret": "s"}`}, wantMsg: "write-only"},
		{name: "unresolved ref", schema: `{$ref: "#/components/schemas/Nope"}`, fail: []string{`1`}, wantMsg: "does not resolve"},
		{name: "ref cycle", schema: `{$ref: "#/components/schemas/Loop"}`, fail: []string{`1`}, wantMsg: "more than 64 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			schema := mustJSONish(t, tc.schema)
			for _, p := range tc.pass {
				inst, err := decodeJSON([]byte(p))
				if err != nil {
					t.Fatal(err)
				}
				if errs := v.validate(schema, inst, tc.dir); len(errs) > 0 {
					t.Errorf("%s: got failures, want none:\n%s", p, schemaErrors(errs))
				}
			}
			for i, f := range tc.fail {
				inst, err := decodeJSON([]byte(f))
				if err != nil {
					t.Fatal(err)
				}
				errs := v.validate(schema, inst, tc.dir)
				if len(errs) == 0 {
					t.Errorf("%s: got no failure, want one", f)
					continue
				}
				if i == 0 && !strings.Contains(errs[0].Msg, tc.wantMsg) {
					t.Errorf("%s: got %q, want a message containing %q", f, errs[0].Msg, tc.wantMsg)
				}
			}
		})
	}
}

func TestSchemaErrorPaths(t *testing.T) {
	t.Parallel()
	v := newValidator(nil)
	schema := mustJSONish(t, `{properties: {a/b: {items: {properties: {c: {type: integer}}}}}}`)
	inst, _ := decodeJSON([]byte(`{"a/b": [{"c": 1}, {"c": "x"}]}`))
	errs := v.validate(schema, inst, inResponse)
	if len(errs) != 1 || errs[0].Path != "/a~1b/1/c" {
		t.Errorf("got %v, want one failure at /a~1b/1/c", errs)
	}
}

func TestUnknownKeywords(t *testing.T) {
	t.Parallel()
	schema := mustJSONish(t, `
type: object
x-internal: true
properties:
  a: {type: string, nullable: true}
  b: {type: string, format: hostname}
  c: {items: {discriminator: {propertyName: kind}}}
  d: {description: ok, default: 1, example: 2}
`)
	got := strings.Join(unknownKeywords(schema, "S"), "\n")
	for _, want := range []string{`S/properties/a: keyword "nullable"`, `S/properties/b: format "hostname"`, `S/properties/c/items: keyword "discriminator"`} {
		if !strings.Contains(got, want) {
			t.Errorf("got\n%s\nwant a line containing %s", got, want)
		}
	}
	if strings.Contains(got, "properties/d") || strings.Contains(got, "x-internal") {
		t.Errorf("got\n%s\nwant no complaint about annotations or x- extensions", got)
	}
}
