package conformance_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/convrs/admin/pkg/httpx"
)

// TestCORSConfigurationMatchesCode checks the HttpApi's CorsConfiguration (what API
// Gateway answers in AWS) against the constants cmd/local's middleware answers with
// (pkg/httpx/cors.go), so a browser sees the same rules in both, and the AllowedOrigins
// parameter and its samconfig.toml values against the origin rules.
func TestCORSConfigurationMatchesCode(t *testing.T) {
	t.Parallel()
	tpl := mustParseTemplate(t)
	admin, widget := checkHTTPAPI(t, tpl)
	cors := at(tpl.resources[admin], "Properties", "CorsConfiguration")
	if cors == nil {
		t.Fatalf("%s has no CorsConfiguration", admin)
	}
	checkWidgetCORS(t, at(tpl.resources[widget], "Properties", "CorsConfiguration"))
	names := func(n *yaml.Node) []string {
		var out []string
		for _, v := range list(n) {
			out = append(out, scalar(v))
		}
		return out
	}
	for _, c := range []struct {
		key   string
		want  string // the constant, a ", "-separated list
		names bool   // header names: compared case-insensitively
	}{
		{"AllowMethods", httpx.CORSAllowMethods, false},
		{"AllowHeaders", httpx.CORSAllowHeaders, true},
		{"ExposeHeaders", httpx.CORSExposeHeaders, true},
	} {
		got, want := names(at(cors, c.key)), strings.Split(c.want, ", ")
		if c.names {
			got, want = lower(got), lower(want)
		}
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("CorsConfiguration.%s: got %v, want %v (httpx constant)", c.key, got, want)
		}
	}
	if got := scalar(at(cors, "MaxAge")); got != strconv.Itoa(httpx.CORSMaxAge) {
		t.Errorf("CorsConfiguration.MaxAge: got %q, want %d (httpx.CORSMaxAge)", got, httpx.CORSMaxAge)
	}
	if got := at(cors, "AllowCredentials"); got == nil || got.Kind != yaml.ScalarNode || !strings.EqualFold(got.Value, "false") {
		t.Errorf("CorsConfiguration.AllowCredentials: got %q, want false (bearer tokens, not cookies)", scalar(got))
	}

	// Every method a route serves is one a page may use.
	methods := strings.Split(httpx.CORSAllowMethods, ", ")
	for r := range servedRoutes() {
		if !slices.Contains(methods, r.Method) {
			t.Errorf("%s is served but %s is not in httpx.CORSAllowMethods %v", r, r.Method, methods)
		}
	}

	// Origins: the AllowedOrigins parameter, a list of origins as browsers send them.
	if got := refTarget(at(cors, "AllowOrigins")); got != "AllowedOrigins" {
		t.Errorf("CorsConfiguration.AllowOrigins: got %q, want !Ref AllowedOrigins", intrinsicText(at(cors, "AllowOrigins")))
	}
	param := at(tpl.root, "Parameters", "AllowedOrigins")
	if got := scalar(at(param, "Type")); got != "CommaDelimitedList" {
		t.Errorf("Parameters.AllowedOrigins.Type: got %q, want CommaDelimitedList", got)
	}
	if scalar(at(param, "Description")) == "" {
		t.Errorf("Parameters.AllowedOrigins has no Description")
	}
	checkOrigins(t, "Parameters.AllowedOrigins.Default", scalar(at(param, "Default")))

	// samconfig.toml passes the parameter in every parameter_overrides line.
	overrides := regexp.MustCompile(`(?m)^parameter_overrides\s*=\s*"(.*)"\s*$`).FindAllStringSubmatch(string(mustRead(t, repoPath("samconfig.toml"))), -1)
	if len(overrides) == 0 {
		t.Fatalf("samconfig.toml has no parameter_overrides lines")
	}
	origins := regexp.MustCompile(`(?:^|\s)AllowedOrigins=\\"([^"\\]*)\\"`)
	for i, o := range overrides {
		m := origins.FindStringSubmatch(o[1])
		if m == nil {
			t.Errorf("samconfig.toml parameter_overrides #%d: got %s, want AllowedOrigins=\\\"...\\\" among them", i+1, o[1])
			continue
		}
		checkOrigins(t, "samconfig.toml AllowedOrigins", m[1])
	}
}

// checkOrigins checks a comma-separated AllowedOrigins value: at least one origin, each
// accepted by the local middleware's rules and written exactly as a browser sends it
// (API Gateway compares the Origin header with the list as it is, and knows nothing of
// the local server's :* port patterns).
func checkOrigins(t *testing.T, what, value string) {
	t.Helper()
	if strings.TrimSpace(value) == "" {
		t.Errorf("%s: got none, want at least one origin (the dashboard's)", what)
		return
	}
	for _, o := range strings.Split(value, ",") {
		p, err := httpx.NewCORSPolicy(o)
		switch {
		case err != nil:
			t.Errorf("%s: %v", what, err)
		case p.String() != o:
			t.Errorf("%s: got %q, want it written as browsers send it: %q", what, o, p.String())
		case !p.Allows(o):
			t.Errorf("%s: got %q, want an exact origin (not a port pattern)", what, o)
		}
	}
}

func lower(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// checkWidgetCORS checks the widget API's CorsConfiguration against the constants the
// local middleware answers widget routes with: any origin, no credentials.
func checkWidgetCORS(t *testing.T, cors *yaml.Node) {
	t.Helper()
	if cors == nil {
		t.Fatalf("the widget API has no CorsConfiguration")
	}
	names := func(n *yaml.Node) []string {
		var out []string
		for _, v := range list(n) {
			out = append(out, strings.ToLower(scalar(v)))
		}
		slices.Sort(out)
		return out
	}
	for key, want := range map[string]string{"AllowOrigins": "*", "AllowMethods": httpx.CORSWidgetMethods,
		"AllowHeaders": httpx.CORSWidgetHeaders, "ExposeHeaders": httpx.CORSWidgetExpose} {
		w := lower(strings.Split(want, ", "))
		slices.Sort(w)
		if got := names(at(cors, key)); !slices.Equal(got, w) {
			t.Errorf("widget CorsConfiguration.%s: got %v, want %v", key, got, w)
		}
	}
	if got := at(cors, "AllowCredentials"); got == nil || !strings.EqualFold(got.Value, "false") {
		t.Errorf("widget CorsConfiguration.AllowCredentials must be false (any origin)")
	}
}
