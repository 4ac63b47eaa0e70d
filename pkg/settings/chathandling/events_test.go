package chathandling_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// TestEvents replays events/chat-handling/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, chathandling.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"maxChatsPerAgent": 3, "moveToQueueWhenAgentOffline": false,
				"autoCloseAfterDays": 0, "moveToQueueAfterNoLoginDays": 0})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"maxChatsPerAgent": 4, "moveToQueueWhenAgentOffline": true,
				"autoCloseAfterDays": 14, "moveToQueueAfterNoLoginDays": 3})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"maxChatsPerAgent": 5, "moveToQueueWhenAgentOffline": true,
				"autoCloseAfterDays": 14, "moveToQueueAfterNoLoginDays": 3})
		}},
		apitest.EventCase{File: "put-out-of-range.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "autoCloseAfterDays", "message": "must be between 0 and 60 (0 = never)"},
				{"field": "maxChatsPerAgent", "message": "must be between 1 and 9"}}})
		}},
	)
}
