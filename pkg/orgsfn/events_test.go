package orgsfn_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/orgsfn"
)

// The sub-organisations the samples of events/orgs/ read and delete: Acme Retail under
// demo, and its child Acme Retail UK (a leaf).
const (
	sampleOrg  = "org_7m2q4x6v2n5b7c2d7f2g4hjk"
	sampleLeaf = "org_3k5m7p2r4t6v2x4z6b2d4f6h"
)

// TestEvents replays events/orgs/ through the function's Lambda entry point: the root
// and a sub-organisation read by an agent, a create, an invalid name, a role without
// suborgs.manage, the list, a delete refused for a non-leaf, a leaf's delete, and the
// deleted organisation's 404.
func TestEvents(t *testing.T) {
	t.Parallel()
	seed := func(t *testing.T, d app.Deps) {
		at := apitest.EventEpoch
		for _, o := range []orgs.Org{
			{ID: sampleOrg, Name: "Acme Retail", ParentID: "demo", Path: []string{"demo", sampleOrg}, CreatedAt: at},
			{ID: sampleLeaf, Name: "Acme Retail UK", ParentID: sampleOrg, Path: []string{"demo", sampleOrg, sampleLeaf}, CreatedAt: at},
		} {
			e := audit.Entry{ID: audit.NewID(at), OrgID: o.ParentID, At: at, Actor: "seed", Area: orgs.Area, Action: "create", Changes: []audit.Change{}}
			if err := d.Orgs.Create(context.Background(), o, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	fields := func(want map[string]any) func(t *testing.T, r *apitest.EventRun) {
		return func(t *testing.T, r *apitest.EventRun) { apitest.WantFields(t, apitest.MustJSON(t, r.Body), want) }
	}
	apitest.ReplayEvents(t, orgsfn.Function, seed,
		apitest.EventCase{File: "get-root.json", Status: http.StatusOK,
			Check: fields(map[string]any{"id": "demo", "name": "demo", "parentId": nil, "path": []any{"demo"}, "createdAt": nil})},
		apitest.EventCase{File: "get.json", Status: http.StatusOK,
			Check: fields(map[string]any{"id": sampleOrg, "name": "Acme Retail", "parentId": "demo", "path": []any{"demo", sampleOrg}})},
		apitest.EventCase{File: "create.json", Status: http.StatusCreated, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Acme Retail EMEA", "parentId": "demo"})
			if loc := apitest.Header(r.Resp, "Location"); len(loc) != len("/v1/orgs/")+30 {
				t.Errorf("Location %q", loc)
			}
		}},
		apitest.EventCase{File: "create-invalid.json", Status: http.StatusUnprocessableEntity,
			Check: fields(map[string]any{"errors": []any{map[string]any{"field": "name", "message": "is required"}}})},
		apitest.EventCase{File: "create-forbidden.json", Status: http.StatusForbidden},
		apitest.EventCase{File: "list.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			items, _ := apitest.MustJSON(t, r.Body).(map[string]any)["items"].([]any)
			if len(items) != 3 {
				t.Errorf("items: %s", r.Body)
			}
		}},
		apitest.EventCase{File: "delete-not-leaf.json", Status: http.StatusConflict},
		apitest.EventCase{File: "delete.json", Status: http.StatusNoContent, Check: func(t *testing.T, r *apitest.EventRun) {
			page, err := r.Deps.Settings.ListAudit(context.Background(), sampleOrg, audit.Query{Area: orgs.Area, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 2 || page.Items[0].Action != "delete" || page.Items[0].Actor != "demo-client-manager" {
				t.Errorf("the parent's audit log: %+v", page.Items)
			}
		}},
		apitest.EventCase{File: "get-deleted.json", Status: http.StatusNotFound},
	)
}
