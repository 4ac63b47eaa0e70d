package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// Route is one served method and path pattern with the roles allowed to use it.
type Route struct {
	Method  string
	Pattern string // Go ServeMux pattern, e.g. /v1/orgs/{orgId}/settings/general
	Policy  auth.Policy
	Handler http.HandlerFunc
}

// API is the shared HTTP front of every area: routing, request ids, access logs,
// authentication, authorisation against the path organisation, panics turned into 500s.
type API struct {
	mux    *http.ServeMux
	authn  auth.Authenticator
	roles  auth.Roles  // custom roles; nil: predefined roles only
	orgs   orgs.Lookup // the organisation tree; nil: every organisation is a root
	log    *slog.Logger
	routes []Route
}

// New returns an API that authenticates with authn and logs with logger (nil: default).
func New(authn auth.Authenticator, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.Default()
	}
	a := &API{mux: http.NewServeMux(), authn: authn, log: logger}
	// Every request is routed once: a method and path no route serves fall to "/", which
	// answers 405 with the Allow list when routes serve the path for other methods, else
	// 404. (Method-less patterns per path would do the same, but ServeMux refuses them
	// beside a more specific path served for one method, such as POST .../agents/me/password
	// beside POST .../agents/{agentId}/password.)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := a.allowed(r); allow != "" {
			w.Header().Set("Allow", allow)
			WriteError(w, r, problem.New(problem.MethodNotAllowed, "method %s is not allowed here", r.Method))
			return
		}
		WriteError(w, r, problem.New(problem.NotFound, "no such route"))
	})
	return a
}

// SetRoles makes the API resolve custom roles through roles (one read per request to a
// route that needs a permission, by a caller whose role is not predefined). Call it
// before serving.
func (a *API) SetRoles(roles auth.Roles) { a.roles = roles }

// Roles returns what SetRoles set (nil: predefined roles only).
func (a *API) Roles() auth.Roles { return a.roles }

// SetOrgs makes the API read the path organisation's record through orgs on every route
// with an {orgId} that is not public or Authenticated (one strongly consistent read per
// request): a deleted organisation, and one whose path does not hold the caller's
// organisation, are 404. Without it every organisation is a root. Call it before serving.
func (a *API) SetOrgs(orgs orgs.Lookup) { a.orgs = orgs }

// Orgs returns what SetOrgs set (nil: every organisation is a root).
func (a *API) Orgs() orgs.Lookup { return a.orgs }

// Handle registers a route with its policy: a route needs no token only when the policy
// is auth.Public; otherwise the caller must be authenticated and the policy decides on the
// path's {orgId}.
func (a *API) Handle(method, pattern string, pol auth.Policy, h http.HandlerFunc) {
	rt := Route{Method: method, Pattern: pattern, Policy: pol, Handler: h}
	a.routes = append(a.routes, rt)
	a.mux.Handle(method+" "+pattern, a.guard(rt))
}

// routedMethods are the methods routes use.
var routedMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowed lists the methods some route serves for r's path (HEAD with GET, as ServeMux
// serves it), "" when none: the mux is asked, per method, which pattern it would route
// the path to.
func (a *API) allowed(r *http.Request) string {
	var methods []string
	for _, m := range routedMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != "/" {
			methods = append(methods, m)
			if m == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
	}
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}

// Routes lists the registered routes, sorted by pattern then method.
func (a *API) Routes() []Route {
	out := append([]Route(nil), a.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// guard is the one place authentication and authorisation happen: a public route runs
// as is; any other needs a valid token, and the policy decides on the path organisation.
// The access log names the path's organisation for refused requests too.
//
// On a route with an {orgId} (not Public, not Authenticated), the path organisation's
// record is read once (orgs.Lookup, strongly consistent): a deleted organisation is 404
// for everyone, and so is one whose path does not hold the caller's organisation (a
// sibling, an ancestor, another tree). A caller acting on a descendant keeps its own
// role, resolved on its own path (the path organisation's path cut at the caller's
// organisation: custom roles of its ancestors are inherited). The handler finds the path
// in the request's context (orgs.PathFrom) and need not read it again.
func (a *API) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("orgId")
		if lw, ok := w.(*logWriter); ok {
			lw.org = org
		}
		if rt.Policy.IsPublic() {
			rt.Handler(w, r)
			return
		}
		p, err := a.authn.Authenticate(r)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		var path []string
		var rec orgs.Org // the path organisation's record, when it is a sub-organisation
		if !rt.Policy.IsAuthenticated() {
			if rec, err = a.record(r.Context(), org); err != nil {
				WriteError(w, r, err)
				return
			}
			path = rec.Path
			if i := slices.Index(path, p.OrgID); i >= 0 && rt.Policy.NeedsPermission() {
				if p, err = auth.Resolve(r.Context(), a.roles, p, path[:i+1]); err != nil {
					WriteError(w, r, err)
					return
				}
			}
		}
		if err := rt.Policy.Authorize(p, path); err != nil {
			WriteError(w, r, err)
			return
		}
		switch {
		case rec.ParentID != "":
			r = r.WithContext(orgs.WithOrg(r.Context(), rec))
		case path != nil:
			r = r.WithContext(orgs.WithPath(r.Context(), path))
		}
		// ServeHTTP put a principal slot in the context; without one (a handler served
		// outside ServeHTTP), copy the request.
		if !auth.SetPrincipal(r.Context(), p) {
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		rt.Handler(w, r)
	})
}

