package httpx

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// What a browser page of an allowed origin may do, as API.md "Cross-origin use" says. In
// AWS, API Gateway answers for the API with the CorsConfiguration of template.yaml; a
// conformance test checks that configuration against these constants, so the local
// server (CORS below) and the deployed API cannot drift apart.
const (
	// CORSAllowMethods are the methods a page may use (Access-Control-Allow-Methods).
	CORSAllowMethods = "GET, PUT, PATCH, POST, DELETE, OPTIONS"
	// CORSAllowHeaders are the request headers a page may set beyond the CORS-safelisted
	// ones (Access-Control-Allow-Headers). A preflight asking for any other is refused.
	CORSAllowHeaders = "Authorization, Content-Type, If-Match, X-Request-Id"
	// CORSExposeHeaders are the response headers a page may read beyond the safelisted ones
	// (Access-Control-Expose-Headers): the ETag to send back as If-Match, the request id
	// to quote, and Retry-After on 429 and 503.
	CORSExposeHeaders = "ETag, X-Request-Id, Retry-After"
	// CORSMaxAge is how long, in seconds, a browser may cache a preflight's answer
	// (Access-Control-Max-Age).
	CORSMaxAge = 600
)

// What a page of any origin may do on the widget API (the public routes the chat widget
// calls from customers' own sites): POST a JSON body, read the request id and Retry-After.
// No credentials are involved, so "*" is safe there.
const (
	CORSWidgetMethods = "POST, OPTIONS"
	CORSWidgetHeaders = "Content-Type"
	CORSWidgetExpose  = "X-Request-Id, Retry-After"
)

// The header values the middleware sends, made once. They are assigned to response header
// maps as they are (no allocation per request): each has len == cap, so an Add by a later
// handler appends to a copy, and nothing in net/http or this module writes into a header
// value slice in place.
var (
	corsMethodsValue = []string{CORSAllowMethods}
	corsHeadersValue = []string{CORSAllowHeaders}
	corsExposeValue  = []string{CORSExposeHeaders}
	corsMaxAgeValue  = []string{strconv.Itoa(CORSMaxAge)}
	varyOriginValue  = []string{"Origin"}

	corsMethods = strings.Split(CORSAllowMethods, ", ")
	corsHeaders = strings.Split(CORSAllowHeaders, ", ")

	widgetOriginValue  = []string{"*"}
	widgetMethodsValue = []string{CORSWidgetMethods}
	widgetHeadersValue = []string{CORSWidgetHeaders}
	widgetExposeValue  = []string{CORSWidgetExpose}
	widgetMethods      = strings.Split(CORSWidgetMethods, ", ")
	widgetHeaders      = strings.Split(CORSWidgetHeaders, ", ")
)

// CORSPolicy says which browser origins may call the API. The zero policy allows none.
type CORSPolicy struct {
	patterns []string // as normalised, for String
	exact    []string // serialised origins: scheme://host[:port]
	anyPort  []string // scheme://host, any port (the scheme's default one included)
	widget   map[string]bool
}

// WithWidgetPaths returns p that also answers for the given paths as the widget API does:
// any origin ("*"), CORSWidgetMethods and CORSWidgetHeaders, no credentials.
func (p CORSPolicy) WithWidgetPaths(paths ...string) CORSPolicy {
	w := map[string]bool{}
	for k := range p.widget {
		w[k] = true
	}
	for _, path := range paths {
		w[path] = true
	}
	p.widget = w
	return p
}

