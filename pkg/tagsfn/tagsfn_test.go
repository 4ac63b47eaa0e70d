package tagsfn_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
)

const (
	groupsPath = "/v1/orgs/acme/tag-groups"
	tagsPath   = "/v1/orgs/acme/tags"
)

type groupView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TagCount  int       `json:"tagCount"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

type tagView struct {
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

func decode[T any](t *testing.T, r apitest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not the expected JSON: %v\n%s", err, r.Body)
	}
	return v
}

func newGroup(t *testing.T, s *apitest.Server, name string) groupView {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name})
	return decode[groupView](t, s.Admin(http.MethodPost, groupsPath, body).Expect(t, http.StatusCreated))
}

func newTag(t *testing.T, s *apitest.Server, body string) tagView {
	t.Helper()
	return decode[tagView](t, s.Admin(http.MethodPost, tagsPath, []byte(body)).Expect(t, http.StatusCreated))
}

func patch(s *apitest.Server, path, body string, header ...string) apitest.Response {
	return s.Admin(http.MethodPatch, path, []byte(body), append([]string{"Content-Type", httpx.MediaMergePatch}, header...)...)
}

func listTags(t *testing.T, s *apitest.Server, query string) []string {
	t.Helper()
	var names []string
	for _, it := range decode[struct{ Items []tagView }](t, s.Admin(http.MethodGet, tagsPath+query, nil).Expect(t, http.StatusOK)).Items {
		names = append(names, it.Name)
	}
	return names
}

func TestGroupsAndTags(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodPost, groupsPath, []byte(`{"name":" Customer type "}`)).Expect(t, http.StatusCreated)
	g := decode[groupView](t, r)
	if !strings.HasPrefix(g.ID, "tg_") || g.Name != "Customer type" || g.TagCount != 0 || g.Version != 1 || g.UpdatedBy != "admin@acme" ||
		r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != groupsPath+"/"+g.ID {
		t.Errorf("group: %+v, headers %v", g, r.Header)
	}
	r = s.Admin(http.MethodPost, tagsPath, []byte(`{"name":"VIP","groupId":"`+g.ID+`","appliesTo":"users","color":"#ffd700"}`)).Expect(t, http.StatusCreated)
	vip := decode[tagView](t, r)
	if !strings.HasPrefix(vip.ID, "tag_") || vip.Name != "VIP" || vip.GroupID == nil || *vip.GroupID != g.ID || vip.AppliesTo != "users" ||
		vip.Color == nil || *vip.Color != "#FFD700" || vip.Version != 1 || r.Header.Get("Location") != tagsPath+"/"+vip.ID {
		t.Errorf("tag: %s", r.Body)
	}
	// No group, no colour: both null.
	r = s.Admin(http.MethodPost, tagsPath, []byte(`{"name":"complaint","appliesTo":"chats"}`)).Expect(t, http.StatusCreated)
	if !strings.Contains(string(r.Body), `"groupId":null`) || !strings.Contains(string(r.Body), `"color":null`) {
		t.Errorf("tag without group or colour: %s", r.Body)
	}
	newTag(t, s, `{"name":"Angry","groupId":null,"appliesTo":"both","color":null}`)
	newTag(t, s, `{"name":"Returning","groupId":"`+g.ID+`","appliesTo":"both"}`)

	groups := decode[struct{ Items []groupView }](t, s.Admin(http.MethodGet, groupsPath, nil).Expect(t, http.StatusOK)).Items
	if len(groups) != 1 || groups[0].TagCount != 2 || groups[0].Version != 1 {
		t.Errorf("groups: %+v, want the group holding 2 tags, still at version 1", groups)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Angry", "complaint", "Returning", "VIP"}},
		{"?groupId=" + g.ID, []string{"Returning", "VIP"}},
		{"?appliesTo=users", []string{"Angry", "Returning", "VIP"}},
		{"?appliesTo=chats", []string{"Angry", "complaint", "Returning"}},
		{"?appliesTo=both", []string{"Angry", "Returning"}},
		{"?groupId=" + g.ID + "&appliesTo=users", []string{"Returning", "VIP"}},
		{"?groupId=tg_unknown", nil},
	} {
		if got := listTags(t, s, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("GET tags%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	for _, q := range []string{"?appliesTo=everyone", "?appliesTo=", "?groupId=", "?groupId=a%23b", "?appliesTo=Users"} {
		r := s.Admin(http.MethodGet, tagsPath+q, nil).Expect(t, http.StatusBadRequest)
		if len(r.FieldErrors(t)) != 1 {
			t.Errorf("GET tags%s: %s", q, r.Body)
		}
	}
	if body := string(s.As("globex", auth.RoleMarketing, http.MethodGet, "/v1/orgs/globex/tags", nil).Expect(t, http.StatusOK).Body); body != `{"items":[]}` {
		t.Errorf("no tags: %s", body)
	}
	if body := string(s.As("globex", auth.RoleMarketing, http.MethodGet, "/v1/orgs/globex/tag-groups", nil).Expect(t, http.StatusOK).Body); body != `{"items":[]}` {
		t.Errorf("no groups: %s", body)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	const colour = "must be a colour written #RRGGBB (six hexadecimal digits), or null for none"
	for _, tc := range []struct {
		name, body string
		want       map[string]string
	}{
		{"nothing", `{}`, map[string]string{"name": "is required", "appliesTo": "is required: users, chats or both"}},
		{"51 characters", `{"name":"` + strings.Repeat("ß", 51) + `","appliesTo":"users"}`, map[string]string{"name": "must be at most 50 characters"}},
		{"invisible only", `{"name":"\u200b\ufeff","appliesTo":"users"}`, map[string]string{"name": "is required"}},
		{"control", `{"name":"a\u0000b","appliesTo":"users"}`, map[string]string{"name": "must not contain control characters"}},
		{"bidi isolate", `{"name":"a\u2066b","appliesTo":"users"}`, map[string]string{"name": "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"}},
		{"appliesTo", `{"name":"A","appliesTo":"Users"}`, map[string]string{"appliesTo": "must be users, chats or both"}},
		{"short colour", `{"name":"A","appliesTo":"users","color":"#fff"}`, map[string]string{"color": colour}},
		{"named colour", `{"name":"A","appliesTo":"users","color":"red"}`, map[string]string{"color": colour}},
		{"colour without #", `{"name":"A","appliesTo":"users","color":"FF0000"}`, map[string]string{"color": colour}},
		{"colour with alpha", `{"name":"A","appliesTo":"users","color":"#FF0000FF"}`, map[string]string{"color": colour}},
		{"colour not hex", `{"name":"A","appliesTo":"users","color":"#GG0000"}`, map[string]string{"color": colour}},
		{"colour with space", `{"name":"A","appliesTo":"users","color":" #FF0000"}`, map[string]string{"color": colour}},
		{"full-width digits", `{"name":"A","appliesTo":"users","color":"#１２３４５６"}`, map[string]string{"color": colour}},
		{"group that is no id", `{"name":"A","appliesTo":"users","groupId":"a b"}`, map[string]string{"groupId": "no such tag group"}},
		{"group that does not exist", `{"name":"A","appliesTo":"users","groupId":"tg_nope"}`, map[string]string{"groupId": "no such tag group"}},
		{"every field", `{"name":"","appliesTo":"all","color":"#12345","groupId":""}`, map[string]string{"name": "is required",
			"appliesTo": "must be users, chats or both", "color": colour, "groupId": "no such tag group"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Admin(http.MethodPost, tagsPath, []byte(tc.body)).Expect(t, http.StatusUnprocessableEntity)
			if got := r.FieldErrors(t); !mapsEqual(got, tc.want) {
				t.Errorf("errors %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, body string
		want       map[string]string
	}{
		{"group without name", `{}`, map[string]string{"name": "is required"}},
		{"group of 51", `{"name":"` + strings.Repeat("x", 51) + `"}`, map[string]string{"name": "must be at most 50 characters"}},
	} {
		r := s.Admin(http.MethodPost, groupsPath, []byte(tc.body)).Expect(t, http.StatusUnprocessableEntity)
		if got := r.FieldErrors(t); !mapsEqual(got, tc.want) {
			t.Errorf("%s: errors %v, want %v", tc.name, got, tc.want)
		}
	}
	newTag(t, s, `{"name":"`+strings.Repeat("ß", 50)+`","appliesTo":"users"}`)
	for _, tc := range []struct{ path, body, field string }{
		{tagsPath, `{"name":"A","appliesTo":"users","colour":"#FFFFFF"}`, "colour"},
		{tagsPath, `{"name":"A","appliesTo":["users"]}`, "appliesTo"},
		{tagsPath, `{"name":"A","appliesTo":"users","groupId":7}`, "groupId"},
		{groupsPath, `{"name":"A","tags":[]}`, "tags"},
		{groupsPath, `{"NAME":"A"}`, "NAME"},
	} {
		r := s.Admin(http.MethodPost, tc.path, []byte(tc.body)).Expect(t, http.StatusBadRequest)
		if _, ok := r.FieldErrors(t)[tc.field]; !ok {
			t.Errorf("%s: no error on %s: %s", tc.body, tc.field, r.Body)
		}
	}
	s.Admin(http.MethodPost, tagsPath, []byte(`{"name":"A","appliesTo":"users"}`), "Content-Type", "text/plain").Expect(t, http.StatusUnsupportedMediaType)
	s.Admin(http.MethodPost, tagsPath, []byte(`{"name":"A","name":"B","appliesTo":"users"}`)).Expect(t, http.StatusBadRequest)
	if got := listTags(t, s, ""); len(got) != 1 {
		t.Errorf("tags stored: %q, want only the valid one", got)
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
	g := newGroup(t, s, "Region")
	vip := newTag(t, s, `{"name":"VIP","appliesTo":"users"}`)
	other := newTag(t, s, `{"name":"Lead","appliesTo":"users"}`)
	for _, name := range []string{"vip", " VIP ", "Vip"} {
		body, _ := json.Marshal(map[string]string{"name": name, "appliesTo": "chats"})
		r := s.Admin(http.MethodPost, tagsPath, body).Expect(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "a tag named") {
			t.Errorf("%q: %s", name, r.Body)
		}
	}
	s.Admin(http.MethodPost, groupsPath, []byte(`{"name":"REGION"}`)).Expect(t, http.StatusConflict)
	// A tag may share a group's name; groups and tags are named apart.
	newTag(t, s, `{"name":"region","appliesTo":"users"}`)
	newGroup(t, s, "vip")
	// Renames: onto another's name refused, a change of case kept.
	patch(s, tagsPath+"/"+other.ID, `{"name":"vIp"}`).Expect(t, http.StatusConflict)
	patch(s, tagsPath+"/"+vip.ID, `{"name":"vip"}`).Expect(t, http.StatusOK)
	patch(s, groupsPath+"/"+g.ID, `{"name":"VIP"}`).Expect(t, http.StatusConflict)
	patch(s, groupsPath+"/"+g.ID, `{"name":"region"}`).Expect(t, http.StatusOK)
	// Another organisation has names of its own.
	s.As("globex", auth.RoleMarketing, http.MethodPost, "/v1/orgs/globex/tags", []byte(`{"name":"VIP","appliesTo":"users"}`)).Expect(t, http.StatusCreated)
}

func TestRacingCreatesOne201(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	const n = 10
	statuses := make([]int, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		name := []string{"Urgent", "urgent", "URGENT", " Urgent\u200b"}[i%4]
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"name": name, "appliesTo": "chats"})
			statuses[i] = s.Admin(http.MethodPost, tagsPath, body).Status
		}()
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"name": name})
			statuses[n+i] = s.Admin(http.MethodPost, groupsPath, body).Status
		}()
	}
	wg.Wait()
	for what, st := range map[string][]int{"tags": statuses[:n], "groups": statuses[n:]} {
		slices.Sort(st)
		want := append([]int{http.StatusCreated}, slices.Repeat([]int{http.StatusConflict}, n-1)...)
		if !slices.Equal(st, want) {
			t.Errorf("%s: statuses %v, want one 201 and %d 409s", what, st, n-1)
		}
	}
}

func TestPatchTag(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	a, b := newGroup(t, s, "A"), newGroup(t, s, "B")
	tg := newTag(t, s, `{"name":"Hot","appliesTo":"chats","color":"#FF0000","groupId":"`+a.ID+`"}`)
	path := tagsPath + "/" + tg.ID
	r := patch(s, path, `{"color":"#00ff00","groupId":"`+b.ID+`"}`, "If-Match", `"1"`).Expect(t, http.StatusOK)
	got := decode[tagView](t, r)
	if *got.Color != "#00FF00" || *got.GroupID != b.ID || got.Name != "Hot" || got.AppliesTo != "chats" || got.Version != 2 || r.Header.Get("ETag") != `"2"` {
		t.Errorf("after PATCH: %s", r.Body)
	}
	counts := map[string]int{}
	for _, g := range decode[struct{ Items []groupView }](t, s.Admin(http.MethodGet, groupsPath, nil)).Items {
		counts[g.Name] = g.TagCount
	}
	if counts["A"] != 0 || counts["B"] != 1 {
		t.Errorf("tag counts after the move: %v, want A 0, B 1", counts)
	}
	patch(s, path, `{"name":"Stale"}`, "If-Match", `"1"`).Expect(t, http.StatusPreconditionFailed)
	r = patch(s, path, `{"color":null,"groupId":null}`).Expect(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"groupId":null`) || !strings.Contains(string(r.Body), `"color":null`) {
		t.Errorf("null colour and group: %s", r.Body)
	}
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"appliesTo":null}`, http.StatusUnprocessableEntity, "appliesTo"},
		{`{"groupId":"tg_gone"}`, http.StatusUnprocessableEntity, "groupId"},
		{`{"color":"#FFF"}`, http.StatusUnprocessableEntity, "color"},
		{`{"name":""}`, http.StatusUnprocessableEntity, "name"},
		{`{"Color":null}`, http.StatusBadRequest, "Color"},
		{`{"tagCount":null,"x":1}`, http.StatusBadRequest, "tagCount"},
	} {
		r := patch(s, path, tc.body).Expect(t, tc.status)
		if _, ok := r.FieldErrors(t)[tc.field]; !ok {
			t.Errorf("%s: no error on %s: %s", tc.body, tc.field, r.Body)
		}
	}
	// Read-only fields sent back are ignored.
	r = patch(s, path, `{"id":"x","version":9,"createdAt":"2020-01-01T00:00:00Z","name":"Hotter"}`).Expect(t, http.StatusOK)
	if got := decode[tagView](t, r); got.ID != tg.ID || got.Version != 4 || got.Name != "Hotter" {
		t.Errorf("after an echo: %s", r.Body)
	}
	s.Admin(http.MethodPatch, path, []byte(`{"name":"X"}`)).Expect(t, http.StatusUnsupportedMediaType)
	patch(s, tagsPath+"/tag_nope", `{"name":"X"}`).Expect(t, http.StatusNotFound)
	patch(s, groupsPath+"/tg_nope", `{"name":"X"}`).Expect(t, http.StatusNotFound)
	// Groups: If-Match and the count unchanged by a rename.
	patch(s, groupsPath+"/"+b.ID, `{"name":"Bee"}`, "If-Match", `"2"`).Expect(t, http.StatusPreconditionFailed)
	r = patch(s, groupsPath+"/"+b.ID, `{"name":"Bee","tagCount":5}`, "If-Match", `"1"`).Expect(t, http.StatusOK)
	if g := decode[groupView](t, r); g.Name != "Bee" || g.Version != 2 || g.TagCount != 0 {
		t.Errorf("group after PATCH: %s", r.Body)
	}
}

func TestDeleteRules(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	g := newGroup(t, s, "Topics")
	t1 := newTag(t, s, `{"name":"Billing","appliesTo":"chats","groupId":"`+g.ID+`"}`)
	t2 := newTag(t, s, `{"name":"Shipping","appliesTo":"chats","groupId":"`+g.ID+`"}`)
	r := s.Admin(http.MethodDelete, groupsPath+"/"+g.ID, nil).Expect(t, http.StatusConflict)
	var p httpx.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Extensions["tags"].([]any); !slices.Equal(got, []any{t1.ID, t2.ID}) || p.Detail != `tag group "Topics" holds 2 tags; delete them or move them to another group first` {
		t.Errorf("409: %s", r.Body)
	}
	s.Admin(http.MethodDelete, tagsPath+"/"+t1.ID, nil, "If-Match", `"2"`).Expect(t, http.StatusPreconditionFailed)
	s.Admin(http.MethodDelete, tagsPath+"/"+t1.ID, nil, "If-Match", `"1"`).Expect(t, http.StatusNoContent)
	patch(s, tagsPath+"/"+t2.ID, `{"groupId":null}`).Expect(t, http.StatusOK)
	s.Admin(http.MethodDelete, groupsPath+"/"+g.ID, nil, "If-Match", `"7"`).Expect(t, http.StatusPreconditionFailed)
	s.Admin(http.MethodDelete, groupsPath+"/"+g.ID, nil).Expect(t, http.StatusNoContent)
	s.Admin(http.MethodDelete, groupsPath+"/"+g.ID, nil).Expect(t, http.StatusNotFound)
	s.Admin(http.MethodDelete, tagsPath+"/"+t1.ID, nil).Expect(t, http.StatusNotFound)
	if got := listTags(t, s, ""); !slices.Equal(got, []string{"Shipping"}) {
		t.Errorf("tags left: %q", got)
	}
	newGroup(t, s, "topics")
	newTag(t, s, `{"name":"billing","appliesTo":"users"}`)
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
	g := decode[groupView](t, s.As("acme", auth.RoleMarketing, http.MethodPost, groupsPath, []byte(`{"name":"Topics"}`)).Expect(t, http.StatusCreated))
	tg := decode[tagView](t, s.As("acme", auth.RoleMarketing, http.MethodPost, tagsPath,
		[]byte(`{"name":"Billing","appliesTo":"chats","groupId":"`+g.ID+`"}`)).Expect(t, http.StatusCreated))
	patch(s, tagsPath+"/"+tg.ID, `{"color":"#ABCDEF","groupId":null}`).Expect(t, http.StatusOK)
	patch(s, groupsPath+"/"+g.ID, `{"name":"Subjects"}`).Expect(t, http.StatusOK)
	s.Admin(http.MethodDelete, tagsPath+"/"+tg.ID, nil).Expect(t, http.StatusNoContent)
	s.Admin(http.MethodDelete, groupsPath+"/"+g.ID, nil).Expect(t, http.StatusNoContent)
	page := decode[auditPage](t, s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=tags", nil).Expect(t, http.StatusOK))
	type change struct{ field, from, to string }
	gid, tid := g.ID, tg.ID
	want := []struct {
		action, actor string
		changes       []change
	}{
		{"delete", "admin@acme", []change{{gid + ".name", `"Subjects"`, `null`}}},
		{"delete", "admin@acme", []change{{tid + ".appliesTo", `"chats"`, `null`}, {tid + ".color", `"#ABCDEF"`, `null`},
			{tid + ".groupId", `null`, `null`}, {tid + ".name", `"Billing"`, `null`}}},
		{"patch", "admin@acme", []change{{gid + ".name", `"Topics"`, `"Subjects"`}}},
		{"patch", "admin@acme", []change{{tid + ".color", `null`, `"#ABCDEF"`}, {tid + ".groupId", `"` + gid + `"`, `null`}}},
		{"create", "marketing@acme", []change{{tid + ".appliesTo", `null`, `"chats"`}, {tid + ".color", `null`, `null`},
			{tid + ".groupId", `null`, `"` + gid + `"`}, {tid + ".name", `null`, `"Billing"`}}},
		{"create", "marketing@acme", []change{{gid + ".name", `null`, `"Topics"`}}},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("audit: %d entries, want %d\n%+v", len(page.Items), len(want), page)
	}
	for i, w := range want {
		e := page.Items[i]
		var got []change
		for _, c := range e.Changes {
			got = append(got, change{c.Field, string(c.From), string(c.To)})
		}
		// A field null on both sides is no change: Diff leaves it out.
		var wantChanges []change
		for _, c := range w.changes {
			if c.from != c.to {
				wantChanges = append(wantChanges, c)
			}
		}
		if e.Area != "tags" || e.Action != w.action || e.Actor != w.actor || !slices.Equal(got, wantChanges) {
			t.Errorf("entry %d: %s by %s %v, want %s by %s %v", i, e.Action, e.Actor, got, w.action, w.actor, wantChanges)
		}
	}
}

func TestOtherOrganisation404(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	g := decode[groupView](t, s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/tag-groups", []byte(`{"name":"Theirs"}`)).Expect(t, http.StatusCreated))
	tg := decode[tagView](t, s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/tags", []byte(`{"name":"Theirs","appliesTo":"users"}`)).Expect(t, http.StatusCreated))
	for _, p := range []string{"/v1/orgs/globex/tag-groups", "/v1/orgs/globex/tags"} {
		s.Admin(http.MethodGet, p, nil).Expect(t, http.StatusNotFound)
	}
	s.Admin(http.MethodDelete, "/v1/orgs/globex/tags/"+tg.ID, nil).Expect(t, http.StatusNotFound)
	s.Admin(http.MethodDelete, groupsPath+"/"+g.ID, nil).Expect(t, http.StatusNotFound)
	s.Admin(http.MethodDelete, tagsPath+"/"+tg.ID, nil).Expect(t, http.StatusNotFound)
	patch(s, tagsPath+"/"+tg.ID, `{"name":"Mine"}`).Expect(t, http.StatusNotFound)
	// Their group is no group of ours.
	r := s.Admin(http.MethodPost, tagsPath, []byte(`{"name":"Mine","appliesTo":"users","groupId":"`+g.ID+`"}`)).Expect(t, http.StatusUnprocessableEntity)
	if r.FieldErrors(t)["groupId"] != "no such tag group" {
		t.Errorf("foreign group: %s", r.Body)
	}
}

// TestPermissions: every route needs tags.manage: admin, agent_manager and marketing
// have it; client_manager, compliance and agent do not (API.md).
func TestPermissions(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	type route struct{ method, path, body, ct string }
	routes := func(g groupView, tg tagView) []route {
		return []route{
			{http.MethodGet, groupsPath, "", ""},
			{http.MethodPost, groupsPath, `{"name":"G2"}`, httpx.MediaJSON},
			{http.MethodPatch, groupsPath + "/" + g.ID, `{"name":"G3"}`, httpx.MediaMergePatch},
			{http.MethodGet, tagsPath, "", ""},
			{http.MethodPost, tagsPath, `{"name":"T2","appliesTo":"users"}`, httpx.MediaJSON},
			{http.MethodPatch, tagsPath + "/" + tg.ID, `{"name":"T3"}`, httpx.MediaMergePatch},
			{http.MethodDelete, tagsPath + "/" + tg.ID, "", ""},
			{http.MethodDelete, groupsPath + "/" + g.ID, "", ""},
		}
	}
	call := func(role string, rt route) apitest.Response {
		var body []byte
		var h []string
		if rt.body != "" {
			body, h = []byte(rt.body), []string{"Content-Type", rt.ct}
		}
		return s.As("acme", role, rt.method, rt.path, body, h...)
	}
	g, tg := newGroup(t, s, "G"), newTag(t, s, `{"name":"T","appliesTo":"users"}`)
	for _, role := range []string{auth.RoleClientManager, auth.RoleCompliance, auth.RoleAgent, "custom_role_1"} {
		for _, rt := range routes(g, tg) {
			r := call(role, rt).Expect(t, http.StatusForbidden)
			if !strings.Contains(string(r.Body), "tags.manage") {
				t.Errorf("%s %s as %s: %s", rt.method, rt.path, role, r.Body)
			}
		}
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: tagsPath}).Expect(t, http.StatusUnauthorized)
	for i, role := range []string{auth.RoleAdmin, auth.RoleAgentManager, auth.RoleMarketing} {
		g := newGroup(t, s, fmt.Sprintf("Group of %s", role))
		tg := newTag(t, s, fmt.Sprintf(`{"name":"Tag of %s","appliesTo":"users"}`, role))
		for j, rt := range routes(g, tg) {
			rt.body = strings.NewReplacer(`"G2"`, fmt.Sprintf(`"G2 %d"`, i), `"G3"`, fmt.Sprintf(`"G3 %d"`, i),
				`"T2"`, fmt.Sprintf(`"T2 %d"`, i), `"T3"`, fmt.Sprintf(`"T3 %d"`, i)).Replace(rt.body)
			want := []int{200, 201, 200, 200, 201, 200, 204, 204}[j]
			call(role, rt).Expect(t, want)
		}
	}
}
