package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/convrs/admin/pkg/problem"
)

// fuzzDoc has every kind of field the walk treats differently, all named in lower case.
type fuzzDoc struct {
	NamesBase                           // id (its n is shadowed)
	N         int                       `json:"n"`
	S         string                    `json:"s,omitempty"`
	In        namesInner                `json:"in"`
	Ptr       *namesInner               `json:"ptr"`
	List      []namesInner              `json:"list"`
	ByDay     map[string][]namesInner   `json:"byDay"`
	Raw       json.RawMessage           `json:"raw"`
	Extra     any                       `json:"extra"`
	Custom    shout                     `json:"custom"`
	Skip      int                       `json:"-"`
	Nested    map[string]map[string]any `json:"nested"`
}

// refSchema is fuzzDoc written out by hand, independently of the walk's reflection.
type refSchema struct {
	kind   byte                  // 's' struct, 'm' map, 'l' list, 'a' anything, 'v' scalar
	fields map[string]*refSchema // 's'
	elem   *refSchema            // 'm', 'l'
}

var (
	refAny    = &refSchema{kind: 'a'}
	refScalar = &refSchema{kind: 'v'}
	refInner  = &refSchema{kind: 's', fields: map[string]*refSchema{"on": refScalar, "name": refScalar}}
	refDoc    = &refSchema{kind: 's', fields: map[string]*refSchema{
		"id": refScalar, "n": refScalar, "s": refScalar, "in": refInner, "ptr": refInner,
		"list":  {kind: 'l', elem: refInner},
		"byDay": {kind: 'm', elem: &refSchema{kind: 'l', elem: refInner}},
		"raw":   refAny, "extra": refAny, "custom": refAny,
		"nested": {kind: 'm', elem: &refSchema{kind: 'm', elem: refAny}},
	}}
)

// refNode is a JSON value as the reference reads it: members in order, duplicates kept.
type refNode struct {
	object, array bool
	keys          []string
	values        []*refNode // members of an object, elements of an array
}

// refParse reads exactly one JSON value; ok is false for anything else.
func refParse(data []byte) (n *refNode, depth int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var read func() (*refNode, int, error)
	read = func() (*refNode, int, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, 0, err
		}
		d, isDelim := tok.(json.Delim)
		if !isDelim {
			return &refNode{}, 0, nil
		}
		n := &refNode{object: d == '{', array: d == '['}
		deepest := 0
		for dec.More() {
			if n.object {
				tok, err := dec.Token()
				if err != nil {
					return nil, 0, err
				}
				n.keys = append(n.keys, tok.(string))
			}
			v, dv, err := read()
			if err != nil {
				return nil, 0, err
			}
			n.values = append(n.values, v)
			deepest = max(deepest, dv)
		}
		if _, err := dec.Token(); err != nil {
			return nil, 0, err
		}
		return n, deepest + 1, nil
	}
	n, depth, err := read()
	if err != nil {
		return nil, 0, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, 0, false
	}
	return n, depth, true
}

// refCheck reports whether every key under n names a field of s exactly (keys under
// 'a' and under mismatched kinds are free) and whether no object repeats a key.
func refCheck(n *refNode, s *refSchema) (exact, unique bool) {
	exact, unique = true, true
	seen := map[string]bool{}
	for i, v := range n.values {
		child := refAny
		if n.object {
			k := n.keys[i]
			if seen[k] {
				unique = false
			}
			seen[k] = true
			switch s.kind {
			case 's':
				if f, ok := s.fields[k]; ok {
					child = f
				} else {
					exact = false
				}
			case 'm':
				child = s.elem
			}
		} else if s.kind == 'l' {
			child = s.elem
		}
		e, u := refCheck(v, child)
		exact, unique = exact && e, unique && u
	}
	return exact, unique
}

