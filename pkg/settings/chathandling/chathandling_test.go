package chathandling_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

const path = "/v1/orgs/acme/settings/chat-handling"

func TestValidateRanges(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*chathandling.Settings)
		want map[string]string
	}{
		{"defaults", func(*chathandling.Settings) {}, nil},
		{"max 1", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 1 }, nil},
		{"max 9", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 9 }, nil},
		{"max 0", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 0 }, map[string]string{"maxChatsPerAgent": "must be between 1 and 9"}},
		{"max 10", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 10 }, map[string]string{"maxChatsPerAgent": "must be between 1 and 9"}},
		{"days 60", func(s *chathandling.Settings) { s.AutoCloseAfterDays, s.MoveToQueueAfterNoLoginDays = 60, 60 }, nil},
		{"days 61 and -1", func(s *chathandling.Settings) { s.AutoCloseAfterDays, s.MoveToQueueAfterNoLoginDays = 61, -1 }, map[string]string{
			"autoCloseAfterDays":          "must be between 0 and 60 (0 = never)",
			"moveToQueueAfterNoLoginDays": "must be between 0 and 60 (0 = keep chats with the agent)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := chathandling.Defaults()
			tc.mod(&s)
			got := map[string]string{}
			if err := s.Validate(); err != nil {
				var pe *problem.Error
				if !asProblem(err, &pe) || pe.Code != problem.Invalid {
					t.Fatalf("got %v, want an Invalid problem", err)
				}
				for _, f := range pe.Fields {
					got[f.Field] = f.Message
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(orEmpty(tc.want)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func asProblem(err error, pe **problem.Error) bool {
	p, ok := err.(*problem.Error)
	*pe = p
	return ok
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func TestGetDefaults(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
	if got := r.Header.Get("ETag"); got != `"0"` {
		t.Errorf("ETag: got %s, want \"0\"", got)
	}
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"maxChatsPerAgent":3,"moveToQueueWhenAgentOffline":false,"autoCloseAfterDays":0,"moveToQueueAfterNoLoginDays":0}`
	if string(r.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", r.Body, want)
	}
}

func TestPutThenGet(t *testing.T) {
	s := apitest.New(t)
	body := `{"maxChatsPerAgent":5,"moveToQueueWhenAgentOffline":true,"autoCloseAfterDays":7,"moveToQueueAfterNoLoginDays":2}`
	r := s.Admin(http.MethodPut, path, []byte(body)).Expect(t, http.StatusOK)
	if got := r.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag after first PUT: got %s, want \"1\"", got)
	}
	m := r.JSON(t)
	if m["version"] != 1.0 || m["updatedBy"] != "admin@acme" || m["maxChatsPerAgent"] != 5.0 || m["updatedAt"] != "2026-11-25T10:00:00Z" {
		t.Errorf("PUT response: got %s", r.Body)
	}
	g := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
	if string(g.Body) != string(r.Body) || g.Header.Get("ETag") != `"1"` {
		t.Errorf("GET after PUT:\n got %s\nwant %s", g.Body, r.Body)
	}
}

func TestPutMissingFieldsTakeDefaults(t *testing.T) {
	s := apitest.New(t)
	m := s.Admin(http.MethodPut, path, []byte(`{"autoCloseAfterDays":3}`)).Expect(t, http.StatusOK).JSON(t)
	if m["maxChatsPerAgent"] != 3.0 || m["autoCloseAfterDays"] != 3.0 {
		t.Errorf("got %v, want maxChatsPerAgent default 3 and autoCloseAfterDays 3", m)
	}
}

func TestPutIgnoresReadOnlyFields(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"version":99,"updatedAt":"2020-01-01T00:00:00Z","updatedBy":"mallory","maxChatsPerAgent":4}`)).Expect(t, http.StatusOK)
	m := r.JSON(t)
	if m["version"] != 1.0 || m["updatedBy"] != "admin@acme" || m["updatedAt"] != "2026-11-25T10:00:00Z" {
		t.Errorf("read-only fields were taken from the client: %s", r.Body)
	}
}

// Bad input: every case is a 4xx problem that names the field, and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	big := `{"maxChatsPerAgent":4,"x":"` + strings.Repeat("a", 70<<10) + `"}`
	tests := []struct {
		name, method, ctype, body string
		status                    int
		field, message            string
	}{
		{"out of range, every field", http.MethodPut, "", `{"maxChatsPerAgent":0,"autoCloseAfterDays":61,"moveToQueueAfterNoLoginDays":-1}`, 422, "maxChatsPerAgent", "must be between 1 and 9"},
		{"unknown field", http.MethodPut, "", `{"maxChatsPerAgent":4,"maxChats":4}`, 400, "maxChats", "unknown field"},
		{"wrong type", http.MethodPut, "", `{"maxChatsPerAgent":"4"}`, 400, "maxChatsPerAgent", "must be an integer in range, not string"},
		{"fraction", http.MethodPut, "", `{"maxChatsPerAgent":3.5}`, 400, "maxChatsPerAgent", "must be an integer in range, not number 3.5"},
		{"bool as string", http.MethodPut, "", `{"moveToQueueWhenAgentOffline":"yes"}`, 400, "moveToQueueWhenAgentOffline", "must be a boolean, not string"},
		{"huge number", http.MethodPut, "", `{"maxChatsPerAgent":1e30}`, 400, "maxChatsPerAgent", ""},
		{"malformed", http.MethodPut, "", `{"maxChatsPerAgent":`, 400, "", ""},
		{"not an object", http.MethodPut, "", `[1,2]`, 400, "", ""},
		{"null body", http.MethodPut, "", `null`, 400, "", ""},
		{"empty body", http.MethodPut, "", ` `, 400, "", ""},
		{"two objects", http.MethodPut, "", `{}{}`, 400, "", ""},
		{"over 64 KiB", http.MethodPut, "", big, 400, "", ""},
		{"form content type", http.MethodPut, "application/x-www-form-urlencoded", `{"maxChatsPerAgent":4}`, 415, "", ""},
		{"patch as plain JSON", http.MethodPatch, "application/json", `{"maxChatsPerAgent":4}`, 415, "", ""},
		{"patch out of range", http.MethodPatch, "application/merge-patch+json", `{"maxChatsPerAgent":12}`, 422, "maxChatsPerAgent", "must be between 1 and 9"},
		{"patch unknown field", http.MethodPatch, "application/merge-patch+json", `{"colour":"red"}`, 400, "colour", "unknown field"},
		{"patch not an object", http.MethodPatch, "application/merge-patch+json", `"x"`, 400, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := apitest.New(t)
			before := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
			ct := tc.ctype
			if ct == "" {
				ct = "application/json"
			}
			r := s.Admin(tc.method, path, []byte(tc.body), "Content-Type", ct).Expect(t, tc.status)
			p := r.JSON(t)
			if p["status"] != float64(tc.status) || p["requestId"] == "" || p["requestId"] != r.Header.Get("X-Request-Id") {
				t.Errorf("problem body: got %s", r.Body)
			}
			if tc.field != "" {
				fields := r.FieldErrors(t)
				msg, ok := fields[tc.field]
				if !ok || (tc.message != "" && msg != tc.message) {
					t.Errorf("field errors: got %v, want %s: %q", fields, tc.field, tc.message)
				}
			}
			after := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
			if string(after.Body) != string(before.Body) {
				t.Errorf("a rejected request changed the settings:\n%s\n%s", before.Body, after.Body)
			}
			if a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t); len(a["items"].([]any)) != 0 {
				t.Errorf("a rejected request was audited: %v", a)
			}
		})
	}
}

