package conformance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// This file is a JSON Schema validator for the subset of JSON Schema 2020-12 that
// openapi.yaml (OpenAPI 3.1) uses, so that tests can check real requests and responses
// against the document without a new module dependency. Instances are what
// encoding/json decodes with UseNumber (nil, bool, json.Number, string, []any,
// map[string]any); schemas are the YAML document turned into the same shapes (see
// decodeJSONish).
//
// Supported: type (a name or a list, "integer" meaning a number without a fraction),
// properties, required, additionalProperties (a boolean or a schema), propertyNames,
// items, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength and
// maxLength (in characters), pattern (Go RE2 syntax; the document's patterns mean the same
// in ECMA-262), minItems, maxItems, uniqueItems, format (date-time, date, email, uri and
// uri-reference checked loosely; binary is an annotation), $ref to a local JSON pointer
// (siblings apply too, as in 2020-12), allOf, anyOf, oneOf, not, and readOnly and
// writeOnly by direction: a read-only value in a request or a write-only value in a
// response is an error (as validating proxies such as Prism treat them), and such a
// property is not required in that direction. Every other keyword is either a known
// annotation or reported by unknownKeywords, so the document cannot drift into keywords
// nobody checks.

// direction says whether an instance is sent by a client or by the server.
type direction int

const (
	inRequest direction = iota
	inResponse
)

// schemaError is one failure: where in the instance (a JSON pointer) and what.
type schemaError struct {
	Path, Msg string
}

func (e schemaError) String() string {
	p := e.Path
	if p == "" {
		p = "(root)"
	}
	return p + ": " + e.Msg
}

// schemaErrors renders failures one per line for test messages.
func schemaErrors(errs []schemaError) string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.String()
	}
	return strings.Join(out, "\n")
}

// validator validates instances against schemas of one document (the root of $refs).
type validator struct {
	root    any
	mu      sync.Mutex
	regexps map[string]*regexp.Regexp
}

func newValidator(root any) *validator {
	return &validator{root: root, regexps: map[string]*regexp.Regexp{}}
}

// maxSchemaDepth bounds $ref and combinator nesting, so that a schema that refers to
// itself without consuming the instance is reported instead of recursing forever.
const maxSchemaDepth = 64

// validate returns every failure of instance against schema in direction dir.
func (v *validator) validate(schema, instance any, dir direction) []schemaError {
	var errs []schemaError
	v.check(schema, instance, dir, "", 0, &errs)
	return errs
}

// valid reports whether instance satisfies schema in direction dir.
func (v *validator) valid(schema, instance any, dir direction) bool {
	return len(v.validate(schema, instance, dir)) == 0
}

func (v *validator) fail(errs *[]schemaError, path, format string, args ...any) {
	*errs = append(*errs, schemaError{path, fmt.Sprintf(format, args...)})
}

// resolveRef returns the node a local reference "#/a/b" points at.
func (v *validator) resolveRef(ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	n := v.root
	if ptr == "" {
		return n, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := n.(type) {
		case map[string]any:
			if n, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			n = c[i]
		default:
			return nil, false
		}
	}
	return n, true
}

func (v *validator) check(schema, inst any, dir direction, path string, depth int, errs *[]schemaError) {
	if depth > maxSchemaDepth {
		v.fail(errs, path, "schema nests more than %d levels (a $ref cycle?)", maxSchemaDepth)
		return
	}
	switch s := schema.(type) {
	case bool:
		if !s {
			v.fail(errs, path, "no value is allowed here")
		}
		return
	case map[string]any:
		v.checkObjectSchema(s, inst, dir, path, depth, errs)
	default:
		v.fail(errs, path, "schema is a %T, not an object or boolean", schema)
	}
}