// strictJSON is encoding/json on its own, as strict as it gets: one object, no unknown
// (case-insensitively unknown) fields.
func strictJSON(data []byte, dst any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("not an object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

// FuzzUnmarshalAgreesWithEncodingJSON checks the walk against encoding/json and a
// reference reading of the keys:
//   - whatever Unmarshal accepts, encoding/json with DisallowUnknownFields accepts too
//     and decodes to the same value, every key was exact and no object repeated a key;
//   - whatever has only exact keys, no repeated key and no deep nesting, and is accepted
//     by encoding/json, Unmarshal accepts.
func FuzzUnmarshalAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"id":"a","n":1,"s":"x","in":{"on":true,"name":"b"},"ptr":null,"list":[{"on":false},{}]}`,
		`{"byDay":{"monday":[{"on":true}],"Monday":[]},"raw":{"Any":1},"extra":[{"X":{"y":[]}}],"custom":{"Q":1}}`,
		`{"nested":{"a":{"B":{"c":1}},"A":{}}}`, `{"N":1}`, `{"In":{}}`, `{"in":{"ON":true}}`, `{"list":[{"Name":"x"}]}`,
		`{"byDay":{"x":[{"On":true}]}}`, `{"n":1,"n":2}`, `{"in":{"on":true,"on":true}}`, `{"raw":{"a":1,"a":1}}`,
		`{"nested":{"a":{"b":1},"a":{}}}`, `{"Skip":1}`, `{"-":1}`, `{"NamesBase":{}}`, `{"n":"1"}`, `{"n":1}x`,
		`{"extra":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		`{"n\u0000":1}`, `{"\u006e":1,"n":2}`, "{\"s\":\"\xff\"}", "{\"s\xff\":1}", `{"ſ":1}`, `{"K":1}`,
		`{"s":"x\"},\"N\":{\"","n":1}`, `{"s":"\\","n":1}`, `{"s":"\\\"","N":1}`, `{"in":{"name":"]}\\"}}`,
		`{"extra":{"a\\":1,"a\u005c":2}}`, `{"extra":{"\ud83d\ude00":1,"😀":2}}`, `{"extra":{"\ud800":1,"\udc00":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want fuzzDoc
		err := Unmarshal(data, &got)
		jerr := strictJSON(data, &want)
		tree, depth, parsed := refParse(data)
		exact, unique := false, false
		if parsed {
			exact, unique = refCheck(tree, refDoc)
		}
		if err == nil {
			if jerr != nil {
				t.Fatalf("Unmarshal accepts %q, encoding/json does not: %v", data, jerr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Unmarshal(%q):\n got %#v\nwant %#v", data, got, want)
			}
			if !parsed || !exact || !unique || depth > maxDepth {
				t.Fatalf("Unmarshal accepts %q: parsed %v, exact keys %v, unique keys %v, depth %d", data, parsed, exact, unique, depth)
			}
			return
		}
		if problem.CodeOf(err) != problem.BadRequest {
			t.Fatalf("Unmarshal(%q): got %v, want BadRequest", data, err)
		}
		if jerr == nil && parsed && exact && unique && depth <= maxDepth {
			t.Fatalf("Unmarshal refuses %q (exact, unique keys, depth %d, accepted by encoding/json): %v", data, depth, err)
		}
	})
}

// refMerge is RFC 7396's MergePatch pseudo-code.
func refMerge(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = refMerge(t[k], v)
		}
	}
	return t
}

// FuzzMergePatch checks that MergePatch accepts exactly the single objects without a
// repeated key and without deep nesting, and merges them as RFC 7396 says.
func FuzzMergePatch(f *testing.F) {
	for _, s := range []string{`{"a":"c"}`, `{"a":null}`, `{"b":{"c":null,"d":[1]}}`, `{"A":1}`, `{"a":1,"a":2}`,
		`{"b":{"c":1,"c":1}}`, `[1]`, `null`, `{"a":1}{}`, `{"a":12345678901234567890}`, `{"a":{"b":{"c":{"d":{}}}}}`} {
		f.Add([]byte(s))
	}
	const doc = `{"a":"b","b":{"c":"d","e":[1,2]},"n":1.5}`
	f.Fuzz(func(t *testing.T, patch []byte) {
		got, err := MergePatch([]byte(doc), patch)
		tree, depth, parsed := refParse(patch)
		good := parsed && tree.object && depth <= maxDepth
		if good {
			_, good = refCheck(tree, refAny)
		}
		if err != nil {
			if problem.CodeOf(err) != problem.BadRequest {
				t.Fatalf("MergePatch(%q): got %v, want BadRequest", patch, err)
			}
			if good {
				t.Fatalf("MergePatch refuses %q: %v", patch, err)
			}
			return
		}
		if !good {
			t.Fatalf("MergePatch accepts %q (parsed %v, depth %d)", patch, parsed, depth)
		}
		var d, p any
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(patch))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("encoding/json refuses %q, MergePatch accepts it: %v", patch, err)
		}
		want, err := json.Marshal(refMerge(d, p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("MergePatch(%s, %q):\n got %s\nwant %s", doc, patch, got, want)
		}
	})
}
