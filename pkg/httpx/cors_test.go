package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/httpx"
)

// loopback are the local server's default patterns (cmd/local -allow-origin).
var loopback = []string{"http://localhost:*", "http://127.0.0.1:*"}

func mustCORSPolicy(t *testing.T, patterns ...string) httpx.CORSPolicy {
	t.Helper()
	p, err := httpx.NewCORSPolicy(patterns...)
	if err != nil {
		t.Fatalf("NewCORSPolicy(%q): %v", patterns, err)
	}
	return p
}

func TestNewCORSPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, want string // want "" = refused
	}{
		{"https://admin.convrs.com", "https://admin.convrs.com"},
		{" HTTPS://Admin.Convrs.com ", "https://admin.convrs.com"},
		{"https://admin.convrs.com:443", "https://admin.convrs.com"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"https://admin.convrs.com:8443", "https://admin.convrs.com:8443"},
		{"http://localhost:*", "http://localhost:*"},
		{"http://[::1]:5173", "http://[::1]:5173"},
		{"http://[::1]:*", "http://[::1]:*"},
		{"*", ""},
		{"", ""},
		{"admin.convrs.com", ""},
		{"ftp://admin.convrs.com", ""},
		{"https://admin.convrs.com/", ""},
		{"https://admin.convrs.com/app", ""},
		{"https://admin.convrs.com?x", ""},
		{"https://user@admin.convrs.com", ""},
		{"https://*.convrs.com", ""},
		{"https://", ""},
		{"http://localhost:", ""},
		{"http://localhost:0", ""},
		{"http://localhost:65536", ""},
		{"http://localhost:03000", ""},
		{"http://localhost:3000:1", ""},
		{"http://[::1", ""},
		{"http://[::1]x", ""},
		{"http://[]:1", ""},
	} {
		p, err := httpx.NewCORSPolicy(tc.pattern)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("NewCORSPolicy(%q): got %q, want an error", tc.pattern, p)
		case tc.want != "" && err != nil:
			t.Errorf("NewCORSPolicy(%q): got error %v, want %q", tc.pattern, err, tc.want)
		case tc.want != "" && p.String() != tc.want:
			t.Errorf("NewCORSPolicy(%q): got %q, want %q", tc.pattern, p, tc.want)
		}
	}
	if _, err := httpx.NewCORSPolicy("https://a.example", "*"); err == nil || !strings.Contains(err.Error(), `"*"`) {
		t.Errorf(`NewCORSPolicy with "*": got %v, want an error naming "*"`, err)
	}
	if p := mustCORSPolicy(t); p.Allows("http://localhost:3000") {
		t.Errorf("the empty policy allows http://localhost:3000; want none allowed")
	}
}

func TestCORSPolicyAllows(t *testing.T) {
	t.Parallel()
	p := mustCORSPolicy(t, append([]string{"https://admin.convrs.com"}, loopback...)...)
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://admin.convrs.com", true},
		{"http://localhost:5173", true},
		{"http://localhost:1", true},
		{"http://localhost:65535", true},
		{"http://localhost", true}, // port 80, serialised without it
		{"http://127.0.0.1:3000", true},
		{"http://127.0.0.1", true},

		{"https://localhost:5173", false}, // https is not the default
		{"https://127.0.0.1:5173", false},
		{"http://localhost.evil.com", false},
		{"http://localhost.evil.com:5173", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://127.0.0.1.nip.io:8080", false},
		{"http://localhost:5173.evil.com", false},
		{"http://localhost:5173@evil.com", false},
		{"http://localhostx:5173", false},
		{"http://evil-localhost:5173", false},
		{"http://localhost:", false},
		{"http://localhost:0", false},
		{"http://localhost:65536", false},
		{"http://localhost:05173", false},
		{"http://127.0.0.2:3000", false},
		{"http://[::1]:3000", false},
		{"https://admin.convrs.com.evil.com", false},
		{"https://evil.admin.convrs.com", false},
		{"http://admin.convrs.com", false},
		{"https://admin.convrs.com:8443", false},
		{"null", false},
		{"", false},
	} {
		if got := p.Allows(tc.origin); got != tc.want {
			t.Errorf("Allows(%q): got %v, want %v", tc.origin, got, tc.want)
		}
	}
}

