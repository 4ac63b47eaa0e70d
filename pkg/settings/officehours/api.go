package officehours

import (
	"net/http"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
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
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.Now)
}}

// The instants the status route answers for. Years 1970-2999 cover any question about
// real office hours with room to spare, while keeping every computed instant (the next
// opening can be up to 400 days later) well inside what RFC 3339 and JSON can carry: a
// year-10000 answer cannot be encoded, so such an at was a 500.
var (
	MinAt = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

// ParseAt parses the status route's at query value: an RFC 3339 time from MinAt up to
// (not including) MaxAt. Anything else is a problem.BadRequest naming "at".
func ParseAt(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	msg := ""
	switch {
	case err != nil:
		msg = "must be an RFC 3339 time such as 2026-03-08T06:30:00Z"
	case t.Before(MinAt) || !t.Before(MaxAt):
		msg = "must be between 1970-01-01T00:00:00Z and 2999-12-31T23:59:59Z"
	default:
		return t, nil
	}
	return time.Time{}, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
		Fields: []problem.FieldError{{Field: "at", Message: msg}}}
}

// Register serves the area's settings routes (admin only) and the open/closed status
// (any role of the organisation). now may be nil for time.Now.
func Register(api *httpx.API, store settings.Store, now func() time.Time) *settings.Service[Settings] {
	if now == nil {
		now = time.Now
	}
	svc := settings.NewService(Area, store, now)
	svc.Register(api, auth.Permission(auth.PermSettingsManage))
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/office-hours/status", auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		at := now()
		if r.URL.Query().Has("at") {
			t, err := ParseAt(r.URL.Query().Get("at"))
			if err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			at = t
		}
		// The widget's hot read: an eventually consistent read is enough (a change of the
		// hours shows within a second) and costs half a strongly consistent one.
		cur, err := svc.Read(r.Context(), r.PathValue("orgId"), settings.Eventual)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, cur.Doc.Status(at))
	})
	return svc
}
