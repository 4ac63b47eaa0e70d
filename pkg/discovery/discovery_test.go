package discovery_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/discovery"
)

func TestHealthIsPublic(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz"}).Expect(t, 200)
	if string(r.Body) != `{"status":"ok"}` {
		t.Errorf("got %s", r.Body)
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz", Token: "garbage"}).Expect(t, 200)
}

func TestMe(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	tests := []struct {
		role, want string
	}{
		{"admin", `{"sub":"admin@acme","orgId":"acme","role":"admin","permissions":["settings.manage","audit.read","agents.read","agents.manage","roles.manage","business-units.manage","tags.manage","chats.read","chats.manage","suborgs.manage","NativeApp"]}`},
		{"agent_manager", `{"sub":"agent_manager@acme","orgId":"acme","role":"agent_manager","permissions":["agents.read","tags.manage","chats.read","chats.manage","NativeApp"]}`},
		{"client_manager", `{"sub":"client_manager@acme","orgId":"acme","role":"client_manager","permissions":["agents.read","chats.read","suborgs.manage"]}`},
		{"marketing", `{"sub":"marketing@acme","orgId":"acme","role":"marketing","permissions":["tags.manage","chats.read"]}`},
		{"compliance", `{"sub":"compliance@acme","orgId":"acme","role":"compliance","permissions":["audit.read","agents.read","chats.read"]}`},
		{"agent", `{"sub":"agent@acme","orgId":"acme","role":"agent","permissions":["NativeApp"]}`},
		{"role_custom1", `{"sub":"role_custom1@acme","orgId":"acme","role":"role_custom1","permissions":[]}`},
	}
	for _, tc := range tests {
		r := s.As("acme", tc.role, http.MethodGet, "/v1/me", nil).Expect(t, 200)
		if string(r.Body) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.role, r.Body, tc.want)
		}
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/me"}).Expect(t, 401)
}

// TestEvents replays events/discovery/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, discovery.Function, nil,
		apitest.EventCase{File: "healthz.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"status": "ok"})
		}},
		apitest.EventCase{File: "me.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"sub": "demo-compliance", "orgId": "demo",
				"role": "compliance", "permissions": []string{"audit.read", "agents.read", "chats.read"}})
		}},
	)
}

// A deleted organisation's callers get 404 from /v1/me, as from its other routes; a live
// sub-organisation's get their own answer.
func TestMeOfADeletedOrganisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	shop := s.SubOrg("acme", "Shop")
	s.As(shop, "admin", http.MethodGet, "/v1/me", nil).Expect(t, 200)
	s.Admin(http.MethodDelete, "/v1/orgs/"+shop, nil).Expect(t, 204)
	s.As(shop, "admin", http.MethodGet, "/v1/me", nil).Expect(t, 404)
	s.As("acme", "admin", http.MethodGet, "/v1/me", nil).Expect(t, 200)
}
