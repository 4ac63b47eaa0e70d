package httpx

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/problem"
)

type namesInner struct {
	On   bool   `json:"on"`
	Name string `json:"name,omitempty"`
}

// NamesBase is embedded (exported) in namesDoc; its fields are promoted.
type NamesBase struct {
	ID    string `json:"id"`
	Shade int    `json:"n"` // shadowed by namesDoc.N
}

// namesHidden is embedded unexported; its exported fields are promoted all the same.
type namesHidden struct {
	Colour string `json:"colour"`
}

// shout decodes any JSON value itself, so its keys are not checked.
type shout string

func (s *shout) UnmarshalJSON(b []byte) error { *s = shout(strings.ToUpper(string(b))); return nil }

type namesDoc struct {
	NamesBase
	namesHidden
	N      int                   `json:"n"`
	In     namesInner            `json:"in"`
	Ptr    *namesInner           `json:"ptr"`
	PtrPtr **namesInner          `json:"ptrPtr"`
	List   []namesInner          `json:"list"`
	Pair   [2]namesInner         `json:"pair"`
	ByDay  map[string]namesInner `json:"byDay"`
	Ints   map[int]int           `json:"ints"`
	Raw    json.RawMessage       `json:"raw"`
	Extra  any                   `json:"extra"`
	At     time.Time             `json:"at"`
	Custom shout                 `json:"custom"`
	Skip   int                   `json:"-"`
	//lint:ignore SA5008 a field named "-" is what this case tests
	Dash  int `json:"-,"`
	Plain int
	//lint:ignore SA5008 an invalid tag name (the Go name is used) is what this case tests
	Bad   int       `json:"a\"b"`
	Named NamesBase `json:"named"`
	//lint:ignore U1000 an unexported field is never decoded; this case tests that
	private int
}

func fieldOf(t *testing.T, err error) (field, message string) {
	t.Helper()
	pe, ok := err.(*problem.Error)
	if !ok || pe.Code != problem.BadRequest || len(pe.Fields) != 1 {
		t.Fatalf("got %v, want BadRequest naming one field", err)
	}
	return pe.Fields[0].Field, pe.Fields[0].Message
}

func TestUnmarshalExactNames(t *testing.T) {
	tests := []struct{ body, field, message string }{
		{`{"N":1}`, "N", "unknown field"},
		{`{"n":1,"IN":{}}`, "IN", "unknown field"},
		{`{"in":{"On":true}}`, "in.On", "unknown field"},
		{`{"in":{"on":true,"NAME":"x"}}`, "in.NAME", "unknown field"},
		{`{"ptr":{"oN":true}}`, "ptr.oN", "unknown field"},
		{`{"ptrPtr":{"ON":true}}`, "ptrPtr.ON", "unknown field"},
		{`{"list":[{"on":true},{"On":true}]}`, "list.On", "unknown field"},
		{`{"pair":[{},{"Name":"x"}]}`, "pair.Name", "unknown field"},
		{`{"byDay":{"monday":{"on":true},"tuesday":{"ON":false}}}`, "byDay.tuesday.ON", "unknown field"},
		{`{"ID":"x"}`, "ID", "unknown field"},
		{`{"NamesBase":{"id":"x"}}`, "NamesBase", "unknown field"},
		{`{"Colour":"red"}`, "Colour", "unknown field"},
		{`{"named":{"ID":"x"}}`, "named.ID", "unknown field"},
		{`{"plain":1}`, "plain", "unknown field"},
		{`{"PLAIN":1}`, "PLAIN", "unknown field"},
		{`{"Skip":1}`, "Skip", "unknown field"},
		{`{"skip":1}`, "skip", "unknown field"},
		{`{"private":1}`, "private", "unknown field"},
		{`{"a\"b":1}`, `a"b`, "unknown field"},
		{`{"bad":1}`, "bad", "unknown field"},
		{`{"shade":1}`, "shade", "unknown field"},
		{`{"Shade":1}`, "Shade", "unknown field"},
		// The first bad key in the body is reported.
		{`{"nope":{"x":1,"x":2},"n":1}`, "nope", "unknown field"},
	}
	for _, tc := range tests {
		var d namesDoc
		field, msg := fieldOf(t, Unmarshal([]byte(tc.body), &d))
		if field != tc.field || msg != tc.message {
			t.Errorf("Unmarshal(%s): got %s: %s, want %s: %s", tc.body, field, msg, tc.field, tc.message)
		}
	}
}

