package rolesfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/rolesfn"
)

func body(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func fields(t *testing.T, r apitest.Response) map[string]string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Message string }
	}
	_ = json.Unmarshal(r.Body, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Message
	}
	return out
}

func create(t *testing.T, s *apitest.Server, name string, perms ...string) map[string]any {
	t.Helper()
	if perms == nil {
		perms = []string{}
	}
	return s.Admin(http.MethodPost, "/v1/orgs/acme/roles", body(map[string]any{"name": name, "permissions": perms})).Expect(t, 201).JSON(t)
}

// The catalogue lists every permission with what it grants, to any caller with a token.
func TestPermissionsCatalogue(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	var out struct {
		Items []rolesfn.Permission
	}
	if err := json.Unmarshal(s.As("acme", auth.RoleAgent, http.MethodGet, "/v1/permissions", nil).Expect(t, 200).Body, &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range out.Items {
		names = append(names, p.Name)
		if p.Description == "" {
			t.Errorf("%s has no description", p.Name)
		}
	}
	if !slices.Equal(names, auth.AllPermissions) {
		t.Errorf("catalogue %v, want %v", names, auth.AllPermissions)
	}
	s.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/permissions"}).Expect(t, 401)
}

// Create, read, list, replace, delete a custom role; the predefined roles are listed
// first and are read-only.
func TestRoleLifecycle(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := create(t, s, "  Supervisors ", auth.PermChatsRead, auth.PermAgentsRead, auth.PermChatsRead)
	id := r["id"].(string)
	if !strings.HasPrefix(id, "role_") || r["name"] != "Supervisors" || r["predefined"] != false || r["version"] != 1.0 ||
		fmt.Sprint(r["permissions"]) != "[agents.read chats.read]" || r["updatedBy"] != "admin@acme" {
		t.Errorf("created %v", r)
	}
	got := s.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 200)
	if got.Header.Get("ETag") != `"1"` || got.JSON(t)["name"] != "Supervisors" {
		t.Errorf("get: %s %s", got.Header.Get("ETag"), got.Body)
	}
	list := s.As("acme", auth.RoleAgent, http.MethodGet, "/v1/orgs/acme/roles", nil).Expect(t, 200).JSON(t)["items"].([]any)
	if len(list) != 7 || list[0].(map[string]any)["id"] != "admin" || list[0].(map[string]any)["predefined"] != true || list[6].(map[string]any)["id"] != id {
		t.Errorf("list %v", list)
	}
	adm := s.Admin(http.MethodGet, "/v1/orgs/acme/roles/admin", nil).Expect(t, 200).JSON(t)
	if adm["predefined"] != true || len(adm["permissions"].([]any)) != len(auth.AllPermissions) || adm["version"] != nil {
		t.Errorf("admin role: %v", adm)
	}
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		r := s.Admin(m, "/v1/orgs/acme/roles/agent_manager", body(map[string]any{"name": "x", "permissions": []string{}})).Expect(t, 409)
		if !strings.Contains(string(r.Body), "predefined roles are read-only") {
			t.Errorf("%s predefined: %s", m, r.Body)
		}
	}
	// Replace with If-Match; a stale one is 412.
	rep := s.Admin(http.MethodPut, "/v1/orgs/acme/roles/"+id, body(map[string]any{"name": "Leads", "permissions": []string{auth.PermAuditRead}}), "If-Match", `"1"`).Expect(t, 200)
	if rep.Header.Get("ETag") != `"2"` || rep.JSON(t)["name"] != "Leads" {
		t.Errorf("replace: %s %s", rep.Header.Get("ETag"), rep.Body)
	}
	s.Admin(http.MethodPut, "/v1/orgs/acme/roles/"+id, body(map[string]any{"name": "Other", "permissions": []string{}}), "If-Match", `"1"`).Expect(t, 412)
	// The same values again: not a write.
	s.Admin(http.MethodPut, "/v1/orgs/acme/roles/"+id, body(map[string]any{"name": "Leads", "permissions": []string{auth.PermAuditRead}})).Expect(t, 200)
	s.Admin(http.MethodDelete, "/v1/orgs/acme/roles/"+id, nil, "If-Match", `"1"`).Expect(t, 412)
	s.Admin(http.MethodDelete, "/v1/orgs/acme/roles/"+id, nil, "If-Match", `"2"`).Expect(t, 204)
	s.Admin(http.MethodGet, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 404)
	s.Admin(http.MethodDelete, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 404)
	s.Admin(http.MethodPut, "/v1/orgs/acme/roles/"+id, body(map[string]any{"name": "Leads", "permissions": []string{}})).Expect(t, 404)
	// The name is free again.
	create(t, s, "leads")
	// Audit: create, replace, delete with field changes, nothing for the unchanged PUT.
	var page struct {
		Items []struct {
			Action  string
			Actor   string
			Changes []struct {
				Field    string
				From, To any
			}
		}
	}
	_ = json.Unmarshal(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=roles", nil).Expect(t, 200).Body, &page)
	var actions []string
	for _, e := range page.Items {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"create", "delete", "replace", "create"}) {
		t.Fatalf("audit actions %v", actions)
	}
	rp := page.Items[2]
	if len(rp.Changes) != 2 || rp.Changes[0].Field != "name" || rp.Changes[0].From != "Supervisors" || rp.Changes[0].To != "Leads" ||
		rp.Changes[1].Field != "permissions" || rp.Actor != "admin@acme" {
		t.Errorf("replace entry %+v", rp)
	}
}

