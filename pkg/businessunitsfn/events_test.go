package businessunitsfn_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/businessunitsfn"
	"github.com/convrs/admin/pkg/freetext/caseless"
)

// sampleUnit is the unit the samples of events/business-units/ read, change and delete.
const sampleUnit = "bu_7m2q4x6v2n5b7c2d7f2g4hjk"

// TestEvents replays events/business-units/ through the function's Lambda entry point:
// list, create, a duplicate name in another case, invalid fields, a role without the
// permission, read, change with If-Match, a stale If-Match, delete.
func TestEvents(t *testing.T) {
	t.Parallel()
	seed := func(t *testing.T, d app.Deps) {
		at := apitest.EventEpoch
		u := businessunits.Unit{OrgID: "demo", ID: sampleUnit, Name: "Support", NameKey: caseless.Key("Support"), ChatbotIDs: []string{"bot_help"}, Version: 1,
			CreatedAt: at, UpdatedAt: at, UpdatedBy: "seed"}
		e := audit.Entry{ID: audit.NewID(at), OrgID: "demo", At: at, Actor: "seed", Area: businessunits.Area, Action: "create"}
		if err := d.BusinessUnits.Create(context.Background(), u, e); err != nil {
			t.Fatal(err)
		}
	}
	fields := func(want map[string]any) func(t *testing.T, r *apitest.EventRun) {
		return func(t *testing.T, r *apitest.EventRun) { apitest.WantFields(t, apitest.MustJSON(t, r.Body), want) }
	}
	apitest.ReplayEvents(t, businessunitsfn.Function, seed,
		apitest.EventCase{File: "list.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			items, _ := apitest.MustJSON(t, r.Body).(map[string]any)["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("items: %s", r.Body)
			}
			apitest.WantFields(t, items[0], map[string]any{"id": sampleUnit, "name": "Support", "chatbotIds": []any{"bot_help"}, "agentCount": 0, "version": 1})
		}},
		apitest.EventCase{File: "create.json", Status: http.StatusCreated, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Sales EMEA", "chatbotIds": []any{"bot_sales_web"},
				"version": 1, "updatedBy": "demo-admin"})
			if apitest.Header(r.Resp, "ETag") != `"1"` || apitest.Header(r.Resp, "Location") == "" {
				t.Errorf("headers: %v", r.Resp.Headers)
			}
		}},
		apitest.EventCase{File: "create-duplicate.json", Status: http.StatusConflict},
		apitest.EventCase{File: "create-invalid.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []any{
				map[string]any{"field": "chatbotIds[0]", "message": "must be a chatbot id: 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit"},
				map[string]any{"field": "name", "message": "is required"}}})
		}},
		apitest.EventCase{File: "create-forbidden.json", Status: http.StatusForbidden},
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: fields(map[string]any{"id": sampleUnit, "name": "Support"})},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Customer Support", "chatbotIds": []any{"bot_help"}, "version": 2})
			if apitest.Header(r.Resp, "ETag") != `"2"` {
				t.Errorf("ETag %s", apitest.Header(r.Resp, "ETag"))
			}
		}},
		apitest.EventCase{File: "patch-stale.json", Status: http.StatusPreconditionFailed},
		apitest.EventCase{File: "delete.json", Status: http.StatusNoContent, Check: func(t *testing.T, r *apitest.EventRun) {
			page, err := r.Deps.Settings.ListAudit(context.Background(), "demo", audit.Query{Area: businessunits.Area, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range page.Items {
				actions = append(actions, e.Action)
			}
			if len(actions) != 4 || actions[0] != "delete" || actions[1] != "patch" || actions[2] != "create" {
				t.Errorf("audit actions %v, want delete, patch, create and the seed's create", actions)
			}
		}},
		apitest.EventCase{File: "get-deleted.json", Status: http.StatusNotFound},
	)
}
