package officehours_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/officehours"
)

// TestEvents replays events/office-hours/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	saturday := []map[string]string{{"open": "10:00:00", "close": "14:00:00"}}
	apitest.ReplayEvents(t, officehours.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"openTime": "09:00:00", "closeTime": "17:00:00", "timeZone": "UTC",
				"missedChatReport.enabled": false, "days": []string{"monday", "tuesday", "wednesday", "thursday", "friday"}})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"openTime": "09:00:00", "closeTime": "17:30:00",
				"timeZone": "America/New_York", "hours.saturday": saturday,
				"missedChatReport.enabled": true, "missedChatReport.email": "support-leads@example.com"})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"openTime": "09:00:00", "closeTime": "18:00:00",
				"timeZone": "America/New_York", "hours.saturday": saturday,
				"missedChatReport.enabled": true, "missedChatReport.email": "support@example.com"})
		}},
		apitest.EventCase{File: "status.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			// Sunday 2026-03-08 03:30 in New York, just after the clocks went forward: closed
			// until Monday 09:00 EDT (13:00Z), open until the patched 18:00 EDT (22:00Z).
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"open": false, "at": "2026-03-08T07:30:00Z",
				"timeZone": "America/New_York", "localTime": "2026-03-08T03:30:00-04:00",
				"nextOpen": "2026-03-09T13:00:00Z", "nextClose": "2026-03-09T22:00:00Z"})
		}},
	)
}