func TestEveryFailingFieldIsListed(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":0,"autoCloseAfterDays":61,"moveToQueueAfterNoLoginDays":-1}`)).Expect(t, 422)
	want := map[string]string{
		"maxChatsPerAgent":            "must be between 1 and 9",
		"autoCloseAfterDays":          "must be between 0 and 60 (0 = never)",
		"moveToQueueAfterNoLoginDays": "must be between 0 and 60 (0 = keep chats with the agent)",
	}
	if got := r.FieldErrors(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestIfMatch(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":4}`)).Expect(t, 200)
	stale := s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":6}`), "If-Match", `"0"`).Expect(t, http.StatusPreconditionFailed)
	if !strings.Contains(string(stale.Body), `\"1\"`) {
		t.Errorf("412 should say the current version: %s", stale.Body)
	}
	s.Admin(http.MethodPatch, path, []byte(`{"maxChatsPerAgent":6}`), "Content-Type", "application/merge-patch+json", "If-Match", `W/"1"`).Expect(t, 412)
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t); m["maxChatsPerAgent"] != 4.0 {
		t.Fatalf("a 412 changed the settings: %v", m)
	}
	r := s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":6}`), "If-Match", `"7", "1"`).Expect(t, 200)
	if r.Header.Get("ETag") != `"2"` {
		t.Errorf("ETag: got %s, want \"2\"", r.Header.Get("ETag"))
	}
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":7}`), "If-Match", `*`).Expect(t, 200)
}

func TestConcurrentWritesWithSameETag(t *testing.T) {
	s := apitest.New(t)
	const n = 10
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.Admin(http.MethodPut, path, []byte(fmt.Sprintf(`{"maxChatsPerAgent":%d}`, i%9+1)), "If-Match", `"0"`).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case 200:
			ok++
		case 412:
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	// Writers that pick the default value 3 change nothing and succeed without a write.
	if ok < 1 {
		t.Fatalf("%d writes succeeded, want at least 1 (statuses %v)", ok, statuses)
	}
	m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)
	if m["version"] != 1.0 {
		t.Errorf("version after racing writes on ETag \"0\": got %v, want 1 (only one write may win)", m["version"])
	}
}

