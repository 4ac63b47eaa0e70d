package officehours

import (
	"net/http"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/wire"
)

// AreaName is the URL segment and audit area.
const AreaName = "office-hours"

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{
	Name:     AreaName,
	Defaults: Defaults,
	Prepare:  func(_ Settings, next *Settings) { next.Normalize() },
}

// Function is the office-hours Lambda function.
var Function = wire.Function{Name: AreaName, Needs: config.Needs{Table: true}, Mount: func(api *httpx.API, d wire.Deps) {
	Register(api, d.Settings, d.Now)
}}

// Register serves the area's settings routes (admin only) and the open/closed status
// (any role of the organisation). now may be nil for time.Now.
func Register(api *httpx.API, store settings.Store, now func() time.Time) *settings.Service[Settings] {
	if now == nil {
		now = time.Now
	}
	svc := settings.NewService(Area, store, now)
	svc.Register(api, auth.Roles(auth.RoleAdmin))
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/office-hours/status", auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		at := now()
		if s := r.URL.Query().Get("at"); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				httpx.WriteError(w, r, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
					Fields: []problem.FieldError{{Field: "at", Message: "must be an RFC 3339 time such as 2026-03-08T06:30:00Z"}}})
				return
			}
			at = t
		}
		cur, err := svc.Load(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, cur.Doc.Status(at))
	})
	return svc
}
