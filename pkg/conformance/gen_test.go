package conformance_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file generates JSON values from the schemas of openapi.yaml: a valid sample of a
// schema, and for every bounded field of a request schema the values at and just past
// each bound. The tests check what the server does with them against what the schema
// says, so every area and every field the document describes is covered without a hand
// kept list of cases.

// caseOverrides holds what a schema alone cannot say, per area: a base document for the
// cases when a cross-field rule makes a boundary unreachable from the minimal one,
// samplers for the items of arrays whose items must differ in ways a schema cannot
// express, and samplers of valid strings of a given length where the content must obey
// rules a schema cannot express (a URL, a certificate). Keep them minimal; everything
// else comes from openapi.yaml.
var caseOverrides = map[string]struct {
	Base  map[string]any
	Items map[string]func(i int) any    // by dotted field path
	Texts map[string]func(n int) string // by dotted field path: n characters
}{
	"office-hours": {
		// Enabling the missed-chat report needs an address.
		Base: map[string]any{"missedChatReport": map[string]any{"email": "reports@example.com"}},
		Items: map[string]func(i int) any{
			// Intervals of one day may not overlap: 30 minutes open every 50 minutes.
			"hours.monday": func(i int) any {
				open := time.Duration(i) * 50 * time.Minute
				return map[string]any{"open": clockText(open), "close": clockText(open + 30*time.Minute)}
			},
		},
	},
	"dashboard": {
		// Handoff on, so that either of its options may be switched on alone.
		Base:  map[string]any{"handoff": map[string]any{"enabled": true}},
		Texts: map[string]func(n int) string{"language": languageTag},
	},
	"locale": {
		Texts: map[string]func(n int) string{"language": languageTag},
	},
	"password-policy": {
		// maxLength 1 is reachable only when minLength and the character rules fit in
		// one character (minLength <= maxLength, 2*minMixedCase + minDigits +
		// minSpecial <= maxLength); maxLength stays 30, so every other bound is
		// reachable from this base too.
		Base: map[string]any{"minLength": num(1), "minMixedCase": num(0), "minDigits": num(0)},
	},
	"reports": {
		// Amber may not be on the better side of green: with each pair as far apart as
		// its range allows, every bound of either threshold is reachable alone.
		Base: map[string]any{"thresholds": map[string]any{
			"averageWaitTime":     map[string]any{"green": num(0), "amber": num(86400)},
			"averageResponseTime": map[string]any{"green": num(0), "amber": num(86400)},
			"csatScore":           map[string]any{"green": num(5), "amber": num(1)},
			"sentiment":           map[string]any{"green": num(100), "amber": num(0)},
			"aiBotContainment":    map[string]any{"green": num(100), "amber": num(0)},
		}},
	},
	"sso": {
		// A complete SAML configuration, SSO off: switching it on is then valid, and so
		// is clearing any one field.
		Base: map[string]any{"provider": "saml", "saml": map[string]any{
			"ssoUrl": "https://idp.example.com/sso/saml", "certificate": ssoCertificate}},
		Texts: map[string]func(n int) string{
			"saml.ssoUrl": func(n int) string {
				const prefix = "https://idp.example.com/"
				return prefix + strings.Repeat("a", max(n-len(prefix), 0))
			},
			// The certificate padded to n characters with spaces at the end of its first
			// line, which a PEM reader ignores (and which are kept, being inside).
			"saml.certificate": func(n int) string {
				head, rest, _ := strings.Cut(ssoCertificate, "\n")
				if pad := n - len(ssoCertificate); pad > 0 {
					return head + strings.Repeat(" ", pad) + "\n" + rest
				}
				return ssoCertificate[:n]
			},
		},
	},
}

// languageTag returns a canonical BCP 47 language tag of n characters (n >= 2; shorter
// is the one letter "a", no tag): en, ast, or en with private-use subtags.
func languageTag(n int) string {
	switch {
	case n < 2:
		return "a"
	case n <= 3:
		return "ast"[:n]
	case n < 6:
		return "en-GB"[:n] // en-G, en-GB (4 characters is no tag)
	}
	s := "en-x"
	for len(s) < n {
		k := min(8, n-len(s)-1)
		if n-len(s)-1-k == 1 { // a subtag of one character cannot end it after 8
			k--
		}
		s += "-" + strings.Repeat("a", k)
	}
	return s
}

