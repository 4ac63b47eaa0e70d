package agentsfn_test

import (
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/agentsfn"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
)

func TestEventSamples(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, agentsfn.Function, func(t *testing.T, d app.Deps) { apitest.SeedBusinessUnits(t, d, "demo", "bu_support") },
		apitest.EventCase{File: "create.json", Status: 201, Check: func(t *testing.T, r *apitest.EventRun) {
			for _, want := range []string{`"email":"ana.silva@example.com"`, `"language":"pt-BR"`, `"mobile":"+16502530000"`, `"credentialsEmailSent":true`} {
				if !strings.Contains(string(r.Body), want) {
					t.Errorf("created agent lacks %s: %s", want, r.Body)
				}
			}
		}},
		apitest.EventCase{File: "create-duplicate.json", Status: 409},
		apitest.EventCase{File: "search.json", Status: 200, Check: func(t *testing.T, r *apitest.EventRun) {
			if !strings.Contains(string(r.Body), `"name":"Ana Silva"`) {
				t.Errorf("the created agent is not found: %s", r.Body)
			}
		}},
		apitest.EventCase{File: "delete.json", Status: 405},
	)
}
