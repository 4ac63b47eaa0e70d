package signinfn_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/signinfn"
)

// sampleToken is the set-password token of events/signin/set-password.json.
const sampleToken = "c2V0LXBhc3N3b3JkLWxpbmstb2YtdGhlLXNhbXBsZSE"

// The events/signin samples through the function's Lambda entry point: the invited agent
// sets a password, signs in, fails once; refresh and logout with a token of a key no
// longer published are 401.
func TestEventSamples(t *testing.T) {
	seed := func(t *testing.T, d app.Deps) {
		hash, err := agents.ParseToken(sampleToken)
		if err != nil {
			t.Fatal(err)
		}
		now := d.Now()
		a := agents.New("agent_ana", "ana@example.com", agents.Profile{Name: "Ana", Role: auth.RoleAgent, Language: "en", BusinessUnitIDs: []string{}}, now)
		inv := agents.Invitation{TokenHash: hash, ExpiresAt: now.Add(agents.InvitationTTL)}
		if err := d.Agents.Create(t.Context(), "demo", a, agents.Credentials{Invitation: &inv},
			audit.Entry{ID: audit.NewID(now), OrgID: "demo", At: now, Actor: "seed", Area: agents.AuditArea, Action: "create", Changes: []audit.Change{}}); err != nil {
			t.Fatal(err)
		}
	}
	apitest.ReplayEvents(t, signinfn.Function, seed,
		apitest.EventCase{File: "set-password.json", Status: http.StatusNoContent},
		apitest.EventCase{File: "login.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			m, _ := apitest.MustJSON(t, r.Body).(map[string]any)
			if tok, _ := m["token"].(string); tok == "" || m["mustChangePassword"] != false || r.Resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("login answer %v %v", m, r.Resp.Headers)
			}
		}},
		apitest.EventCase{File: "login-wrong-password.json", Status: http.StatusUnauthorized},
		apitest.EventCase{File: "refresh-unknown-key.json", Status: http.StatusUnauthorized},
		apitest.EventCase{File: "logout-unknown-key.json", Status: http.StatusUnauthorized},
	)
}
