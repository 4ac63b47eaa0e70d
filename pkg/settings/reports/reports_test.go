package reports_test

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/reports"
)

const (
	path       = "/v1/orgs/acme/settings/reports"
	mergePatch = "application/merge-patch+json"
)

// fieldErrors returns the fields of a problem.Invalid error as field -> message (empty
// for nil), failing the test on any other error.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err == nil {
		return got
	}
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Invalid {
		t.Fatalf("got %v, want a problem.Invalid error", err)
	}
	for _, f := range pe.Fields {
		got[f.Field] = f.Message
	}
	return got
}

func sameErrors(got, want map[string]string) bool {
	if want == nil {
		want = map[string]string{}
	}
	return maps.Equal(got, want)
}

// wide returns thresholds with every pair as far apart as its range allows, so that any
// single threshold can be set to any value in its range without breaking the direction
// rule.
func wide() reports.Settings {
	return reports.Settings{Thresholds: reports.Thresholds{
		AverageWaitTime:     reports.Threshold[int]{Green: 0, Amber: 86400},
		AverageResponseTime: reports.Threshold[int]{Green: 0, Amber: 86400},
		CSATScore:           reports.Threshold[float64]{Green: 5, Amber: 1},
		Sentiment:           reports.Threshold[int]{Green: 100, Amber: 0},
		AIBotContainment:    reports.Threshold[int]{Green: 100, Amber: 0},
	}}
}

