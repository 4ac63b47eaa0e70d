package security_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/security"
)

const path = "/v1/orgs/acme/settings/security"

const (
	msgAttempts = "must be between 1 and 20"
	msgTimeout  = "must be between 5 and 1440 (minutes)"
)

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  security.AreaName,
		Valid: `{"loginAttempts":3,"sessionTimeoutMinutes":30}`,
		Field: "loginAttempts", Patch: `{"loginAttempts":10}`,
		Invalid: `{"loginAttempts":21}`, InvalidField: "loginAttempts",
	})
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)
	if m["loginAttempts"] != 5.0 || m["sessionTimeoutMinutes"] != 60.0 {
		t.Errorf("defaults: got %v, want loginAttempts 5 and sessionTimeoutMinutes 60", m)
	}
	if d := security.Defaults(); d.Validate() != nil || d.SessionTimeout() != time.Hour {
		t.Errorf("Defaults() = %+v: valid %v, timeout %v", d, d.Validate(), d.SessionTimeout())
	}
}

// Every bound of both fields, through the API: at the bound saved, past it a 422 naming
// the field with its range.
func TestRanges(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, tc := range []struct {
		field string
		value int
		msg   string
	}{
		{"loginAttempts", 0, msgAttempts},
		{"loginAttempts", 1, ""},
		{"loginAttempts", 20, ""},
		{"loginAttempts", 21, msgAttempts},
		{"loginAttempts", -5, msgAttempts},
		{"sessionTimeoutMinutes", 4, msgTimeout},
		{"sessionTimeoutMinutes", 5, ""},
		{"sessionTimeoutMinutes", 1440, ""},
		{"sessionTimeoutMinutes", 1441, msgTimeout},
		{"sessionTimeoutMinutes", 0, msgTimeout},
	} {
		body := []byte(`{"` + tc.field + `":` + strconv.Itoa(tc.value) + `}`)
		r := s.Admin(http.MethodPatch, path, body, "Content-Type", "application/merge-patch+json")
		if tc.msg == "" {
			if m := r.Expect(t, 200).JSON(t); m[tc.field] != float64(tc.value) {
				t.Errorf("%s %d: saved %v", tc.field, tc.value, m[tc.field])
			}
			continue
		}
		if got := r.Expect(t, 422).FieldErrors(t); len(got) != 1 || got[tc.field] != tc.msg {
			t.Errorf("%s %d: got %v, want %s: %s", tc.field, tc.value, got, tc.field, tc.msg)
		}
	}
}

// A PUT with both fields wrong names both; numbers that are not whole numbers, or too
// big for any range, are 400s naming the field.
func TestEveryFailingField(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	got := s.Admin(http.MethodPut, path, []byte(`{"loginAttempts":0,"sessionTimeoutMinutes":100000}`)).Expect(t, 422).FieldErrors(t)
	if got["loginAttempts"] != msgAttempts || got["sessionTimeoutMinutes"] != msgTimeout || len(got) != 2 {
		t.Errorf("got %v, want both fields", got)
	}
	for _, v := range []string{`5.5`, `5.0`, `1e1`, `"5"`, `true`, `99999999999999999999`} {
		r := s.Admin(http.MethodPut, path, []byte(`{"loginAttempts":`+v+`}`)).Expect(t, 400)
		if _, ok := r.FieldErrors(t)["loginAttempts"]; !ok {
			t.Errorf("loginAttempts %s: the 400 does not name the field: %s", v, r.Body)
		}
	}
	if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["version"] != 0.0 {
		t.Errorf("refused writes changed the settings: %v", m)
	}
}

// TestEvents replays events/security/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, security.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"loginAttempts": 5, "sessionTimeoutMinutes": 60})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"loginAttempts": 3, "sessionTimeoutMinutes": 30})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"loginAttempts": 3, "sessionTimeoutMinutes": 480})
		}},
		apitest.EventCase{File: "put-out-of-range.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "loginAttempts", "message": msgAttempts},
				{"field": "sessionTimeoutMinutes", "message": msgTimeout}}})
		}},
	)
}
