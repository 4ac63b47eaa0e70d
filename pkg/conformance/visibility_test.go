package conformance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/orgs"
)

// The organisation tree on every route: a caller acts on its own organisation and every
// descendant, never on an ancestor, a sibling or a deleted organisation (404, the same
// answer as an organisation that does not exist). Every served route with an {orgId}
// that needs a token is sent, by an admin (so no 403 hides the answer), for each kind of
// organisation; "allowed" is any answer but the front's 404 (the route may still refuse
// the request for its own reasons: a body, a missing record, a state).
func TestEveryOrganisationRouteFollowsTheTree(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	// acme > a > (a fresh descendant per route), acme > b; a > gone (deleted).
	a := srv.SubOrg("acme", "A")
	b := srv.SubOrg("acme", "B")
	gone := srv.SubOrg(a, "Gone")
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if _, err := srv.Deps.Orgs.Delete(context.Background(), gone, audit.Entry{ID: audit.NewID(at), OrgID: a, At: at, Actor: "setup",
		Area: orgs.Area, Action: "delete", Changes: []audit.Change{}}); err != nil {
		t.Fatal(err)
	}
	api := httpx.New(auth.Claims{}, discardLogger())
	local.MountAll(api, app.Deps{})
	param := regexp.MustCompile(`\{[a-zA-Z]+\}`)
	// frontRefused reports whether the answer is the HTTP front's 404 for an organisation
	// the caller may not see (a handler's 404 names what it did not find).
	frontRefused := func(r apitest.Response) bool {
		var p struct{ Detail string }
		_ = json.Unmarshal(r.Body, &p)
		return r.Status == http.StatusNotFound && p.Detail == "organisation not found"
	}
	checked := 0
	for _, rt := range api.Routes() {
		if rt.Policy.IsPublic() || rt.Policy.IsAuthenticated() {
			continue
		}
		path := func(org string) string {
			return param.ReplaceAllStringFunc(rt.Pattern, func(p string) string {
				if p == "{orgId}" {
					return org
				}
				return "x1"
			})
		}
		call := func(caller, org string) apitest.Response {
			return srv.As(caller, auth.RoleAdmin, rt.Method, path(org), []byte(`{}`))
		}
		// A route may delete the organisation it acts on: each call gets a new one.
		descendant := "(new)"
		for _, c := range []struct {
			what, caller, org string
			visible           bool
		}{
			{"its own", a, a, true},
			{"a descendant", a, descendant, true},
			{"a grandchild, from the root", "acme", descendant, true},
			{"an ancestor", a, "acme", false},
			{"a sibling", a, b, false},
			{"a sibling's descendant (a's)", b, descendant, false},
			{"a deleted organisation", a, gone, false},
			{"a deleted organisation, from the root", "acme", gone, false},
			{"its own, deleted", gone, gone, false},
		} {
			if c.org == descendant {
				c.org = srv.SubOrg(a, "Child")
			}
			r := call(c.caller, c.org)
			if frontRefused(r) == c.visible {
				t.Errorf("%s %s: %s (caller %s, path %s): %d %s", rt.Method, rt.Pattern, c.what, c.caller, c.org, r.Status, r.Body)
			}
		}
		checked++
	}
	if checked < 40 {
		t.Errorf("checked %d routes; the route list was not read", checked)
	}
}