// TestValidateRanges sets each threshold alone to min-1, min, max and max+1 (on wide
// thresholds, so that only the range decides).
func TestValidateRanges(t *testing.T) {
	t.Parallel()
	type field struct {
		name     string
		set      func(*reports.Thresholds, float64)
		min, max float64
		msg      string
	}
	seconds := "must be between 0 and 86400 (seconds)"
	score := "must be between 1 and 5"
	percent := "must be between 0 and 100 (percent)"
	fields := []field{
		{"averageWaitTime.green", func(t *reports.Thresholds, v float64) { t.AverageWaitTime.Green = int(v) }, 0, 86400, seconds},
		{"averageWaitTime.amber", func(t *reports.Thresholds, v float64) { t.AverageWaitTime.Amber = int(v) }, 0, 86400, seconds},
		{"averageResponseTime.green", func(t *reports.Thresholds, v float64) { t.AverageResponseTime.Green = int(v) }, 0, 86400, seconds},
		{"averageResponseTime.amber", func(t *reports.Thresholds, v float64) { t.AverageResponseTime.Amber = int(v) }, 0, 86400, seconds},
		{"csatScore.green", func(t *reports.Thresholds, v float64) { t.CSATScore.Green = v }, 1, 5, score},
		{"csatScore.amber", func(t *reports.Thresholds, v float64) { t.CSATScore.Amber = v }, 1, 5, score},
		{"sentiment.green", func(t *reports.Thresholds, v float64) { t.Sentiment.Green = int(v) }, 0, 100, percent},
		{"sentiment.amber", func(t *reports.Thresholds, v float64) { t.Sentiment.Amber = int(v) }, 0, 100, percent},
		{"aiBotContainment.green", func(t *reports.Thresholds, v float64) { t.AIBotContainment.Green = int(v) }, 0, 100, percent},
		{"aiBotContainment.amber", func(t *reports.Thresholds, v float64) { t.AIBotContainment.Amber = int(v) }, 0, 100, percent},
	}
	for _, f := range fields {
		for _, tc := range []struct {
			label string
			v     float64
			ok    bool
		}{{"min-1", f.min - 1, false}, {"min", f.min, true}, {"max", f.max, true}, {"max+1", f.max + 1, false}} {
			t.Run(fmt.Sprintf("%s %s (%v)", f.name, tc.label, tc.v), func(t *testing.T) {
				t.Parallel()
				s := wide()
				f.set(&s.Thresholds, tc.v)
				var want map[string]string
				if !tc.ok {
					want = map[string]string{"thresholds." + f.name: f.msg}
				}
				if got := fieldErrors(t, s.Validate()); !sameErrors(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
}

// TestValidateCSATPrecision: CSAT thresholds have at most two decimals.
func TestValidateCSATPrecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		green float64
		ok    bool
	}{
		{4, true}, {4.5, true}, {4.25, true}, {4.35, true}, {1.01, true}, {4.99, true}, {4.1, true}, {2.07, true},
		{4.125, false}, {4.001, false}, {1.005, false}, {4.999, false}, {3.3333333333333335, false},
	}
	for _, tc := range tests {
		s := wide()
		s.Thresholds.CSATScore.Green = tc.green
		var want map[string]string
		if !tc.ok {
			want = map[string]string{"thresholds.csatScore.green": "must have at most 2 decimals"}
		}
		if got := fieldErrors(t, s.Validate()); !sameErrors(got, want) {
			t.Errorf("green %v: got %v, want %v", tc.green, got, want)
		}
	}
	// Every two-decimal score from 1 to 5, as JSON text decodes it, is accepted.
	for n := 100; n <= 500; n++ {
		var v float64
		if _, err := fmt.Sscan(fmt.Sprintf("%d.%02d", n/100, n%100), &v); err != nil {
			t.Fatal(err)
		}
		s := wide()
		s.Thresholds.CSATScore.Green = v
		if err := s.Validate(); err != nil {
			t.Errorf("green %v: got %v, want it accepted", v, err)
		}
	}
}

// TestValidateDirection checks every direction rule at its edge: amber equal to green is
// accepted, one past it (on the better side) refused, named on amber with green's value.
func TestValidateDirection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*reports.Thresholds)
		want map[string]string
	}{
		{"wait equal", func(t *reports.Thresholds) { t.AverageWaitTime = reports.Threshold[int]{Green: 60, Amber: 60} }, nil},
		{"wait amber one below green", func(t *reports.Thresholds) { t.AverageWaitTime = reports.Threshold[int]{Green: 60, Amber: 59} },
			map[string]string{"thresholds.averageWaitTime.amber": "must be at least green (60)"}},
		{"response equal", func(t *reports.Thresholds) { t.AverageResponseTime = reports.Threshold[int]{Green: 45, Amber: 45} }, nil},
		{"response amber one below green", func(t *reports.Thresholds) { t.AverageResponseTime = reports.Threshold[int]{Green: 45, Amber: 44} },
			map[string]string{"thresholds.averageResponseTime.amber": "must be at least green (45)"}},
		{"csat equal", func(t *reports.Thresholds) { t.CSATScore = reports.Threshold[float64]{Green: 3.5, Amber: 3.5} }, nil},
		{"csat amber 0.01 above green", func(t *reports.Thresholds) { t.CSATScore = reports.Threshold[float64]{Green: 3.5, Amber: 3.51} },
			map[string]string{"thresholds.csatScore.amber": "must be at most green (3.5)"}},
		{"csat integer green", func(t *reports.Thresholds) { t.CSATScore = reports.Threshold[float64]{Green: 4, Amber: 4.01} },
			map[string]string{"thresholds.csatScore.amber": "must be at most green (4)"}},
		{"sentiment equal", func(t *reports.Thresholds) { t.Sentiment = reports.Threshold[int]{Green: 50, Amber: 50} }, nil},
		{"sentiment amber one above green", func(t *reports.Thresholds) { t.Sentiment = reports.Threshold[int]{Green: 50, Amber: 51} },
			map[string]string{"thresholds.sentiment.amber": "must be at most green (50)"}},
		{"containment equal", func(t *reports.Thresholds) { t.AIBotContainment = reports.Threshold[int]{Green: 0, Amber: 0} }, nil},
		{"containment amber one above green", func(t *reports.Thresholds) { t.AIBotContainment = reports.Threshold[int]{Green: 0, Amber: 1} },
			map[string]string{"thresholds.aiBotContainment.amber": "must be at most green (0)"}},
		// Out of range is reported alone: the direction is judged only between valid values.
		{"wait green out of range", func(t *reports.Thresholds) { t.AverageWaitTime = reports.Threshold[int]{Green: 86401, Amber: 120} },
			map[string]string{"thresholds.averageWaitTime.green": "must be between 0 and 86400 (seconds)"}},
		{"csat amber out of range", func(t *reports.Thresholds) { t.CSATScore = reports.Threshold[float64]{Green: 4, Amber: 5.5} },
			map[string]string{"thresholds.csatScore.amber": "must be between 1 and 5"}},
		{"every pair the wrong way", func(t *reports.Thresholds) {
			*t = reports.Thresholds{
				AverageWaitTime:     reports.Threshold[int]{Green: 120, Amber: 60},
				AverageResponseTime: reports.Threshold[int]{Green: 90, Amber: 45},
				CSATScore:           reports.Threshold[float64]{Green: 3.5, Amber: 4},
				Sentiment:           reports.Threshold[int]{Green: 40, Amber: 60},
				AIBotContainment:    reports.Threshold[int]{Green: 50, Amber: 70},
			}
		}, map[string]string{
			"thresholds.averageWaitTime.amber":     "must be at least green (120)",
			"thresholds.averageResponseTime.amber": "must be at least green (90)",
			"thresholds.csatScore.amber":           "must be at most green (3.5)",
			"thresholds.sentiment.amber":           "must be at most green (40)",
			"thresholds.aiBotContainment.amber":    "must be at most green (50)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := reports.Defaults()
			tc.mod(&s.Thresholds)
			if got := fieldErrors(t, s.Validate()); !sameErrors(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	if err := reports.Defaults().Validate(); err != nil {
		t.Errorf("got %v, want the defaults valid", err)
	}
}

// What every settings area shares (ETag, If-Match, PATCH, audit, strict decoding, the
// authorisation matrix) is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  reports.AreaName,
		Valid: `{"thresholds":{"averageWaitTime":{"green":30,"amber":90},"csatScore":{"green":4.5,"amber":3.75}}}`,
		Field: "thresholds", Patch: `{"thresholds":{"sentiment":{"green":65}}}`,
		Invalid: `{"thresholds":{"csatScore":{"green":6}}}`, InvalidField: "thresholds.csatScore.green",
	})
}

func TestGetDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"thresholds":"default"},"lockedBy":{},"thresholds":{` +
		`"averageWaitTime":{"green":60,"amber":120},"averageResponseTime":{"green":45,"amber":90},` +
		`"csatScore":{"green":4,"amber":3.5},"sentiment":{"green":60,"amber":40},"aiBotContainment":{"green":70,"amber":50}}}`
	if string(r.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", r.Body, want)
	}
}

// A PUT leaves out what it does not set at every level: a KPI with only green keeps the
// default amber, and the rules are judged on the result.
func TestPutFillsDefaultsAtEveryLevel(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	m := s.Admin(http.MethodPut, path, []byte(`{"thresholds":{"averageWaitTime":{"green":100}}}`)).Expect(t, http.StatusOK).JSON(t)
	apitest.WantFields(t, m, map[string]any{
		"thresholds.averageWaitTime.green": 100, "thresholds.averageWaitTime.amber": 120,
		"thresholds.csatScore.green": 4, "thresholds.csatScore.amber": 3.5,
	})
	// green 130 against the default amber 120 breaks the rule.
	r := s.Admin(http.MethodPut, path, []byte(`{"thresholds":{"averageWaitTime":{"green":130}}}`)).Expect(t, http.StatusUnprocessableEntity)
	if got, want := r.FieldErrors(t), map[string]string{"thresholds.averageWaitTime.amber": "must be at least green (130)"}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A merge patch reaches one threshold; null puts a threshold, a KPI or every threshold
// back to its default; each change is audited by its dotted field.
func TestPatchNested(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	patch := func(body string, want int) map[string]any {
		t.Helper()
		return s.Admin(http.MethodPatch, path, []byte(body), "Content-Type", mergePatch).Expect(t, want).JSON(t)
	}
	defaults := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)["thresholds"]
	m := patch(`{"thresholds":{"csatScore":{"green":4.75},"sentiment":{"amber":55}}}`, 200)
	apitest.WantFields(t, m, map[string]any{"thresholds.csatScore.green": 4.75, "thresholds.csatScore.amber": 3.5,
		"thresholds.sentiment.green": 60, "thresholds.sentiment.amber": 55, "thresholds.averageWaitTime.green": 60})
	m = patch(`{"thresholds":{"csatScore":{"green":null}}}`, 200)
	apitest.WantFields(t, m, map[string]any{"thresholds.csatScore.green": 4, "thresholds.sentiment.amber": 55})
	m = patch(`{"thresholds":{"sentiment":null}}`, 200)
	apitest.WantFields(t, m, map[string]any{"thresholds.sentiment.green": 60, "thresholds.sentiment.amber": 40})
	patch(`{"thresholds":{"aiBotContainment":{"green":80,"amber":60}}}`, 200)
	m = patch(`{"thresholds":null}`, 200)
	if got, want := fmt.Sprint(m["thresholds"]), fmt.Sprint(defaults); got != want {
		t.Errorf("thresholds null: got %s, want the defaults %s", got, want)
	}

	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=reports", nil).Expect(t, 200).JSON(t)
	items := a["items"].([]any)
	first := items[len(items)-1].(map[string]any)["changes"].([]any)
	var fields []string
	for _, c := range first {
		fields = append(fields, c.(map[string]any)["field"].(string))
	}
	slices.Sort(fields)
	if got, want := strings.Join(fields, " "), "thresholds.csatScore.green thresholds.sentiment.amber"; got != want {
		t.Errorf("audited fields: got %s, want %s", got, want)
	}
}

// Every failing field is listed at once, with dotted names; nothing is saved.
func TestEveryFailingFieldIsListed(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"thresholds":{
		"averageWaitTime":{"green":-1,"amber":86401},
		"averageResponseTime":{"green":91,"amber":90},
		"csatScore":{"green":4.125,"amber":0},
		"sentiment":{"green":101,"amber":40},
		"aiBotContainment":{"green":70,"amber":71}}}`)).Expect(t, 422)
	want := map[string]string{
		"thresholds.averageWaitTime.green":     "must be between 0 and 86400 (seconds)",
		"thresholds.averageWaitTime.amber":     "must be between 0 and 86400 (seconds)",
		"thresholds.averageResponseTime.amber": "must be at least green (91)",
		"thresholds.csatScore.green":           "must have at most 2 decimals",
		"thresholds.csatScore.amber":           "must be between 1 and 5",
		"thresholds.sentiment.green":           "must be between 0 and 100 (percent)",
		"thresholds.aiBotContainment.amber":    "must be at most green (70)",
	}
	if got := r.FieldErrors(t); !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["version"] != 0.0 {
		t.Errorf("a refused PUT changed the settings: %v", m)
	}
}

// Seconds and percents are whole numbers: a fraction is a wrong type (400), named.
func TestWholeNumbers(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, tc := range []struct{ body, field string }{
		{`{"thresholds":{"averageWaitTime":{"green":60.5}}}`, "thresholds.averageWaitTime.green"},
		{`{"thresholds":{"sentiment":{"amber":40.5}}}`, "thresholds.sentiment.amber"},
		{`{"thresholds":{"csatScore":{"green":"4"}}}`, "thresholds.csatScore.green"},
		{`{"thresholds":{"csatScore":{"grene":4}}}`, "thresholds.csatScore.grene"},
		{`{"thresholds":{"nps":{"green":4}}}`, "thresholds.nps"},
	} {
		r := s.Admin(http.MethodPut, path, []byte(tc.body)).Expect(t, http.StatusBadRequest)
		if _, ok := r.FieldErrors(t)[tc.field]; !ok {
			t.Errorf("%s: got %s, want an error on %s", tc.body, r.Body, tc.field)
		}
	}
}
