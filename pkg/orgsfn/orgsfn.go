// Package orgsfn serves the organisation tree (functions/orgs; API.md "Organisations and
// inheritance"): an organisation (GET /v1/orgs/{orgId}, any role of an organisation that
// sees it), its descendants (GET .../suborgs, paged, any role), the create of a
// sub-organisation (POST .../suborgs, suborgs.manage) and the soft delete of a leaf by a
// caller of one of its ancestors (DELETE /v1/orgs/{orgId}, suborgs.manage). Who sees
// which organisation is the HTTP front's (httpx.API.guard), which also hands the
// handlers the organisation's record, so reading one costs nothing more.
package orgsfn

import (
	"net/http"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// Manage is who may create and delete sub-organisations: the suborgs.manage permission
// (admin and client_manager among the predefined roles).
var Manage = auth.Permission(auth.PermSuborgsManage)

// Function is the orgs Lambda function.
var Function = app.Function{Name: "orgs", Needs: app.Needs{Orgs: app.Write, Roles: app.Read, Cursors: true},
	HTTP: func(api *httpx.API, d app.Deps) { Register(api, NewService(d.Orgs, d.Now), d.Cursors) }}

// Paths of the routes.
const (
	OrgPath     = "/v1/orgs/{orgId}"
	SuborgsPath = "/v1/orgs/{orgId}/suborgs"
)

// cursorScope is the list scope of the descendants' cursors (audit.Cursors.Seal).
const cursorScope = "orgs/descendants"

// View is an organisation as clients see it. A root answers with parentId and createdAt
// null, its id as its name and itself as its path.
type View struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	ParentID  *string    `json:"parentId"`
	Path      []string   `json:"path"`
	CreatedAt *time.Time `json:"createdAt"`
}

// List is a page of descendants.
type List struct {
	Items      []View `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func view(o orgs.Org) View {
	v := View{ID: o.ID, Name: o.Name, Path: append([]string{}, o.Path...)}
	if o.ParentID != "" {
		parent, created := o.ParentID, o.CreatedAt.UTC()
		v.ParentID, v.CreatedAt = &parent, &created
	}
	if v.Name == "" {
		v.Name = o.ID // a root has no record, so no name but its id
	}
	return v
}

// Register serves the tree's routes through svc, with list cursors sealed by cursors.
func Register(api *httpx.API, svc *Service, cursors audit.Cursors) {
	api.Handle(http.MethodGet, OrgPath, auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		o, err := svc.Org(r.Context(), r.PathValue("orgId"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, view(o))
	})
	api.Handle(http.MethodDelete, OrgPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Delete(r.Context(), r.PathValue("orgId")); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	api.Handle(http.MethodPost, SuborgsPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadJSON(r, httpx.MediaJSON)
		var in Input
		if err == nil {
			err = httpx.Unmarshal(body, &in)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		o, err := svc.Create(r.Context(), r.PathValue("orgId"), in)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/orgs/"+o.ID)
		httpx.WriteJSON(w, r, http.StatusCreated, view(o))
	})
	api.Handle(http.MethodGet, SuborgsPath, auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("orgId")
		limit, after, err := pageQuery(r, org, cursors)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		page, err := svc.Descendants(r.Context(), org, after, limit)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out := List{Items: make([]View, 0, len(page.Orgs))}
		for _, o := range page.Orgs {
			out.Items = append(out.Items, view(o))
		}
		if page.Next != "" {
			out.NextCursor = cursors.Seal(org, cursorScope, page.Next)
		}
		httpx.WriteJSON(w, r, http.StatusOK, out)
	})
}

// pageQuery reads ?limit=&cursor= of the descendants list: a limit that is not an
// integer, a parameter given twice or a cursor not issued for this list is a 400; a
// well-formed limit out of 1-100 is a 422, as for bodies.
func pageQuery(r *http.Request, org string, cursors audit.Cursors) (limit int, after string, err error) {
	v := r.URL.Query()
	var malformed problem.Fields
	for _, k := range []string{"limit", "cursor"} {
		if len(v[k]) > 1 {
			malformed.Add(k, "must be given at most once")
		}
	}
	limit = orgs.DefaultLimit
	if v.Has("limit") && len(v["limit"]) == 1 {
		n, err := strconv.Atoi(v.Get("limit"))
		switch {
		case err != nil:
			malformed.Add("limit", "must be an integer between 1 and %d", orgs.MaxLimit)
		case n < 1 || n > orgs.MaxLimit:
			if malformed.Len() == 0 {
				return 0, "", &problem.Error{Code: problem.Invalid, Message: "invalid query",
					Fields: []problem.FieldError{{Field: "limit", Message: "must be between 1 and 100"}}}
			}
		default:
			limit = n
		}
	}
	if err := malformed.Err(); err != nil {
		pe := err.(*problem.Error)
		pe.Code, pe.Message = problem.BadRequest, "invalid query"
		return 0, "", pe
	}
	if v.Has("cursor") {
		if after, err = cursors.Open(org, cursorScope, v.Get("cursor")); err != nil {
			return 0, "", err
		}
		if !ids.Valid(after) {
			return 0, "", &problem.Error{Code: problem.BadRequest, Message: "invalid query",
				Fields: []problem.FieldError{{Field: "cursor", Message: "is not a cursor of this listing"}}}
		}
	}
	return limit, after, nil
}