// ssoCertificate is a self-signed ECDSA certificate valid 2026-01-01 to 2036-01-01 (the
// one of events/sso/put.json), without a final newline.
const ssoCertificate = `-----BEGIN CERTIFICATE-----
MIIBZDCCAQqgAwIBAgIEATUlBTAKBggqhkjOPQQDAjAwMRQwEgYDVQQKEwtFeGFt
cGxlIElkUDEYMBYGA1UEAxMPaWRwLmV4YW1wbGUuY29tMB4XDTI2MDEwMTAwMDAw
MFoXDTM2MDEwMTAwMDAwMFowMDEUMBIGA1UEChMLRXhhbXBsZSBJZFAxGDAWBgNV
BAMTD2lkcC5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLic
pcVbn2p90onE4hSsmvoDpYk1XCL/sRbaMxnoTLrKbGfLs0nq7Tcecyx97VGjF1dd
WwK8OsKP1W+UXDS3a3OjEjAQMA4GA1UdDwEB/wQEAwIHgDAKBggqhkjOPQQDAgNI
ADBFAiEAvNxvDswi1PpWZQl2tF7BallvEOsayddm32kJyowSD0ACIFAaTf63b4ky
koVup+Li/HeOef9878/yy29TIqwIuBKX
-----END CERTIFICATE-----`

