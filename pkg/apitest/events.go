package apitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/signer"
)

// EventCase is the expected outcome of one sample of events/<function>/. Cases run in
// table order against one set of fresh adapters, so a case may rely on earlier ones (the
// logo is uploaded before it is read).
type EventCase struct {
	File   string // the file name within events/<function>/
	Status int    // HTTP functions: the response's status
	// Fails says the entry point of an event or sweep function returns an error for the
	// sample (a transient failure, which Lambda retries); else it must return nil.
	Fails bool
	Check func(t *testing.T, r *EventRun) // optional
}

// EventRun is one invocation: the sample, the response and the adapters it ran on.
type EventRun struct {
	Req  events.APIGatewayV2HTTPRequest
	Resp events.APIGatewayV2HTTPResponse
	Body []byte // the response body, base64-decoded when the response says so
	// Event and Sweep functions: the sample as decoded, the entry point's error and,
	// for a sweep, its result.
	Event  events.CloudWatchEvent
	Err    error
	Result app.SweepResult
	Deps   app.Deps
	// Saved holds what earlier cases chose to keep (such as uploaded bytes).
	Saved map[string][]byte
}

// EventEpoch is the instant the replay clock starts at: the morning US daylight saving
// time begins, so that office-hours samples run on a zone transition day. The clock
// advances one second per reading, so that audit entries are strictly ordered.
var EventEpoch = time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)

// RepoRoot returns the repository's root folder (the one holding go.mod).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// ReplayEvents feeds every sample in events/<f.Name>/ through f's real Lambda entry path
// (aws-lambda-go's handler over the raw JSON payload, the API Gateway adapter, the
// authorizer's claims and the routes) on fresh embedded adapters, in the order of cases,
// and checks each response: the status, what every response carries (the request id,
// the media type and shape that go with the status) and the case's own Check. seed, if
// set, runs first on the adapters. The cases must name exactly the files of the folder,
// and every sample must be a well-formed payload 2.0 event for a route f serves
// (CheckSample).
func ReplayEvents(t *testing.T, f app.Function, seed func(t *testing.T, d app.Deps), cases ...EventCase) {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "events", f.Name)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, p := range files {
		onDisk[filepath.Base(p)] = true
	}
	inTable := map[string]bool{}
	for _, c := range cases {
		if inTable[c.File] {
			t.Errorf("events/%s/%s is in the table twice", f.Name, c.File)
		}
		inTable[c.File] = true
		if !onDisk[c.File] {
			t.Errorf("events/%s/%s is in the table but not on disk", f.Name, c.File)
		}
	}
	for name := range onDisk {
		if !inTable[name] {
			t.Errorf("events/%s/%s has no expected outcome in the table", f.Name, name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	deps, store, err := local.Embedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	deps.BaseURL = BaseURL
	deps.Signer = signer.FromKey(sharedKey(t))
	t.Cleanup(func() { _ = store.Close() })
	var ticks atomic.Int64
	deps.Now = func() time.Time { return EventEpoch.Add(time.Duration(ticks.Add(1)) * time.Second) }
	if seed != nil {
		seed(t, deps)
	}
	if f.Kind() != app.KindHTTP {
		replayTriggers(t, f, deps, dir, cases)
		return
	}
	h := lambda.NewHandler(lambdafn.EntryPoint(f, deps, discardLogger()))
	saved := map[string][]byte{}
	for _, c := range cases {
		ok := t.Run(strings.TrimSuffix(c.File, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			req := CheckSample(t, f, raw)
			out, err := h.Invoke(context.Background(), raw)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("response is not an API Gateway v2 response: %v\n%s", err, out)
			}
			body := []byte(resp.Body)
			if resp.IsBase64Encoded {
				if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
					t.Fatalf("body is not base64: %v", err)
				}
			}
			if resp.StatusCode != c.Status {
				t.Fatalf("status %d, want %d; body: %s", resp.StatusCode, c.Status, body)
			}
			run := &EventRun{Req: req, Resp: resp, Body: body, Deps: deps, Saved: saved}
			checkCommon(t, run)
			if c.Check != nil {
				c.Check(t, run)
			}
		})
		if !ok {
			// Later samples build on this one; their failures would only repeat it.
			t.Fatalf("stopping after %s failed", c.File)
		}
	}
}