// Validation: every failing field at once; names unique per organisation ignoring case,
// predefined names included; unknown permissions 422; strict decoding.
func TestRoleValidation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	create(t, s, "Night Shift")
	for _, tc := range []struct {
		body   string
		status int
		want   map[string]string
	}{
		{`{"name":"","permissions":["nope","chats.read","Chats.Read"]}`, 422, map[string]string{"name": "is required",
			"permissions": `unknown permission "nope", "Chats.Read"; the permissions are ` + strings.Join(auth.AllPermissions, ", ")}},
		{`{"name":"` + strings.Repeat("é", 51) + `","permissions":[]}`, 422, map[string]string{"name": "must be at most 50 characters"}},
		{`{"name":"a\u202eb","permissions":[]}`, 422, map[string]string{"name": "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"}},
		{`{"name":"\u200b\u200b","permissions":[]}`, 422, map[string]string{"name": "is required"}},
		{`{"name":"Agent Manager","permissions":[]}`, 422, map[string]string{"name": "is the name of a predefined role"}},
		{`{"name":"ADMIN","permissions":[]}`, 422, map[string]string{"name": "is the name of a predefined role"}},
		{`{"name":"x"}`, 422, map[string]string{"permissions": "is required (an empty list is a role with no permission)"}},
		{`{"name":"night shift","permissions":[]}`, 409, map[string]string{"name": "is taken"}},
		{`{"name":"NIGHT_SHIFT","permissions":[]}`, 409, map[string]string{"name": "is taken"}},
		{`{"Name":"x","permissions":[]}`, 400, map[string]string{"Name": "unknown field"}},
		{`{"name":"x","name":"y","permissions":[]}`, 400, nil},
		{`{"name":"x","permissions":"chats.read"}`, 400, nil},
	} {
		r := s.Admin(http.MethodPost, "/v1/orgs/acme/roles", []byte(tc.body))
		if r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.body, r.Status, r.Body, tc.status)
			continue
		}
		if tc.want != nil {
			if got := fields(t, r); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s: fields %v, want %v", tc.body, got, tc.want)
			}
		}
	}
	s.Admin(http.MethodPost, "/v1/orgs/acme/roles", []byte(`{"name":"x","permissions":[]}`), "Content-Type", "text/plain").Expect(t, 415)
	// Another organisation may use the name.
	s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/roles", []byte(`{"name":"Night Shift","permissions":[]}`)).Expect(t, 201)
}

// Two creates of one name at once: one 201, one 409.
func TestRacingCreates(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	const n = 6
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = s.Admin(http.MethodPost, "/v1/orgs/acme/roles", []byte(fmt.Sprintf(`{"name":"Racers%s","permissions":[]}`, strings.Repeat(" ", i%2)))).Status
		})
	}
	wg.Wait()
	slices.Sort(codes)
	if codes[0] != 201 || codes[1] != 409 || codes[n-1] != 409 {
		t.Errorf("codes %v, want one 201 and the rest 409", codes)
	}
}

