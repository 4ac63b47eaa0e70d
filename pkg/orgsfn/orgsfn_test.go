package orgsfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/orgs"
)

type view struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	ParentID  *string  `json:"parentId"`
	Path      []string `json:"path"`
	CreatedAt *string  `json:"createdAt"`
}

func decode[T any](t *testing.T, r apitest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%v\n%s", err, r.Body)
	}
	return v
}

// create makes a sub-organisation of parent as an admin of org.
func create(t *testing.T, srv *apitest.Server, org, parent, name string) view {
	t.Helper()
	r := srv.As(org, auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+parent+"/suborgs", []byte(`{"name":`+strconv.Quote(name)+`}`)).Expect(t, http.StatusCreated)
	v := decode[view](t, r)
	if loc := r.Header.Get("Location"); loc != "/v1/orgs/"+v.ID {
		t.Errorf("Location %q, want /v1/orgs/%s", loc, v.ID)
	}
	return v
}

// A root needs no setup: it answers with its id as its name, no parent, itself as its
// path, to any role of its own.
func TestRoot(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	r := srv.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme", nil).Expect(t, http.StatusOK)
	if got := string(r.Body); got != `{"id":"acme","name":"acme","parentId":null,"path":["acme"],"createdAt":null}` {
		t.Errorf("GET of a root: %s", got)
	}
	srv.As("globex", auth.RoleAdmin, http.MethodGet, "/v1/orgs/acme", nil).Expect(t, http.StatusNotFound)
	list := decode[struct{ Items []view }](t, srv.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/suborgs", nil).Expect(t, http.StatusOK))
	if list.Items == nil || len(list.Items) != 0 {
		t.Errorf("a new root's descendants: %+v", list.Items)
	}
}

// The tree through the API: create (server-made id, Location, path), read by any role
// of an organisation on the path, list every descendant, leaf-only soft delete, 404
// afterwards; each write audited in the parent's log.
func TestTree(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	emea := create(t, srv, "acme", "acme", "  Acme EMEA\u200b ")
	if emea.Name != "Acme EMEA" || emea.ParentID == nil || *emea.ParentID != "acme" || !slices.Equal(emea.Path, []string{"acme", emea.ID}) ||
		emea.CreatedAt == nil || !strings.HasPrefix(emea.ID, orgs.IDPrefix+"_") {
		t.Errorf("created %+v", emea)
	}
	// A caller of the new organisation creates under it; the root's caller sees both.
	uk := create(t, srv, emea.ID, emea.ID, "Acme UK")
	if !slices.Equal(uk.Path, []string{"acme", emea.ID, uk.ID}) || *uk.ParentID != emea.ID {
		t.Errorf("grandchild %+v", uk)
	}
	apac := create(t, srv, "acme", "acme", "Acme APAC")
	for _, caller := range []string{"acme", emea.ID, uk.ID} {
		got := decode[view](t, srv.As(caller, auth.RoleAgent, http.MethodGet, "/v1/orgs/"+uk.ID, nil).Expect(t, http.StatusOK))
		if got.Name != "Acme UK" || !slices.Equal(got.Path, uk.Path) || *got.CreatedAt != *uk.CreatedAt {
			t.Errorf("GET as %s: %+v, want %+v", caller, got, uk)
		}
	}
	// Never an ancestor or a sibling.
	for _, c := range []struct{ caller, org string }{{uk.ID, emea.ID}, {emea.ID, "acme"}, {apac.ID, emea.ID}, {apac.ID, uk.ID}, {"globex", emea.ID}} {
		srv.As(c.caller, auth.RoleAdmin, http.MethodGet, "/v1/orgs/"+c.org, nil).Expect(t, http.StatusNotFound)
		srv.As(c.caller, auth.RoleAdmin, http.MethodGet, "/v1/orgs/"+c.org+"/suborgs", nil).Expect(t, http.StatusNotFound)
		srv.As(c.caller, auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+c.org+"/suborgs", []byte(`{"name":"x"}`)).Expect(t, http.StatusNotFound)
	}
	list := decode[struct{ Items []view }](t, srv.As("acme", auth.RoleCompliance, http.MethodGet, "/v1/orgs/acme/suborgs", nil).Expect(t, http.StatusOK))
	ids := []string{}
	for _, v := range list.Items {
		ids = append(ids, v.ID)
	}
	want := []string{emea.ID, uk.ID, apac.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("descendants of acme: %v, want %v (id order)", ids, want)
	}
	// Leaves only; by a caller of an ancestor.
	srv.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/"+emea.ID, nil).Expect(t, http.StatusConflict)
	srv.As("acme", auth.RoleClientManager, http.MethodDelete, "/v1/orgs/"+uk.ID, nil).Expect(t, http.StatusNoContent)
	srv.As("acme", auth.RoleAdmin, http.MethodGet, "/v1/orgs/"+uk.ID, nil).Expect(t, http.StatusNotFound)
	srv.As(uk.ID, auth.RoleAdmin, http.MethodGet, "/v1/orgs/"+uk.ID, nil).Expect(t, http.StatusNotFound)
	srv.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/"+uk.ID, nil).Expect(t, http.StatusNotFound)
	srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+uk.ID+"/suborgs", []byte(`{"name":"x"}`)).Expect(t, http.StatusNotFound)
	list = decode[struct{ Items []view }](t, srv.As(emea.ID, auth.RoleAgent, http.MethodGet, "/v1/orgs/"+emea.ID+"/suborgs", nil).Expect(t, http.StatusOK))
	if len(list.Items) != 0 {
		t.Errorf("descendants of EMEA after its child's delete: %+v", list.Items)
	}
	srv.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/"+emea.ID, nil).Expect(t, http.StatusNoContent)
	// The data is kept: the record is still in the store, deleted.
	if o, found, err := srv.Deps.Orgs.Org(context.Background(), uk.ID); err != nil || !found || !o.Deleted() || o.Name != "Acme UK" {
		t.Errorf("the deleted record: %+v %v %v", o, found, err)
	}
	// Audited: in the parent's log, area orgs, the name created and removed.
	entries := func(org string) []audit.Entry {
		page, err := srv.Deps.Settings.ListAudit(context.Background(), org, audit.Query{Area: orgs.Area, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	acme := entries("acme")
	if len(acme) != 3 || acme[0].Action != "delete" || acme[0].Changes[0].Field != emea.ID+".name" || string(acme[0].Changes[0].From) != `"Acme EMEA"` ||
		string(acme[0].Changes[0].To) != "null" || acme[0].Actor != "admin@acme" || acme[0].RequestID == "" {
		t.Errorf("acme's audit log: %+v", acme)
	}
	// The EMEA log (kept with its data) holds its child's create and delete.
	if e := entries(emea.ID); len(e) != 2 || e[0].Action != "delete" || e[0].Actor != "client_manager@acme" || e[1].Action != "create" ||
		e[1].Actor != "admin@"+emea.ID || string(e[1].Changes[0].To) != `"Acme UK"` {
		t.Errorf("EMEA's audit log: %+v", e)
	}
}

// Who may create and delete: suborgs.manage (admin, client_manager); a caller of an
// ancestor deletes, never the organisation's own callers, and a root is never deleted.
func TestPermissionsAndDeleteRules(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	a := srv.SubOrg("acme", "A")
	b := srv.SubOrg(a, "B")
	for _, role := range []string{auth.RoleAgent, auth.RoleAgentManager, auth.RoleMarketing, auth.RoleCompliance} {
		srv.As("acme", role, http.MethodPost, "/v1/orgs/acme/suborgs", []byte(`{"name":"x"}`)).Expect(t, http.StatusForbidden)
		srv.As("acme", role, http.MethodDelete, "/v1/orgs/"+b, nil).Expect(t, http.StatusForbidden)
		srv.As("acme", role, http.MethodGet, "/v1/orgs/"+b, nil).Expect(t, http.StatusOK)
		srv.As("acme", role, http.MethodGet, "/v1/orgs/acme/suborgs", nil).Expect(t, http.StatusOK)
	}
	create(t, srv, "acme", a, "by acme's admin")
	srv.As(a, auth.RoleClientManager, http.MethodPost, "/v1/orgs/"+b+"/suborgs", []byte(`{"name":"by A's client manager"}`)).Expect(t, http.StatusCreated)
	// Its own callers may not delete it (409 says who may); nor anybody a root.
	r := srv.As(b, auth.RoleAdmin, http.MethodDelete, "/v1/orgs/"+b, nil).Expect(t, http.StatusConflict)
	if !strings.Contains(string(r.Body), "cannot delete itself") {
		t.Errorf("self delete: %s", r.Body)
	}
	r = srv.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/acme", nil).Expect(t, http.StatusConflict)
	if !strings.Contains(string(r.Body), "root") {
		t.Errorf("root delete: %s", r.Body)
	}
	// A descendant's caller never reaches an ancestor.
	srv.As(b, auth.RoleAdmin, http.MethodDelete, "/v1/orgs/"+a, nil).Expect(t, http.StatusNotFound)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	post := func(body, ct string) apitest.Response {
		return srv.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/orgs/acme/suborgs", Token: srv.Token("acme", auth.RoleAdmin), Body: []byte(body), ContentType: ct})
	}
	for _, tc := range []struct{ body, want string }{
		{`{}`, "is required"},
		{`{"name":""}`, "is required"},
		{`{"name":" \u200b\t"}`, "is required"},
		{`{"name":"` + strings.Repeat("é", 101) + `"}`, "must be at most 100 characters"},
		{`{"name":"a\u0007b"}`, "must not contain control characters"},
		{`{"name":"a\u202eb"}`, "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{`{"name":"a\u2028b"}`, "must not contain line or paragraph separators"},
	} {
		r := post(tc.body, "").Expect(t, http.StatusUnprocessableEntity)
		if got := r.FieldErrors(t); len(got) != 1 || got["name"] != tc.want {
			t.Errorf("%s: %v, want name: %s", tc.body, got, tc.want)
		}
	}
	for _, body := range []string{`{"name":1}`, `{"Name":"x"}`, `{"name":"x","parentId":"acme"}`, `{"name":"x","name":"y"}`, `["x"]`, `{"name":"x"`, `null`} {
		post(body, "").Expect(t, http.StatusBadRequest)
	}
	post(`{"name":"x"}`, "text/plain").Expect(t, http.StatusUnsupportedMediaType)
	post(`{"name":"`+strings.Repeat("x", 70000)+`"}`, "").Expect(t, http.StatusBadRequest) // over 64 KiB
	// 100 characters, not bytes; NFC.
	r := post(`{"name":"`+strings.Repeat("日", 100)+`"}`, "").Expect(t, http.StatusCreated)
	if v := decode[view](t, r); v.Name != strings.Repeat("日", 100) {
		t.Errorf("name %q", v.Name)
	}
	if v := decode[view](t, post(`{"name":"Cafe\u0301"}`, "").Expect(t, http.StatusCreated)); v.Name != "Caf\u00e9" {
		t.Errorf("name %q, want NFC", v.Name)
	}
}

// A path holds at most orgs.MaxDepth organisations: creating below the deepest is a 422.
func TestDepth(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	parent := "acme"
	for depth := 2; depth <= orgs.MaxDepth; depth++ {
		v := create(t, srv, "acme", parent, "Level "+strconv.Itoa(depth))
		if len(v.Path) != depth {
			t.Fatalf("depth %d: path %v", depth, v.Path)
		}
		parent = v.ID
	}
	r := srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+parent+"/suborgs", []byte(`{"name":"too deep"}`)).Expect(t, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), "8 levels deep") {
		t.Errorf("too deep: %s", r.Body)
	}
	// The deepest organisation's own caller is told the same.
	srv.As(parent, auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+parent+"/suborgs", []byte(`{"name":"too deep"}`)).Expect(t, http.StatusUnprocessableEntity)
	list := decode[struct{ Items []view }](t, srv.As("acme", auth.RoleAdmin, http.MethodGet, "/v1/orgs/acme/suborgs?limit=100", nil).Expect(t, http.StatusOK))
	if len(list.Items) != orgs.MaxDepth-1 {
		t.Errorf("%d descendants, want %d", len(list.Items), orgs.MaxDepth-1)
	}
}

// Creates racing under one parent all succeed (each counted on the parent).
func TestRacingCreates(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	parent := srv.SubOrg("acme", "Parent")
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = srv.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+parent+"/suborgs", []byte(`{"name":"Child `+strconv.Itoa(i)+`"}`)).Status
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusCreated {
			t.Errorf("create %d: %d", i, c)
		}
	}
	list := decode[struct{ Items []view }](t, srv.As("acme", auth.RoleAdmin, http.MethodGet, "/v1/orgs/"+parent+"/suborgs?limit=100", nil).Expect(t, http.StatusOK))
	if len(list.Items) != n {
		t.Errorf("%d children listed, want %d", len(list.Items), n)
	}
	srv.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/"+parent, nil).Expect(t, http.StatusConflict)
}