// corsHeaders are the response headers the middleware may set.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Max-Age", "Access-Control-Expose-Headers", "Access-Control-Allow-Credentials",
}

func assertNoCORS(t *testing.T, h http.Header) {
	t.Helper()
	for _, k := range corsHeaders {
		if v, ok := h[k]; ok {
			t.Errorf("%s: got %q, want no such header", k, v)
		}
	}
}

func assertVaryOrigin(t *testing.T, h http.Header) {
	t.Helper()
	if !slices.Contains(h.Values("Vary"), "Origin") {
		t.Errorf("Vary: got %q, want Origin among them", h.Values("Vary"))
	}
}

// serve runs one request through CORS(policy, next) with the given headers.
func serve(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	h := httpx.CORS(mustCORSPolicy(t, append([]string{"https://admin.convrs.com"}, loopback...)...), srv.API)
	const path = "/v1/orgs/demo/settings/chat-handling"
	for _, tc := range []struct {
		name, origin, method, headers string
		allowed                       bool
	}{
		{"dashboard PUT with If-Match", "https://admin.convrs.com", "PUT", "authorization,content-type,if-match", true},
		{"localhost any port", "http://localhost:5173", "PATCH", "authorization,content-type,if-match,x-request-id", true},
		{"127.0.0.1 any port", "http://127.0.0.1:49152", "GET", "authorization", true},
		{"header names in any case, spaced", "http://localhost:8080", "DELETE", " Authorization , IF-MATCH,X-Request-ID ", true},
		{"no headers asked for", "http://localhost:8080", "POST", "", true},
		{"another header", "http://localhost:5173", "PUT", "authorization,x-custom", false},
		{"a cookie", "http://localhost:5173", "GET", "cookie", false},
		{"a method not allowed", "http://localhost:5173", "TRACE", "", false},
		{"a method in lower case", "http://localhost:5173", "patch", "", false},
		{"foreign origin", "https://evil.example", "GET", "authorization", false},
		{"https localhost is not the default", "https://localhost:5173", "GET", "authorization", false},
		{"localhost lookalike", "http://localhost.evil.com", "GET", "authorization", false},
		{"127.0.0.1 lookalike", "http://127.0.0.1.nip.io", "GET", "authorization", false},
		{"null origin", "null", "GET", "authorization", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr := []string{"Origin", tc.origin, "Access-Control-Request-Method", tc.method}
			if tc.headers != "" {
				hdr = append(hdr, "Access-Control-Request-Headers", tc.headers)
			}
			rec := serve(t, h, http.MethodOptions, path, hdr...) // no token: preflights carry none
			if rec.Code != http.StatusNoContent {
				t.Errorf("status: got %d, want 204", rec.Code)
			}
			if rec.Body.Len() != 0 {
				t.Errorf("body: got %q, want none", rec.Body)
			}
			got := rec.Header()
			assertVaryOrigin(t, got)
			if !tc.allowed {
				assertNoCORS(t, got)
				return
			}
			for k, want := range map[string]string{
				"Access-Control-Allow-Origin":  tc.origin,
				"Access-Control-Allow-Methods": "GET, PUT, PATCH, POST, DELETE, OPTIONS",
				"Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, X-Request-Id",
				"Access-Control-Max-Age":       strconv.Itoa(httpx.CORSMaxAge),
			} {
				if v := got.Values(k); len(v) != 1 || v[0] != want {
					t.Errorf("%s: got %q, want %q", k, v, want)
				}
			}
			for _, k := range []string{"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
				if v := got.Values(k); v != nil {
					t.Errorf("%s: got %q, want none", k, v)
				}
			}
		})
	}
}