// NewCORSPolicy returns the policy allowing the given origin patterns. A pattern is an
// origin as browsers send it, scheme://host[:port] with scheme http or https and nothing
// after the host or port (https://admin.convrs.com, http://127.0.0.1:5173), or
// scheme://host:* for every port of that host (http://localhost:*). Scheme and host are
// compared in lower case and a default port (80 for http, 443 for https) is dropped, as
// browsers do. It returns an error naming the first pattern that is none of these; "*"
// (any origin) is refused: the API's routes are for listed origins only.
func NewCORSPolicy(patterns ...string) (CORSPolicy, error) {
	var p CORSPolicy
	for _, raw := range patterns {
		origin, anyPort, err := parseOriginPattern(raw)
		if err != nil {
			return CORSPolicy{}, err
		}
		if anyPort {
			p.anyPort = append(p.anyPort, origin)
			p.patterns = append(p.patterns, origin+":*")
		} else {
			p.exact = append(p.exact, origin)
			p.patterns = append(p.patterns, origin)
		}
	}
	return p, nil
}

// String lists the policy's patterns, normalised, separated by commas.
func (p CORSPolicy) String() string { return strings.Join(p.patterns, ",") }

// parseOriginPattern checks one pattern and returns it normalised (without ":*" when it
// allows any port).
func parseOriginPattern(raw string) (origin string, anyPort bool, err error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	bad := func(why string) error {
		return fmt.Errorf("origin %q: %s; want scheme://host[:port] (e.g. https://admin.example.com) or scheme://host:* for any port", raw, why)
	}
	if s == "*" {
		return "", false, fmt.Errorf("origin %q: any origin is not allowed; list the origins of the pages that call the API", raw)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return "", false, bad("the scheme must be http or https")
	}
	if i := strings.IndexAny(rest, "/?#@"); i >= 0 {
		return "", false, bad("an origin has no path, query, fragment or user")
	}
	host, port, ipv6 := rest, "", strings.HasPrefix(rest, "[")
	if ipv6 {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", false, bad("unclosed [")
		}
		host, port = rest[1:end], rest[end+1:]
		if port != "" && port[0] != ':' {
			return "", false, bad("junk after the host")
		}
		port = strings.TrimPrefix(port, ":")
	} else if h, pt, hasPort := strings.Cut(rest, ":"); hasPort {
		host, port = h, pt
		if port == "" {
			return "", false, bad("an empty port")
		}
	}
	hostChars := "abcdefghijklmnopqrstuvwxyz0123456789.-"
	if ipv6 {
		hostChars = "0123456789abcdef:."
	}
	if host == "" || strings.Trim(host, hostChars) != "" {
		return "", false, bad("the host is not a host name or IP address")
	}
	if ipv6 {
		host = "[" + host + "]"
	}
	base := scheme + "://" + host
	switch {
	case port == "*":
		return base, true, nil
	case port == "":
		return base, false, nil
	case !validPort(port):
		return "", false, bad("the port must be 1-65535 or *")
	case scheme == "http" && port == "80", scheme == "https" && port == "443":
		return base, false, nil
	}
	return base + ":" + port, false, nil
}