func (v *validator) checkObjectSchema(s map[string]any, inst any, dir direction, path string, depth int, errs *[]schemaError) {
	if ref, ok := s["$ref"].(string); ok {
		target, found := v.resolveRef(ref)
		if !found {
			v.fail(errs, path, "$ref %q does not resolve", ref)
		} else {
			v.check(target, inst, dir, path, depth+1, errs)
		}
	}
	if b, _ := s["readOnly"].(bool); b && dir == inRequest {
		v.fail(errs, path, "is read-only and may not be sent in a request")
	}
	if b, _ := s["writeOnly"].(bool); b && dir == inResponse {
		v.fail(errs, path, "is write-only and may not appear in a response")
	}

	if t, ok := s["type"]; ok && !typeMatches(t, inst) {
		v.fail(errs, path, "must be of type %s, not %s", typeText(t), jsonType(inst))
		return // the other keywords would only repeat it
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return jsonEqual(x, inst) }) {
		v.fail(errs, path, "must be one of %s, not %s", compactJSON(e), compactJSON(inst))
	}
	if c, ok := s["const"]; ok && !jsonEqual(c, inst) {
		v.fail(errs, path, "must be %s, not %s", compactJSON(c), compactJSON(inst))
	}

	switch x := inst.(type) {
	case json.Number:
		v.checkNumber(s, x, path, errs)
	case string:
		v.checkString(s, x, path, errs)
	case []any:
		v.checkArray(s, x, dir, path, depth, errs)
	case map[string]any:
		v.checkObject(s, x, dir, path, depth, errs)
	}

	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			v.check(sub, inst, dir, path, depth+1, errs)
		}
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		passed := 0
		for _, sub := range anyOf {
			if len(v.sub(sub, inst, dir, path, depth)) == 0 {
				passed++
			}
		}
		if passed == 0 {
			v.fail(errs, path, "matches none of anyOf's %d schemas", len(anyOf))
		}
	}
	if oneOf, ok := s["oneOf"].([]any); ok {
		var passed []int
		var first []schemaError
		for i, sub := range oneOf {
			sErrs := v.sub(sub, inst, dir, path, depth)
			if len(sErrs) == 0 {
				passed = append(passed, i)
			} else if first == nil {
				first = sErrs
			}
		}
		switch len(passed) {
		case 1:
		case 0:
			v.fail(errs, path, "matches none of oneOf's %d schemas (first: %s)", len(oneOf), schemaErrors(first))
		default:
			v.fail(errs, path, "matches oneOf's schemas %v; exactly one must match", passed)
		}
	}
	if not, ok := s["not"]; ok && len(v.sub(not, inst, dir, path, depth)) == 0 {
		v.fail(errs, path, "must not match the schema of `not`")
	}
}

// sub validates against a subschema, collecting its failures apart.
func (v *validator) sub(schema, inst any, dir direction, path string, depth int) []schemaError {
	var errs []schemaError
	v.check(schema, inst, dir, path, depth+1, &errs)
	return errs
}

func (v *validator) checkNumber(s map[string]any, n json.Number, path string, errs *[]schemaError) {
	f, err := n.Float64()
	if err != nil {
		v.fail(errs, path, "number %s is out of range", n)
		return
	}
	if m, ok := number(s["minimum"]); ok && f < m {
		v.fail(errs, path, "must be at least %v, not %s", m, n)
	}
	if m, ok := number(s["maximum"]); ok && f > m {
		v.fail(errs, path, "must be at most %v, not %s", m, n)
	}
	if m, ok := number(s["exclusiveMinimum"]); ok && f <= m {
		v.fail(errs, path, "must be more than %v, not %s", m, n)
	}
	if m, ok := number(s["exclusiveMaximum"]); ok && f >= m {
		v.fail(errs, path, "must be less than %v, not %s", m, n)
	}
}

func (v *validator) checkString(s map[string]any, str string, path string, errs *[]schemaError) {
	n := utf8.RuneCountInString(str)
	if m, ok := number(s["minLength"]); ok && float64(n) < m {
		v.fail(errs, path, "must be at least %v characters, not %d", m, n)
	}
	if m, ok := number(s["maxLength"]); ok && float64(n) > m {
		v.fail(errs, path, "must be at most %v characters, not %d", m, n)
	}
	if p, ok := s["pattern"].(string); ok {
		re, err := v.regexp(p)
		switch {
		case err != nil:
			v.fail(errs, path, "pattern %q does not compile: %v", p, err)
		case !re.MatchString(str):
			v.fail(errs, path, "must match %s, not %q", p, str)
		}
	}
	if f, ok := s["format"].(string); ok {
		if msg := checkFormat(f, str); msg != "" {
			v.fail(errs, path, "%s, not %q", msg, str)
		}
	}
}

