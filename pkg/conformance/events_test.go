package conformance_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/lambdafn"
)

// eventCase is the expected outcome of one events/<function>/<name>.json sample. Cases run
// in table order against one set of adapters, so a case may rely on earlier ones (the
// logo is uploaded before it is read; the audit log lists every change made before it).
type eventCase struct {
	file    string // relative to events/
	status  int
	audited bool // the request changes settings, so it adds one audit entry
	check   func(t *testing.T, r *eventRun)
}

// eventRun is one invocation: the sample, the response and what earlier cases left.
type eventRun struct {
	req     events.APIGatewayV2HTTPRequest
	resp    events.APIGatewayV2HTTPResponse
	body    []byte        // the response body, base64-decoded when the response says so
	changes []changeEvent // the audited requests so far, oldest first (this one included)
	uploads map[string][]byte
}

type changeEvent struct {
	requestID, area, action string
}

var eventCases = []eventCase{
	{file: "general/get.json", status: http.StatusOK, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 0, map[string]any{"name": "", "logo": nil, "updatedAt": nil, "updatedBy": nil,
			"outbound.requireEmailAndName": false, "outbound.requireCrmLink": false})
	}},
	{file: "general/put.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 1, map[string]any{"name": "Demo Organisation", "logo": nil, "updatedBy": "demo-admin",
			"outbound.requireEmailAndName": true, "outbound.requireCrmLink": false})
	}},
	{file: "general/patch.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 2, map[string]any{"name": "Demo Organisation",
			"outbound.requireEmailAndName": true, "outbound.requireCrmLink": true})
	}},
	{file: "general/put-logo.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		img := requestBody(t, r.req)
		if !strings.HasPrefix(string(img), "\x89PNG\r\n\x1a\n") {
			t.Fatalf("the sample body is not a PNG image")
		}
		r.uploads["logo"] = img
		wantSettings(t, r, 3, map[string]any{"name": "Demo Organisation", "logo.contentType": "image/png",
			"logo.size": len(img), "logo.width": 2, "logo.height": 2})
		url, _ := lookup(mustJSON(t, r.body), "logo.url")
		if s, _ := url.(string); !strings.HasPrefix(s, "/v1/orgs/demo/settings/general/logo") {
			t.Errorf("logo.url = %v, want the logo route of org demo", url)
		}
	}},
	{file: "general/get-logo.json", status: http.StatusOK, check: func(t *testing.T, r *eventRun) {
		if ct := header(r.resp, "Content-Type"); ct != "image/png" {
			t.Errorf("Content-Type = %q, want image/png", ct)
		}
		if !r.resp.IsBase64Encoded {
			t.Errorf("isBase64Encoded = false, want true for image bytes")
		}
		if !bytes.Equal(r.body, r.uploads["logo"]) {
			t.Errorf("got %d bytes, want the %d bytes put-logo uploaded", len(r.body), len(r.uploads["logo"]))
		}
		if header(r.resp, "ETag") == "" {
			t.Errorf("no ETag")
		}
	}},
	{file: "general/delete-logo.json", status: http.StatusNoContent, audited: true, check: func(t *testing.T, r *eventRun) {
		if len(r.body) != 0 {
			t.Errorf("body = %q, want none", r.body)
		}
	}},

	{file: "office-hours/get.json", status: http.StatusOK, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 0, map[string]any{"openTime": "09:00:00", "closeTime": "17:00:00", "timeZone": "UTC",
			"missedChatReport.enabled": false, "days": []string{"monday", "tuesday", "wednesday", "thursday", "friday"}})
	}},
	{file: "office-hours/put.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 1, map[string]any{"openTime": "09:00:00", "closeTime": "17:30:00",
			"timeZone": "America/New_York", "hours.saturday": []map[string]string{{"open": "10:00:00", "close": "14:00:00"}},
			"missedChatReport.enabled": true, "missedChatReport.email": "support-leads@example.com"})
	}},
	{file: "office-hours/patch.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 2, map[string]any{"openTime": "09:00:00", "closeTime": "18:00:00",
			"timeZone": "America/New_York", "hours.saturday": []map[string]string{{"open": "10:00:00", "close": "14:00:00"}},
			"missedChatReport.enabled": true, "missedChatReport.email": "support@example.com"})
	}},
	{file: "office-hours/status.json", status: http.StatusOK, check: func(t *testing.T, r *eventRun) {
		// Sunday 2026-03-08 03:30 in New York, just after the clocks went forward: closed
		// until Monday 09:00 EDT (13:00Z), open until the patched 18:00 EDT (22:00Z).
		wantFields(t, mustJSON(t, r.body), map[string]any{"open": false, "at": "2026-03-08T07:30:00Z",
			"timeZone": "America/New_York", "localTime": "2026-03-08T03:30:00-04:00",
			"nextOpen": "2026-03-09T13:00:00Z", "nextClose": "2026-03-09T22:00:00Z"})
	}},

	{file: "chat-handling/get.json", status: http.StatusOK, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 0, map[string]any{"maxChatsPerAgent": 3, "moveToQueueWhenAgentOffline": false,
			"autoCloseAfterDays": 0, "moveToQueueAfterNoLoginDays": 0})
	}},
	{file: "chat-handling/put.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 1, map[string]any{"maxChatsPerAgent": 4, "moveToQueueWhenAgentOffline": true,
			"autoCloseAfterDays": 14, "moveToQueueAfterNoLoginDays": 3})
	}},
	{file: "chat-handling/patch.json", status: http.StatusOK, audited: true, check: func(t *testing.T, r *eventRun) {
		wantSettings(t, r, 2, map[string]any{"maxChatsPerAgent": 5, "moveToQueueWhenAgentOffline": true,
			"autoCloseAfterDays": 14, "moveToQueueAfterNoLoginDays": 3})
	}},
	{file: "chat-handling/put-out-of-range.json", status: http.StatusUnprocessableEntity, check: func(t *testing.T, r *eventRun) {
		var p struct {
			Errors []struct{ Field, Message string }
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("problem body: %v", err)
		}
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field)
		}
		if want := []string{"autoCloseAfterDays", "maxChatsPerAgent"}; !slices.Equal(fields, want) {
			t.Errorf("errors name fields %v, want %v (every failing field)", fields, want)
		}
	}},

	{file: "audit/list.json", status: http.StatusOK, check: func(t *testing.T, r *eventRun) {
		var page struct {
			Items []struct {
				ID, At, Actor, Area, Action, RequestID string
				Changes                                []struct {
					Field    string
					From, To json.RawMessage
				}
			}
			NextCursor *string
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatalf("audit page: %v", err)
		}
		if len(r.changes) > 10 {
			t.Fatalf("the samples make %d changes; list.json asks for 10, so this check needs a new limit", len(r.changes))
		}
		if len(page.Items) != len(r.changes) {
			t.Fatalf("got %d audit entries, want %d (one per change made by the earlier samples)", len(page.Items), len(r.changes))
		}
		if page.NextCursor != nil {
			t.Errorf("nextCursor = %q on the only page, want it absent", *page.NextCursor)
		}
		for i, it := range page.Items {
			want := r.changes[len(r.changes)-1-i] // newest first
			if it.RequestID != want.requestID || it.Area != want.area || it.Action != want.action {
				t.Errorf("entry %d = {requestId %s, area %s, action %s}, want {%s, %s, %s}",
					i, it.RequestID, it.Area, it.Action, want.requestID, want.area, want.action)
			}
			if it.ID == "" || it.At == "" || it.Actor != "demo-admin" || len(it.Changes) == 0 {
				t.Errorf("entry %d is incomplete: %+v", i, it)
			}
			if i > 0 && it.At > page.Items[i-1].At {
				t.Errorf("entry %d (%s) is newer than entry %d (%s): want newest first", i, it.At, i-1, page.Items[i-1].At)
			}
		}
		if len(page.Items) > 0 {
			first := page.Items[0]
			if len(first.Changes) != 1 || first.Changes[0].Field != "maxChatsPerAgent" ||
				string(first.Changes[0].From) != "4" || string(first.Changes[0].To) != "5" {
				t.Errorf("newest entry changes = %+v, want maxChatsPerAgent 4 -> 5", first.Changes)
			}
		}
	}},
}

