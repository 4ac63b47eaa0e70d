package conformance_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// rfc9110Titles are the reason phrases of RFC 9110 where net/http still has older ones.
var rfc9110Titles = map[int]string{
	http.StatusRequestEntityTooLarge: "Content Too Large",
	http.StatusUnprocessableEntity:   "Unprocessable Content",
}

func rfc9110Title(status int) string {
	if t, ok := rfc9110Titles[status]; ok {
		return t
	}
	return http.StatusText(status)
}

// TestOpenAPIExamplesAreValid checks every example of the document against its schema: the
// examples of request bodies (as requests), of responses (as responses), of parameters,
// and those inside schemas; and that problem examples carry the RFC 9110 title of their
// status.
func TestOpenAPIExamplesAreValid(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	checked := 0
	check := func(where string, schema, example any, dir direction) {
		checked++
		if errs := s.v.validate(schema, example, dir); len(errs) > 0 {
			t.Errorf("%s: the example does not match its schema:\n%s", where, schemaErrors(errs))
		}
	}
	var walk func(x any, where string, dir direction)
	walk = func(x any, where string, dir direction) {
		switch x := x.(type) {
		case map[string]any:
			if sch, ok := x["schema"]; ok {
				if ex, ok := x["example"]; ok {
					check(where, sch, ex, dir)
				}
				s.schemaExamples(sch, where+"/schema", check)
				if p, ok := x["example"].(map[string]any); ok && strings.HasSuffix(where, "problem+json") {
					status, _ := number(p["status"])
					if want := rfc9110Title(int(status)); p["title"] != want {
						t.Errorf("%s: example title %q, want %q (RFC 9110)", where, p["title"], want)
					}
				}
			}
			for k, v := range x {
				switch k {
				case "requestBody":
					walk(v, where+"/"+k, inRequest)
				case "responses":
					walk(v, where+"/"+k, inResponse)
				case "schema", "schemas", "example", "examples":
				default:
					walk(v, where+"/"+k, dir)
				}
			}
		case []any:
			for i, v := range x {
				walk(v, fmt.Sprintf("%s/%d", where, i), dir)
			}
		}
	}
	walk(s.doc["paths"], "#/paths", inRequest)
	for _, part := range []string{"parameters", "headers", "requestBodies"} {
		walk(obj(s.doc, "components", part), "#/components/"+part, inRequest)
	}
	walk(obj(s.doc, "components", "responses"), "#/components/responses", inResponse)
	for name, sch := range obj(s.doc, "components", "schemas") {
		s.schemaExamples(sch, "#/components/schemas/"+name, check)
	}
	if checked < 20 {
		t.Errorf("checked %d examples, want at least 20: is the walk broken?", checked)
	}
}

// schemaExamples calls check for the example of a schema and of every subschema.
func (s *spec) schemaExamples(schema any, where string, check func(where string, schema, example any, dir direction)) {
	m, ok := schema.(map[string]any)
	if !ok || strings.Count(where, "/") > 40 {
		return
	}
	if ex, ok := m["example"]; ok {
		check(where, m, ex, inResponse)
	}
	props, _ := m["properties"].(map[string]any)
	for name, p := range props {
		s.schemaExamples(p, where+"/properties/"+name, check)
	}
	for _, k := range []string{"items", "additionalProperties", "propertyNames", "not"} {
		s.schemaExamples(m[k], where+"/"+k, check)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		for i, sub := range asList(m[k]) {
			s.schemaExamples(sub, fmt.Sprintf("%s/%s/%d", where, k, i), check)
		}
	}
}

// TestOpenAPIProblemExtensions checks the Problem schema allows RFC 9457 extension members
// and describes the ones the API sends (reason, chats, stickyUsers, warnings) as optional.
func TestOpenAPIProblemExtensions(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	problem := obj(s.doc, "components", "schemas", "Problem")
	for _, name := range []string{"errors", "reason", "chats", "stickyUsers", "warnings"} {
		if obj(problem, "properties", name) == nil {
			t.Errorf("Problem: no %s property", name)
		}
		if strings.Contains(compactJSON(problem["required"]), `"`+name+`"`) {
			t.Errorf("Problem: %s is required, want optional", name)
		}
	}
	const head = `"type":"https://docs.convrs.com/problems/conflict","title":"Conflict","status":409,"detail":"d","requestId":"r"`
	tests := []struct {
		body  string
		valid bool
	}{
		{`{` + head + `}`, true},
		{`{` + head + `,"chats":["c1"],"stickyUsers":["u1"]}`, true},
		{`{` + head + `,"reason":"expired","warnings":[{"field":"saml.certificate","message":"expires in 12 days"}]}`, true},
		{`{` + head + `,"somethingNew":{"a":1}}`, true},
		{`{` + head + `,"chats":"c1"}`, false},
		{`{` + head + `,"warnings":[{"field":"x"}]}`, false},
		{`{"type":"https://docs.convrs.com/problems/conflict","title":"Conflict","status":409,"detail":"d"}`, false},
	}
	for _, tc := range tests {
		inst, err := decodeJSON([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if errs := s.v.validate(problem, inst, inResponse); (len(errs) == 0) != tc.valid {
			t.Errorf("%s: got valid=%v, want %v\n%s", tc.body, len(errs) == 0, tc.valid, schemaErrors(errs))
		}
	}
}