func (v *validator) regexp(p string) (*regexp.Regexp, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if re, ok := v.regexps[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err == nil {
		v.regexps[p] = re
	}
	return re, err
}

// checkFormat checks the formats the document uses, loosely: enough to catch a value of
// the wrong kind, not every corner of the RFCs.
func checkFormat(format, s string) string {
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "must be an RFC 3339 date-time"
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "must be a date YYYY-MM-DD"
		}
	case "email":
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
			return "must be an email address"
		}
	case "uri":
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return "must be an absolute URI"
		}
	case "uri-reference":
		if _, err := url.Parse(s); err != nil {
			return "must be a URI reference"
		}
	}
	return ""
}

func (v *validator) checkArray(s map[string]any, a []any, dir direction, path string, depth int, errs *[]schemaError) {
	if m, ok := number(s["minItems"]); ok && float64(len(a)) < m {
		v.fail(errs, path, "must have at least %v items, not %d", m, len(a))
	}
	if m, ok := number(s["maxItems"]); ok && float64(len(a)) > m {
		v.fail(errs, path, "must have at most %v items, not %d", m, len(a))
	}
	if u, _ := s["uniqueItems"].(bool); u {
		seen := map[string]int{}
		for i, x := range a {
			k := canonicalJSON(x)
			if j, dup := seen[k]; dup {
				v.fail(errs, path, "items %d and %d are equal; items must be unique", j, i)
				break
			}
			seen[k] = i
		}
	}
	if items, ok := s["items"]; ok {
		for i, x := range a {
			v.check(items, x, dir, path+"/"+strconv.Itoa(i), depth+1, errs)
		}
	}
}

func (v *validator) checkObject(s map[string]any, o map[string]any, dir direction, path string, depth int, errs *[]schemaError) {
	props, _ := s["properties"].(map[string]any)
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			name, _ := r.(string)
			if _, present := o[name]; present {
				continue
			}
			if p, ok := props[name]; ok && v.directional(p, dir) {
				continue // a read-only property is not required in a request, and so on
			}
			v.fail(errs, path, "property %q is required", name)
		}
	}
	names := make([]string, 0, len(o))
	for k := range o {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p := path + "/" + pointerEscape(k)
		if pn, ok := s["propertyNames"]; ok {
			for _, e := range v.sub(pn, k, dir, p, depth) {
				v.fail(errs, p, "property name: %s", e.Msg)
			}
		}
		if ps, ok := props[k]; ok {
			v.check(ps, o[k], dir, p, depth+1, errs)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case nil:
		case bool:
			if !ap {
				v.fail(errs, p, "unknown property %q (additionalProperties is false)", k)
			}
		default:
			v.check(ap, o[k], dir, p, depth+1, errs)
		}
	}
}

// directional reports whether a property schema is read-only (in a request) or write-only
// (in a response), looking through $ref and allOf.
func (v *validator) directional(schema any, dir direction) bool {
	key := "readOnly"
	if dir == inResponse {
		key = "writeOnly"
	}
	for range maxSchemaDepth {
		s, ok := schema.(map[string]any)
		if !ok {
			return false
		}
		if b, _ := s[key].(bool); b {
			return true
		}
		for _, sub := range asList(s["allOf"]) {
			if v.directional(sub, dir) {
				return true
			}
		}
		ref, ok := s["$ref"].(string)
		if !ok {
			return false
		}
		if schema, ok = v.resolveRef(ref); !ok {
			return false
		}
	}
	return false
}

