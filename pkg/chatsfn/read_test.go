package chatsfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
)

// readEnv is the whole API with chats fed through the chat-events function.
type readEnv struct {
	t   *testing.T
	srv *apitest.Server
	h   app.EventHandler
}

func newReadEnv(t *testing.T) *readEnv {
	t.Helper()
	srv := apitest.New(t)
	srv.BusinessUnits("acme", "bu_sales") // the unit of the agents the tests create
	srv.SetNow(t0.Add(time.Hour))
	return &readEnv{t: t, srv: srv, h: chatsfn.EventsFunction.Events.Handler(srv.Deps)}
}

func (r *readEnv) event(dt string, detail map[string]any) {
	r.t.Helper()
	d, _ := json.Marshal(detail)
	if err := r.h(context.Background(), app.Event{ID: "e", Source: app.ChatSource, DetailType: dt, Detail: d}); err != nil {
		r.t.Fatalf("%s: %v", dt, err)
	}
}

func (r *readEnv) start(org, id string, at time.Time) {
	r.t.Helper()
	r.event(chats.ChatStarted, map[string]any{"orgId": org, "chatId": id, "startedAt": ts(at), "channel": "web",
		"user": map[string]any{"id": "u-" + id, "name": "Zoë <b>", "email": "zoe@example.com", "phone": "+442079460958"}})
}

func (r *readEnv) get(org, role, path string) (int, map[string]any) {
	r.t.Helper()
	resp := r.srv.As(org, role, http.MethodGet, path, nil)
	var m map[string]any
	_ = json.Unmarshal(resp.Body, &m)
	return resp.Status, m
}

func ids(page map[string]any) []string {
	var out []string
	items, _ := page["items"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["chatId"].(string))
	}
	return out
}

// Lists by status (open by default), oldest status first; the queue is the queued list.
func TestReadLists(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	r.start("acme", "q1", t0)
	r.start("acme", "q2", t0.Add(time.Minute))
	r.start("acme", "o1", t0)
	r.event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "o1", "agentId": "a1", "at": ts(t0.Add(2 * time.Minute))})
	r.start("acme", "c1", t0)
	r.event(chats.ChatClosed, map[string]any{"orgId": "acme", "chatId": "c1", "at": ts(t0.Add(3 * time.Minute)), "reason": "resolved"})
	r.start("acme", "m1", t0)
	r.event(chats.ChatMissed, map[string]any{"orgId": "acme", "chatId": "m1", "at": ts(t0.Add(4 * time.Minute))})
	r.start("globex", "g1", t0)
	for path, want := range map[string][]string{
		"/v1/orgs/acme/chats":               {"o1"},
		"/v1/orgs/acme/chats?status=open":   {"o1"},
		"/v1/orgs/acme/chats?status=queued": {"q1", "q2"},
		"/v1/orgs/acme/queue":               {"q1", "q2"},
		"/v1/orgs/acme/chats?status=closed": {"c1"},
		"/v1/orgs/acme/chats?status=missed": {"m1"},
		"/v1/orgs/globex/queue":             nil,
	} {
		org := "acme"
		if path == "/v1/orgs/globex/queue" {
			org = "globex"
			want = []string{"g1"}
		}
		code, page := r.get(org, auth.RoleAdmin, path)
		if code != http.StatusOK || !slices.Equal(ids(page), want) || page["nextCursor"] != nil {
			t.Errorf("%s: %d %v, want %v", path, code, page, want)
		}
	}
	_, page := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/chats?status=closed")
	c := page["items"].([]any)[0].(map[string]any)
	if c["closeReason"] != "resolved" || c["status"] != "closed" || c["user"].(map[string]any)["name"] != "Zoë <b>" || c["agentId"] != nil {
		t.Errorf("closed chat: %v", c)
	}
}

