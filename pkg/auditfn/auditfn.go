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
var Policy = auth.Permission(auth.PermAuditRead)

// Function is the audit Lambda function.
var Function = app.Function{Name: "audit", Needs: app.Needs{AuditLog: true, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
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

// parseAuditQuery reads ?area=&limit=. A value that is not of the right form (a limit
// that is not an integer, an area that is not an area name) is a 400; a well-formed limit
// out of range is a 422, as for bodies.
func parseAuditQuery(r *http.Request) (audit.Query, error) {
	v := r.URL.Query()
	q := audit.Query{Area: v.Get("area"), Limit: audit.DefaultLimit}
	var malformed problem.Fields
	if q.Area != "" && !audit.ValidArea(q.Area) {
		malformed.Add("area", "must be an area name such as general or office-hours")
	}
	if v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		switch {
		case err != nil:
			malformed.Add("limit", "must be an integer between 1 and 100")
		case n < 1 || n > audit.MaxLimit:
			if malformed.Len() == 0 {
				return q, &problem.Error{Code: problem.Invalid, Message: "invalid query",
					Fields: []problem.FieldError{{Field: "limit", Message: "must be between 1 and 100"}}}
			}
		default:
			q.Limit = n
		}
	}
	if err := malformed.Err(); err != nil {
		pe := err.(*problem.Error)
		pe.Code, pe.Message = problem.BadRequest, "invalid query"
		return q, pe
	}
	return q, nil
}
