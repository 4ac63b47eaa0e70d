package webchatfn

import (
	"net/http"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/webchat"
)

// IdentifyPath is the public route the widget calls when it connects.
const IdentifyPath = "/v1/webchat/identify"

// Identity is who a valid widget token says the user is.
type Identity struct {
	UserID string         `json:"userId"`
	Name   string         `json:"name,omitempty"`
	Email  string         `json:"email,omitempty"`
	Claims map[string]any `json:"claims"`
}

// RegisterIdentify serves POST /v1/webchat/identify {orgId, token}: 200 with the user the
// token identifies, or 401 with a problem whose "reason" member is one of the verify
// route's reason codes. No token of ours is needed: the widget runs on customers' sites.
//
// A deleted organisation's widget is refused like any other of its routes (404), within
// a second of the delete (the tree the API reads, remembered per container for liveFor).
func RegisterIdentify(api *httpx.API, keys *webchat.Keys, now func() time.Time) {
	live := newLiveOrgs(api.Orgs(), now)
	api.Handle(http.MethodPost, IdentifyPath, auth.Public, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			OrgID *string `json:"orgId"`
			Token *string `json:"token"`
		}
		if err := decode(r, &body); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		var f problem.Fields
		switch {
		case body.OrgID == nil || *body.OrgID == "":
			f.Add("orgId", "is required")
		case !ids.Valid(*body.OrgID):
			f.Add("orgId", "is not an organisation id")
		}
		if body.Token == nil {
			f.Add("token", "is required")
		}
		if err := f.Err(); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if gone, err := live.deleted(r.Context(), *body.OrgID); err != nil || gone {
			if err == nil {
				err = problem.New(problem.NotFound, "organisation not found")
			}
			httpx.WriteError(w, r, err)
			return
		}
		res, err := keys.Verify(r.Context(), *body.OrgID, *body.Token)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if !res.Valid {
			httpx.WriteError(w, r, problem.New(problem.Unauthenticated, "%s", res.Message).With("reason", res.Reason))
			return
		}
		id := Identity{Claims: res.Claims}
		id.UserID, _ = res.Claims["sub"].(string)
		id.Name, _ = res.Claims["name"].(string)
		id.Email, _ = res.Claims["email"].(string)
		httpx.WriteJSON(w, r, http.StatusOK, id)
	})
}
