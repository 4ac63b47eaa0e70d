package reports_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/reports"
)

// TestEvents replays events/reports/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, reports.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{
				"thresholds.averageWaitTime":     map[string]any{"green": 60, "amber": 120},
				"thresholds.averageResponseTime": map[string]any{"green": 45, "amber": 90},
				"thresholds.csatScore":           map[string]any{"green": 4, "amber": 3.5},
				"thresholds.sentiment":           map[string]any{"green": 60, "amber": 40},
				"thresholds.aiBotContainment":    map[string]any{"green": 70, "amber": 50}})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{
				"thresholds.averageWaitTime":     map[string]any{"green": 30, "amber": 90},
				"thresholds.averageResponseTime": map[string]any{"green": 20, "amber": 60},
				"thresholds.csatScore":           map[string]any{"green": 4.5, "amber": 3.75},
				"thresholds.sentiment":           map[string]any{"green": 65, "amber": 45},
				"thresholds.aiBotContainment":    map[string]any{"green": 75, "amber": 55},
				"updatedBy":                      "demo-admin"})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{
				"thresholds.csatScore":       map[string]any{"green": 4.25, "amber": 3.75},
				"thresholds.averageWaitTime": map[string]any{"green": 30, "amber": 90}})
		}},
		apitest.EventCase{File: "put-out-of-range.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "thresholds.averageWaitTime.amber", "message": "must be at least green (180)"},
				{"field": "thresholds.csatScore.green", "message": "must be between 1 and 5"},
				{"field": "thresholds.sentiment.amber", "message": "must be between 0 and 100 (percent)"}}})
		}},
		// An agent rates against the thresholds saved above (wait 30/90, response 20/60,
		// CSAT 4.25/3.75, sentiment 65/45, containment 75/55).
		apitest.EventCase{File: "rag.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"ratings": map[string]string{
				"averageWaitTime": "amber", "averageResponseTime": "green", "csatScore": "amber",
				"sentiment": "red", "aiBotContainment": "red"}})
		}},
		apitest.EventCase{File: "rag-unknown-kpi.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "values.firstContactResolution", "message": "unknown KPI; the KPIs are averageWaitTime, averageResponseTime, csatScore, sentiment, aiBotContainment"}}})
		}},
	)
}