// record returns the organisation org: its record (a sub-organisation), or orgs.Root(org)
// for a root (an organisation without a record) or when the API has no orgs.Lookup. A
// malformed id and a deleted organisation are problem.NotFound.
func (a *API) record(ctx context.Context, org string) (orgs.Org, error) {
	if !ids.Valid(org) {
		return orgs.Org{}, problem.New(problem.NotFound, "organisation not found")
	}
	if a.orgs == nil {
		return orgs.Root(org), nil
	}
	o, found, err := a.orgs.Org(ctx, org)
	switch {
	case err != nil:
		return orgs.Org{}, err
	case !found:
		return orgs.Root(org), nil
	case o.Deleted() || len(o.Path) == 0 || o.Path[len(o.Path)-1] != org:
		return orgs.Org{}, problem.New(problem.NotFound, "organisation not found")
	}
	return o, nil
}

type ridKey struct{}

// RequestID returns the id of the request being served ("" outside a request).
func RequestID(ctx context.Context) string {
	if s, ok := ctx.Value(ridKey{}).(string); ok {
		return s
	}
	return auth.ScopeRequestID(ctx)
}

// WithRequestID returns ctx carrying id, for code that runs outside ServeHTTP.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ridKey{}, id)
}

// Scope returns ctx with the per-request scope (request id and principal slot) that
// ServeHTTP would otherwise add by copying the request: an entry point that builds the
// request itself (the Lambda adapter) calls it first with the API Gateway request id. An
// id that is not a valid request id is replaced by a new one.
func Scope(ctx context.Context, requestID string) context.Context {
	if !validID(requestID) {
		requestID = newRequestID()
	}
	return auth.NewScope(ctx, requestID)
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestIDFor(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && validID(rc.RequestID) {
		return rc.RequestID
	}
	if id := r.Header.Get("X-Request-Id"); validID(id) {
		return id
	}
	return newRequestID()
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

var logWriters = sync.Pool{New: func() any { return new(logWriter) }}

type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	org    string
}

func (w *logWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// ServeHTTP serves r: it assigns a request id, routes (one lookup), and writes one access
// log line. The request is copied once, to carry the request id and the principal slot.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The Lambda entry point puts the scope in the context before the adapter builds the
	// request (see Scope), which saves copying the request here.
	rid := auth.ScopeRequestID(r.Context())
	if rid == "" {
		rid = requestIDFor(r)
		r = r.WithContext(auth.NewScope(r.Context(), rid))
	}
	lw := logWriters.Get().(*logWriter)
	*lw = logWriter{ResponseWriter: w}
	lw.Header()["X-Request-Id"] = []string{rid}
	defer func() {
		if v := recover(); v != nil {
			if lw.status == 0 {
				WriteError(lw, r, fmt.Errorf("panic: %v", v))
			} else {
				a.log.ErrorContext(r.Context(), "panic after response started", "requestId", rid, "panic", fmt.Sprint(v))
			}
		}
		a.accessLog(r, rid, lw, start)
		*lw = logWriter{}
		logWriters.Put(lw)
	}()
	a.mux.ServeHTTP(lw, r)
}

// accessLog writes the request's line: requestId, method, route, path, org, status,
// bytes and latencyMs.
func (a *API) accessLog(r *http.Request, rid string, lw *logWriter, start time.Time) {
	ctx := r.Context()
	latency := float64(time.Since(start).Microseconds()) / 1000
	route := r.Pattern
	if route == "/" {
		route = "" // the not-found fallback is not a route
	}
	if h, ok := a.log.Handler().(*lineHandler); ok {
		h.access(ctx, accessLine{rid, r.Method, route, r.URL.Path, lw.org, lw.status, lw.bytes, latency})
		return
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("requestId", rid), slog.String("method", r.Method), slog.String("route", route),
		slog.String("path", r.URL.Path), slog.String("org", lw.org), slog.Int("status", lw.status),
		slog.Int("bytes", lw.bytes), slog.Float64("latencyMs", latency))
}

// IfMatch returns the request's If-Match list: every If-Match field line joined with ", ",
// or "" when there is none. A list may arrive as one line ("\"1\", \"2\"", as local
// clients send it) or split into several (the Lambda adapter splits header values on
// commas); both give the same list.
func IfMatch(r *http.Request) string {
	return strings.Join(r.Header.Values("If-Match"), ", ")
}
