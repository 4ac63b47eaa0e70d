package passwordpolicy_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

// TestEvents replays events/password-policy/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	// The agent of check-reuse.json, whose current password the sample tries.
	seed := func(t *testing.T, d app.Deps) {
		seedAgent(t, d.Agents, "demo", "agent_4m7q2x9k", "Winter-2026-Blue!", "Autumn-2025-Red!")
	}
	apitest.ReplayEvents(t, passwordpolicy.Function, seed,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"enforce": false, "minLength": 8, "maxLength": 30, "minMixedCase": 1,
				"minDigits": 1, "minSpecial": 0, "expiryDays": 90, "preventReuse": false})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"enforce": true, "minLength": 12, "maxLength": 30, "minMixedCase": 1,
				"minDigits": 2, "minSpecial": 1, "expiryDays": 60, "preventReuse": true})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"enforce": true, "minLength": 12, "expiryDays": 90, "preventReuse": true})
		}},
		apitest.EventCase{File: "put-inconsistent.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			sum := "2*minMixedCase + minDigits + minSpecial (18) must be at most maxLength (16)"
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "maxLength", "message": "must be at least minLength (20) and at least 2*minMixedCase + minDigits + minSpecial (18)"},
				{"field": "minDigits", "message": sum},
				{"field": "minLength", "message": "must be at most maxLength (16)"},
				{"field": "minMixedCase", "message": sum},
				{"field": "minSpecial", "message": sum}}})
		}},
		apitest.EventCase{File: "check.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"ok": false, "enforced": true, "violations": []map[string]string{
				{"rule": "length", "message": "must be at least 12 characters long"},
				{"rule": "special", "message": "must contain at least 1 special character (ASCII punctuation such as ! # % * ? @ _)"}}})
		}},
		apitest.EventCase{File: "check-unknown-agent.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "agentId", "message": "no such agent"}}})
		}},
		apitest.EventCase{File: "check-reuse.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"ok": false, "enforced": true, "violations": []map[string]string{
				{"rule": "reuse", "message": "must not be a password this agent has used before"}}})
		}},
	)
}