func TestConcurrentWritesWithoutIfMatchAllLand(t *testing.T) {
	s := apitest.New(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Admin(http.MethodPatch, path, []byte(fmt.Sprintf(`{"autoCloseAfterDays":%d}`, 10+i)), "Content-Type", "application/merge-patch+json").Expect(t, 200)
		}()
	}
	wg.Wait()
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t)
	if n := len(a["items"].([]any)); n != 4 {
		t.Errorf("audit entries: got %d, want 4 (one per change, none lost)", n)
	}
}

func TestPatchChangesOnlyGivenFields(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":5,"autoCloseAfterDays":9}`)).Expect(t, 200)
	m := s.Admin(http.MethodPatch, path, []byte(`{"moveToQueueWhenAgentOffline":true}`), "Content-Type", "application/merge-patch+json").Expect(t, 200).JSON(t)
	if m["maxChatsPerAgent"] != 5.0 || m["autoCloseAfterDays"] != 9.0 || m["moveToQueueWhenAgentOffline"] != true || m["version"] != 2.0 {
		t.Errorf("PATCH result: got %v", m)
	}
	m = s.Admin(http.MethodPatch, path, []byte(`{"maxChatsPerAgent":null}`), "Content-Type", "application/merge-patch+json; charset=utf-8").Expect(t, 200).JSON(t)
	if m["maxChatsPerAgent"] != 3.0 {
		t.Errorf("null resets to the default 3: got %v", m["maxChatsPerAgent"])
	}
}

func TestUnchangedPutIsNotAWrite(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":5}`)).Expect(t, 200)
	r := s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":5}`)).Expect(t, 200)
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("an unchanged PUT bumped the version: ETag %s", r.Header.Get("ETag"))
	}
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t)
	if n := len(a["items"].([]any)); n != 1 {
		t.Errorf("audit entries: got %d, want 1", n)
	}
}

func TestChangeIsAudited(t *testing.T) {
	s := apitest.New(t)
	s.SetNow(time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC))
	r := s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":5,"autoCloseAfterDays":0}`), "X-Request-Id", "req-123").Expect(t, 200)
	if r.Header.Get("X-Request-Id") != "req-123" {
		t.Errorf("X-Request-Id: got %q, want req-123", r.Header.Get("X-Request-Id"))
	}
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=chat-handling", nil).Expect(t, 200)
	var page struct {
		Items []struct {
			ID, Actor, Area, Action, RequestID string
			At                                 time.Time
			Changes                            []struct {
				Field    string
				From, To json.RawMessage
			}
		}
		NextCursor *string
	}
	if err := json.Unmarshal(a.Body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.NextCursor != nil {
		t.Fatalf("audit page: got %s", a.Body)
	}
	e := page.Items[0]
	if e.Actor != "admin@acme" || e.Area != "chat-handling" || e.Action != "replace" || e.RequestID != "req-123" || !e.At.Equal(s.Now) || e.ID == "" {
		t.Errorf("audit entry: got %+v", e)
	}
	if len(e.Changes) != 1 || e.Changes[0].Field != "maxChatsPerAgent" || string(e.Changes[0].From) != "3" || string(e.Changes[0].To) != "5" {
		t.Errorf("changes: got %+v, want only maxChatsPerAgent 3 -> 5", e.Changes)
	}
}

func TestAuthorisation(t *testing.T) {
	s := apitest.New(t)
	tests := []struct {
		name   string
		req    apitest.Request
		status int
	}{
		{"no token", apitest.Request{Method: "GET", Path: path}, 401},
		{"garbage token", apitest.Request{Method: "GET", Path: path, Token: "abc.def.ghi"}, 401},
		{"other org admin", apitest.Request{Method: "GET", Path: path, Token: s.Token("globex", "admin")}, 404},
		{"other org PUT", apitest.Request{Method: "PUT", Path: path, Token: s.Token("globex", "admin"), Body: []byte(`{"maxChatsPerAgent":4}`)}, 404},
		{"agent", apitest.Request{Method: "GET", Path: path, Token: s.Token("acme", "agent")}, 403},
		{"agent manager PUT", apitest.Request{Method: "PUT", Path: path, Token: s.Token("acme", "agent_manager"), Body: []byte(`{"maxChatsPerAgent":4}`)}, 403},
		{"admin", apitest.Request{Method: "GET", Path: path, Token: s.Token("acme", "admin")}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(tc.req).Expect(t, tc.status)
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if m := s.Admin("GET", path, nil).JSON(t); m["version"] != 0.0 {
		t.Errorf("a refused PUT changed the settings: %v", m)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodGet, "/v1/orgs/acme/settings/nope", nil).Expect(t, 404)
	r := s.Admin(http.MethodDelete, path, nil).Expect(t, 405)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "PUT") {
		t.Errorf("Allow: got %q", allow)
	}
}