func TestCORSActualResponses(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	h := httpx.CORS(mustCORSPolicy(t, loopback...), srv.API)
	const (
		path   = "/v1/orgs/demo/settings/chat-handling"
		origin = "http://localhost:5173"
	)
	bearer := "Bearer " + srv.Token("demo", "admin")
	wantCORS := func(t *testing.T, rec *httptest.ResponseRecorder, wantStatus int) {
		t.Helper()
		if rec.Code != wantStatus {
			t.Fatalf("status: got %d, want %d (%s)", rec.Code, wantStatus, rec.Body)
		}
		got := rec.Header()
		if v := got.Values("Access-Control-Allow-Origin"); len(v) != 1 || v[0] != origin {
			t.Errorf("Access-Control-Allow-Origin: got %q, want %q", v, origin)
		}
		if v := got.Values("Access-Control-Expose-Headers"); len(v) != 1 || v[0] != "ETag, X-Request-Id, Retry-After" {
			t.Errorf("Access-Control-Expose-Headers: got %q, want %q", v, "ETag, X-Request-Id, Retry-After")
		}
		assertVaryOrigin(t, got)
		if got.Get("X-Request-Id") == "" {
			t.Errorf("X-Request-Id: got none, want the request id")
		}
		for _, k := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Credentials"} {
			if v := got.Values(k); v != nil {
				t.Errorf("%s: got %q, want none on an actual response", k, v)
			}
		}
	}

	// GET, then PUT with the ETag read: the page can read both ETags.
	rec := serve(t, h, http.MethodGet, path, "Origin", origin, "Authorization", bearer)
	wantCORS(t, rec, http.StatusOK)
	etag := rec.Header().Get("ETag")
	if etag != `"0"` {
		t.Errorf("GET ETag: got %q, want %q", etag, `"0"`)
	}
	req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(`{"maxChatsPerAgent":5}`))
	req.Header.Set("Origin", origin)
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantCORS(t, rec, http.StatusOK)
	if got := rec.Header().Get("ETag"); got != `"1"` {
		t.Errorf("PUT ETag: got %q, want %q", got, `"1"`)
	}

	// Error responses carry the headers too, so the page can read the problem.
	t.Run("412", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(`{"maxChatsPerAgent":6}`))
		for k, v := range map[string]string{"Origin": origin, "Authorization": bearer, "Content-Type": "application/json", "If-Match": `"0"`} {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		wantCORS(t, rec, http.StatusPreconditionFailed)
	})
	t.Run("401", func(t *testing.T) {
		t.Parallel()
		wantCORS(t, serve(t, h, http.MethodGet, path, "Origin", origin), http.StatusUnauthorized)
	})
	t.Run("404", func(t *testing.T) {
		t.Parallel()
		wantCORS(t, serve(t, h, http.MethodGet, "/v1/nowhere", "Origin", origin, "Authorization", bearer), http.StatusNotFound)
	})
	// OPTIONS without Access-Control-Request-Method is no preflight: the API answers it
	// (no route serves OPTIONS: 405), as an actual response.
	t.Run("OPTIONS without Access-Control-Request-Method", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, h, http.MethodOptions, path, "Origin", origin)
		wantCORS(t, rec, http.StatusMethodNotAllowed)
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("Content-Type: got %q, want application/problem+json", ct)
		}
	})
	t.Run("OPTIONS without Origin", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, h, http.MethodOptions, path, "Access-Control-Request-Method", "GET")
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("status: got %d, want 405", rec.Code)
		}
		assertNoCORS(t, rec.Header())
	})
	// A foreign origin's request is served (as API Gateway serves it) without CORS
	// headers, so the browser keeps the response from the page.
	for name, hdr := range map[string][]string{
		"foreign origin":       {"Origin", "https://evil.example"},
		"https localhost":      {"Origin", "https://localhost:5173"},
		"localhost lookalike":  {"Origin", "http://localhost.evil.com"},
		"two Origin headers":   {"Origin", origin, "Origin", origin},
		"no Origin (not CORS)": nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, http.MethodGet, path, append(hdr, "Authorization", bearer)...)
			if rec.Code != http.StatusOK {
				t.Errorf("status: got %d, want 200", rec.Code)
			}
			assertNoCORS(t, rec.Header())
			assertVaryOrigin(t, rec.Header())
		})
	}
}

