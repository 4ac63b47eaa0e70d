package settings

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
)

// Register serves GET, PUT and PATCH of /v1/orgs/{orgId}/settings/<name> for pol.
func (s *Service[T]) Register(api *httpx.API, pol auth.Policy) {
	if s.orgs == nil {
		// The tree the HTTP front reads: a write then checks the descendants it affects.
		s.orgs = api.Orgs()
	}
	path := "/v1/orgs/{orgId}/settings/" + s.area.Name
	api.Handle(http.MethodGet, path, pol, s.get)
	api.Handle(http.MethodPut, path, pol, s.put)
	api.Handle(http.MethodPatch, path, pol, s.patch)
}

// get answers with the document in effect (the defaults, version 0, when the path never
// saved the area). The answer for records already seen is reused from the representation
// cache (see repCache).
func (s *Service[T]) get(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("orgId")
	recs, err := s.records(r.Context(), org, Strong)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	cacheable := s.area.Warnings == nil
	if cacheable {
		if rep, etag, ok := s.reps.get(org, recs); ok {
			w.Header()["Etag"] = etag
			httpx.WriteRawJSON(w, http.StatusOK, rep)
			return
		}
	}
	cur, err := s.current(recs)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if !cacheable {
		s.Write(w, r, http.StatusOK, cur)
		return
	}
	rep, err := s.representation(org, cur)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header()["Etag"] = s.reps.put(org, recs, rep, cur.ETag())
	httpx.WriteRawJSON(w, http.StatusOK, rep)
}

func (s *Service[T]) put(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.respond(w, r)(s.Put(r.Context(), r.PathValue("orgId"), httpx.IfMatch(r), body))
}

func (s *Service[T]) patch(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadJSON(r, httpx.MediaMergePatch)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.respond(w, r)(s.Patch(r.Context(), r.PathValue("orgId"), httpx.IfMatch(r), body))
}

// Put replaces orgID's document with body (a JSON object, as a PUT sends it): the fields
// it sends are overridden and the others return to inheriting (for a root: to their
// defaults); server-owned fields keep what they are; locked, when sent, replaces the
// organisation's locked fields. ifMatch is as for Update. It is audited as "replace".
func (s *Service[T]) Put(ctx context.Context, orgID, ifMatch string, body []byte) (Current[T], error) {
	fields, locked, setLocked, err := s.strip(body)
	if err != nil {
		return Current[T]{}, err
	}
	return s.update(ctx, orgID, ifMatch, "replace", func(cur Current[T]) (edit[T], error) {
		e := edit[T]{doc: s.area.Defaults(), set: map[string]bool{}, unset: map[string]bool{}, locked: locked, setLocked: setLocked}
		if err := unmarshalFields(fields, &e.doc); err != nil {
			return e, err
		}
		for k := range s.fields() {
			switch _, sent := fields[k]; {
			case sent:
				e.set[k] = true
			case !slices.Contains(s.area.ReadOnly, k):
				e.unset[k] = true
			}
		}
		return e, nil
	}, true)
}

// Patch applies body, an RFC 7396 merge patch, to orgID's document in effect: a field with
// a value is overridden (an object merged into the value in effect), a field with null
// returns to inheriting (for a root: to its default); locked, when sent, replaces the
// organisation's locked fields (null: none). It is audited as "patch".
func (s *Service[T]) Patch(ctx context.Context, orgID, ifMatch string, body []byte) (Current[T], error) {
	fields, locked, setLocked, err := s.strip(body)
	if err != nil {
		return Current[T]{}, err
	}
	// The patch's own names must be the area's (exactly, as in a PUT): merging a wrongly
	// cased key, even with null, would otherwise change nothing and answer 200.
	var probe T
	if err := unmarshalFields(fields, &probe); err != nil {
		return Current[T]{}, err
	}
	values := map[string]json.RawMessage{}
	e0 := edit[T]{set: map[string]bool{}, unset: map[string]bool{}, locked: locked, setLocked: setLocked}
	for k, v := range fields {
		if string(compact(v)) == "null" {
			e0.unset[k] = true
			continue
		}
		values[k] = v
		e0.set[k] = true
	}
	patch, err := json.Marshal(values)
	if err != nil {
		return Current[T]{}, err
	}
	return s.update(ctx, orgID, ifMatch, "patch", func(cur Current[T]) (edit[T], error) {
		e := e0
		doc, err := json.Marshal(cur.Doc)
		if err != nil {
			return e, err
		}
		merged, err := httpx.MergePatch(doc, patch)
		if err != nil {
			return e, err
		}
		e.doc = s.area.Defaults()
		return e, httpx.Unmarshal(merged, &e.doc)
	}, true)
}

// unmarshalFields decodes top-level fields into doc, strictly (exact names, no unknown
// fields).
func unmarshalFields[T any](fields map[string]json.RawMessage, doc *T) error {
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return httpx.Unmarshal(data, doc)
}

// respond answers a write with the document then in effect, or the error.
func (s *Service[T]) respond(w http.ResponseWriter, r *http.Request) func(Current[T], error) {
	return func(cur Current[T], err error) {
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		s.Write(w, r, http.StatusOK, cur)
	}
}

// strip takes a JSON object body apart: the area's fields (the server-owned ones
// removed: version, updatedAt, updatedBy, sources, lockedBy, the warnings of an area that
// has them, and the area's ReadOnly fields, dotted paths reaching into nested objects)
// and the locked list, when sent (null: none).
func (s *Service[T]) strip(body []byte) (map[string]json.RawMessage, []string, bool, error) {
	var m map[string]json.RawMessage
	if err := httpx.Unmarshal(body, &m); err != nil {
		return nil, nil, false, err
	}
	for _, k := range []string{"version", "updatedAt", "updatedBy", "sources", "lockedBy"} {
		delete(m, k)
	}
	if s.area.Warnings != nil {
		delete(m, "warnings")
	}
	for _, k := range s.area.ReadOnly {
		stripField(m, k)
	}
	raw, setLocked := m["locked"]
	delete(m, "locked")
	var locked []string
	if setLocked {
		if err := json.Unmarshal(raw, &locked); err != nil {
			return nil, nil, false, &problem.Error{Code: problem.BadRequest, Message: "invalid body",
				Fields: []problem.FieldError{{Field: "locked", Message: "must be an array of field names or null"}}}
		}
		if locked == nil {
			locked = []string{}
		}
	}
	return m, locked, setLocked, nil
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
		Version   int64             `json:"version"`
		UpdatedAt *time.Time        `json:"updatedAt"`
		UpdatedBy *string           `json:"updatedBy"`
		Locked    []string          `json:"locked"`
		Sources   map[string]string `json:"sources"`
		LockedBy  map[string]string `json:"lockedBy"`
	}
	m := meta{Version: cur.Version, Locked: cur.Locked, Sources: cur.Sources, LockedBy: cur.LockedBy}
	if m.Locked == nil {
		m.Locked = []string{}
	}
	if m.Sources == nil {
		m.Sources = map[string]string{}
	}
	if m.LockedBy == nil {
		m.LockedBy = map[string]string{}
	}
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
