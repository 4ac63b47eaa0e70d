package conformance_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
)

// TestBusinessUnitAndTagAnswersMatchOpenAPI walks the business unit, tag group and tag
// routes through every kind of answer (created, read, listed, changed, deleted, refused:
// 400, 403, 404, 409, 412, 415, 422) and checks each against openapi.yaml: status listed,
// headers, body schema. A request body the server accepts must be valid against the
// operation's request schema, and one it refuses as invalid (400, 422) must not be.
func TestBusinessUnitAndTagAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	// stateful marks a refusal the request schema cannot foresee (a group that does not
	// exist): its body is valid against the schema.
	stateful := false
	ac := &answerCheck{t: t, s: s, srv: srv}
	check := func(want int, role, method, path, body string, header ...string) apitest.Response {
		t.Helper()
		ac.Stateful = stateful
		return ac.do(want, "demo", role, method, path, body, header...)
	}
	id := func(r apitest.Response) string {
		var v struct{ ID string }
		_ = json.Unmarshal(r.Body, &v)
		return v.ID
	}
	const admin, bu, groups, tags = auth.RoleAdmin, "/v1/orgs/demo/business-units", "/v1/orgs/demo/tag-groups", "/v1/orgs/demo/tags"

	check(200, admin, http.MethodGet, bu, "")
	unit := id(check(201, admin, http.MethodPost, bu, `{"name":"Sales","chatbotIds":["bot_1"]}`))
	check(201, admin, http.MethodPost, bu, `{"name":"Support","chatbotIds":null,"id":"x","version":3}`)
	check(409, admin, http.MethodPost, bu, `{"name":"SALES"}`)
	check(422, admin, http.MethodPost, bu, `{"name":"`+strings.Repeat("x", 101)+`"}`)
	check(422, admin, http.MethodPost, bu, `{"name":"A","chatbotIds":["a","a"]}`)
	check(400, admin, http.MethodPost, bu, `{"name":"A","extra":1}`)
	check(415, admin, http.MethodPost, bu, `{"name":"A"}`, "Content-Type", "text/plain")
	check(403, auth.RoleAgentManager, http.MethodGet, bu, "")
	check(200, admin, http.MethodGet, bu, "")
	check(200, admin, http.MethodGet, bu+"/"+unit, "")
	check(404, admin, http.MethodGet, bu+"/bu_missing", "")
	check(200, admin, http.MethodPatch, bu+"/"+unit, `{"chatbotIds":null}`, "If-Match", `"1"`)
	check(412, admin, http.MethodPatch, bu+"/"+unit, `{"name":"X"}`, "If-Match", `"1"`)
	check(409, admin, http.MethodPatch, bu+"/"+unit, `{"name":"support"}`)
	check(422, admin, http.MethodPatch, bu+"/"+unit, `{"name":""}`)
	check(412, admin, http.MethodDelete, bu+"/"+unit, "", "If-Match", `"1"`)
	check(204, admin, http.MethodDelete, bu+"/"+unit, "")
	check(404, admin, http.MethodDelete, bu+"/"+unit, "")

	group := id(check(201, auth.RoleMarketing, http.MethodPost, groups, `{"name":"Topics"}`))
	check(409, auth.RoleMarketing, http.MethodPost, groups, `{"name":"topics"}`)
	check(422, auth.RoleMarketing, http.MethodPost, groups, `{"name":""}`)
	check(200, auth.RoleAgentManager, http.MethodGet, groups, "")
	tag := id(check(201, auth.RoleMarketing, http.MethodPost, tags, `{"name":"Billing","groupId":"`+group+`","appliesTo":"chats","color":"#abcdef"}`))
	check(201, auth.RoleMarketing, http.MethodPost, tags, `{"name":"VIP","groupId":null,"appliesTo":"users","color":null}`)
	check(409, auth.RoleMarketing, http.MethodPost, tags, `{"name":"vip","appliesTo":"both"}`)
	check(422, auth.RoleMarketing, http.MethodPost, tags, `{"name":"X","appliesTo":"all","color":"#abc"}`)
	stateful = true
	check(422, auth.RoleMarketing, http.MethodPost, tags, `{"name":"X","appliesTo":"users","groupId":"tg_none"}`)
	stateful = false
	check(400, auth.RoleMarketing, http.MethodPost, tags, `{"name":"X","appliesTo":"users","colour":"#ABCDEF"}`)
	check(200, auth.RoleMarketing, http.MethodGet, tags, "")
	check(200, auth.RoleMarketing, http.MethodGet, tags+"?groupId="+group+"&appliesTo=chats", "")
	check(400, auth.RoleMarketing, http.MethodGet, tags+"?appliesTo=all", "")
	check(403, auth.RoleCompliance, http.MethodGet, tags, "")
	check(409, auth.RoleMarketing, http.MethodDelete, groups+"/"+group, "")
	check(200, auth.RoleMarketing, http.MethodPatch, groups+"/"+group, `{"name":"Subjects"}`, "If-Match", `"1"`)
	check(412, auth.RoleMarketing, http.MethodPatch, groups+"/"+group, `{"name":"Other"}`, "If-Match", `"1"`)
	check(200, auth.RoleMarketing, http.MethodPatch, tags+"/"+tag, `{"groupId":null,"color":null}`)
	check(422, auth.RoleMarketing, http.MethodPatch, tags+"/"+tag, `{"appliesTo":null}`)
	check(409, auth.RoleMarketing, http.MethodPatch, tags+"/"+tag, `{"name":"VIP"}`)
	check(404, auth.RoleMarketing, http.MethodPatch, tags+"/tag_missing", `{"name":"Y"}`)
	check(415, auth.RoleMarketing, http.MethodPatch, tags+"/"+tag, `{"name":"Y"}`, "Content-Type", httpx.MediaJSON)
	check(204, auth.RoleMarketing, http.MethodDelete, groups+"/"+group, "")
	check(412, auth.RoleMarketing, http.MethodDelete, tags+"/"+tag, "", "If-Match", `"1"`)
	check(204, auth.RoleMarketing, http.MethodDelete, tags+"/"+tag, "")
	check(404, auth.RoleMarketing, http.MethodDelete, tags+"/"+tag, "")
}