func TestCORSKeepsVary(t *testing.T) {
	t.Parallel()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		w.WriteHeader(http.StatusOK)
	})
	h := httpx.CORS(mustCORSPolicy(t, loopback...), next)
	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Accept")
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got, want := rec.Header().Values("Vary"), []string{"Accept", "Origin", "Accept-Encoding"}; !slices.Equal(got, want) {
		t.Errorf("Vary: got %q, want %q", got, want)
	}
	// The values the middleware shares between responses were not changed in place.
	rec = serve(t, h, http.MethodGet, "/")
	if got, want := rec.Header().Values("Vary"), []string{"Origin", "Accept-Encoding"}; !slices.Equal(got, want) {
		t.Errorf("Vary: got %q, want %q", got, want)
	}
}

// headerWriter is a ResponseWriter that reuses one header map, to count the middleware's
// own allocations.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

func TestCORSAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	h := httpx.CORS(mustCORSPolicy(t, append([]string{"https://admin.convrs.com"}, loopback...)...),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := &headerWriter{h: http.Header{}}
	for name, hdr := range map[string][]string{
		"preflight": {"Origin", "http://127.0.0.1:5173", "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "authorization,content-type,if-match"},
		"actual":  {"Origin", "https://admin.convrs.com"},
		"foreign": {"Origin", "https://evil.example"},
		"no CORS": nil,
	} {
		method := http.MethodGet
		if name == "preflight" {
			method = http.MethodOptions
		}
		req := httptest.NewRequest(method, "/v1/orgs/demo/settings/general", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		if got := testing.AllocsPerRun(100, func() { clear(w.h); h.ServeHTTP(w, req) }); got != 0 {
			t.Errorf("%s: got %v allocations per request, want 0", name, got)
		}
	}
}

func BenchmarkCORSPreflight(b *testing.B) {
	p, err := httpx.NewCORSPolicy(append([]string{"https://admin.convrs.com"}, loopback...)...)
	if err != nil {
		b.Fatal(err)
	}
	h := httpx.CORS(p, http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodOptions, "/v1/orgs/demo/settings/general", nil)
	req.Header.Set("Origin", "http://127.0.0.1:5173")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,if-match")
	w := &headerWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// The widget's public routes answer any origin, as the widget API does in AWS.
func TestCORSWidgetPaths(t *testing.T) {
	t.Parallel()
	policy, _ := httpx.NewCORSPolicy("https://admin.example.com")
	policy = policy.WithWidgetPaths("/v1/webchat/identify")
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := httpx.CORS(policy, next)
	serve := func(method, path string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	pre := serve(http.MethodOptions, "/v1/webchat/identify", map[string]string{"Origin": "https://shop.example.net",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
	if pre.Code != 204 || pre.Header().Get("Access-Control-Allow-Origin") != "*" || pre.Header().Get("Access-Control-Allow-Headers") != httpx.CORSWidgetHeaders {
		t.Errorf("widget preflight: %d %v", pre.Code, pre.Header())
	}
	for _, hdr := range []map[string]string{
		{"Origin": "https://shop.example.net", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
		{"Origin": "https://shop.example.net", "Access-Control-Request-Method": "DELETE"},
	} {
		if r := serve(http.MethodOptions, "/v1/webchat/identify", hdr); r.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("widget preflight %v: allowed, want refused", hdr)
		}
	}
	post := serve(http.MethodPost, "/v1/webchat/identify", map[string]string{"Origin": "https://shop.example.net"})
	if post.Header().Get("Access-Control-Allow-Origin") != "*" || post.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("widget POST: %v", post.Header())
	}
	// Admin routes keep the admin policy.
	if r := serve(http.MethodGet, "/v1/orgs/acme/settings/general", map[string]string{"Origin": "https://shop.example.net"}); r.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("admin route from a foreign origin: %v", r.Header())
	}
}
