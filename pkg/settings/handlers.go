package settings

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
)

// Register serves GET, PUT and PATCH of /v1/orgs/{orgId}/settings/<name> for pol.
func (s *Service[T]) Register(api *httpx.API, pol auth.Policy) {
	path := "/v1/orgs/{orgId}/settings/" + s.area.Name
	api.Handle(http.MethodGet, path, pol, s.get)
	api.Handle(http.MethodPut, path, pol, s.put)
	api.Handle(http.MethodPatch, path, pol, s.patch)
}

// get answers with the stored document (or the defaults, version 0). The answer for a
// record already seen is reused from the representation cache (see repCache).
func (s *Service[T]) get(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("orgId")
	rec, err := s.store.Get(r.Context(), org, s.area.Name, Strong)
	if problem.Is(err, problem.NotFound) {
		// Never saved: the defaults at version 0, the same for every organisation.
		rec = Record{Data: nil}
		org = ""
	} else if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	cacheable := s.area.Warnings == nil
	if cacheable {
		if rep, etag, ok := s.reps.get(org, rec); ok {
			w.Header()["Etag"] = etag
			httpx.WriteRawJSON(w, http.StatusOK, rep)
			return
		}
	}
	cur, err := s.decode(rec)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if !cacheable {
		s.Write(w, r, http.StatusOK, cur)
		return
	}
	rep, err := s.representation(r.PathValue("orgId"), cur)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header()["Etag"] = s.reps.put(org, rec, rep)
	httpx.WriteRawJSON(w, http.StatusOK, rep)
}

func (s *Service[T]) put(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err == nil {
		body, err = s.stripReadOnly(body)
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.respond(w, r, "replace", func(T) (T, error) {
		next := s.area.Defaults()
		return next, httpx.Unmarshal(body, &next)
	})
}

func (s *Service[T]) patch(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadJSON(r, httpx.MediaMergePatch)
	if err == nil {
		body, err = s.stripReadOnly(body)
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	// The patch's own names must be the area's (exactly, as in a PUT): merging a wrongly
	// cased key, even with null, would otherwise change nothing and answer 200.
	var probe T
	if err := httpx.Unmarshal(body, &probe); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.respond(w, r, "patch", func(cur T) (T, error) {
		doc, err := json.Marshal(cur)
		if err != nil {
			return cur, err
		}
		merged, err := httpx.MergePatch(doc, body)
		if err != nil {
			return cur, err
		}
		next := s.area.Defaults()
		return next, httpx.Unmarshal(merged, &next)
	})
}

func (s *Service[T]) respond(w http.ResponseWriter, r *http.Request, action string, m Mutation[T]) {
	cur, err := s.Update(r.Context(), r.PathValue("orgId"), httpx.IfMatch(r), action, m)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.Write(w, r, http.StatusOK, cur)
}

// stripReadOnly removes the server-owned fields from a JSON object body: version,
// updatedAt, updatedBy, the warnings of an area that has them, and the area's ReadOnly
// fields (dotted paths reach into nested objects).
func (s *Service[T]) stripReadOnly(body []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := httpx.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	delete(m, "version")
	delete(m, "updatedAt")
	delete(m, "updatedBy")
	if s.area.Warnings != nil {
		delete(m, "warnings")
	}
	for _, k := range s.area.ReadOnly {
		stripField(m, k)
	}
	return json.Marshal(m)
}

// stripField deletes the dotted field path from the object m. A nested field is deleted
// only where its parents are objects; any other parent value is left for the decoder to
// judge. (The body's names and duplicate keys were checked when it was first decoded.)
func stripField(m map[string]json.RawMessage, path string) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		delete(m, head)
		return
	}
	var sub map[string]json.RawMessage
	if raw, ok := m[head]; !ok || json.Unmarshal(raw, &sub) != nil || sub == nil {
		return
	}
	stripField(sub, rest)
	if raw, err := json.Marshal(sub); err == nil {
		m[head] = raw
	}
}

// Write sends cur, the document of the path's organisation, as the area's JSON
// representation with its ETag.
func (s *Service[T]) Write(w http.ResponseWriter, r *http.Request, status int, cur Current[T]) {
	body, err := s.representation(r.PathValue("orgId"), cur)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header().Set("ETag", cur.ETag())
	httpx.WriteRawJSON(w, status, body)
}

// representation is the JSON a client sees: the read-only version, updatedAt and
// updatedBy, the document's fields (with the derived ones Present fills), and the area's
// warnings when there are any.
func (s *Service[T]) representation(org string, cur Current[T]) ([]byte, error) {
	if s.area.Present != nil {
		s.area.Present(org, &cur.Doc)
	}
	doc, err := json.Marshal(cur.Doc)
	if err != nil {
		return nil, err
	}
	type meta struct {
		Version   int64      `json:"version"`
		UpdatedAt *time.Time `json:"updatedAt"`
		UpdatedBy *string    `json:"updatedBy"`
	}
	m := meta{Version: cur.Version}
	if cur.Version > 0 {
		m.UpdatedAt, m.UpdatedBy = &cur.UpdatedAt, &cur.UpdatedBy
	}
	head, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(doc))
	out = append(out, head...)
	if len(doc) > 2 {
		out = append(append(out[:len(out)-1], ','), doc[1:]...)
	}
	if s.area.Warnings != nil {
		if ws := s.area.Warnings(cur.Doc, s.now()); len(ws) > 0 {
			wj, err := json.Marshal(ws)
			if err != nil {
				return nil, err
			}
			out = append(append(append(out[:len(out)-1], `,"warnings":`...), wj...), '}')
		}
	}
	return out, nil
}