// TestEventsThroughLambdaEntryPoint feeds every sample in events/ through the real Lambda
// entry path of its function (aws-lambda-go's handler over the raw JSON payload, then the
// API Gateway adapter, authorizer claims and routes) and checks the response.
func TestEventsThroughLambdaEntryPoint(t *testing.T) {
	files, err := filepath.Glob(repoPath("events", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, f := range files {
		rel, err := filepath.Rel(repoPath("events"), f)
		if err != nil {
			t.Fatal(err)
		}
		onDisk[filepath.ToSlash(rel)] = true
	}
	inTable := map[string]bool{}
	for _, c := range eventCases {
		if inTable[c.file] {
			t.Errorf("events/%s is in the table twice", c.file)
		}
		inTable[c.file] = true
		if !onDisk[c.file] {
			t.Errorf("events/%s is in the table but not on disk", c.file)
		}
	}
	for f := range onDisk {
		if !inTable[f] {
			t.Errorf("events/%s has no expected outcome in eventCases", f)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	deps := mustDeps(t)
	handlers := map[string]lambda.Handler{}
	var changes []changeEvent
	uploads := map[string][]byte{}
	for _, c := range eventCases {
		ok := t.Run(strings.TrimSuffix(c.file, ".json"), func(t *testing.T) {
			name := strings.Split(c.file, "/")[0]
			fn, found := functionNamed(name)
			if !found {
				t.Fatalf("events/%s: no function %q in local.Functions", name, name)
			}
			raw := mustRead(t, repoPath("events", c.file))
			req := checkSample(t, fn, raw)

			h, ok := handlers[name]
			if !ok {
				h = lambda.NewHandler(lambdafn.EntryPoint(fn, deps, discardLogger()))
				handlers[name] = h
			}
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
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; body: %s", resp.StatusCode, c.status, body)
			}
			if c.audited {
				area := name
				action := map[string]string{http.MethodPut: "replace", http.MethodPatch: "patch"}[req.RequestContext.HTTP.Method]
				if strings.HasSuffix(req.RawPath, "/logo") {
					action = map[string]string{http.MethodPut: "logo.upload", http.MethodDelete: "logo.delete"}[req.RequestContext.HTTP.Method]
				}
				changes = append(changes, changeEvent{requestID: req.RequestContext.RequestID, area: area, action: action})
			}
			run := &eventRun{req: req, resp: resp, body: body, changes: changes, uploads: uploads}
			checkCommon(t, run)
			c.check(t, run)
		})
		if !ok {
			// Later samples build on this one; their failures would only repeat it.
			t.Fatalf("stopping after %s failed", c.file)
		}
	}
}

// checkSample checks that a sample is a well-formed payload format 2.0 event for a route
// its function serves, authorised for the path organisation, and returns it decoded.
func checkSample(t *testing.T, fn app.Function, raw []byte) events.APIGatewayV2HTTPRequest {
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
	if !functionRoutes(fn)[route{method, pattern}] {
		t.Fatalf("routeKey %q is not a route function %s serves", req.RouteKey, fn.Name)
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
	var orgID string
	mux.HandleFunc(req.RouteKey, func(_ http.ResponseWriter, r *http.Request) { orgID = r.PathValue("orgId") })
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, req.RawPath, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("rawPath %q does not match %q", req.RawPath, req.RouteKey)
	}
	if got := req.PathParameters["orgId"]; got != orgID {
		t.Errorf("pathParameters.orgId = %q, want %q from rawPath", got, orgID)
	}
	if q := req.RawQueryString; q != "" && len(req.QueryStringParameters) == 0 {
		t.Errorf("rawQueryString %q without queryStringParameters", q)
	}

	if rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		t.Fatalf("requestContext.authorizer.jwt is missing: the JWT authorizer always sets it")
	}
	claims := rc.Authorizer.JWT.Claims
	for _, c := range []string{"sub", "org_id", "role", "iss", "aud", "exp"} {
		if claims[c] == "" {
			t.Errorf("authorizer claim %s is missing", c)
		}
	}
	if claims["org_id"] != orgID {
		t.Errorf("claim org_id %q is not the path organisation %q", claims["org_id"], orgID)
	}
	if h := req.Headers["authorization"]; h != "Bearer <redacted>" {
		t.Errorf("authorization header = %q, want the placeholder \"Bearer <redacted>\" (never a real token)", h)
	}
	for k := range req.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: API Gateway lower-cases header names", k)
		}
	}

	if req.Body != "" {
		body := requestBody(t, req)
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
func checkCommon(t *testing.T, r *eventRun) {
	t.Helper()
	if got, want := header(r.resp, "X-Request-Id"), r.req.RequestContext.RequestID; got != want {
		t.Errorf("X-Request-Id = %q, want the API Gateway request id %q", got, want)
	}
	ct := header(r.resp, "Content-Type")
	switch {
	case r.resp.StatusCode >= 400:
		if ct != "application/problem+json" {
			t.Errorf("Content-Type = %q, want application/problem+json", ct)
		}
		wantFields(t, mustJSON(t, r.body), map[string]any{"status": r.resp.StatusCode,
			"title": http.StatusText(r.resp.StatusCode), "requestId": r.req.RequestContext.RequestID})
	case r.resp.StatusCode == http.StatusNoContent:
	case strings.HasPrefix(ct, "image/"):
	default:
		if ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		mustJSON(t, r.body)
	}
}

// wantSettings checks a settings representation: the ETag matches the version, and the
// named (dotted) fields have the given values.
func wantSettings(t *testing.T, r *eventRun, version int, fields map[string]any) {
	t.Helper()
	doc := mustJSON(t, r.body)
	fields["version"] = version
	wantFields(t, doc, fields)
	if got, want := header(r.resp, "ETag"), `"`+strconv.Itoa(version)+`"`; got != want {
		t.Errorf("ETag = %s, want %s", got, want)
	}
	for _, k := range []string{"updatedAt", "updatedBy"} {
		if _, ok := doc.(map[string]any)[k]; !ok {
			t.Errorf("read-only field %s is missing", k)
		}
	}
}

func wantFields(t *testing.T, doc any, fields map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		got, ok := lookup(doc, k)
		if !ok {
			t.Errorf("%s: missing", k)
			continue
		}
		if g, w := jsonText(got), jsonText(fields[k]); g != w {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
}

// lookup follows a dotted path of object keys through a decoded JSON value.
func lookup(v any, path string) (any, bool) {
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

func mustJSON(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return v
}

func requestBody(t *testing.T, req events.APIGatewayV2HTTPRequest) []byte {
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

// header returns a response header, whatever the case of its name.
func header(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