// Paged like every list: limit 1-100 (default 25), an opaque cursor bound to its list.
func TestPaging(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	var want []string
	for i := range 30 {
		want = append(want, srv.SubOrg("acme", "Org "+strconv.Itoa(i)))
	}
	slices.Sort(want)
	type page struct {
		Items      []view
		NextCursor *string
	}
	first := decode[page](t, srv.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/suborgs", nil).Expect(t, http.StatusOK))
	if len(first.Items) != 25 || first.NextCursor == nil {
		t.Fatalf("default page: %d items, next %v", len(first.Items), first.NextCursor)
	}
	var got []string
	cursor := ""
	for range 10 {
		path := "/v1/orgs/acme/suborgs?limit=7"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		p := decode[page](t, srv.As("acme", auth.RoleAgent, http.MethodGet, path, nil).Expect(t, http.StatusOK))
		for _, v := range p.Items {
			got = append(got, v.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged: %v\nwant %v", got, want)
	}
	// A cursor of this list is refused for another organisation's.
	sub := want[0]
	srv.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/"+sub+"/suborgs?cursor="+*first.NextCursor, nil).Expect(t, http.StatusBadRequest)
	for q, status := range map[string]int{
		"limit=0": 422, "limit=101": 422, "limit=-1": 422, "limit=x": 400, "limit=1&limit=2": 400, "limit=1.5": 400,
		"cursor=abc": 400, "cursor=" + *first.NextCursor + "x": 400, "cursor=a&cursor=b": 400, "limit=100": 200, "limit=1": 200,
	} {
		r := srv.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/suborgs?"+q, nil).Expect(t, status)
		if status != 200 {
			field := strings.SplitN(q, "=", 2)[0]
			if _, ok := r.FieldErrors(t)[field]; !ok {
				t.Errorf("?%s: no error on %s: %s", q, field, r.Body)
			}
		}
	}
}
