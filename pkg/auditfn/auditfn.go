// Package auditfn serves an organisation's audit log: every settings change, newest first,
// with field-level before and after values.
package auditfn

import (
	"net/http"
	"strconv"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// Policy is who may read an organisation's audit log.
var Policy = auth.Roles(auth.RoleAdmin, auth.RoleCompliance)

// Function is the audit Lambda function.
var Function = app.Function{Name: "audit", Needs: app.Needs{AuditLog: true}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.Cursors)
}}

// Page is one page of the audit log as clients see it.
type Page struct {
	Items      []audit.Entry `json:"items"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

// Register serves GET /v1/orgs/{orgId}/audit?area=&limit=&cursor= from store, with
// cursors authenticated by cursors.
func Register(api *httpx.API, store settings.Store, cursors audit.Cursors) {
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/audit", Policy, func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("orgId")
		q, err := parseAuditQuery(r)
		if err == nil && r.URL.Query().Has("cursor") {
			q.After, err = cursors.Decode(org, q.Area, r.URL.Query().Get("cursor"))
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		page, err := store.ListAudit(r.Context(), org, q)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out := Page{Items: page.Items}
		if out.Items == nil {
			out.Items = []audit.Entry{}
		}
		if page.More && len(page.Items) > 0 {
			out.NextCursor = cursors.Encode(org, q.Area, page.Items[len(page.Items)-1].ID)
		}
		httpx.WriteJSON(w, r, http.StatusOK, out)
	})
}

func parseAuditQuery(r *http.Request) (audit.Query, error) {
	v := r.URL.Query()
	var f problem.Fields
	q := audit.Query{Area: v.Get("area")}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.Add("limit", "must be an integer between 1 and 100")
		} else if n < 1 || n > audit.MaxLimit {
			f.Add("limit", "must be between 1 and 100")
		} else {
			q.Limit = n
		}
	} else {
		q.Limit = audit.DefaultLimit
	}
	if q.Area != "" && !audit.ValidArea(q.Area) {
		f.Add("area", "must be a settings area name such as general or office-hours")
	}
	return q, f.Err()
}
