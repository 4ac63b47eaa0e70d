// Package tagsfn serves an organisation's tags and tag groups (functions/tags): list,
// create, change (JSON merge patch with If-Match) and delete, for callers whose role has
// the tags.manage permission.
package tagsfn

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/tags"
)

// Manage is who may use the routes, the read ones included: the tags.manage permission
// (API.md "Permissions and roles": admin, agent_manager, marketing).
var Manage = auth.Permission(auth.PermTagsManage)

// Function is the tags Lambda function.
var Function = app.Function{Name: "tags", Needs: app.Needs{Tags: app.Write, Roles: app.Read, Orgs: app.Read},
	HTTP: func(api *httpx.API, d app.Deps) { Register(api, NewService(d.Tags, d.Now)) }}

// Paths of the routes.
const (
	GroupsPath = "/v1/orgs/{orgId}/tag-groups"
	GroupPath  = "/v1/orgs/{orgId}/tag-groups/{groupId}"
	TagsPath   = "/v1/orgs/{orgId}/tags"
	TagPath    = "/v1/orgs/{orgId}/tags/{tagId}"
)

// GroupView is a tag group as clients see it.
type GroupView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// TagCount is how many tags the group holds (read-only; a group holding tags cannot
	// be deleted).
	TagCount  int       `json:"tagCount"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

// TagView is a tag as clients see it: groupId and color are null for none.
type TagView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	GroupID   *string   `json:"groupId"`
	AppliesTo string    `json:"appliesTo"`
	Color     *string   `json:"color"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

// GroupList and TagList are the answers of the list routes: every group, every tag the
// query selects, by name.
type (
	GroupList struct {
		Items []GroupView `json:"items"`
	}
	TagList struct {
		Items []TagView `json:"items"`
	}
)

// Server-owned members, ignored when a client sends them back.
var (
	groupReadOnly = []string{"id", "tagCount", "version", "createdAt", "updatedAt", "updatedBy"}
	tagReadOnly   = []string{"id", "version", "createdAt", "updatedAt", "updatedBy"}
)

func groupView(g tags.Group) GroupView {
	return GroupView{ID: g.ID, Name: g.Name, TagCount: g.Tags, Version: g.Version, CreatedAt: g.CreatedAt,
		UpdatedAt: g.UpdatedAt, UpdatedBy: g.UpdatedBy}
}

func tagView(t tags.Tag) TagView {
	f := tagFields(t)
	return TagView{ID: t.ID, Name: t.Name, GroupID: f.GroupID, AppliesTo: t.AppliesTo, Color: f.Color, Version: t.Version,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy}
}

func write(w http.ResponseWriter, r *http.Request, status int, version int64, location string, v any) {
	w.Header().Set("ETag", optimistic.ETag(version))
	if status == http.StatusCreated {
		w.Header().Set("Location", location)
	}
	httpx.WriteJSON(w, r, status, v)
}

// decode reads a create's body into dst.
func decode(r *http.Request, readOnly []string, dst any) error {
	body, err := httpx.ReadObject(r, []string{httpx.MediaJSON}, readOnly...)
	if err != nil {
		return err
	}
	return httpx.Unmarshal(body, dst)
}

// patchOf reads a merge patch and returns what applies it to a record's fields: T's
// JSON form merged with the patch, decoded strictly. The patch's own names are checked
// against T first (a wrongly cased key, even with null, would otherwise change nothing).
func patchOf[T any](r *http.Request, readOnly []string) (func(cur T) (T, error), error) {
	body, err := httpx.ReadObject(r, []string{httpx.MediaMergePatch}, readOnly...)
	if err == nil {
		var probe T
		err = httpx.Unmarshal(body, &probe)
	}
	if err != nil {
		return nil, err
	}
	return func(cur T) (T, error) {
		doc, err := json.Marshal(cur)
		if err != nil {
			return cur, err
		}
		merged, err := httpx.MergePatch(doc, body)
		if err != nil {
			return cur, err
		}
		var next T
		return next, httpx.Unmarshal(merged, &next)
	}, nil
}

// parseFilter reads ?groupId=&appliesTo=: a value that cannot be one is a 400 naming it.
func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{GroupID: q.Get("groupId"), AppliesTo: q.Get("appliesTo")}
	var bad problem.Fields
	if q.Has("groupId") && !ids.Valid(f.GroupID) {
		bad.Add("groupId", "must be a tag group id")
	}
	if q.Has("appliesTo") && !slices.Contains(tags.AppliesTo, f.AppliesTo) {
		bad.Add("appliesTo", "must be users, chats or both")
	}
	if err := bad.Err(); err != nil {
		pe := err.(*problem.Error)
		pe.Code, pe.Message = problem.BadRequest, "invalid query"
		return f, pe
	}
	return f, nil
}

// Register serves the tag and tag group routes through svc.
func Register(api *httpx.API, svc *Service) {
	org := func(r *http.Request) string { return r.PathValue("orgId") }

	api.Handle(http.MethodGet, GroupsPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		gs, err := svc.Groups(r.Context(), org(r))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out := GroupList{Items: make([]GroupView, 0, len(gs))}
		for _, g := range gs {
			out.Items = append(out.Items, groupView(g))
		}
		httpx.WriteJSON(w, r, http.StatusOK, out)
	})
	api.Handle(http.MethodPost, GroupsPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		var f GroupFields
		err := decode(r, groupReadOnly, &f)
		var g tags.Group
		if err == nil {
			g, err = svc.CreateGroup(r.Context(), org(r), f)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusCreated, g.Version, "/v1/orgs/"+g.OrgID+"/tag-groups/"+g.ID, groupView(g))
	})
	api.Handle(http.MethodPatch, GroupPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		apply, err := patchOf[GroupFields](r, groupReadOnly)
		var g tags.Group
		if err == nil {
			g, err = svc.UpdateGroup(r.Context(), org(r), r.PathValue("groupId"), httpx.IfMatch(r), GroupMutation(apply))
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusOK, g.Version, "", groupView(g))
	})
	api.Handle(http.MethodDelete, GroupPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeleteGroup(r.Context(), org(r), r.PathValue("groupId"), httpx.IfMatch(r)); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	api.Handle(http.MethodGet, TagsPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		f, err := parseFilter(r)
		var ts []tags.Tag
		if err == nil {
			ts, err = svc.Tags(r.Context(), org(r), f)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out := TagList{Items: make([]TagView, 0, len(ts))}
		for _, t := range ts {
			out.Items = append(out.Items, tagView(t))
		}
		httpx.WriteJSON(w, r, http.StatusOK, out)
	})
	api.Handle(http.MethodPost, TagsPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		var f TagFields
		err := decode(r, tagReadOnly, &f)
		var t tags.Tag
		if err == nil {
			t, err = svc.CreateTag(r.Context(), org(r), f)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusCreated, t.Version, "/v1/orgs/"+t.OrgID+"/tags/"+t.ID, tagView(t))
	})
	api.Handle(http.MethodPatch, TagPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		apply, err := patchOf[TagFields](r, tagReadOnly)
		var t tags.Tag
		if err == nil {
			t, err = svc.UpdateTag(r.Context(), org(r), r.PathValue("tagId"), httpx.IfMatch(r), TagMutation(apply))
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		write(w, r, http.StatusOK, t.Version, "", tagView(t))
	})
	api.Handle(http.MethodDelete, TagPath, Manage, func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeleteTag(r.Context(), org(r), r.PathValue("tagId"), httpx.IfMatch(r)); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
