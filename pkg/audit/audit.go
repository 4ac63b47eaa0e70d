// Package audit serves an organisation's audit log: every settings change, newest first,
// with field-level before and after values.
package audit

import (
	"net/http"
	"strconv"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/wire"
)

// Policy is who may read an organisation's audit log.
var Policy = auth.Roles(auth.RoleAdmin, auth.RoleCompliance)

// Function is the audit Lambda function.
var Function = wire.Function{Name: "audit", Needs: config.Needs{Table: true}, Mount: func(api *httpx.API, d wire.Deps) {
	Register(api, d.Settings)
}}

// Register serves GET /v1/orgs/{orgId}/audit?area=&limit=&cursor= from store.
func Register(api *httpx.API, store settings.Store) {
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/audit", Policy, func(w http.ResponseWriter, r *http.Request) {
		q, err := parseAuditQuery(r)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		page, err := store.ListAudit(r.Context(), r.PathValue("orgId"), q)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if page.Items == nil {
			page.Items = []settings.AuditEntry{}
		}
		httpx.WriteJSON(w, r, http.StatusOK, page)
	})
}

func parseAuditQuery(r *http.Request) (settings.AuditQuery, error) {
	v := r.URL.Query()
	var f problem.Fields
	q := settings.AuditQuery{Area: v.Get("area"), Cursor: v.Get("cursor")}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.Add("limit", "must be an integer between 1 and 100")
		} else if n < 1 || n > settings.MaxAuditLimit {
			f.Add("limit", "must be between 1 and 100")
		} else {
			q.Limit = n
		}
	} else {
		q.Limit = settings.DefaultAuditLimit
	}
	if !validAreaName(q.Area) {
		f.Add("area", "must be a settings area name such as general or office-hours")
	}
	return q, f.Err()
}

func validAreaName(s string) bool {
	if len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}
