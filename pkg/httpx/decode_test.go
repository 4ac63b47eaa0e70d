package httpx

import (
	"encoding/json"
	"testing"

	"github.com/convrs/admin/pkg/problem"
)

// The examples of RFC 7396, appendix A (those with an object patch).
func TestMergePatchRFC7396(t *testing.T) {
	tests := []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, tc := range tests {
		got, err := MergePatch([]byte(tc.doc), []byte(tc.patch))
		if err != nil {
			t.Fatalf("MergePatch(%s, %s): %v", tc.doc, tc.patch, err)
		}
		if !jsonEqual(t, got, []byte(tc.want)) {
			t.Errorf("MergePatch(%s, %s): got %s, want %s", tc.doc, tc.patch, got, tc.want)
		}
	}
	for _, bad := range []string{`["c"]`, `"x"`, `null`, `{"a":`, `{}{}`} {
		if _, err := MergePatch([]byte(`{}`), []byte(bad)); !problem.Is(err, problem.BadRequest) {
			t.Errorf("patch %s: got %v, want BadRequest", bad, err)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func TestUnmarshalNamesTheField(t *testing.T) {
	type inner struct {
		On bool `json:"on"`
	}
	type doc struct {
		N     int              `json:"n"`
		In    inner            `json:"in"`
		List  []inner          `json:"list"`
		Hours map[string][]int `json:"hours"`
	}
	tests := []struct{ body, field string }{
		{`{"n":"x"}`, "n"},
		{`{"in":{"on":1}}`, "in.on"},
		{`{"list":[{"on":"yes"}]}`, "list.on"},
		{`{"hours":{"monday":["x"]}}`, "hours"},
		{`{"nope":1}`, "nope"},
		{`{"in":{"off":true}}`, "in.off"},
		{`{"list":[{"on":true},{"ON":true}]}`, "list.ON"},
		{`{"hours":{"monday":[1],"Monday":[2],"monday":[3]}}`, "hours.monday"},
	}
	for _, tc := range tests {
		var d doc
		err := Unmarshal([]byte(tc.body), &d)
		pe, ok := err.(*problem.Error)
		if !ok || pe.Code != problem.BadRequest || len(pe.Fields) != 1 || pe.Fields[0].Field != tc.field {
			t.Errorf("Unmarshal(%s): got %v, want BadRequest naming %s", tc.body, err, tc.field)
		}
	}
}

func TestHasMember(t *testing.T) {
	for _, tc := range []struct {
		data string
		want bool
	}{
		{`{"toAgentId":null}`, true},
		{`{"toAgentId":"ag_1","x":1}`, true},
		{` { "a" : 1 , "toAgentId" : [] } `, true},
		{`{"toAgentId":1,"toAgentId":2}`, true},
		{`{}`, false},
		{`{"toagentid":null}`, false},
		{`{"ToAgentId":null}`, false},
		{`{"toAgentId\u200b":null}`, false},
		{`{"a":{"toAgentId":null}}`, false},
		{`["toAgentId"]`, false},
		{`"toAgentId"`, false},
		{`null`, false},
		{`{"toAgentId":null`, false},
		{`{"toAgentId":null} x`, false},
		{``, false},
	} {
		if got := HasMember([]byte(tc.data), "toAgentId"); got != tc.want {
			t.Errorf("HasMember(%s): got %v, want %v", tc.data, got, tc.want)
		}
	}
}

// FuzzHasMember: whatever the input, no panic, and a member is found only in a valid JSON
// object that names it.
func FuzzHasMember(f *testing.F) {
	for _, s := range []string{`{"k":null}`, `{"K":1}`, `{"k":1,"k":2}`, `[{"k":1}]`, `{"a":{"k":1}}`, `{`, "\xff", `{"k\u0000":1}`} {
		f.Add([]byte(s), "k")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		if !HasMember(data, name) {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil || m == nil {
			t.Fatalf("HasMember(%q, %q) in what is not a JSON object (%v)", data, name, err)
		}
		if _, ok := m[name]; !ok {
			t.Fatalf("HasMember(%q, %q): the object has no such member", data, name)
		}
	})
}

// FuzzUnmarshalNeverPanics feeds every decoder path (a struct, a struct of every kind of
// field, the map[string]json.RawMessage that strips read-only fields, a merge patch):
// whatever the input, the answer is a value or a BadRequest, never a panic or another code.
func FuzzUnmarshalNeverPanics(f *testing.F) {
	for _, s := range []string{`{"n":1}`, `{"in":{"on":true}}`, `{`, `[]`, `{"n":1e400}`, "\xff",
		`{"N":1}`, `{"n":1,"n":2}`, `{"a":{"b":[{"c":1,"c":2}]}}`, `{"extra":[[[[[[[[[[]]]]]]]]]]}`,
		`{"byDay":{"monday":{"On":true}}}`, `{"ints":{"1":1,"01":1}}`, `{"raw":{"x":1},"custom":[1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d struct {
			N  int               `json:"n"`
			In map[string]string `json:"in"`
		}
		if err := Unmarshal(data, &d); err != nil && problem.CodeOf(err) != problem.BadRequest {
			t.Fatalf("Unmarshal(%q): got %v, want nil or BadRequest", data, err)
		}
		var all namesDoc
		if err := Unmarshal(data, &all); err != nil && problem.CodeOf(err) != problem.BadRequest {
			t.Fatalf("Unmarshal(%q) into namesDoc: got %v, want nil or BadRequest", data, err)
		}
		var raw map[string]json.RawMessage
		if err := Unmarshal(data, &raw); err != nil && problem.CodeOf(err) != problem.BadRequest {
			t.Fatalf("Unmarshal(%q) into a RawMessage map: got %v, want nil or BadRequest", data, err)
		}
		if _, err := MergePatch([]byte(`{"a":1}`), data); err != nil && problem.CodeOf(err) != problem.BadRequest {
			t.Fatalf("MergePatch(%q): got %v, want nil or BadRequest", data, err)
		}
	})
}
