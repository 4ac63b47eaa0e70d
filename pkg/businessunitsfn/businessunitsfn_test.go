package businessunitsfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/businessunitsfn"
	"github.com/convrs/admin/pkg/httpx"
)

const base = "/v1/orgs/acme/business-units"

type unitView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ChatbotIDs []string  `json:"chatbotIds"`
	AgentCount int       `json:"agentCount"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	UpdatedBy  string    `json:"updatedBy"`
}

func decode[T any](t *testing.T, r apitest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not the expected JSON: %v\n%s", err, r.Body)
	}
	return v
}

func create(t *testing.T, s *apitest.Server, body string) unitView {
	t.Helper()
	r := s.Admin(http.MethodPost, base, []byte(body)).Expect(t, http.StatusCreated)
	return decode[unitView](t, r)
}

func patch(s *apitest.Server, id, body string, header ...string) apitest.Response {
	return s.Admin(http.MethodPatch, base+"/"+id, []byte(body), append([]string{"Content-Type", httpx.MediaMergePatch}, header...)...)
}

func TestCreateReadList(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodPost, base, []byte(`{"name":"  Sales EMEA\u200b ","chatbotIds":["bot_1","bot-2"]}`)).Expect(t, http.StatusCreated)
	u := decode[unitView](t, r)
	if !strings.HasPrefix(u.ID, "bu_") || u.Name != "Sales EMEA" || !slices.Equal(u.ChatbotIDs, []string{"bot_1", "bot-2"}) ||
		u.Version != 1 || u.AgentCount != 0 || u.UpdatedBy != "admin@acme" || !u.CreatedAt.Equal(s.Now) || !u.UpdatedAt.Equal(s.Now) {
		t.Errorf("created: %+v", u)
	}
	if got := r.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag %s, want \"1\"", got)
	}
	if got := r.Header.Get("Location"); got != base+"/"+u.ID {
		t.Errorf("Location %q, want %q", got, base+"/"+u.ID)
	}
	g := s.Admin(http.MethodGet, base+"/"+u.ID, nil).Expect(t, http.StatusOK)
	if got := decode[unitView](t, g); got.ID != u.ID || got.Name != u.Name || got.Version != 1 || g.Header.Get("ETag") != `"1"` {
		t.Errorf("GET: %s (ETag %s)", g.Body, g.Header.Get("ETag"))
	}
	// Without chatbotIds: an empty list.
	create(t, s, `{"name":"beta"}`)
	create(t, s, `{"name":"Alpha","chatbotIds":null}`)
	create(t, s, `{"name":"Émile"}`)
	list := decode[struct{ Items []unitView }](t, s.Admin(http.MethodGet, base, nil).Expect(t, http.StatusOK))
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Name)
		if it.ChatbotIDs == nil {
			t.Errorf("%s: chatbotIds is null, want a list", it.Name)
		}
	}
	if want := []string{"Alpha", "beta", "Sales EMEA", "Émile"}; !slices.Equal(names, want) {
		t.Errorf("list order %q, want %q (by name, case-insensitively)", names, want)
	}
	// An organisation without units lists none (not null).
	if body := string(s.As("globex", auth.RoleAdmin, http.MethodGet, "/v1/orgs/globex/business-units", nil).Expect(t, http.StatusOK).Body); body != `{"items":[]}` {
		t.Errorf("empty list: %s", body)
	}
	// Read-only fields sent back are ignored.
	echo := create(t, s, `{"id":"bu_mine","name":"Echo","agentCount":7,"version":9,"createdAt":"2020-01-01T00:00:00Z","updatedAt":null,"updatedBy":"me"}`)
	if echo.ID == "bu_mine" || echo.AgentCount != 0 || echo.Version != 1 || echo.UpdatedBy != "admin@acme" {
		t.Errorf("read-only fields were taken: %+v", echo)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	many := make([]string, businessunits.MaxChatbots+1)
	for i := range many {
		many[i] = fmt.Sprintf("bot_%d", i)
	}
	manyJSON, _ := json.Marshal(many)
	for _, tc := range []struct {
		name, body string
		want       map[string]string
	}{
		{"no name", `{}`, map[string]string{"name": "is required"}},
		{"empty name", `{"name":""}`, map[string]string{"name": "is required"}},
		{"blank name", `{"name":" \u200b\u3164 "}`, map[string]string{"name": "is required"}},
		{"101 characters", `{"name":"` + strings.Repeat("é", 101) + `"}`, map[string]string{"name": "must be at most 100 characters"}},
		{"control character", `{"name":"Sa\u0007les"}`, map[string]string{"name": "must not contain control characters"}},
		{"newline", `{"name":"Sa\nles"}`, map[string]string{"name": "must not contain control characters"}},
		{"bidi override", `{"name":"Sales\u202e"}`, map[string]string{"name": "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"}},
		{"too many chatbots", `{"name":"A","chatbotIds":` + string(manyJSON) + `}`, map[string]string{"chatbotIds": "must hold at most 50 chatbot ids"}},
		{"bad and repeated chatbot ids", `{"name":"A","chatbotIds":["bot_1","bot 2","bot_1",""]}`, map[string]string{
			"chatbotIds[1]": "must be a chatbot id: 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit",
			"chatbotIds[2]": "repeats chatbotIds[0]",
			"chatbotIds[3]": "must be a chatbot id: 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit"}},
		{"every field at once", `{"name":"","chatbotIds":["-x"]}`, map[string]string{"name": "is required",
			"chatbotIds[0]": "must be a chatbot id: 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Admin(http.MethodPost, base, []byte(tc.body)).Expect(t, http.StatusUnprocessableEntity)
			if got := r.FieldErrors(t); !mapsEqual(got, tc.want) {
				t.Errorf("errors %v, want %v", got, tc.want)
			}
		})
	}
	// 100 characters (not bytes) is fine.
	create(t, s, `{"name":"`+strings.Repeat("日", 100)+`"}`)

	for _, tc := range []struct {
		name, body, ct string
		status         int
		field          string
	}{
		{"unknown field", `{"name":"A","colour":"red"}`, "", http.StatusBadRequest, "colour"},
		{"wrongly cased field", `{"Name":"A"}`, "", http.StatusBadRequest, "Name"},
		{"wrong type", `{"name":5}`, "", http.StatusBadRequest, "name"},
		{"chatbot id not a string", `{"name":"A","chatbotIds":[1]}`, "", http.StatusBadRequest, "chatbotIds"},
		{"duplicate key", `{"name":"A","name":"B"}`, "", http.StatusBadRequest, ""},
		{"not an object", `["A"]`, "", http.StatusBadRequest, ""},
		{"malformed", `{"name":`, "", http.StatusBadRequest, ""},
		{"over 64 KiB", `{"name":"` + strings.Repeat("a", 70000) + `"}`, "", http.StatusBadRequest, ""},
		{"media type", `{"name":"A"}`, "text/plain", http.StatusUnsupportedMediaType, ""},
		{"merge patch is not a create", `{"name":"A"}`, httpx.MediaMergePatch, http.StatusUnsupportedMediaType, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.ct != "" {
				h = []string{"Content-Type", tc.ct}
			}
			r := s.Admin(http.MethodPost, base, []byte(tc.body), h...).Expect(t, tc.status)
			if tc.field != "" {
				if _, ok := r.FieldErrors(t)[tc.field]; !ok {
					t.Errorf("no error on %s: %s", tc.field, r.Body)
				}
			}
		})
	}
	if n := len(decode[struct{ Items []unitView }](t, s.Admin(http.MethodGet, base, nil)).Items); n != 1 {
		t.Errorf("%d units stored, want only the valid one", n)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNamesUniqueCaseInsensitively(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	sales := create(t, s, `{"name":"Sales"}`)
	support := create(t, s, `{"name":"Straße"}`)
	for _, name := range []string{"sales", " SALES ", "sAlEs\u200b", "STRASSE", "strasse"} {
		body, _ := json.Marshal(map[string]string{"name": name})
		r := s.Admin(http.MethodPost, base, body).Expect(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "exists already") {
			t.Errorf("%q: %s", name, r.Body)
		}
	}
	// Renaming onto another unit's name is refused; a change of case is not.
	patch(s, sales.ID, `{"name":"strasse"}`).Expect(t, http.StatusConflict)
	r := patch(s, sales.ID, `{"name":"SALES"}`).Expect(t, http.StatusOK)
	if got := decode[unitView](t, r); got.Name != "SALES" || got.Version != 2 {
		t.Errorf("after a change of case: %+v", got)
	}
	// Another organisation has names of its own.
	s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/business-units", []byte(`{"name":"sales"}`)).Expect(t, http.StatusCreated)
	// A deleted unit's name is free again.
	s.Admin(http.MethodDelete, base+"/"+support.ID, nil).Expect(t, http.StatusNoContent)
	create(t, s, `{"name":"strasse"}`)
}

func TestRacingCreatesOne201(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"Retail", "retail", "RETAIL", " Retail "}[i%4]
			body, _ := json.Marshal(map[string]string{"name": name})
			statuses[i] = s.Admin(http.MethodPost, base, body).Status
		}()
	}
	wg.Wait()
	slices.Sort(statuses)
	want := append([]int{http.StatusCreated}, slices.Repeat([]int{http.StatusConflict}, n-1)...)
	if !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want one 201 and %d 409s", statuses, n-1)
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	u := create(t, s, `{"name":"Sales","chatbotIds":["bot_1"]}`)
	r := patch(s, u.ID, `{"chatbotIds":["bot_1","bot_2"]}`, "If-Match", `"1"`).Expect(t, http.StatusOK)
	got := decode[unitView](t, r)
	if got.Name != "Sales" || !slices.Equal(got.ChatbotIDs, []string{"bot_1", "bot_2"}) || got.Version != 2 || r.Header.Get("ETag") != `"2"` {
		t.Errorf("after PATCH: %+v, ETag %s", got, r.Header.Get("ETag"))
	}
	// A stale If-Match is a 412 and changes nothing.
	r = patch(s, u.ID, `{"name":"Stale"}`, "If-Match", `"1"`).Expect(t, http.StatusPreconditionFailed)
	if !strings.Contains(string(r.Body), `If-Match \"1\" does not match the current version \"2\"`) {
		t.Errorf("412: %s", r.Body)
	}
	// A list of tags, one of them current, and "*" match.
	patch(s, u.ID, `{"name":"Sales 3"}`, "If-Match", `"1", "2"`).Expect(t, http.StatusOK)
	patch(s, u.ID, `{"name":"Sales 4"}`, "If-Match", `*`).Expect(t, http.StatusOK)
	// Without If-Match the change applies to whatever is stored.
	r = patch(s, u.ID, `{"chatbotIds":null}`).Expect(t, http.StatusOK)
	if got := decode[unitView](t, r); len(got.ChatbotIDs) != 0 || got.ChatbotIDs == nil || got.Version != 5 || got.Name != "Sales 4" {
		t.Errorf("null chatbotIds: %+v, want an empty list at version 5", got)
	}
	// A patch that changes nothing stores nothing.
	r = patch(s, u.ID, `{"name":"Sales 4"}`).Expect(t, http.StatusOK)
	if r.Header.Get("ETag") != `"5"` {
		t.Errorf("a no-op patch moved the version: ETag %s", r.Header.Get("ETag"))
	}
	// Read-only fields are ignored; everything else is checked as in a create.
	patch(s, u.ID, `{"id":"x","version":1,"agentCount":3,"updatedAt":"2020-01-01T00:00:00Z"}`).Expect(t, http.StatusOK)
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"name":null}`, http.StatusUnprocessableEntity, "name"},
		{`{"name":"` + strings.Repeat("x", 101) + `"}`, http.StatusUnprocessableEntity, "name"},
		{`{"chatbotIds":["a b"]}`, http.StatusUnprocessableEntity, "chatbotIds[0]"},
		{`{"Name":null}`, http.StatusBadRequest, "Name"},
		{`{"owner":"x"}`, http.StatusBadRequest, "owner"},
		{`{"name":["x"]}`, http.StatusBadRequest, "name"},
	} {
		r := patch(s, u.ID, tc.body).Expect(t, tc.status)
		if _, ok := r.FieldErrors(t)[tc.field]; !ok {
			t.Errorf("%s: no error on %s: %s", tc.body, tc.field, r.Body)
		}
	}
	s.Admin(http.MethodPatch, base+"/"+u.ID, []byte(`{"name":"X"}`)).Expect(t, http.StatusUnsupportedMediaType)
	patch(s, "bu_nope", `{"name":"X"}`).Expect(t, http.StatusNotFound)
	patch(s, "bad%20id", `{"name":"X"}`).Expect(t, http.StatusNotFound)
	if got := decode[unitView](t, s.Admin(http.MethodGet, base+"/"+u.ID, nil)); got.Version != 5 || got.Name != "Sales 4" {
		t.Errorf("after refused patches: %+v", got)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	u := create(t, s, `{"name":"Sales"}`)
	s.Admin(http.MethodDelete, base+"/"+u.ID, nil, "If-Match", `"2"`).Expect(t, http.StatusPreconditionFailed)
	r := s.Admin(http.MethodDelete, base+"/"+u.ID, nil, "If-Match", `"1"`).Expect(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	s.Admin(http.MethodGet, base+"/"+u.ID, nil).Expect(t, http.StatusNotFound)
	s.Admin(http.MethodDelete, base+"/"+u.ID, nil).Expect(t, http.StatusNotFound)
}

// membersStore is the embedded store with agents in some units, as the agents store
// will count them, and membersOf lists them.
type membersStore struct {
	businessunits.Store
	agents map[string][]string
}

func (m membersStore) Get(ctx context.Context, org, id string) (businessunits.Unit, bool, error) {
	u, found, err := m.Store.Get(ctx, org, id)
	u.Members = len(m.agents[id])
	return u, found, err
}

func (m membersStore) BusinessUnitMembers(_ context.Context, _, id string, limit int) ([]string, error) {
	a := m.agents[id]
	return a[:min(len(a), limit)], nil
}

func TestDeleteRefusedWhileAgentsBelong(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	u := create(t, s, `{"name":"Sales"}`)
	store := membersStore{Store: s.Deps.BusinessUnits, agents: map[string][]string{u.ID: {"agt_1", "agt_2"}}}
	for _, tc := range []struct {
		name    string
		members businessunits.Members
		want    []any
	}{
		{"with the agents listed", store, []any{"agt_1", "agt_2"}},
		{"before agents exist (no lister)", nil, []any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := httpx.New(s.Keys, nil)
			businessunitsfn.Register(api, businessunitsfn.NewService(store, tc.members, nil))
			req := httptest.NewRequest(http.MethodDelete, base+"/"+u.ID, nil)
			req.Header.Set("Authorization", "Bearer "+s.Token("acme", auth.RoleAdmin))
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != http.StatusConflict {
				t.Fatalf("status %d, want 409: %s", rec.Code, rec.Body)
			}
			var p httpx.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if got, _ := p.Extensions["agents"].([]any); !slices.Equal(got, tc.want) {
				t.Errorf("agents %v, want %v", p.Extensions["agents"], tc.want)
			}
			if p.Detail != `2 agents belong to business unit "Sales"; move them to another unit first` {
				t.Errorf("detail %q", p.Detail)
			}
		})
	}
	s.Admin(http.MethodGet, base+"/"+u.ID, nil).Expect(t, http.StatusOK)
}

type auditPage struct {
	Items []struct {
		Area, Action, Actor string
		Changes             []struct {
			Field    string
			From, To json.RawMessage
		}
	}
}

func TestAudited(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	u := create(t, s, `{"name":"Sales","chatbotIds":["bot_1"]}`)
	patch(s, u.ID, `{"name":"Sales EMEA"}`).Expect(t, http.StatusOK)
	s.Admin(http.MethodDelete, base+"/"+u.ID, nil).Expect(t, http.StatusNoContent)
	s.Admin(http.MethodPost, base, []byte(`{"name":""}`)).Expect(t, http.StatusUnprocessableEntity) // refused: no entry
	page := decode[auditPage](t, s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=business-units", nil).Expect(t, http.StatusOK))
	type change struct{ field, from, to string }
	want := []struct {
		action  string
		changes []change
	}{
		{"delete", []change{{u.ID + ".chatbotIds", `["bot_1"]`, `null`}, {u.ID + ".name", `"Sales EMEA"`, `null`}}},
		{"patch", []change{{u.ID + ".name", `"Sales"`, `"Sales EMEA"`}}},
		{"create", []change{{u.ID + ".chatbotIds", `null`, `["bot_1"]`}, {u.ID + ".name", `null`, `"Sales"`}}},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("audit: %d entries, want %d", len(page.Items), len(want))
	}
	for i, w := range want {
		e := page.Items[i]
		if e.Area != "business-units" || e.Action != w.action || e.Actor != "admin@acme" || len(e.Changes) != len(w.changes) {
			t.Errorf("entry %d: %+v, want %s", i, e, w.action)
			continue
		}
		for j, c := range w.changes {
			if got := e.Changes[j]; got.Field != c.field || string(got.From) != c.from || string(got.To) != c.to {
				t.Errorf("entry %d change %d: %s %s -> %s, want %s %s -> %s", i, j, got.Field, got.From, got.To, c.field, c.from, c.to)
			}
		}
	}
}

func TestOtherOrganisation404(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	theirs := decode[unitView](t, s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/business-units", []byte(`{"name":"Theirs"}`)).
		Expect(t, http.StatusCreated))
	// Another organisation's path: 404, whatever the route.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/v1/orgs/globex/business-units", ""},
		{http.MethodPost, "/v1/orgs/globex/business-units", `{"name":"Mine"}`},
		{http.MethodGet, "/v1/orgs/globex/business-units/" + theirs.ID, ""},
		{http.MethodDelete, "/v1/orgs/globex/business-units/" + theirs.ID, ""},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		s.Admin(c.method, c.path, body).Expect(t, http.StatusNotFound)
	}
	patch(s, theirs.ID, `{"name":"Mine"}`).Expect(t, http.StatusNotFound)
	// Their unit's id under our organisation: not found either.
	s.Admin(http.MethodGet, base+"/"+theirs.ID, nil).Expect(t, http.StatusNotFound)
	s.Admin(http.MethodDelete, base+"/"+theirs.ID, nil).Expect(t, http.StatusNotFound)
	s.As("globex", auth.RoleAdmin, http.MethodGet, "/v1/orgs/globex/business-units/"+theirs.ID, nil).Expect(t, http.StatusOK)
}

// TestPermissions: every route needs business-units.manage, which of the predefined
// roles only admin has (API.md).
func TestPermissions(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	u := create(t, s, `{"name":"Sales"}`)
	routes := []struct{ method, path, body, ct string }{
		{http.MethodGet, base, "", ""},
		{http.MethodPost, base, `{"name":"New"}`, httpx.MediaJSON},
		{http.MethodGet, base + "/" + u.ID, "", ""},
		{http.MethodPatch, base + "/" + u.ID, `{"name":"Renamed"}`, httpx.MediaMergePatch},
		{http.MethodDelete, base + "/" + u.ID, "", ""},
	}
	for _, role := range []string{auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent, "custom_role_1"} {
		for _, rt := range routes {
			var body []byte
			var h []string
			if rt.body != "" {
				body, h = []byte(rt.body), []string{"Content-Type", rt.ct}
			}
			r := s.As("acme", role, rt.method, rt.path, body, h...).Expect(t, http.StatusForbidden)
			if !strings.Contains(string(r.Body), "business-units.manage") {
				t.Errorf("%s %s as %s: %s", rt.method, rt.path, role, r.Body)
			}
		}
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: base}).Expect(t, http.StatusUnauthorized)
	// admin may use every route (the delete last).
	for i, rt := range routes {
		var body []byte
		var h []string
		if rt.body != "" {
			body, h = []byte(rt.body), []string{"Content-Type", rt.ct}
		}
		want := []int{http.StatusOK, http.StatusCreated, http.StatusOK, http.StatusOK, http.StatusNoContent}[i]
		s.As("acme", auth.RoleAdmin, rt.method, rt.path, body, h...).Expect(t, want)
	}
}