func TestUnmarshalAcceptsExactNames(t *testing.T) {
	body := `{"id":"i","colour":"red","n":1,"in":{"on":true,"name":"a"},"ptr":{"on":true},"ptrPtr":{"name":"p"},
		"list":[{"on":true},{}],"pair":[{"name":"x"},{"on":true}],"byDay":{"monday":{"on":true},"Monday":{}},
		"ints":{"1":1,"2":2},"raw":{"Any":{"Thing":[1,{"X":null}]}},"extra":{"Whatever":[{"Goes":1}]},
		"at":"2026-11-25T10:00:00Z","custom":{"Not":"checked"},"-":5,"Plain":6,"Bad":7,"named":{"id":"nid","n":3}}`
	var got, want namesDoc
	if err := Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got.ID != "i" || got.Colour != "red" || got.N != 1 || got.Shade != 0 || got.Dash != 5 || got.Plain != 6 ||
		got.Bad != 7 || got.Named.Shade != 3 || (*got.PtrPtr).Name != "p" || got.Custom != `{"NOT":"CHECKED"}` {
		t.Errorf("got %+v", got)
	}
}

func TestUnmarshalDuplicateKeys(t *testing.T) {
	tests := []struct{ body, field string }{
		{`{"n":1,"n":2}`, "n"},
		{`{"n":1,"\u006e":1}`, "n"},
		{`{"id":"a","in":{},"id":"b"}`, "id"},
		{`{"in":{"on":true,"on":false}}`, "in.on"},
		{`{"ptr":{"name":"a","name":"a"}}`, "ptr.name"},
		{`{"list":[{"on":true},{"on":true,"on":false}]}`, "list.on"},
		{`{"byDay":{"monday":{},"monday":{}}}`, "byDay.monday"},
		{`{"byDay":{"monday":{"on":true,"on":true}}}`, "byDay.monday.on"},
		{`{"ints":{"1":1,"01":2}}`, "ints.01"},
		{`{"ints":{"-0":1,"0":2}}`, "ints.0"},
		{`{"raw":{"a":1,"a":2}}`, "raw.a"},
		{`{"extra":[{"a":{"b":1,"b":1}}]}`, "extra.a.b"},
		{`{"custom":{"a":1,"a":1}}`, "custom.a"},
		{`{"extra":{"\ud83d\ude00":1,"😀":2}}`, "extra.😀"},
		{`{"extra":{"x\\":1,"x\u005c":2}}`, `extra.x\`},
	}
	for _, tc := range tests {
		var d namesDoc
		field, msg := fieldOf(t, Unmarshal([]byte(tc.body), &d))
		if field != tc.field || msg != "duplicate field" {
			t.Errorf("Unmarshal(%s): got %s: %s, want %s: duplicate field", tc.body, field, msg, tc.field)
		}
	}
	// Keys that differ only in case are different keys of a map.
	var m map[string]int
	if err := Unmarshal([]byte(`{"a":1,"A":2}`), &m); err != nil || len(m) != 2 {
		t.Errorf("map with keys a and A: got %v, %v", m, err)
	}
	// Duplicates in a map[string]json.RawMessage (how settings strip read-only fields).
	var raw map[string]json.RawMessage
	field, _ := fieldOf(t, Unmarshal([]byte(`{"version":1,"x":{},"version":1}`), &raw))
	if field != "version" {
		t.Errorf("RawMessage map: got %s, want version", field)
	}
}

// Large objects switch the duplicate check of maps from a list to a map, and structs
// with more than 64 fields use more than one word of the field set.
func TestUnmarshalDuplicatesInLargeObjects(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		b.WriteString(`"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1,`)
	}
	body := b.String()
	var m map[string]int
	if err := Unmarshal([]byte(body+`"last":2}`), &m); err != nil || len(m) != 41 {
		t.Fatalf("got %d keys, %v", len(m), err)
	}
	if field, _ := fieldOf(t, Unmarshal([]byte(body+`"kab":2}`), &m)); field != "kab" {
		t.Errorf("got %s, want kab", field)
	}

	fields := make([]reflect.StructField, 70)
	for i := range fields {
		name := "F" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		fields[i] = reflect.StructField{Name: name, Type: reflect.TypeFor[int](), Tag: reflect.StructTag(`json:"` + strings.ToLower(name) + `"`)}
	}
	wide := reflect.New(reflect.StructOf(fields)).Interface()
	if err := Unmarshal([]byte(`{"faa":1,"fqc":2,"fac":3}`), wide); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"fqc":1,"fac":1,"fqc":2}`, `{"faa":1,"faa":2}`} {
		if _, msg := fieldOf(t, Unmarshal([]byte(body), wide)); msg != "duplicate field" {
			t.Errorf("%s: got %s", body, msg)
		}
	}
}

func TestUnmarshalDepthIsBounded(t *testing.T) {
	nest := func(levels int) string { // levels of containers, the top object included
		return `{"extra":` + strings.Repeat("[", levels-1) + strings.Repeat("]", levels-1) + "}"
	}
	var d namesDoc
	if err := Unmarshal([]byte(nest(maxDepth)), &d); err != nil {
		t.Errorf("%d levels: %v", maxDepth, err)
	}
	for _, levels := range []int{maxDepth + 1, 10000, MaxJSONBody / 2} {
		err := Unmarshal([]byte(nest(levels)), &d)
		if pe, ok := err.(*problem.Error); !ok || pe.Code != problem.BadRequest || !strings.Contains(pe.Message, "nested too deeply") {
			t.Errorf("%d levels: got %v, want nested too deeply", levels, err)
		}
	}
	// Objects count as well as arrays. A body that is not even closed is malformed.
	deep := `{"extra":` + strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth+1)
	if err := Unmarshal([]byte(deep), &d); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("objects: got %v", err)
	}
	if err := Unmarshal([]byte(strings.Repeat(`{"a":`, maxDepth+1)), &d); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Errorf("open objects: got %v", err)
	}
}

func TestUnmarshalKeepsOtherErrors(t *testing.T) {
	tests := []struct{ body, message, field string }{
		{``, "body is empty", ""},
		{" \n\t", "body is empty", ""},
		{`[{"n":1}]`, "must be a JSON object", ""},
		{`null`, "must be a JSON object", ""},
		{`{"n":1}{"n":2}`, "exactly one JSON object", ""},
		{`{"n":1} x`, "exactly one JSON object", ""},
		{`{"n":1`, "malformed JSON", ""},
		{`{"n":`, "malformed JSON", ""},
		{`{"n":"abc`, "malformed JSON", ""},
		{`{"n":1,}`, "malformed JSON at byte", ""},
		{`{"n" 1}`, "malformed JSON at byte", ""},
		{`{"list":[1,]}`, "malformed JSON at byte", ""},
		{`{"n":tru}`, "malformed JSON at byte", ""},
		// A syntax error wins over an unknown or duplicate key before it.
		{`{"N":1,"n":}`, "malformed JSON at byte", ""},
		{`{"n":1,"n":2,"x"}`, "malformed JSON at byte", ""},
		{`{"n":"1"}`, "wrong type", "n"},
		{`{"in":{"on":"yes"}}`, "wrong type", "in.on"},
		{`{"ints":{"x":1}}`, "wrong type", "ints"},
	}
	for _, tc := range tests {
		var d namesDoc
		err := Unmarshal([]byte(tc.body), &d)
		pe, ok := err.(*problem.Error)
		if !ok || pe.Code != problem.BadRequest || !strings.Contains(pe.Message, tc.message) {
			t.Errorf("Unmarshal(%q): got %v, want BadRequest %q", tc.body, err, tc.message)
			continue
		}
		if tc.field != "" && (len(pe.Fields) != 1 || pe.Fields[0].Field != tc.field) {
			t.Errorf("Unmarshal(%q): got fields %v, want %s", tc.body, pe.Fields, tc.field)
		}
	}
	// The offset counts from the start of the body, leading white space included.
	var d namesDoc
	if err := Unmarshal([]byte(`  {"n":1,}`), &d); err == nil || !strings.Contains(err.Error(), "at byte 10") {
		t.Errorf("offset: got %v, want at byte 10", err)
	}
}

func TestJSONFieldsMatchEncodingJSON(t *testing.T) {
	type A struct {
		X int
		Y int
	}
	type B struct {
		X int
		Z int `json:"z"`
	}
	type C struct {
		Y int `json:"Y"`
	}
	type both struct {
		A  // X is ambiguous between A and B: neither is decoded
		B  //
		*C // Y: C's tagged field beats A's untagged one at the same depth
	}
	got := map[string]bool{}
	for _, f := range jsonFields(reflect.TypeFor[both]()) {
		got[f.name] = true
	}
	if want := map[string]bool{"Y": true, "z": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	var v both
	if err := Unmarshal([]byte(`{"Y":1,"z":2}`), &v); err != nil || v.C.Y != 1 || v.Z != 2 || v.A.Y != 0 {
		t.Errorf("got %+v, %v", v, err)
	}
	if field, _ := fieldOf(t, Unmarshal([]byte(`{"X":1}`), &v)); field != "X" {
		t.Errorf("ambiguous X: got %s", field)
	}
	dec := json.NewDecoder(strings.NewReader(`{"X":1}`))
	dec.DisallowUnknownFields()
	if dec.Decode(&v) == nil {
		t.Errorf("encoding/json decodes the ambiguous X; the walk disagrees")
	}
}

func TestMergePatchExactAndUnique(t *testing.T) {
	got, err := MergePatch([]byte(`{"maxChats":1}`), []byte(`{"MaxChats":2}`))
	if err != nil || !jsonEqual(t, got, []byte(`{"maxChats":1,"MaxChats":2}`)) {
		t.Errorf("wrongly cased key: got %s, %v; want both keys (the caller's Unmarshal refuses it)", got, err)
	}
	var doc struct {
		MaxChats int `json:"maxChats"`
	}
	if field, _ := fieldOf(t, Unmarshal(got, &doc)); field != "MaxChats" {
		t.Errorf("Unmarshal of the merge: got %s, want MaxChats", field)
	}
	tests := []struct{ patch, field string }{
		{`{"a":1,"a":2}`, "a"},
		{`{"a":null,"a":1}`, "a"},
		{`{"a":{"b":1,"b":null}}`, "a.b"},
		{`{"a":[{"b":1,"b":2}]}`, "a.b"},
	}
	for _, tc := range tests {
		_, err := MergePatch([]byte(`{"a":{"b":0}}`), []byte(tc.patch))
		if field, msg := fieldOf(t, err); field != tc.field || msg != "duplicate field" {
			t.Errorf("MergePatch(%s): got %s: %s, want %s: duplicate field", tc.patch, field, msg, tc.field)
		}
	}
	for _, bad := range []string{``, ` `, `{"a":1} {}`, strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)} {
		if _, err := MergePatch([]byte(`{}`), []byte(bad)); !problem.Is(err, problem.BadRequest) {
			t.Errorf("patch %.40q: got %v, want BadRequest", bad, err)
		}
	}
	// Large integers in the patch keep their digits.
	got, err = MergePatch([]byte(`{}`), []byte(`{"n":12345678901234567890}`))
	if err != nil || string(got) != `{"n":12345678901234567890}` {
		t.Errorf("got %s, %v", got, err)
	}
}
