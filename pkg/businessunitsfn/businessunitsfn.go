// Package businessunitsfn serves an organisation's business units (functions/
// business-units): list, create, read, change (JSON merge patch with If-Match) and
// delete, for callers whose role has the business-units.manage permission.
package businessunitsfn

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/optimistic"
)

// Manage is who may use the routes, the read ones included: the business-units.manage
// permission (API.md "Permissions and roles").
var Manage = auth.Permission(auth.PermBusinessUnitsManage)

// Function is the business-units Lambda function.
var Function = app.Function{Name: "business-units", Needs: app.Needs{BusinessUnits: app.Write, Roles: app.Read, Orgs: app.Read, Agents: app.Read},
	HTTP: func(api *httpx.API, d app.Deps) {
		// A refused delete lists the unit's agents (a search of the organisation's agents).
		Register(api, NewService(d.BusinessUnits, agents.Members{Store: d.Agents}, d.Now))
	}}

// Paths of the routes.
const (
	ListPath = "/v1/orgs/{orgId}/business-units"
	UnitPath = "/v1/orgs/{orgId}/business-units/{businessUnitId}"
)

// View is a business unit as clients see it.
type View struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	ChatbotIDs []string `json:"chatbotIds"`
	// AgentCount is how many agents belong to the unit (read-only; a unit with agents
	// cannot be deleted).
	AgentCount int       `json:"agentCount"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	UpdatedBy  string    `json:"updatedBy"`
}

// List is the answer of the list route: every unit of the organisation, by name.
type List struct {
	Items []View `json:"items"`
}

// readOnly are the server-owned members of View, ignored when a client sends them back.
var readOnly = []string{"id", "agentCount", "version", "createdAt", "updatedAt", "updatedBy"}

func view(u businessunits.Unit) View {
	return View{ID: u.ID, Name: u.Name, ChatbotIDs: append([]string{}, u.ChatbotIDs...), AgentCount: u.Members,
		Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, UpdatedBy: u.UpdatedBy}
}

func write(w http.ResponseWriter, r *http.Request, status int, u businessunits.Unit) {
	w.Header().Set("ETag", optimistic.ETag(u.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", "/v1/orgs/"+u.OrgID+"/business-units/"+u.ID)
	}
	httpx.WriteJSON(w, r, status, view(u))
}

// Register serves the business unit routes through svc.
func Register(api *httpx.API, svc *Service) {
	api.Handle(http.MethodGet, ListPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		units, err := svc.List(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out := List{Items: make([]View, 0, len(units))}
		for _, u := range units {
			out.Items = append(out.Items, view(u))
		}
		httpx.WriteJSON(w, r, http.StatusOK, out)
	})
	api.Handle(http.MethodPost, ListPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadObject(r, []string{httpx.MediaJSON}, readOnly...)
		var f Fields
		if err == nil {
			err = httpx.Unmarshal(body, &f)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		u, err := svc.Create(r.Context(), r.PathValue("orgId"), f)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusCreated, u)
	})
	api.Handle(http.MethodGet, UnitPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		u, err := svc.Get(r.Context(), r.PathValue("orgId"), r.PathValue("businessUnitId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusOK, u)
	})
	api.Handle(http.MethodPatch, UnitPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadObject(r, []string{httpx.MediaMergePatch}, readOnly...)
		if err == nil {
			// The patch's own names must be the unit's, exactly: merging a wrongly cased
			// key, even with null, would otherwise change nothing and answer 200.
			var probe Fields
			err = httpx.Unmarshal(body, &probe)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		u, err := svc.Update(r.Context(), r.PathValue("orgId"), r.PathValue("businessUnitId"), httpx.IfMatch(r),
			func(cur Fields) (Fields, error) {
				doc, err := json.Marshal(cur)
				if err != nil {
					return cur, err
				}
				merged, err := httpx.MergePatch(doc, body)
				if err != nil {
					return cur, err
				}
				var next Fields
				return next, httpx.Unmarshal(merged, &next)
			})
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusOK, u)
	})
	api.Handle(http.MethodDelete, UnitPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Delete(r.Context(), r.PathValue("orgId"), r.PathValue("businessUnitId"), httpx.IfMatch(r)); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
