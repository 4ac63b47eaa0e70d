package general_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

// Names that hide or disguise text are refused, and "required" is judged after trimming
// invisible characters; the rule is package freetext's, shared by every free-text field.
func TestHostileNamesAreRefused(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"name":"Acme"}`)).Expect(t, 200)
	tests := []struct {
		name, value, message string
	}{
		{"C1 next line", "Ac\u0085me", "must not contain control characters"},
		{"C1 CSI", "Ac\u009b31mme", "must not contain control characters"},
		{"right-to-left override", "Acme\u202egnp.exe", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"first strong isolate", "\u2068Acme", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"line separator", "Ac\u2028me", "must not contain line or paragraph separators"},
		{"zero-width only", "\u200b\u200b\u200d", "is required"},
		{"byte order mark only", "\ufeff", "is required"},
		{"Hangul filler only", "\u3164", "is required"},
		{"tab inside", "Ac\tme", "must not contain control characters"},
	}
	for _, tc := range tests {
		body, _ := json.Marshal(map[string]string{"name": tc.value})
		r := s.Admin(http.MethodPut, path, body).Expect(t, 422)
		if got := r.FieldErrors(t)["name"]; got != tc.message {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.message)
		}
		s.Admin(http.MethodPatch, path, body, "Content-Type", "application/merge-patch+json").Expect(t, 422)
	}
	m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)
	if m["name"] != "Acme" || m["version"] != 1.0 {
		t.Errorf("refused names changed the settings: %v", m)
	}
	m = s.Admin(http.MethodPut, path, []byte(`{"name":"\u200b Acme Café \ufeff"}`)).Expect(t, 200).JSON(t)
	if m["name"] != "Acme Café" {
		t.Errorf("invisible edges: got name %q, want %q", m["name"], "Acme Café")
	}
}