// Replaces without If-Match that race are each applied: one that lost is tried again
// on the role read anew.
func TestRacingReplaces(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := create(t, s, "Racers")["id"].(string)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = s.Admin(http.MethodPut, "/v1/orgs/acme/roles/"+id, body(map[string]any{"name": fmt.Sprintf("Racer %d", i), "permissions": []string{}})).Status
		})
	}
	wg.Wait()
	if slices.ContainsFunc(codes, func(c int) bool { return c != 200 }) {
		t.Errorf("codes %v, want every replace 200", codes)
	}
	if got := s.Admin(http.MethodGet, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 200); got.Header.Get("ETag") != fmt.Sprintf(`"%d"`, n+1) {
		t.Errorf("after %d replaces: ETag %s, want \"%d\"", n, got.Header.Get("ETag"), n+1)
	}
}

// losing is a store that loses the first races of Update and Delete: roles.ErrConflict,
// with nothing written, as a store answers a write that collided with another.
type losing struct {
	roles.Store
	mu    sync.Mutex
	races int // how many writes still lose
}

func (l *losing) lost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.races--
	return l.races >= 0
}

func (l *losing) Update(ctx context.Context, r roles.Role, oldName string, e audit.Entry) error {
	if l.lost() {
		return roles.ErrConflict
	}
	return l.Store.Update(ctx, r, oldName, e)
}

func (l *losing) Delete(ctx context.Context, org, id string, version int64, name string, e audit.Entry) error {
	if l.lost() {
		return roles.ErrConflict
	}
	return l.Store.Delete(ctx, org, id, version, name, e)
}

// A replace or delete that lost a race is tried again, with the bounded retries of
// package optimistic (more than the few tries it once had), and is a 409 once they are
// spent; with If-Match it is a 412 at once.
func TestLostRacesAreRetried(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := create(t, s, "Racers")["id"].(string)
	store := &losing{Store: s.Deps.Roles}
	api := httpx.New(s.Keys, slog.New(slog.DiscardHandler))
	rolesfn.Register(api, store, time.Now)
	do := func(method string, body []byte, header ...string) int {
		req := httptest.NewRequest(method, "/v1/orgs/acme/roles/"+id, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.Token("acme", auth.RoleAdmin))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec.Code
	}
	put := func(name string) []byte { return body(map[string]any{"name": name, "permissions": []string{}}) }
	store.races = 10
	if code := do(http.MethodPut, put("Ten lost")); code != 200 || store.races >= 0 {
		t.Errorf("replace that lost 10 races: %d (%d races left), want 200 after them", code, store.races)
	}
	store.races = 1
	if code := do(http.MethodPut, put("With If-Match"), "If-Match", `"2"`); code != 412 {
		t.Errorf("replace with If-Match that lost a race: %d, want 412", code)
	}
	store.races = 1000
	if code := do(http.MethodPut, put("Always lost")); code != 409 {
		t.Errorf("replace that always loses: %d, want 409", code)
	}
	store.races = 10
	if code := do(http.MethodDelete, nil); code != 204 {
		t.Errorf("delete that lost 10 races: %d, want 204", code)
	}
}

// A change to a custom role applies to the next request of its holders; GET /v1/me
// lists the caller's effective permissions.
func TestCustomRoleDrivesAuthorisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := create(t, s, "Auditors", auth.PermAuditRead)["id"].(string)
	as := func(method, path string) int { return s.As("acme", id, method, path, nil).Status }
	if got := as(http.MethodGet, "/v1/orgs/acme/audit"); got != 200 {
		t.Errorf("audit with audit.read: %d", got)
	}
	if got := as(http.MethodGet, "/v1/orgs/acme/settings/general"); got != 403 {
		t.Errorf("settings without settings.manage: %d", got)
	}
	me := s.As("acme", id, http.MethodGet, "/v1/me", nil).Expect(t, 200).JSON(t)
	if fmt.Sprint(me["permissions"]) != "[audit.read]" || me["role"] != id {
		t.Errorf("/v1/me: %v", me)
	}
	s.Admin(http.MethodPut, "/v1/orgs/acme/roles/"+id, body(map[string]any{"name": "Auditors", "permissions": []string{auth.PermSettingsManage}})).Expect(t, 200)
	if got := as(http.MethodGet, "/v1/orgs/acme/audit"); got != 403 {
		t.Errorf("audit after audit.read was taken away: %d", got)
	}
	if got := as(http.MethodGet, "/v1/orgs/acme/settings/general"); got != 200 {
		t.Errorf("settings after settings.manage was given: %d", got)
	}
	s.Admin(http.MethodDelete, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 204)
	if got := as(http.MethodGet, "/v1/orgs/acme/settings/general"); got != 403 {
		t.Errorf("settings after the role was deleted: %d", got)
	}
	// A role of another organisation gives nothing here.
	gid := s.As("globex", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/roles", body(map[string]any{"name": "All", "permissions": auth.AllPermissions})).Expect(t, 201).JSON(t)["id"].(string)
	if got := as(http.MethodGet, "/v1/orgs/acme/settings/general"); got != 403 {
		t.Errorf("as %s: %d", gid, got)
	}
	if got := s.As("acme", gid, http.MethodGet, "/v1/orgs/acme/settings/general", nil).Status; got != 403 {
		t.Errorf("acme caller holding globex's role id: %d, want 403", got)
	}
}