// Pages follow each other through signed cursors bound to the organisation and the
// status; a limit outside 1..100 or a cursor of another list is refused.
func TestReadPaging(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("q%d", i)
		r.start("acme", id, t0.Add(time.Duration(i)*time.Minute))
		want = append(want, id)
	}
	var got []string
	path := "/v1/orgs/acme/queue?limit=3"
	var cursor string
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		code, page := r.get("acme", auth.RoleAdmin, path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", path, code, page)
		}
		got = append(got, ids(page)...)
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
		path = "/v1/orgs/acme/queue?limit=3&cursor=" + url.QueryEscape(next)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	r.srv.SetNow(t0.Add(2 * time.Hour))
	for _, tc := range []struct {
		org, path, field string
		status           int
	}{
		{"acme", "/v1/orgs/acme/chats?status=open&cursor=" + url.QueryEscape(cursor), "cursor", 400},
		{"globex", "/v1/orgs/globex/queue?cursor=" + url.QueryEscape(cursor), "cursor", 400},
		{"acme", "/v1/orgs/acme/queue?cursor=" + url.QueryEscape(cursor[:len(cursor)-2]+"AA"), "cursor", 400},
		{"acme", "/v1/orgs/acme/queue?cursor=", "cursor", 400},
		{"acme", "/v1/orgs/acme/queue?limit=0", "limit", 422},
		{"acme", "/v1/orgs/acme/queue?limit=101", "limit", 422},
		{"acme", "/v1/orgs/acme/queue?limit=ten", "limit", 400},
		{"acme", "/v1/orgs/acme/chats?status=OPEN", "status", 400},
		{"acme", "/v1/orgs/acme/chats?status=", "status", 400},
	} {
		code, body := r.get(tc.org, auth.RoleAdmin, tc.path)
		errs, _ := body["errors"].([]any)
		if code != tc.status || len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
			t.Errorf("%s: %d %v, want %d on %s", tc.path, code, body, tc.status, tc.field)
		}
	}
	if code, page := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/queue?limit=100"); code != 200 || len(ids(page)) != 7 {
		t.Errorf("limit=100: %d %v", code, page)
	}
}

// The detail has the transcript in the order sent, whatever the order of delivery.
func TestReadDetail(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	r.start("acme", "c1", t0)
	r.event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": "a1", "at": ts(t0.Add(time.Second))})
	r.event(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": "c1", "messageId": "m2", "sender": "agent", "agentId": "a1", "text": "Hello!", "sentAt": ts(t0.Add(2 * time.Minute))})
	r.event(chats.ChatMessage, map[string]any{"orgId": "acme", "chatId": "c1", "messageId": "m1", "sender": "user", "text": "Hi <script>", "sentAt": ts(t0.Add(time.Minute))})
	code, c := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/chats/c1")
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, c)
	}
	tr, _ := c["transcript"].([]any)
	if len(tr) != 2 || tr[0].(map[string]any)["messageId"] != "m1" || tr[0].(map[string]any)["text"] != "Hi <script>" ||
		tr[1].(map[string]any)["agentId"] != "a1" || c["transcriptTruncated"] != false || c["messages"] != float64(2) ||
		c["agentId"] != "a1" || c["awaiting"] != false || c["lastActivityAt"] != ts(t0.Add(2*time.Minute)) {
		t.Errorf("detail: %v", c)
	}
	for _, path := range []string{"/v1/orgs/acme/chats/c2", "/v1/orgs/acme/chats/" + url.PathEscape("c1\x00"), "/v1/orgs/acme/chats/" + url.PathEscape("C1")} {
		if code, body := r.get("acme", auth.RoleAdmin, path); code != http.StatusNotFound {
			t.Errorf("%s: %d %v, want 404", path, code, body)
		}
	}
}

// chats.read: the roles that hold it read; others are 403; another organisation's chats
// are 404 (their existence is not revealed).
func TestReadAuthorisation(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	r.start("acme", "c1", t0)
	for _, path := range []string{"/v1/orgs/acme/chats", "/v1/orgs/acme/chats/c1", "/v1/orgs/acme/queue"} {
		// An agent manager without an agent profile belongs to no business unit: lists
		// answer (empty), the chat is a 404 (TestAgentManagerSeesTheirUnits).
		managerDetail := 200
		if path == "/v1/orgs/acme/chats/c1" {
			managerDetail = 404
		}
		for role, want := range map[string]int{
			auth.RoleAdmin: 200, auth.RoleAgentManager: managerDetail, auth.RoleClientManager: 200, auth.RoleMarketing: 200,
			auth.RoleCompliance: 200, auth.RoleAgent: 403,
		} {
			if code, body := r.get("acme", role, path); code != want {
				t.Errorf("%s as %s: %d %v, want %d", path, role, code, body, want)
			}
		}
		if code, _ := r.get("globex", auth.RoleAdmin, path); code != http.StatusNotFound {
			t.Errorf("%s as globex's admin: %d, want 404", path, code)
		}
		if resp := r.srv.Do(apitest.Request{Method: http.MethodGet, Path: path}); resp.Status != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, resp.Status)
		}
	}
}

