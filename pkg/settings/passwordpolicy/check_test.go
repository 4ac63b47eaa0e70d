package passwordpolicy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

const checkPath = "/v1/orgs/acme/password-policy/check"

// result decodes a check answer.
func result(t *testing.T, body []byte) passwordpolicy.CheckResult {
	t.Helper()
	var r passwordpolicy.CheckResult
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("not a check result: %v\n%s", err, body)
	}
	return r
}

func rules(r passwordpolicy.CheckResult) string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.Rule)
	}
	return strings.Join(out, ",")
}

// The check evaluates the organisation's current policy, enforced or not, and says which.
func TestCheckUsesTheCurrentPolicy(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodPost, checkPath, []byte(`{"password":"password"}`)).Expect(t, http.StatusOK)
	if got, want := string(r.Body), `{"ok":false,"enforced":false,"violations":[{"rule":"upper","message":"must contain at least 1 upper-case letter"},{"rule":"digits","message":"must contain at least 1 digit"}]}`; got != want {
		t.Errorf("defaults, not enforced:\n got %s\nwant %s", got, want)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", cc)
	}
	r = s.Admin(http.MethodPost, checkPath, []byte(`{"password":"Tr0ub4dor&3"}`)).Expect(t, http.StatusOK)
	if got, want := string(r.Body), `{"ok":true,"enforced":false,"violations":[]}`; got != want {
		t.Errorf("a good password:\n got %s\nwant %s", got, want)
	}

	s.Admin(http.MethodPut, path, []byte(`{"enforce":true,"minLength":12,"minSpecial":2}`)).Expect(t, http.StatusOK)
	res := result(t, s.Admin(http.MethodPost, checkPath, []byte(`{"password":"Tr0ub4dor&3"}`)).Expect(t, http.StatusOK).Body)
	if !res.Enforced || res.OK || rules(res) != "length,special" {
		t.Errorf("after the PUT: got %+v, want enforced, not ok, length and special", res)
	}
	res = result(t, s.Admin(http.MethodPost, checkPath, []byte(`{"password":"Tr0ub4dor&3!?"}`)).Expect(t, http.StatusOK).Body)
	if !res.OK || len(res.Violations) != 0 {
		t.Errorf("a password meeting the saved policy: got %+v, want ok", res)
	}
}

// The check saves nothing and audits nothing.
func TestCheckChangesNothing(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, body := range []string{`{"password":"Tr0ub4dor&3"}`, `{"password":"x"}`, `{"password":"x","agentId":"agt_1"}`} {
		s.Admin(http.MethodPost, checkPath, []byte(body))
	}
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t); m["version"] != 0.0 {
		t.Errorf("got version %v, want 0", m["version"])
	}
	if a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t); len(a["items"].([]any)) != 0 {
		t.Errorf("got audit entries %v, want none", a["items"])
	}
}