// typeMatches reports whether inst is of the JSON Schema type t (a name or a list).
func typeMatches(t, inst any) bool {
	switch t := t.(type) {
	case string:
		return oneType(t, inst)
	case []any:
		for _, x := range t {
			if name, ok := x.(string); ok && oneType(name, inst) {
				return true
			}
		}
	}
	return false
}

func oneType(name string, inst any) bool {
	switch name {
	case "integer":
		n, ok := inst.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	case "number":
		_, ok := inst.(json.Number)
		return ok
	}
	return jsonType(inst) == name
}

// jsonType names the JSON type of an instance.
func jsonType(inst any) string {
	switch inst.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", inst)
}

func typeText(t any) string {
	if s, ok := t.(string); ok {
		return s
	}
	return compactJSON(t)
}

// number reads a numeric keyword.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

func asList(x any) []any {
	l, _ := x.([]any)
	return l
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// jsonEqual is JSON Schema equality: numbers by value, objects by members, arrays by items.
func jsonEqual(a, b any) bool { return canonicalJSON(a) == canonicalJSON(b) }

// canonicalJSON renders a value with sorted keys and numbers by value (1 and 1.0 agree).
func canonicalJSON(x any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			} else {
				b.WriteString(x.String())
			}
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		case int:
			b.WriteString(strconv.Itoa(x))
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteByte(',')
				}
				walk(e)
			}
			b.WriteByte(']')
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteByte(',')
				}
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteByte(':')
				walk(x[k])
			}
			b.WriteByte('}')
		default:
			data, err := json.Marshal(x)
			if err != nil {
				data = []byte(fmt.Sprintf("<%T>", x))
			}
			b.Write(data)
		}
	}
	walk(x)
	return b.String()
}

// compactJSON renders a value for messages.
func compactJSON(x any) string {
	data, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprintf("%v", x)
	}
	return string(data)
}

// decodeJSONish turns any JSON-encodable value (such as a YAML document decoded into
// any) into the shapes the validator takes.
func decodeJSONish(x any) (any, error) {
	data, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	return decodeJSON(data)
}

// decodeJSON decodes one JSON value with numbers kept as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Keywords the validator evaluates, and annotations it knows and ignores.
var (
	assertionKeywords = []string{"$ref", "type", "properties", "required", "additionalProperties",
		"propertyNames", "items", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
		"exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
		"uniqueItems", "format", "allOf", "anyOf", "oneOf", "not", "readOnly", "writeOnly"}
	annotationKeywords = []string{"title", "description", "default", "example", "examples",
		"deprecated", "$comment"}
	knownFormats = []string{"date-time", "date", "email", "uri", "uri-reference", "binary"}
)

// unknownKeywords walks a schema and reports every keyword outside the supported subset,
// and every format the validator does not know.
func unknownKeywords(schema any, where string) []string {
	var out []string
	var walk func(s any, where string, depth int)
	walk = func(s any, where string, depth int) {
		m, ok := s.(map[string]any)
		if !ok || depth > maxSchemaDepth {
			return
		}
		for k, x := range m {
			switch {
			case strings.HasPrefix(k, "x-"):
			case !slices.Contains(assertionKeywords, k) && !slices.Contains(annotationKeywords, k):
				out = append(out, fmt.Sprintf("%s: keyword %q is not supported by the test validator", where, k))
			case k == "format" && !slices.Contains(knownFormats, fmt.Sprint(x)):
				out = append(out, fmt.Sprintf("%s: format %q is not known to the test validator", where, x))
			case k == "properties":
				props, _ := x.(map[string]any)
				for name, p := range props {
					walk(p, where+"/properties/"+name, depth+1)
				}
			case k == "allOf" || k == "anyOf" || k == "oneOf":
				for i, sub := range asList(x) {
					walk(sub, fmt.Sprintf("%s/%s/%d", where, k, i), depth+1)
				}
			case k == "additionalProperties" || k == "items" || k == "not" || k == "propertyNames":
				walk(x, where+"/"+k, depth+1)
			}
		}
	}
	walk(schema, where, 0)
	sort.Strings(out)
	return out
}