// A chat whose "Chat Started" comes after its other events (EventBridge keeps no order)
// is not shown until the start arrives; then it is, with the state the other events gave.
func TestReadChatStartedLate(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	r.event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c1", "agentId": "a1", "at": ts(t0.Add(time.Minute))})
	r.start("acme", "c2", t0)
	r.event(chats.ChatAllocated, map[string]any{"orgId": "acme", "chatId": "c2", "agentId": "a1", "at": ts(t0.Add(time.Minute))})
	if code, body := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/chats/c1"); code != http.StatusNotFound {
		t.Errorf("before its start: %d %v, want 404", code, body)
	}
	if _, page := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/chats?status=open"); !slices.Equal(ids(page), []string{"c2"}) {
		t.Errorf("open list before c1's start: %v", page)
	}
	r.start("acme", "c1", t0)
	code, c := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/chats/c1")
	if code != http.StatusOK || c["status"] != "open" || c["agentId"] != "a1" || c["user"].(map[string]any)["id"] != "u-c1" {
		t.Errorf("after its start: %d %v", code, c)
	}
	if _, page := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/chats?status=open"); len(ids(page)) != 2 {
		t.Errorf("open list after c1's start: %v", page)
	}
}

// An agent manager sees the chats of the business units their agent profile lists, and no
// others (nor chats without a unit); the admin actions follow the same rule.
func TestAgentManagerSeesTheirUnits(t *testing.T) {
	t.Parallel()
	r := newReadEnv(t)
	created := r.srv.Admin(http.MethodPost, "/v1/orgs/acme/agents", []byte(`{"email":"mia@example.com","name":"Mia","role":"agent_manager","language":"en","businessUnitId":"bu_sales","sendCredentialsEmail":false}`)).Expect(t, 201).JSON(t)
	tok, err := r.srv.Keys.Mint(auth.Principal{Subject: created["id"].(string), OrgID: "acme", Role: auth.RoleAgentManager}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, unit string }{{"s1", "bu_sales"}, {"p1", "bu_support"}, {"n1", ""}} {
		r.event(chats.ChatStarted, map[string]any{"orgId": "acme", "chatId": c.id, "startedAt": ts(t0), "channel": "web", "businessUnitId": c.unit,
			"user": map[string]any{"id": "u-" + c.id}})
	}
	get := func(method, path string) apitest.Response {
		return r.srv.Do(apitest.Request{Method: method, Path: path, Token: tok})
	}
	var page map[string]any
	_ = json.Unmarshal(get(http.MethodGet, "/v1/orgs/acme/queue").Expect(t, 200).Body, &page)
	if got := ids(page); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("the manager's queue: %v, want [s1]", got)
	}
	get(http.MethodGet, "/v1/orgs/acme/chats/s1").Expect(t, 200)
	get(http.MethodGet, "/v1/orgs/acme/chats/p1").Expect(t, 404)
	get(http.MethodGet, "/v1/orgs/acme/chats/n1").Expect(t, 404)
	get(http.MethodPost, "/v1/orgs/acme/chats/p1/close").Expect(t, 404)
	get(http.MethodPost, "/v1/orgs/acme/chats/s1/close").Expect(t, 200)
	// The admin sees them all.
	_, all := r.get("acme", auth.RoleAdmin, "/v1/orgs/acme/queue")
	if len(ids(all)) != 2 {
		t.Errorf("the admin's queue: %v", ids(all))
	}
}

// agent creates an active agent of acme (in its business unit bu_sales) and returns its id.
func (r *readEnv) agent(email string) string {
	r.t.Helper()
	req := `{"email":"` + email + `","name":"Agent","role":"agent","language":"en","businessUnitId":"bu_sales","sendCredentialsEmail":false}`
	return r.srv.Admin(http.MethodPost, "/v1/orgs/acme/agents", []byte(req)).Expect(r.t, 201).JSON(r.t)["id"].(string)
}