// Characters are counted as Count says, through the route too.
func TestCheckCountsCharacters(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"minLength":4,"maxLength":4,"minMixedCase":1,"minDigits":1,"minSpecial":0}`)).Expect(t, http.StatusOK)
	tests := []struct{ password, rules string }{
		{"Äß٣😀", ""},        // 4 characters, 11 bytes
		{"A\u0308ß٣😀", ""},  // decomposed Ä: still 4
		{"Äß٣€", ""},        // the euro sign is a character
		{"Äß3😀!", "length"}, // 5
		{"ÄÖ٣😀", "lower"},   // no lower-case letter
		{"äß٣😀", "upper"},   // no upper-case letter
		{"Äßx😀", "digits"},  // no digit
		{"", "length,upper,lower,digits"},
	}
	for _, tc := range tests {
		body, _ := json.Marshal(map[string]string{"password": tc.password})
		if got := rules(result(t, s.Admin(http.MethodPost, checkPath, body).Expect(t, http.StatusOK).Body)); got != tc.rules {
			t.Errorf("%q: got [%s], want [%s]", tc.password, got, tc.rules)
		}
	}
}

// The request: password required and bounded, agentId an id; decoding errors are 400 and
// media types 415.
func TestCheckRequestErrors(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	tests := []struct {
		name, body string
		status     int
		fields     map[string]string
	}{
		{"password missing", `{}`, 422, map[string]string{"password": "required"}},
		{"password null", `{"password":null}`, 422, map[string]string{"password": "required"}},
		{"password 257 characters", `{"password":"` + strings.Repeat("€", 257) + `"}`, 422, map[string]string{"password": "must be at most 256 characters"}},
		{"password 257 ASCII", `{"password":"` + strings.Repeat("a", 257) + `"}`, 422, map[string]string{"password": "must be at most 256 characters"}},
		{"agentId empty", `{"password":"x","agentId":""}`, 422, map[string]string{"agentId": "must be an agent id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)"}},
		{"agentId with a slash", `{"password":"x","agentId":"a/b"}`, 422, map[string]string{"agentId": "must be an agent id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)"}},
		{"agentId 65 characters", `{"password":"x","agentId":"` + strings.Repeat("a", 65) + `"}`, 422, map[string]string{"agentId": "must be an agent id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)"}},
		{"both fields at once", `{"agentId":"-x"}`, 422, map[string]string{"password": "required", "agentId": "must be an agent id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)"}},
		{"unknown agent", `{"password":"x","agentId":"agt_1"}`, 422, map[string]string{"agentId": "no such agent"}},
		{"unknown agent, longest id", `{"password":"x","agentId":"` + strings.Repeat("a", 64) + `"}`, 422, map[string]string{"agentId": "no such agent"}},
		{"wrong type", `{"password":12345678}`, 400, map[string]string{"password": "must be a string, not number"}},
		{"unknown field", `{"password":"x","pwd":"y"}`, 400, map[string]string{"pwd": "unknown field"}},
		{"wrong case", `{"Password":"x"}`, 400, map[string]string{"Password": "unknown field"}},
		{"duplicate", `{"password":"x","password":"y"}`, 400, map[string]string{"password": "duplicate field"}},
		{"malformed", `{"password":"x`, 400, map[string]string{}},
		{"array", `["x"]`, 400, map[string]string{}},
		{"body over 64 KiB", `{"password":"` + strings.Repeat("a", 70000) + `"}`, 400, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Admin(http.MethodPost, checkPath, []byte(tc.body)).Expect(t, tc.status)
			if got := r.FieldErrors(t); fmt.Sprint(got) != fmt.Sprint(tc.fields) {
				t.Errorf("got %v, want %v", got, tc.fields)
			}
		})
	}
	// The longest accepted password, in the widest characters: 256 emoji, 1 KiB.
	body := `{"password":"` + strings.Repeat("😀", 256) + `"}`
	if res := result(t, s.Admin(http.MethodPost, checkPath, []byte(body)).Expect(t, http.StatusOK).Body); rules(res) != "length,upper,lower,digits" {
		t.Errorf("256 emoji: got %+v, want length, upper, lower, digits", res)
	}
	s.Admin(http.MethodPost, checkPath, []byte(`{"password":"x","agentId":null}`)).Expect(t, http.StatusOK)
	s.Admin(http.MethodPost, checkPath, []byte(`{"password":"x"}`), "Content-Type", "text/plain").Expect(t, http.StatusUnsupportedMediaType)
	s.Admin(http.MethodPost, checkPath, []byte(`{"password":"x"}`), "Content-Type", "application/json; charset=utf-8").Expect(t, http.StatusOK)
	s.Admin(http.MethodGet, checkPath, nil).Expect(t, http.StatusMethodNotAllowed)
}

// The check route is for admins, as the settings routes are: 401 without a token, 404
// for another organisation (or a malformed one), 403 for every other role.
func TestCheckAuthorisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	body := []byte(`{"password":"Tr0ub4dor&3"}`)
	s.Do(apitest.Request{Method: http.MethodPost, Path: checkPath, Body: body}).Expect(t, http.StatusUnauthorized)
	s.Do(apitest.Request{Method: http.MethodPost, Path: checkPath, Body: body, Token: "not-a-token"}).Expect(t, http.StatusUnauthorized)
	s.As("other", auth.RoleAdmin, http.MethodPost, checkPath, body).Expect(t, http.StatusNotFound)
	s.Admin(http.MethodPost, "/v1/orgs/-acme/password-policy/check", body).Expect(t, http.StatusNotFound)
	for _, role := range []string{auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent, "custom_reviewer"} {
		s.As("acme", role, http.MethodPost, checkPath, body).Expect(t, http.StatusForbidden)
	}
	s.Admin(http.MethodPost, checkPath, body).Expect(t, http.StatusOK)
}

