// Package webchatfn serves the WebChat signing secret: the admin routes of the Developer -
// WebChat tab (functions/webchat-secret) and the public identify route the widget calls
// from customers' sites (functions/webchat-identify), on package webchat's keys.
package webchatfn

import (
	"net/http"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/webchat"
	"github.com/convrs/admin/pkg/webchat/token"
)

// SecretFunction serves the admin routes: key status, generate, rotate, revoke the
// previous key, verify a token, the integration example.
var SecretFunction = app.Function{Name: "webchat-secret", Needs: app.Needs{KeySets: app.Write, Roles: app.Read, Orgs: app.Read},
	HTTP: func(api *httpx.API, d app.Deps) { RegisterAdmin(api, webchat.NewKeys(d.Revisions, d.Secrets, d.Now)) }}

// IdentifyFunction serves POST /v1/webchat/identify, public, on the widget API (any
// origin, throttled).
var IdentifyFunction = app.Function{Name: "webchat-identify", Needs: app.Needs{KeySets: app.Read, Orgs: app.Read}, Widget: true,
	HTTP: func(api *httpx.API, d app.Deps) {
		RegisterIdentify(api, webchat.NewKeys(d.Revisions, d.Secrets, d.Now), d.Now)
	}}

// admin is who may manage the signing secret (API.md: admin only).
var admin = auth.Permission(auth.PermSettingsManage)

// RegisterAdmin serves the admin routes on keys.
func RegisterAdmin(api *httpx.API, keys *webchat.Keys) {
	const base = "/v1/orgs/{orgId}/webchat"
	api.Handle(http.MethodGet, base+"/secret", admin, func(w http.ResponseWriter, r *http.Request) {
		st, err := keys.Status(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, st)
	})
	api.Handle(http.MethodPost, base+"/secret", admin, func(w http.ResponseWriter, r *http.Request) {
		if err := noBody(r); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		issued, err := keys.Generate(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusCreated, issued)
	})
	api.Handle(http.MethodPost, base+"/secret/rotate", admin, func(w http.ResponseWriter, r *http.Request) {
		if err := noBody(r); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		issued, err := keys.Rotate(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, issued)
	})
	api.Handle(http.MethodDelete, base+"/secret/previous", admin, func(w http.ResponseWriter, r *http.Request) {
		if err := keys.RevokePrevious(r.Context(), r.PathValue("orgId")); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	api.Handle(http.MethodPost, base+"/verify", admin, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Token *string `json:"token"`
		}
		if err := decode(r, &body); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if body.Token == nil {
			httpx.WriteError(w, r, &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
				Fields: []problem.FieldError{{Field: "token", Message: "is required"}}})
			return
		}
		res, err := keys.Verify(r.Context(), r.PathValue("orgId"), *body.Token)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, verification(res))
	})
	api.Handle(http.MethodGet, base+"/integration-example", admin, func(w http.ResponseWriter, r *http.Request) {
		st, err := keys.Status(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		kid := ""
		if st.Current != nil {
			kid = st.Current.KID
		}
		httpx.WriteJSON(w, r, http.StatusOK, Example(r.PathValue("orgId"), kid))
	})
}

// Verification is the body of the verify route.
type Verification struct {
	Valid   bool           `json:"valid"`
	Key     string         `json:"key,omitempty"`
	KID     string         `json:"kid,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Message string         `json:"message,omitempty"`
	Claims  map[string]any `json:"claims"`
}

func verification(res token.Result) Verification {
	v := Verification{Valid: res.Valid, Claims: res.Claims}
	if res.Valid {
		v.Key, v.KID = res.Key, res.KID
	} else {
		v.Reason, v.Message = res.Reason, res.Message
	}
	return v
}

// noBody accepts an empty body or {} (clients that always send JSON), and refuses
// anything else.
func noBody(r *http.Request) error {
	data, err := httpx.ReadBody(r, httpx.MaxJSONBody, problem.BadRequest)
	if err != nil || len(data) == 0 {
		return err
	}
	var empty struct{}
	return httpx.Unmarshal(data, &empty)
}

func decode(r *http.Request, dst any) error {
	data, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		return err
	}
	return httpx.Unmarshal(data, dst)
}
