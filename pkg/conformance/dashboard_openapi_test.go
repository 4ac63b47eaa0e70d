package conformance_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

// The dashboard's PUT schema states the handoff rule (smartHandoff and showMessages need
// enabled) as the server applies it: for every combination of the three switches, the
// schema accepts exactly what the server saves.
func TestOpenAPIHandoffRuleMatchesServer(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	var area settingsArea
	for _, a := range s.settingsAreas(t) {
		if a.Name == "dashboard" {
			area = a
		}
	}
	if area.Name == "" {
		t.Fatal("openapi.yaml describes no dashboard area")
	}
	sch := s.schemasOf(t, area)
	for _, enabled := range []any{true, false, nil} {
		for _, smart := range []any{true, false, nil} {
			for _, show := range []any{true, false, nil} {
				handoff := map[string]any{}
				for k, v := range map[string]any{"enabled": enabled, "smartHandoff": smart, "showMessages": show} {
					if v != nil { // nil: left out, the default false
						handoff[k] = v
					}
				}
				doc := map[string]any{"handoff": handoff}
				valid := s.v.valid(sch.Put, doc, inRequest)
				c := newAreaClient(t, s, srv, area)
				resp := c.put(doc)
				want := http.StatusUnprocessableEntity
				if valid {
					want = http.StatusOK
				}
				if resp.Status != want {
					t.Errorf("PUT %s: got %d, want %d as the schema says\n%s", compactJSON(doc), resp.Status, want, resp.Body)
				}
			}
		}
	}
}
