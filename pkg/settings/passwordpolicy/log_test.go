package passwordpolicy_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

// The secrets the bodies below carry. Each is distinctive enough that finding it (or a
// long piece of it) anywhere in the logs or a response can only mean a leak.
const (
	secret       = "Zq7!vortex-PLUM-4417"
	secretDigits = "86753094417"
)

// leaks reports whether text holds a secret or a telling piece of one.
func leaks(text string) bool {
	for _, s := range []string{secret, secretDigits, "vortex", "PLUM-4417", "5309441"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// bodiesWithSecrets are check bodies carrying a password, well-formed or not: none of
// them may leave a trace of it in a log or a response.
var bodiesWithSecrets = []struct {
	name, body string
	status     int
}{
	{"a check", `{"password":"` + secret + `"}`, http.StatusOK},
	{"a check naming an agent", `{"password":"` + secret + `","agentId":"agt_1"}`, http.StatusUnprocessableEntity},
	{"a wrong type: number", `{"password":` + secretDigits + `}`, http.StatusBadRequest},
	{"a wrong type: array", `{"password":["` + secret + `"]}`, http.StatusBadRequest},
	{"a wrong type: object", `{"password":{"` + secret + `":1}}`, http.StatusBadRequest},
	{"a wrong type in agentId", `{"password":"x","agentId":` + secretDigits + `}`, http.StatusBadRequest},
	{"a bad escape inside the password", `{"password":"Zq7!vortex\qPLUM-4417"}`, http.StatusBadRequest},
	{"a control character inside the password", "{\"password\":\"Zq7!vortex\x01PLUM-4417\"}", http.StatusBadRequest},
	{"an unterminated password", `{"password":"` + secret, http.StatusBadRequest},
	{"data after the object", `{"password":"x"} "` + secret + `"`, http.StatusBadRequest},
	{"a misspelt field", `{"pasword":"` + secret + `"}`, http.StatusBadRequest},
	{"the password twice", `{"password":"` + secret + `","password":"` + secret + `"}`, http.StatusBadRequest},
	{"a too long password", `{"password":"` + secret + strings.Repeat("x", 300) + `"}`, http.StatusUnprocessableEntity},
	{"a too long body", `{"password":"` + secret + strings.Repeat("x", 70000) + `"}`, http.StatusBadRequest},
	{"the secret as an agent id", `{"password":"x","agentId":"` + secret + `"}`, http.StatusUnprocessableEntity},
}

// captureLogs sends every log line of the process (slog's default logger, which
// httpx.WriteError writes to, and the one returned, for an API's access log) to a
// buffer at debug level, until the test ends. Tests that call it must not be parallel.
func captureLogs(t *testing.T) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	log := httpx.NewLogger(&buf, slog.LevelDebug)
	prev := slog.Default()
	slog.SetDefault(log)
	t.Cleanup(func() { slog.SetDefault(prev) })
	return log, &buf
}

// checkEvent is an API Gateway v2 event of the check route for the admin of acme.
func checkEvent(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST " + passwordpolicy.CheckPath, RawPath: checkPath,
		Headers: map[string]string{"content-type": "application/json", "content-length": strconv.Itoa(len(body))}, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "log-test", DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: checkPath},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "u1", "org_id": "acme", "role": "admin"}}},
		},
	}
}

// Passwords are never logged: through the Lambda entry point (the deployed path, with the
// functions' own logger at debug level), no log line and no response of any check body
// holds the password, whatever is wrong with the body.
func TestPasswordsAreNeverLoggedLambda(t *testing.T) {
	log, buf := captureLogs(t)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ag, err := store.Agents()
	if err != nil {
		t.Fatal(err)
	}
	entry := lambdafn.EntryPoint(passwordpolicy.Function, app.Deps{Settings: store, Agents: ag, Now: time.Now}, log)
	for _, tc := range bodiesWithSecrets {
		resp, err := entry(context.Background(), checkEvent(tc.body))
		if err != nil || resp.StatusCode != tc.status {
			t.Errorf("%s: got %d %v, want %d\n%s", tc.name, resp.StatusCode, err, tc.status, resp.Body)
		}
		if !leaks(tc.body) {
			t.Fatalf("%s: the body carries no secret; the case tests nothing", tc.name)
		}
		// encoding/json's syntax errors quote the character they stopped at, which may
		// be one of the password's.
		if leaks(resp.Body) || strings.Contains(resp.Body, "invalid character") {
			t.Errorf("%s: the response quotes the password: %s", tc.name, resp.Body)
		}
	}
	logs := buf.String()
	if n := strings.Count(logs, `"route":"POST /v1/orgs/{orgId}/password-policy/check"`); n != len(bodiesWithSecrets) {
		t.Fatalf("got %d access lines of the check route, want %d: the logs were not captured\n%s", n, len(bodiesWithSecrets), logs)
	}
	if leaks(logs) {
		t.Errorf("the logs hold the password:\n%s", logs)
	}
}

// The same on the local path, with a History that fails (so that the error is logged),
// one that succeeds, and the real one over stored hashes (agt_1's current password is
// the secret, so the reuse rule verifies it).
func TestPasswordsAreNeverLoggedLocal(t *testing.T) {
	log, buf := captureLogs(t)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ag, err := store.Agents()
	if err != nil {
		t.Fatal(err)
	}
	seedAgent(t, ag, "acme", "agt_1", secret, "not reused")
	for _, h := range []passwordpolicy.History{
		&fakeHistory{agents: map[string][]string{"agt_1": {secret}}},
		&fakeHistory{err: errors.New("agents table unavailable")},
		passwords.History{Store: ag},
	} {
		api := newAPI(t, h, log)
		call(api, http.MethodPut, path, "application/json", `{"preventReuse":true}`)
		for _, tc := range bodiesWithSecrets {
			rec := call(api, http.MethodPost, checkPath, "application/json", tc.body)
			if leaks(rec.Body.String()) {
				t.Errorf("%s: the response quotes the password: %s", tc.name, rec.Body)
			}
		}
	}
	logs := buf.String()
	if !strings.Contains(logs, "agents table unavailable") || !strings.Contains(logs, `"status":500`) {
		t.Fatalf("the History's failure is not in the logs: were they captured?\n%s", logs)
	}
	if leaks(logs) {
		t.Errorf("the logs hold the password:\n%s", logs)
	}
}
