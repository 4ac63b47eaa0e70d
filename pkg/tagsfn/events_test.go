package tagsfn_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/tags"
	"github.com/convrs/admin/pkg/tagsfn"
)

// The group and tag the samples of events/tags/ use.
const (
	sampleGroup = "tg_4q7x2m6v3n5b2c7d4f6g2h3j"
	sampleTag   = "tag_2b6d4f7h2k3m5n7q2r4t6v2x"
)

// TestEvents replays events/tags/ through the function's Lambda entry point: groups and
// tags listed, created (by marketing), refused (a duplicate name, invalid fields, a role
// without tags.manage, a group holding tags), changed (by an agent manager) and deleted.
func TestEvents(t *testing.T) {
	t.Parallel()
	seed := func(t *testing.T, d app.Deps) {
		ctx, at := context.Background(), apitest.EventEpoch
		entry := func() audit.Entry {
			return audit.Entry{ID: audit.NewID(at), OrgID: "demo", At: at, Actor: "seed", Area: tags.Area, Action: "create"}
		}
		g := tags.Group{OrgID: "demo", ID: sampleGroup, Name: "Topics", NameKey: caseless.Key("Topics"), Version: 1, CreatedAt: at, UpdatedAt: at, UpdatedBy: "seed"}
		if err := d.Tags.CreateGroup(ctx, g, entry()); err != nil {
			t.Fatal(err)
		}
		tg := tags.Tag{OrgID: "demo", ID: sampleTag, Name: "Urgent", NameKey: caseless.Key("Urgent"), GroupID: sampleGroup, AppliesTo: tags.AppliesToChats,
			Color: "#FF0000", Version: 1, CreatedAt: at, UpdatedAt: at, UpdatedBy: "seed"}
		if err := d.Tags.CreateTag(ctx, tg, entry()); err != nil {
			t.Fatal(err)
		}
	}
	names := func(want ...string) func(t *testing.T, r *apitest.EventRun) {
		return func(t *testing.T, r *apitest.EventRun) {
			items, _ := apitest.MustJSON(t, r.Body).(map[string]any)["items"].([]any)
			var got []string
			for _, it := range items {
				got = append(got, it.(map[string]any)["name"].(string))
			}
			if len(got) != len(want) {
				t.Fatalf("names %q, want %q", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("names %q, want %q", got, want)
				}
			}
		}
	}
	apitest.ReplayEvents(t, tagsfn.Function, seed,
		apitest.EventCase{File: "list-groups.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			items, _ := apitest.MustJSON(t, r.Body).(map[string]any)["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("items: %s", r.Body)
			}
			apitest.WantFields(t, items[0], map[string]any{"id": sampleGroup, "name": "Topics", "tagCount": 1, "version": 1})
		}},
		apitest.EventCase{File: "create-group.json", Status: http.StatusCreated, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Customer type", "tagCount": 0, "updatedBy": "demo-marketing"})
		}},
		apitest.EventCase{File: "create-group-duplicate.json", Status: http.StatusConflict},
		apitest.EventCase{File: "create-tag.json", Status: http.StatusCreated, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Billing", "groupId": sampleGroup,
				"appliesTo": "chats", "color": "#1E90FF", "version": 1})
		}},
		apitest.EventCase{File: "create-tag-invalid.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []any{
				map[string]any{"field": "appliesTo", "message": "must be users, chats or both"},
				map[string]any{"field": "color", "message": "must be a colour written #RRGGBB (six hexadecimal digits), or null for none"}}})
		}},
		apitest.EventCase{File: "list-tags.json", Status: http.StatusOK, Check: names("Billing", "Urgent")},
		apitest.EventCase{File: "list-forbidden.json", Status: http.StatusForbidden},
		apitest.EventCase{File: "delete-group-not-empty.json", Status: http.StatusConflict, Check: func(t *testing.T, r *apitest.EventRun) {
			tagIDs, _ := apitest.MustJSON(t, r.Body).(map[string]any)["tags"].([]any)
			if len(tagIDs) != 2 {
				t.Errorf("tags extension: %s", r.Body)
			}
		}},
		apitest.EventCase{File: "patch-group.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Subjects", "tagCount": 2, "version": 2})
		}},
		apitest.EventCase{File: "patch-tag.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"name": "Urgent", "groupId": nil, "color": nil,
				"version": 2, "updatedBy": "demo-agent-manager"})
		}},
		apitest.EventCase{File: "delete-tag.json", Status: http.StatusNoContent},
	)
}
