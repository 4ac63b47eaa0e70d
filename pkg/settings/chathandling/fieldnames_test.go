package chathandling_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

const mergePatch = "application/merge-patch+json"

// Field names match exactly: encoding/json alone matches keys case-insensitively, so a
// wrongly cased key used to change the field (PUT) or be silently ignored (PATCH).
func TestFieldNamesMatchExactly(t *testing.T) {
	tests := []struct {
		name, method, ctype, body string
		field, message            string
	}{
		{"put upper case", http.MethodPut, "application/json", `{"MAXCHATSPERAGENT":8}`, "MAXCHATSPERAGENT", "unknown field"},
		{"put Go name", http.MethodPut, "application/json", `{"MaxChatsPerAgent":8}`, "MaxChatsPerAgent", "unknown field"},
		{"put wrong case beside right case", http.MethodPut, "application/json", `{"maxChatsPerAgent":4,"maxchatsperagent":8}`, "maxchatsperagent", "unknown field"},
		{"patch Go name", http.MethodPatch, mergePatch, `{"MaxChatsPerAgent":2}`, "MaxChatsPerAgent", "unknown field"},
		{"put duplicate", http.MethodPut, "application/json", `{"maxChatsPerAgent":4,"maxChatsPerAgent":5}`, "maxChatsPerAgent", "duplicate field"},
		{"put escaped duplicate", http.MethodPut, "application/json", `{"maxChatsPerAgent":4,"max\u0043hatsPerAgent":5}`, "maxChatsPerAgent", "duplicate field"},
		{"patch duplicate", http.MethodPatch, mergePatch, `{"maxChatsPerAgent":4,"maxChatsPerAgent":5}`, "maxChatsPerAgent", "duplicate field"},
		{"put duplicate read-only", http.MethodPut, "application/json", `{"version":1,"version":2,"maxChatsPerAgent":4}`, "version", "duplicate field"},
		{"put read-only wrong case", http.MethodPut, "application/json", `{"Version":7,"maxChatsPerAgent":4}`, "Version", "unknown field"},
		{"patch read-only wrong case", http.MethodPatch, mergePatch, `{"UpdatedBy":"mallory"}`, "UpdatedBy", "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := apitest.New(t)
			r := s.Admin(tc.method, path, []byte(tc.body), "Content-Type", tc.ctype).Expect(t, http.StatusBadRequest)
			if tc.field != "" {
				if got := r.FieldErrors(t); len(got) != 1 || got[tc.field] != tc.message {
					t.Errorf("field errors: got %v, want %s: %s", got, tc.field, tc.message)
				}
			}
			g := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
			if m := g.JSON(t); m["version"] != 0.0 || m["maxChatsPerAgent"] != 3.0 || g.Header.Get("ETag") != `"0"` {
				t.Errorf("a rejected request changed the settings: %s", g.Body)
			}
			if a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t); len(a["items"].([]any)) != 0 {
				t.Errorf("a rejected request was audited: %v", a)
			}
		})
	}
}

// A PATCH with a wrongly cased key is refused even after a PUT stored the field, and the
// stored value stays.
func TestPatchWrongCaseAfterPut(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":5}`)).Expect(t, http.StatusOK)
	s.Admin(http.MethodPatch, path, []byte(`{"MaxChatsPerAgent":2}`), "Content-Type", mergePatch).Expect(t, http.StatusBadRequest)
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK).JSON(t); m["version"] != 1.0 || m["maxChatsPerAgent"] != 5.0 {
		t.Errorf("got %v, want version 1 with maxChatsPerAgent 5", m)
	}
}

// The read-only fields, exactly named, are still accepted and ignored.
func TestReadOnlyExactNameIsIgnored(t *testing.T) {
	s := apitest.New(t)
	m := s.Admin(http.MethodPut, path, []byte(`{"version":7,"updatedBy":"mallory","maxChatsPerAgent":4}`)).Expect(t, http.StatusOK).JSON(t)
	if m["version"] != 1.0 || m["updatedBy"] != "admin@acme" || m["maxChatsPerAgent"] != 4.0 {
		t.Errorf("PUT: got %v", m)
	}
	m = s.Admin(http.MethodPatch, path, []byte(`{"version":7,"autoCloseAfterDays":2}`), "Content-Type", mergePatch).Expect(t, http.StatusOK).JSON(t)
	if m["version"] != 2.0 || m["autoCloseAfterDays"] != 2.0 || m["maxChatsPerAgent"] != 4.0 {
		t.Errorf("PATCH: got %v", m)
	}
}

// A wrongly cased key with null in a merge patch (which RFC 7396 alone would treat as
// "delete a member that is not there") is an unknown field too.
func TestPatchWrongCaseNullIsUnknown(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":4}`)).Expect(t, 200)
	r := s.Admin(http.MethodPatch, path, []byte(`{"MAXCHATSPERAGENT":null}`), "Content-Type", "application/merge-patch+json").Expect(t, 400)
	if got := r.FieldErrors(t)["MAXCHATSPERAGENT"]; got != "unknown field" {
		t.Errorf("got %v, want MAXCHATSPERAGENT: unknown field", r.FieldErrors(t))
	}
	s.Admin(http.MethodPatch, path, []byte(`{"maxChatsPerAgent":null}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
}
