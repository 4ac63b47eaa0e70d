package conformance_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
)

// TestOrgAnswersMatchOpenAPI walks the organisation tree's routes through every kind of
// answer (a root and a sub-organisation read, created, listed and paged, deleted, refused:
// 400, 403, 404, 409, 415, 422) and checks each against openapi.yaml: status listed,
// headers, body schema; a body the server accepts is valid against the request schema
// and one it refuses as invalid is not.
func TestOrgAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	stateful := false
	ac := &answerCheck{t: t, s: s, srv: srv}
	check := func(want int, org, role, method, path, body string, header ...string) apitest.Response {
		t.Helper()
		ac.Stateful = stateful
		return ac.do(want, org, role, method, path, body, header...)
	}
	id := func(r apitest.Response) string {
		var v struct{ ID string }
		_ = json.Unmarshal(r.Body, &v)
		return v.ID
	}
	const admin, root = auth.RoleAdmin, "/v1/orgs/demo"

	check(200, "demo", auth.RoleAgent, http.MethodGet, root, "")
	check(200, "demo", auth.RoleAgent, http.MethodGet, root+"/suborgs", "")
	a := id(check(201, "demo", admin, http.MethodPost, root+"/suborgs", `{"name":"Acme Retail"}`))
	b := id(check(201, "demo", auth.RoleClientManager, http.MethodPost, "/v1/orgs/"+a+"/suborgs", `{"name":"Acme Retail UK"}`))
	for range 3 {
		check(201, a, admin, http.MethodPost, "/v1/orgs/"+a+"/suborgs", `{"name":"Shop"}`)
	}
	check(200, "demo", auth.RoleAgent, http.MethodGet, "/v1/orgs/"+b, "")
	page := check(200, "demo", auth.RoleAgent, http.MethodGet, root+"/suborgs?limit=2", "")
	var p struct{ NextCursor string }
	_ = json.Unmarshal(page.Body, &p)
	check(200, "demo", auth.RoleAgent, http.MethodGet, root+"/suborgs?limit=2&cursor="+p.NextCursor, "")
	check(400, "demo", auth.RoleAgent, http.MethodGet, root+"/suborgs?cursor=x"+p.NextCursor, "")
	check(400, "demo", auth.RoleAgent, http.MethodGet, root+"/suborgs?limit=two", "")
	check(422, "demo", auth.RoleAgent, http.MethodGet, root+"/suborgs?limit=0", "")
	check(422, "demo", admin, http.MethodPost, root+"/suborgs", `{"name":"`+strings.Repeat("x", 101)+`"}`)
	check(422, "demo", admin, http.MethodPost, root+"/suborgs", `{"name":""}`)
	check(400, "demo", admin, http.MethodPost, root+"/suborgs", `{"name":"A","parentId":"demo"}`)
	check(415, "demo", admin, http.MethodPost, root+"/suborgs", `{"name":"A"}`, "Content-Type", "text/plain")
	check(403, "demo", auth.RoleMarketing, http.MethodPost, root+"/suborgs", `{"name":"A"}`)
	check(404, b, admin, http.MethodGet, "/v1/orgs/"+a, "")
	check(404, "globex", admin, http.MethodPost, root+"/suborgs", `{"name":"A"}`)
	check(409, "demo", admin, http.MethodDelete, "/v1/orgs/"+a, "")
	check(409, b, admin, http.MethodDelete, "/v1/orgs/"+b, "")
	check(409, "demo", admin, http.MethodDelete, root, "")
	check(403, "demo", auth.RoleAgent, http.MethodDelete, "/v1/orgs/"+b, "")
	check(204, "demo", admin, http.MethodDelete, "/v1/orgs/"+b, "")
	check(404, "demo", admin, http.MethodDelete, "/v1/orgs/"+b, "")
	check(404, "demo", admin, http.MethodGet, "/v1/orgs/"+b, "")
	// The depth bound: a create under an organisation 8 levels deep.
	parent := a
	for range 6 {
		parent = id(check(201, "demo", admin, http.MethodPost, "/v1/orgs/"+parent+"/suborgs", `{"name":"Level"}`))
	}
	stateful = true
	check(422, "demo", admin, http.MethodPost, "/v1/orgs/"+parent+"/suborgs", `{"name":"Too deep"}`)
}
