package token

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":-0}`, `{"a":-0.0}`, `{"a":0}`, `{"a":1.5e3,"b":-2E-2,"c":123456789012345,"d":1234567890123456789}`,
	`{"a":"x","b":true,"c":false,"d":null,"e":[],"f":{},"g":[1,"2",[3],{"h":4}]}`,
	`{"a":"\u0041\n\t\"\\\/\b\f\r","b":"\ud83d\ude00","c":"\ud83d","d":"\ud83dx","e":"\udc00\ud83d","f":"\ud83d\u0041"}`,
	"{\"a\":\"\xff\xfe\",\"b\":\"é€😀\"}", "{\"\xff\":1,\"\xfe\":2}",
	`{"a":1,"a":2}`, `{"sub":"a","\u0073ub":"b"}`, `{"x":{"a":1,"a":2}}`, `{"x":[{"a":1},{"a":2}]}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.1}`, `{"a":1e}`, `{"a":+1}`, `{"a":-}`, `{"a":1e999}`, `{"a":1e-999}`, `{"a":0x10}`,
	`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, "{\"a\":\"\x01\"}", `{"a":tru}`, `{"a":nul}`, `{"a":1,}`, `{,}`, `{"a"}`,
	`{"a":1}x`, `{"a":1}{}`, `[1]`, `"s"`, `1`, `null`, ``, ` `, `{`, `{"a":[1,]}`, `{"a":[`, "\ufeff{}",
	`{"a":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`,
	`{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`,
}

// checkJSON compares decodeObject with encoding/json on b: whatever decodeObject accepts,
// json.Unmarshal accepts with the same value; whatever json.Unmarshal refuses or reads as
// another type than an object, decodeObject refuses; a refusal for a duplicate names a key
// that really is given twice.
func checkJSON(t *testing.T, b []byte) {
	got, jerr := decodeObject(b)
	var want any
	err := json.Unmarshal(b, &want)
	if jerr == nil {
		if err != nil {
			t.Fatalf("decodeObject accepted %q, json.Unmarshal refused it: %v", b, err)
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Fatalf("decodeObject(%q) = %#v, json.Unmarshal gives %#v", b, got, want)
		}
		// -0 stays -0 (DeepEqual does not tell).
		for k, v := range got {
			if f, ok := v.(float64); ok && math.Signbit(f) != math.Signbit(want.(map[string]any)[k].(float64)) {
				t.Fatalf("decodeObject(%q)[%q] = %v, json.Unmarshal gives %v", b, k, f, want.(map[string]any)[k])
			}
		}
		return
	}
	if jerr.msg == "" {
		t.Fatalf("decodeObject(%q): an error without a message", b)
	}
	if jerr.dup && !strings.Contains(jerr.msg, "twice") {
		t.Fatalf("decodeObject(%q): duplicate %q but message %q", b, jerr.key, jerr.msg)
	}
	if err == nil {
		if _, isObject := want.(map[string]any); isObject && !jerr.dup && !strings.Contains(jerr.msg, "levels deep") {
			t.Fatalf("decodeObject refused %q (%s), json.Unmarshal accepted it", b, jerr.msg)
		}
	}
}

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range jsonSeeds {
		checkJSON(t, []byte(s))
	}
	for _, c := range []struct{ in, dup string }{
		{`{"a":1,"a":2}`, "a"},
		{`{"sub":"a","\u0073ub":"b"}`, "sub"},
		{`{"x":{"a":1,"a":2}}`, "a"},
		{"{\"\xff\":1,\"\xfe\":2}", "\ufffd"},
		{`{"\ud800":1,"\udbff":2}`, "\ufffd"},
		{`{"":1,"":2}`, ""},
	} {
		if _, jerr := decodeObject([]byte(c.in)); jerr == nil || !jerr.dup || jerr.key != c.dup {
			t.Errorf("decodeObject(%s) = %+v, want duplicate %q", c.in, jerr, c.dup)
		}
	}
	if _, jerr := decodeObject([]byte(`{"x":{"a":1},"y":{"a":1}}`)); jerr != nil {
		t.Errorf("the same key in two objects: %s", jerr.msg)
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkJSON)
}

func TestValidSegmentMatchesStrictBase64(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "QQ", "QR", "_-_-", "a+b/", "AA==", "AAAA\n", "AA\rAA", "YWJj", "YWI", "YWJ", "YQ"} {
		checkSegment(t, s)
	}
}

func FuzzSegment(f *testing.F) {
	for _, s := range []string{"", "QQ", "QR", "AA\nAA", "a+b/", "YWJj", "AA=="} {
		f.Add(s)
	}
	f.Fuzz(checkSegment)
}

// checkSegment: validSegment accepts exactly what strict unpadded base64url decodes,
// less the line breaks that encoding/base64 skips.
func checkSegment(t *testing.T, s string) {
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	want := err == nil && !strings.ContainsAny(s, "\r\n")
	if got := validSegment(s); got != want {
		t.Fatalf("validSegment(%q) = %v, want %v", s, got, want)
	}
}