func clockText(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// flat returns a schema with its $ref targets and allOf members merged in: the keywords
// that hold for every value (oneOf and anyOf stay as they are). Later keywords win, but
// properties and required are united.
func (s *spec) flat(schema any) map[string]any {
	out := map[string]any{}
	var merge func(x any, depth int)
	merge = func(x any, depth int) {
		m, ok := x.(map[string]any)
		if !ok || depth > maxSchemaDepth {
			return
		}
		if ref, ok := m["$ref"].(string); ok {
			target, _ := s.v.resolveRef(ref)
			merge(target, depth+1)
		}
		for _, sub := range asList(m["allOf"]) {
			merge(sub, depth+1)
		}
		for k, val := range m {
			switch k {
			case "$ref", "allOf":
			case "properties":
				props, _ := out[k].(map[string]any)
				props = maps.Clone(props)
				if props == nil {
					props = map[string]any{}
				}
				maps.Copy(props, val.(map[string]any))
				out[k] = props
			case "required":
				out[k] = append(slices.Clone(asList(out[k])), asList(val)...)
			default:
				out[k] = val
			}
		}
	}
	merge(schema, 0)
	return out
}

// types lists the JSON types a flattened schema allows, null last.
func types(f map[string]any) []string {
	var out []string
	switch t := f["type"].(type) {
	case string:
		out = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return boolInt(a == "null") - boolInt(b == "null")
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasType(f map[string]any, name string) bool { return slices.Contains(types(f), name) }

func isReadOnly(f map[string]any) bool { b, _ := f["readOnly"].(bool); return b }

func num(f float64) json.Number { return json.Number(strconv.FormatFloat(f, 'f', -1, 64)) }

// generator makes values for the schemas of one area.
type generator struct {
	s        *spec
	samplers map[string]func(i int) any    // by dotted field path
	texts    map[string]func(n int) string // by dotted field path
}

// sample returns a valid value of schema, the i-th of a series whose members differ where
// the schema lets them (for arrays with unique items); path names the field for the
// overrides. It is a best effort: the tests validate what it makes.
func (g *generator) sample(schema any, i int, path string) any {
	f := g.s.flat(schema)
	if c, ok := f["const"]; ok {
		return c
	}
	if e := asList(f["enum"]); len(e) > 0 {
		return e[i%len(e)]
	}
	ts := types(f)
	if len(ts) == 0 {
		return nil
	}
	switch ts[0] {
	case "boolean":
		return i%2 == 1
	case "integer", "number":
		lo, _ := number(f["minimum"])
		if m, ok := number(f["exclusiveMinimum"]); ok {
			lo = m + 1
		}
		v := lo + float64(i)
		if hi, ok := number(f["maximum"]); ok && v > hi {
			v = lo
		}
		return num(v)
	case "string":
		n, _ := number(f["minLength"])
		return g.text(path, f, max(int(n), 1), i)
	case "array":
		n, _ := number(f["minItems"])
		return g.items(f, int(n), path)
	case "object":
		return g.object(schema, f, i, path)
	}
	return nil
}

// object samples the required properties of an object schema, then, when the schema has
// oneOf or anyOf alternatives, the required properties of the first one that validates.
func (g *generator) object(schema any, f map[string]any, i int, path string) any {
	props, _ := f["properties"].(map[string]any)
	out := map[string]any{}
	for _, r := range asList(f["required"]) {
		name, _ := r.(string)
		out[name] = g.sample(props[name], i, join(path, name))
	}
	alts := append(asList(f["oneOf"]), asList(f["anyOf"])...)
	if len(alts) == 0 {
		return out
	}
	for _, alt := range alts {
		af := g.s.flat(alt)
		altProps, _ := af["properties"].(map[string]any)
		cand := maps.Clone(out)
		for _, r := range asList(af["required"]) {
			name, _ := r.(string)
			if ps, ok := altProps[name]; ok {
				cand[name] = g.sample(ps, i, join(path, name))
			} else if _, have := cand[name]; !have {
				cand[name] = g.sample(props[name], i, join(path, name))
			}
		}
		if g.s.v.valid(schema, cand, inRequest) {
			return cand
		}
	}
	return out
}

// items returns n items of an array schema: from the area's sampler for path when it has
// one, else sampled from the items schema, the i-th item as the i-th of a series.
func (g *generator) items(f map[string]any, n int, path string) []any {
	out := make([]any, n)
	for i := range out {
		if fn, ok := g.samplers[path]; ok {
			out[i] = fn(i)
		} else {
			out[i] = g.sample(f["items"], i, path)
		}
	}
	return out
}

// text returns a string of n characters for the string schema of the field path: the
// area's sampler for path when it has one, an email address or a date for those formats,
// the schema's example for a pattern, else letters (prefixed with i to tell the members
// of a series apart).
func (g *generator) text(path string, f map[string]any, n, i int) string {
	if fn, ok := g.texts[path]; ok {
		return fn(n)
	}
	switch f["format"] {
	case "email":
		return emailOfLength(n, i)
	case "date":
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly)
	case "date-time":
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
	}
	if _, ok := f["pattern"]; ok {
		if ex, ok := f["example"].(string); ok {
			return ex
		}
	}
	tag := ""
	if i > 0 {
		tag = strconv.Itoa(i)
	}
	if len(tag) >= n {
		return tag[:n]
	}
	return tag + strings.Repeat("a", n-len(tag))
}

// emailOfLength returns an address of exactly n characters (n >= 8), with domain labels
// of at most 63 characters.
func emailOfLength(n, i int) string {
	local := "r" + strconv.Itoa(i)
	d := n - len(local) - len("@") - len(".com") // letters and dots before .com
	if d < 1 {
		return local + "@x.com"
	}
	var labels []string
	for d > 0 {
		k := min(63, d)
		if d-k == 1 { // the rest must hold a dot and a letter
			k--
		}
		labels = append(labels, strings.Repeat("a", k))
		if d -= k; d > 0 {
			d-- // the dot
		}
	}
	return local + "@" + strings.Join(labels, ".") + ".com"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// boundCase is one value of one field, at or past a bound the schema states.
type boundCase struct {
	Field string // dotted path, as the server names fields in problems
	Segs  []string
	Label string // e.g. "maximum+1 (10)"
	Value any
	Valid bool // what the schema means to say about it
}

// Patch is the merge patch that sets just this field.
func (c boundCase) Patch() map[string]any {
	var v any = c.Value
	for i := len(c.Segs) - 1; i >= 0; i-- {
		v = map[string]any{c.Segs[i]: v}
	}
	return v.(map[string]any)
}

// boundCases lists the cases of every bounded field of an object schema: numbers at
// minimum-1, minimum, maximum and maximum+1 (the exclusive bounds and one past them),
// strings one character short of minLength, at it, at maxLength and one over, arrays
// likewise for minItems and maxItems, every value of an enum (of a field or of its items)
// and one that is not. Read-only fields and fields without a type (echoed, ignored) have
// none.
func (g *generator) boundCases(schema any) []boundCase {
	var out []boundCase
	var walk func(f map[string]any, segs []string, depth int)
	walk = func(f map[string]any, segs []string, depth int) {
		if depth > 8 {
			return
		}
		field := strings.Join(segs, ".")
		add := func(label string, value any, valid bool) {
			out = append(out, boundCase{Field: field, Segs: slices.Clone(segs), Label: label, Value: value, Valid: valid})
		}
		if hasType(f, "object") {
			props, _ := f["properties"].(map[string]any)
			for _, name := range keys(props) {
				pf := g.s.flat(props[name])
				if isReadOnly(pf) || len(types(pf)) == 0 {
					continue
				}
				walk(pf, append(slices.Clone(segs), name), depth+1)
			}
			if ap, ok := f["additionalProperties"].(map[string]any); ok {
				key := "key"
				if e := asList(g.s.flat(f["propertyNames"])["enum"]); len(e) > 0 {
					key = fmt.Sprint(e[0])
				}
				walk(g.s.flat(ap), append(slices.Clone(segs), key), depth+1)
			}
		}
		if hasType(f, "integer") || hasType(f, "number") {
			step := 1.0
			if !hasType(f, "integer") {
				step = 0.5
			}
			if m, ok := number(f["minimum"]); ok {
				add(fmt.Sprintf("minimum-1 (%v)", m-1), num(m-1), false)
				add(fmt.Sprintf("minimum (%v)", m), num(m), true)
			}
			if m, ok := number(f["maximum"]); ok {
				add(fmt.Sprintf("maximum (%v)", m), num(m), true)
				add(fmt.Sprintf("maximum+1 (%v)", m+1), num(m+1), false)
			}
			if m, ok := number(f["exclusiveMinimum"]); ok {
				add(fmt.Sprintf("exclusiveMinimum (%v)", m), num(m), false)
				add(fmt.Sprintf("exclusiveMinimum+step (%v)", m+step), num(m+step), true)
			}
			if m, ok := number(f["exclusiveMaximum"]); ok {
				add(fmt.Sprintf("exclusiveMaximum-step (%v)", m-step), num(m-step), true)
				add(fmt.Sprintf("exclusiveMaximum (%v)", m), num(m), false)
			}
		}
		if hasType(f, "string") {
			if m, ok := number(f["minLength"]); ok {
				if m > 0 {
					add(fmt.Sprintf("minLength-1 (%v characters)", m-1), g.textOrEmpty(field, f, int(m)-1), false)
				}
				add(fmt.Sprintf("minLength (%v characters)", m), g.text(field, f, int(m), 0), true)
			}
			if m, ok := number(f["maxLength"]); ok {
				add(fmt.Sprintf("maxLength (%v characters)", m), g.text(field, f, int(m), 0), true)
				add(fmt.Sprintf("maxLength+1 (%v characters)", m+1), g.text(field, f, int(m)+1, 0), false)
			}
		}
		if hasType(f, "array") {
			if m, ok := number(f["minItems"]); ok {
				if m > 0 {
					add(fmt.Sprintf("minItems-1 (%v items)", m-1), g.items(f, int(m)-1, field), false)
				}
				add(fmt.Sprintf("minItems (%v items)", m), g.items(f, int(m), field), true)
			}
			if m, ok := number(f["maxItems"]); ok {
				add(fmt.Sprintf("maxItems (%v items)", m), g.items(f, int(m), field), true)
				add(fmt.Sprintf("maxItems+1 (%v items)", m+1), g.items(f, int(m)+1, field), false)
			}
			if e := asList(g.s.flat(f["items"])["enum"]); len(e) > 0 {
				for _, x := range e {
					add(fmt.Sprintf("items enum value %s", compactJSON(x)), []any{x}, true)
				}
				add("items not in the enum", []any{notIn(e)}, false)
			}
		}
		if e := asList(f["enum"]); len(e) > 0 {
			for _, x := range e {
				if x == nil {
					// null in a PATCH schema's enum resets the field to its default, which
					// TestOpenAPIPatchNullResetsToDefault checks; it is not a value to save.
					continue
				}
				add(fmt.Sprintf("enum value %s", compactJSON(x)), x, true)
			}
			add("not in the enum", notIn(e), false)
		}
	}
	walk(g.s.flat(schema), nil, 0)
	return out
}

// textOrEmpty is text, but "" for n == 0.
func (g *generator) textOrEmpty(path string, f map[string]any, n int) string {
	if n <= 0 {
		return ""
	}
	return g.text(path, f, n, 0)
}

// notIn returns a value of the enum's type that the enum lacks.
func notIn(e []any) any {
	switch first := e[0].(type) {
	case string:
		return "not-" + first
	case json.Number:
		hi := 0.0
		for _, x := range e {
			if f, ok := number(x); ok && f > hi {
				hi = f
			}
		}
		return num(hi + 1)
	}
	return "not-in-the-enum"
}

// mergePatch applies an RFC 7396 merge patch to a document (neither is changed).
func mergePatch(doc, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	d, _ := doc.(map[string]any)
	out := maps.Clone(d)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// valueAt follows a path of object keys in a decoded document.
func valueAt(doc any, segs []string) (any, bool) {
	for _, s := range segs {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[s]; !ok {
			return nil, false
		}
	}
	return doc, true
}