// fakeHistory is the agents' password history of organisation acme: agent -> passwords
// used. err, when set, is what every call returns.
type fakeHistory struct {
	mu      sync.Mutex
	agents  map[string][]string
	err     error
	known   int // calls of Known
	reused  int // calls of Reused
	lastPwd string
}

var _ passwordpolicy.History = (*fakeHistory)(nil)

func (f *fakeHistory) Known(_ context.Context, org, agent string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known++
	if f.err != nil {
		return f.err
	}
	if _, ok := f.agents[agent]; !ok || org != "acme" {
		return problem.New(problem.NotFound, "no such agent")
	}
	return nil
}

func (f *fakeHistory) Reused(_ context.Context, org, agent, password string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reused++
	f.lastPwd = password
	if f.err != nil {
		return false, f.err
	}
	used, ok := f.agents[agent]
	if !ok || org != "acme" {
		return false, problem.New(problem.NotFound, "no such agent")
	}
	for _, p := range used {
		if p == password {
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeHistory) calls() (known, reused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.known, f.reused
}

// adminAuthn lets every request in as the admin of acme: these tests are about the
// History port, the authorisation of the route is TestCheckAuthorisation's.
type adminAuthn struct{}

func (adminAuthn) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{Subject: "admin@acme", OrgID: "acme", Role: auth.RoleAdmin}, nil
}

// newAPI serves the area with history on a fresh embedded store, logging to log (nil:
// nowhere).
func newAPI(t *testing.T, history passwordpolicy.History, log *slog.Logger) *httpx.API {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	api := httpx.New(adminAuthn{}, log)
	passwordpolicy.Register(api, store, history, func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) })
	return api
}

func call(api *httpx.API, method, target, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

// The History port: reuse is reported only when the policy prevents it; the agent must
// exist either way (only a cheap Known when reuse does not matter); no agentId, no call.
func TestCheckReuseThroughHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		preventReuse bool
		body         string
		status       int
		rules        string
		known, reuse int // calls expected
	}{
		{"used, reuse allowed", false, `{"password":"Tr0ub4dor&3","agentId":"agt_1"}`, 200, "", 1, 0},
		{"used, reuse prevented", true, `{"password":"Tr0ub4dor&3","agentId":"agt_1"}`, 200, "reuse", 0, 1},
		{"used and too short, reuse prevented", true, `{"password":"Ab1","agentId":"agt_1"}`, 200, "length,reuse", 0, 1},
		{"new, reuse prevented", true, `{"password":"Tr0ub4dor&4","agentId":"agt_1"}`, 200, "", 0, 1},
		{"other agent's password, reuse prevented", true, `{"password":"Correct-Horse-9","agentId":"agt_1"}`, 200, "", 0, 1},
		{"no agentId, reuse prevented", true, `{"password":"Tr0ub4dor&3"}`, 200, "", 0, 0},
		{"agentId null, reuse prevented", true, `{"password":"Tr0ub4dor&3","agentId":null}`, 200, "", 0, 0},
		{"unknown agent, reuse allowed", false, `{"password":"Tr0ub4dor&3","agentId":"agt_9"}`, 422, "", 1, 0},
		{"unknown agent, reuse prevented", true, `{"password":"Tr0ub4dor&3","agentId":"agt_9"}`, 422, "", 0, 1},
		{"malformed agentId is not looked up", true, `{"password":"Tr0ub4dor&3","agentId":"agt 1"}`, 422, "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &fakeHistory{agents: map[string][]string{"agt_1": {"Tr0ub4dor&3", "Ab1"}, "agt_2": {"Correct-Horse-9"}}}
			api := newAPI(t, h, nil)
			if rec := call(api, http.MethodPut, path, "application/json", fmt.Sprintf(`{"preventReuse":%v}`, tc.preventReuse)); rec.Code != 200 {
				t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
			}
			rec := call(api, http.MethodPost, checkPath, "application/json", tc.body)
			if rec.Code != tc.status {
				t.Fatalf("got %d, want %d\n%s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 {
				res := result(t, rec.Body.Bytes())
				if got := rules(res); got != tc.rules || res.OK != (tc.rules == "") {
					t.Errorf("got %+v, want rules [%s]", res, tc.rules)
				}
			}
			if tc.status == 422 && strings.Contains(tc.name, "unknown") {
				if !strings.Contains(rec.Body.String(), `"errors":[{"field":"agentId","message":"no such agent"}]`) {
					t.Errorf("got %s, want a 422 on agentId: no such agent", rec.Body)
				}
			}
			if known, reused := h.calls(); known != tc.known || reused != tc.reuse {
				t.Errorf("History calls: got Known %d, Reused %d; want %d, %d", known, reused, tc.known, tc.reuse)
			}
		})
	}
	// The violation's wording.
	h := &fakeHistory{agents: map[string][]string{"agt_1": {"Tr0ub4dor&3"}}}
	api := newAPI(t, h, nil)
	call(api, http.MethodPut, path, "application/json", `{"preventReuse":true}`)
	rec := call(api, http.MethodPost, checkPath, "application/json", `{"password":"Tr0ub4dor&3","agentId":"agt_1"}`)
	if want := `{"ok":false,"enforced":false,"violations":[{"rule":"reuse","message":"must not be a password this agent has used before"}]}`; rec.Body.String() != want {
		t.Errorf("got %s, want %s", rec.Body, want)
	}
	if h.lastPwd != "Tr0ub4dor&3" {
		t.Errorf("History got password %q, want it as sent (the store compares it with its hashes)", h.lastPwd)
	}
}