// validPort reports whether s is a port as browsers serialise it: 1-65535, no sign, no
// leading zero.
func validPort(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

// Allows reports whether a page of origin (a request's Origin header) may call the API.
// Matching is exact: http://localhost.evil.com is not http://localhost:*.
func (p CORSPolicy) Allows(origin string) bool {
	for _, o := range p.exact {
		if o == origin {
			return true
		}
	}
	for _, base := range p.anyPort {
		if rest, ok := strings.CutPrefix(origin, base); ok {
			if rest == "" || rest[0] == ':' && validPort(rest[1:]) {
				return true
			}
		}
	}
	return false
}

// CORS wraps next with the cross-origin rules of API.md, as API Gateway applies them to
// the deployed API:
//
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered
//     here, without a token and without reaching next: 204 with Access-Control-Allow-Origin
//     (the request's origin, never "*"), -Allow-Methods, -Allow-Headers and -Max-Age when
//     the origin is allowed and the method and every requested header are among
//     CORSAllowMethods and CORSAllowHeaders; otherwise 204 with no CORS headers, which the
//     browser takes as a refusal (API Gateway answers such preflights the same way).
//   - Any other request goes to next. When its origin is allowed, the response (errors
//     included) carries Access-Control-Allow-Origin and Access-Control-Expose-Headers.
//     A foreign origin's request is still served, as API Gateway serves it; the browser
//     withholds the response from the page.
//   - Every response carries Vary: Origin, so no cache hands one origin's answer to
//     another.
//
// It allocates nothing per request beyond what next does: header values are the shared
// slices above, and Access-Control-Allow-Origin is the request's own Origin value.
func CORS(policy CORSPolicy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if policy.widget[r.URL.Path] {
			widgetCORS(w, r, next)
			return
		}
		addVaryOrigin(h)
		origin := r.Header["Origin"] // one value from a browser; anything else is foreign
		allowed := len(origin) == 1 && policy.Allows(origin[0])
		if r.Method == http.MethodOptions && len(origin) > 0 && len(r.Header["Access-Control-Request-Method"]) > 0 {
			if allowed && preflightAllowed(r.Header) {
				h["Access-Control-Allow-Origin"] = origin[:1:1]
				h["Access-Control-Allow-Methods"] = corsMethodsValue
				h["Access-Control-Allow-Headers"] = corsHeadersValue
				h["Access-Control-Max-Age"] = corsMaxAgeValue
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h["Access-Control-Allow-Origin"] = origin[:1:1]
			h["Access-Control-Expose-Headers"] = corsExposeValue
		}
		next.ServeHTTP(w, r)
	})
}

// widgetCORS answers as the widget API does: any origin may POST JSON; nothing depends
// on the origin, so there is no Vary: Origin.
func widgetCORS(w http.ResponseWriter, r *http.Request, next http.Handler) {
	h := w.Header()
	preflight := r.Method == http.MethodOptions && len(r.Header["Origin"]) > 0 && len(r.Header["Access-Control-Request-Method"]) > 0
	if preflight {
		if widgetPreflightAllowed(r.Header) {
			h["Access-Control-Allow-Origin"] = widgetOriginValue
			h["Access-Control-Allow-Methods"] = widgetMethodsValue
			h["Access-Control-Allow-Headers"] = widgetHeadersValue
			h["Access-Control-Max-Age"] = corsMaxAgeValue
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if len(r.Header["Origin"]) > 0 {
		h["Access-Control-Allow-Origin"] = widgetOriginValue
		h["Access-Control-Expose-Headers"] = widgetExposeValue
	}
	next.ServeHTTP(w, r)
}

func widgetPreflightAllowed(h http.Header) bool {
	methods := h["Access-Control-Request-Method"]
	if len(methods) != 1 || !contains(widgetMethods, methods[0], false) {
		return false
	}
	for _, line := range h["Access-Control-Request-Headers"] {
		for line != "" {
			var name string
			name, line, _ = strings.Cut(line, ",")
			name = strings.Trim(name, " \t")
			if name != "" && !contains(widgetHeaders, name, true) {
				return false
			}
		}
	}
	return true
}

func addVaryOrigin(h http.Header) {
	if v, ok := h["Vary"]; ok {
		h["Vary"] = append(v, "Origin")
		return
	}
	h["Vary"] = varyOriginValue
}

// preflightAllowed reports whether the method and every header a preflight asks for are
// allowed.
func preflightAllowed(h http.Header) bool {
	methods := h["Access-Control-Request-Method"]
	if len(methods) != 1 || !contains(corsMethods, methods[0], false) {
		return false
	}
	for _, line := range h["Access-Control-Request-Headers"] {
		for line != "" {
			var name string
			name, line, _ = strings.Cut(line, ",")
			name = strings.Trim(name, " \t")
			if name != "" && !contains(corsHeaders, name, true) {
				return false
			}
		}
	}
	return true
}

// contains reports whether list holds s (header names compare case-insensitively,
// methods exactly, as browsers do).
func contains(list []string, s string, fold bool) bool {
	for _, v := range list {
		if v == s || fold && strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
