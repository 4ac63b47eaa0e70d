package auditfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auditfn"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/general"
)

// seeded are the changes the replay makes before listing, oldest first.
var seeded = []struct{ requestID, area, action string }{
	{"seed-1", general.AreaName, "replace"},
	{"seed-2", chathandling.AreaName, "replace"},
	{"seed-3", chathandling.AreaName, "patch"},
}

func seedChanges(t *testing.T, d app.Deps) {
	t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "demo-admin", OrgID: "demo", Role: auth.RoleAdmin})
	gen := settings.NewService(general.Area, d.Settings, d.Now)
	chat := settings.NewService(chathandling.Area, d.Settings, d.Now)
	for i, s := range seeded {
		ctx := httpx.WithRequestID(ctx, s.requestID)
		var err error
		switch s.area {
		case general.AreaName:
			_, err = gen.Update(ctx, "demo", "", s.action, func(g general.Settings) (general.Settings, error) {
				g.Name = "Demo"
				return g, nil
			})
		default:
			_, err = chat.Update(ctx, "demo", "", s.action, func(c chathandling.Settings) (chathandling.Settings, error) {
				c.MaxChatsPerAgent = 4 + i
				return c, nil
			})
		}
		if err != nil {
			t.Fatalf("seed %s: %v", s.requestID, err)
		}
	}
}

// TestEvents replays events/audit/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, auditfn.Function, seedChanges,
		apitest.EventCase{File: "list.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			var page struct {
				Items []struct {
					ID, At, Actor, Area, Action, RequestID string
					Changes                                []struct {
						Field    string
						From, To json.RawMessage
					}
				}
				NextCursor *string
			}
			if err := json.Unmarshal(r.Body, &page); err != nil {
				t.Fatalf("audit page: %v", err)
			}
			if len(page.Items) != len(seeded) || page.NextCursor != nil {
				t.Fatalf("got %d entries (next cursor %v), want the %d seeded on one page", len(page.Items), page.NextCursor, len(seeded))
			}
			for i, it := range page.Items {
				want := seeded[len(seeded)-1-i] // newest first
				if it.RequestID != want.requestID || it.Area != want.area || it.Action != want.action ||
					it.ID == "" || it.At == "" || it.Actor != "demo-admin" || len(it.Changes) == 0 {
					t.Errorf("entry %d = %+v, want request %s, area %s, action %s by demo-admin", i, it, want.requestID, want.area, want.action)
				}
			}
			first := page.Items[0]
			if len(first.Changes) != 1 || first.Changes[0].Field != "maxChatsPerAgent" || string(first.Changes[0].From) != "5" || string(first.Changes[0].To) != "6" {
				t.Errorf("newest entry changes = %+v, want maxChatsPerAgent 5 -> 6", first.Changes)
			}
		}},
	)
}