// The History's failures: a throttled or unavailable store is a 429 or 503 with
// Retry-After, a request out of time a 503, anything else a 500 without its text.
func TestCheckHistoryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"unavailable", &problem.Error{Code: problem.Unavailable, Message: "the agents store is busy; retry", RetryAfter: 2 * time.Second}, 503, "2"},
		{"throttled", &problem.Error{Code: problem.Throttled, Message: "too many requests; retry", RetryAfter: time.Second}, 429, "1"},
		{"deadline", fmt.Errorf("query agents: %w", context.DeadlineExceeded), 503, "1"},
		{"internal", errors.New("agents table: access denied for role xyz"), 500, ""},
	}
	for _, tc := range tests {
		for _, preventReuse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s preventReuse=%v", tc.name, preventReuse), func(t *testing.T) {
				t.Parallel()
				api := newAPI(t, &fakeHistory{err: tc.err}, nil)
				call(api, http.MethodPut, path, "application/json", fmt.Sprintf(`{"preventReuse":%v}`, preventReuse))
				rec := call(api, http.MethodPost, checkPath, "application/json", `{"password":"Tr0ub4dor&3","agentId":"agt_1"}`)
				if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retryAfter {
					t.Errorf("got %d Retry-After %q, want %d %q\n%s", rec.Code, rec.Header().Get("Retry-After"), tc.status, tc.retryAfter, rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type: got %q, want application/problem+json", ct)
				}
				if strings.Contains(rec.Body.String(), "access denied") {
					t.Errorf("the 500 carries internal error text: %s", rec.Body)
				}
			})
		}
	}
}

// Register with a nil History (no agents at all) answers any agentId as an unknown agent
// is answered.
func TestCheckWithoutHistory(t *testing.T) {
	t.Parallel()
	api := newAPI(t, nil, nil)
	for _, prevent := range []string{"false", "true"} {
		call(api, http.MethodPut, path, "application/json", `{"preventReuse":`+prevent+`}`)
		rec := call(api, http.MethodPost, checkPath, "application/json", `{"password":"Tr0ub4dor&3","agentId":"agt_1"}`)
		if rec.Code != 422 || !strings.Contains(rec.Body.String(), `"errors":[{"field":"agentId","message":"no such agent"}]`) {
			t.Errorf("preventReuse %s: got %d %s, want a 422 on agentId: no such agent", prevent, rec.Code, rec.Body)
		}
	}
}
