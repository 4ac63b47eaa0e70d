package dataprocessors_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/dataprocessors"
)

const path = "/v1/orgs/acme/settings/data-processors"

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  dataprocessors.AreaName,
		Valid: `{"messageTranslation":true,"aiWritingAssistant":true}`,
		Field: "messageTranslation", Patch: `{"messageTranslation":false}`,
		// Every combination of switches is valid: the refused write is a wrong type (400),
		// which the generic suite expects as a 422 only for out-of-range values.
		Invalid: `{"aiWritingAssistant":"yes"}`, InvalidField: "aiWritingAssistant", InvalidStatus: http.StatusBadRequest,
	})
}

func TestDefaultsAreOff(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"aiSentimentAndSummary":"default","aiWritingAssistant":"default","messageTranslation":"default"},"lockedBy":{},"messageTranslation":false,"aiWritingAssistant":false,"aiSentimentAndSummary":false}`
	if string(r.Body) != want {
		t.Errorf("defaults:\n got %s\nwant %s", r.Body, want)
	}
}

// Each change of a processor is audited with who made it and when, field by field.
func TestEachChangeIsAudited(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"messageTranslation":true}`)).Expect(t, 200)
	s.As("acme", "admin", http.MethodPatch, path, []byte(`{"aiSentimentAndSummary":true,"messageTranslation":false}`), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=data-processors", nil).Expect(t, 200).JSON(t)
	items := a["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("audit entries: got %d, want 2", len(items))
	}
	patch := items[0].(map[string]any)
	changes := patch["changes"].([]any)
	if patch["actor"] != "admin@acme" || patch["at"] != "2026-11-25T10:00:00Z" || len(changes) != 2 {
		t.Fatalf("patch entry: got %v", patch)
	}
	for i, want := range []string{`aiSentimentAndSummary false -> true`, `messageTranslation true -> false`} {
		c := changes[i].(map[string]any)
		if got := c["field"].(string) + " " + apitest.JSONText(c["from"]) + " -> " + apitest.JSONText(c["to"]); got != want {
			t.Errorf("change %d: got %s, want %s", i, got, want)
		}
	}
}

// TestEvents replays events/data-processors/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, dataprocessors.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"messageTranslation": false, "aiWritingAssistant": false, "aiSentimentAndSummary": false})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"messageTranslation": true, "aiWritingAssistant": true, "aiSentimentAndSummary": false})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"messageTranslation": true, "aiWritingAssistant": false, "aiSentimentAndSummary": true})
		}},
		apitest.EventCase{File: "put-wrong-type.json", Status: http.StatusBadRequest, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "messageTranslation", "message": "must be a boolean, not string"}}})
		}},
	)
}