// CheckSample checks that a sample is a well-formed payload format 2.0 event for a route
// f serves, with the claims the JWT authorizer passes for the path organisation (no
// claims for a public route), and returns it decoded.
func CheckSample(t *testing.T, f app.Function, raw []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var req events.APIGatewayV2HTTPRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("not an API Gateway HTTP API (payload 2.0) event: %v", err)
	}
	rc := req.RequestContext
	if req.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", req.Version)
	}
	if req.RouteKey != rc.RouteKey {
		t.Errorf("routeKey %q differs from requestContext.routeKey %q", req.RouteKey, rc.RouteKey)
	}
	method, pattern, _ := strings.Cut(req.RouteKey, " ")
	var served *httpx.Route
	for _, r := range lambdafn.API(f, app.Deps{}, discardLogger()).Routes() {
		if r.Method == method && r.Pattern == pattern {
			served = &r
		}
	}
	if served == nil {
		t.Fatalf("routeKey %q is not a route function %s serves", req.RouteKey, f.Name)
	}
	if rc.HTTP.Method != method {
		t.Errorf("requestContext.http.method = %q, want %q", rc.HTTP.Method, method)
	}
	if rc.HTTP.Path != req.RawPath {
		t.Errorf("requestContext.http.path %q differs from rawPath %q", rc.HTTP.Path, req.RawPath)
	}
	if rc.Stage != "$default" || rc.RequestID == "" || rc.APIID == "" || rc.DomainName == "" || rc.TimeEpoch == 0 || rc.Time == "" {
		t.Errorf("requestContext lacks stage, requestId, apiId, domainName, time or timeEpoch: %+v", rc)
	}

	// The rawPath must match the route's pattern, and pathParameters must be what API
	// Gateway extracts from it.
	mux := http.NewServeMux()
	params := map[string]string{}
	mux.HandleFunc(req.RouteKey, func(_ http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"orgId"} {
			if v := r.PathValue(name); v != "" {
				params[name] = v
			}
		}
	})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, req.RawPath, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("rawPath %q does not match %q", req.RawPath, req.RouteKey)
	}
	for name, v := range params {
		if got := req.PathParameters[name]; got != v {
			t.Errorf("pathParameters.%s = %q, want %q from rawPath", name, got, v)
		}
	}
	if q := req.RawQueryString; q != "" && len(req.QueryStringParameters) == 0 {
		t.Errorf("rawQueryString %q without queryStringParameters", q)
	}

	if served.Policy.IsPublic() {
		if rc.Authorizer != nil {
			t.Errorf("requestContext.authorizer is set, but %s is a public route (no authorizer runs)", req.RouteKey)
		}
	} else {
		if rc.Authorizer == nil || rc.Authorizer.JWT == nil {
			t.Fatalf("requestContext.authorizer.jwt is missing: the JWT authorizer always sets it")
		}
		claims := rc.Authorizer.JWT.Claims
		for _, c := range []string{"sub", "org_id", "role", "iss", "aud", "exp"} {
			if claims[c] == "" {
				t.Errorf("authorizer claim %s is missing", c)
			}
		}
		// A caller acts on its own organisation or a descendant: a sub-organisation (a
		// server-made id) may be another organisation's path.
		if org, ok := params["orgId"]; ok && claims["org_id"] != org && !strings.HasPrefix(org, orgs.IDPrefix+"_") {
			t.Errorf("claim org_id %q is not the path organisation %q", claims["org_id"], org)
		}
		if h := req.Headers["authorization"]; h != "Bearer <redacted>" {
			t.Errorf("authorization header = %q, want the placeholder \"Bearer <redacted>\" (never a real token)", h)
		}
	}
	for k := range req.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: API Gateway lower-cases header names", k)
		}
	}
	if req.Body != "" {
		body := RequestBody(t, req)
		if n := req.Headers["content-length"]; n != "" && n != strconv.Itoa(len(body)) {
			t.Errorf("content-length %s, body has %d bytes", n, len(body))
		}
		mt, _, err := mime.ParseMediaType(req.Headers["content-type"])
		if err != nil {
			t.Errorf("content-type %q: %v", req.Headers["content-type"], err)
		}
		if strings.HasSuffix(mt, "json") && !json.Valid(body) {
			t.Errorf("the %s body is not valid JSON", mt)
		}
		if strings.HasPrefix(mt, "image/") != req.IsBase64Encoded {
			t.Errorf("isBase64Encoded = %v for a %s body", req.IsBase64Encoded, mt)
		}
	}
	return req
}

// checkCommon checks what every response carries: the request id of the event, and the
// media type and shape that go with the status.
func checkCommon(t *testing.T, r *EventRun) {
	t.Helper()
	if got, want := Header(r.Resp, "X-Request-Id"), r.Req.RequestContext.RequestID; got != want {
		t.Errorf("X-Request-Id = %q, want the API Gateway request id %q", got, want)
	}
	ct := Header(r.Resp, "Content-Type")
	switch {
	case r.Resp.StatusCode >= 400:
		if ct != "application/problem+json" {
			t.Errorf("Content-Type = %q, want application/problem+json", ct)
		}
		WantFields(t, MustJSON(t, r.Body), map[string]any{"status": r.Resp.StatusCode,
			"title": httpx.Title(r.Resp.StatusCode), "requestId": r.Req.RequestContext.RequestID})
	case r.Resp.StatusCode == http.StatusNoContent:
	case strings.HasPrefix(ct, "image/"):
	default:
		if ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		MustJSON(t, r.Body)
	}
}

// WantSettings checks a settings representation: the ETag matches the version, and the
// named (dotted) fields have the given values.
func WantSettings(t *testing.T, r *EventRun, version int, fields map[string]any) {
	t.Helper()
	doc := MustJSON(t, r.Body)
	fields["version"] = version
	WantFields(t, doc, fields)
	if got, want := Header(r.Resp, "ETag"), `"`+strconv.Itoa(version)+`"`; got != want {
		t.Errorf("ETag = %s, want %s", got, want)
	}
	for _, k := range []string{"updatedAt", "updatedBy"} {
		if _, ok := doc.(map[string]any)[k]; !ok {
			t.Errorf("read-only field %s is missing", k)
		}
	}
}

// WantFields checks that each dotted path of doc has the given value (compared as JSON).
func WantFields(t *testing.T, doc any, fields map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		got, ok := Lookup(doc, k)
		if !ok {
			t.Errorf("%s: missing", k)
			continue
		}
		if g, w := jsonText(got), jsonText(fields[k]); g != w {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
}

// Lookup follows a dotted path of object keys through a decoded JSON value.
func Lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// MustJSON decodes a JSON body, failing the test when it is not JSON.
func MustJSON(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return v
}

// RequestBody returns the body of an event, base64-decoded when the event says so.
func RequestBody(t *testing.T, req events.APIGatewayV2HTTPRequest) []byte {
	t.Helper()
	if !req.IsBase64Encoded {
		return []byte(req.Body)
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	return b
}

// Header returns a response header, whatever the case of its name.
func Header(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