// roles.manage for writes; any role of the organisation reads; other organisations 404.
func TestRoleAuthorisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := create(t, s, "Readers")["id"].(string)
	for _, role := range []string{auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent} {
		s.As("acme", role, http.MethodPost, "/v1/orgs/acme/roles", []byte(`{"name":"x","permissions":[]}`)).Expect(t, 403)
		s.As("acme", role, http.MethodPut, "/v1/orgs/acme/roles/"+id, []byte(`{"name":"x","permissions":[]}`)).Expect(t, 403)
		s.As("acme", role, http.MethodDelete, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 403)
		s.As("acme", role, http.MethodGet, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 200)
	}
	s.As("globex", auth.RoleAdmin, http.MethodGet, "/v1/orgs/acme/roles/"+id, nil).Expect(t, 404)
	s.As("globex", auth.RoleAdmin, http.MethodGet, "/v1/orgs/globex/roles/"+id, nil).Expect(t, 404)
	s.Admin(http.MethodGet, "/v1/orgs/acme/roles/role%23x", nil).Expect(t, 404)
}

func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, rolesfn.Function, nil,
		apitest.EventCase{File: "permissions.json", Status: 200},
		apitest.EventCase{File: "create.json", Status: 201},
		apitest.EventCase{File: "list.json", Status: 200, Check: func(t *testing.T, r *apitest.EventRun) {
			if !strings.Contains(string(r.Body), `"name":"Supervisors"`) {
				t.Errorf("the created role is not listed: %s", r.Body)
			}
		}},
		apitest.EventCase{File: "create-duplicate.json", Status: 409},
		apitest.EventCase{File: "replace-predefined.json", Status: 409},
	)
}

// A sub-organisation lists its ancestors' custom roles after its own (its agents may hold
// them), marked with the owner; it cannot change them.
func TestInheritedRolesListed(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	mid := s.SubOrg("acme", "Region")
	leaf := s.SubOrg(mid, "Branch")
	top := s.Admin(http.MethodPost, "/v1/orgs/acme/roles", []byte(`{"name":"Auditors","permissions":["audit.read"]}`)).Expect(t, 201).JSON(t)["id"].(string)
	near := s.As(mid, "admin", http.MethodPost, "/v1/orgs/"+mid+"/roles", []byte(`{"name":"Leads","permissions":[]}`)).Expect(t, 201).JSON(t)["id"].(string)
	own := s.As(leaf, "admin", http.MethodPost, "/v1/orgs/"+leaf+"/roles", []byte(`{"name":"Desk","permissions":[]}`)).Expect(t, 201).JSON(t)["id"].(string)
	var l struct {
		Items []struct {
			ID            string
			Predefined    bool
			InheritedFrom string
		}
	}
	if err := json.Unmarshal(s.As(leaf, "agent", http.MethodGet, "/v1/orgs/"+leaf+"/roles", nil).Expect(t, 200).Body, &l); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range l.Items {
		if !r.Predefined {
			got = append(got, r.ID+"<"+r.InheritedFrom)
		}
	}
	if want := []string{own + "<", near + "<" + mid, top + "<acme"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("custom roles of the leaf: %v, want %v", got, want)
	}
	// The root lists only its own; an ancestor's role is not the leaf's to change.
	if body := string(s.Admin(http.MethodGet, "/v1/orgs/acme/roles", nil).Expect(t, 200).Body); strings.Contains(body, near) || strings.Contains(body, "inheritedFrom") {
		t.Errorf("the root lists a descendant's role: %s", body)
	}
	s.As(leaf, "admin", http.MethodDelete, "/v1/orgs/"+leaf+"/roles/"+top, nil).Expect(t, 404)
}
