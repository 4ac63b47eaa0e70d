// Package discovery serves what a client needs before anything else: GET /healthz (public,
// for load balancers and uptime checks) and GET /v1/me (who the token says the caller is,
// with the permissions the dashboard uses to decide which screens to show).
package discovery

import (
	"net/http"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Function is the discovery Lambda function: it needs no table or other port, so it
// starts and answers in the time a Lambda takes to run Go.
var Function = app.Function{Name: "discovery", Needs: app.Needs{Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, _ app.Deps) { Register(api) }}

// Me is the body of GET /v1/me.
type Me struct {
	Sub         string   `json:"sub"`
	OrgID       string   `json:"orgId"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
	Scope       string   `json:"scope,omitempty"`
}

var health = []byte(`{"status":"ok"}`)

// Register serves GET /healthz and GET /v1/me.
func Register(api *httpx.API) {
	api.Handle(http.MethodGet, "/healthz", auth.Public, func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteRawJSON(w, http.StatusOK, health)
	})
	api.Handle(http.MethodGet, "/v1/me", auth.Authenticated.AllowingPasswordScope(), func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		// The caller's organisation, read once: a deleted organisation's callers get 404 as
		// on its other routes, and a custom role may be an ancestor's (the path).
		path := []string{p.OrgID}
		if l := api.Orgs(); l != nil && ids.Valid(p.OrgID) {
			o, found, err := l.Org(r.Context(), p.OrgID)
			if err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			if found && o.Deleted() {
				httpx.WriteError(w, r, problem.New(problem.NotFound, "organisation not found"))
				return
			}
			if found {
				path = o.Path
			}
		}
		p, err := auth.Resolve(r.Context(), api.Roles(), p, path)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		perms := p.Permissions
		if perms == nil || p.Scope != "" {
			perms = []string{} // a password-scope token allows none of them
		}
		httpx.WriteJSON(w, r, http.StatusOK, Me{Sub: p.Subject, OrgID: p.OrgID, Role: p.Role, Permissions: perms, Scope: p.Scope})
	})
}
