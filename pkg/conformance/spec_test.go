package conformance_test

import (
	"encoding/json"
	"mime"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/httpx"
)

// spec is openapi.yaml in the validator's shapes, with a validator over it.
type spec struct {
	doc map[string]any
	v   *validator
}

var (
	specOnce   sync.Once
	loadedSpec *spec
	specErr    error
)

// mustSpec parses openapi.yaml once for every test of the package.
func mustSpec(t *testing.T) *spec {
	t.Helper()
	specOnce.Do(func() {
		var data []byte
		if data, specErr = os.ReadFile(repoPath("openapi.yaml")); specErr != nil {
			return
		}
		var raw any
		if specErr = yaml.Unmarshal(data, &raw); specErr != nil {
			return
		}
		var doc any
		if doc, specErr = decodeJSONish(raw); specErr != nil {
			return
		}
		m, _ := doc.(map[string]any)
		loadedSpec = &spec{doc: m, v: newValidator(doc)}
	})
	if specErr != nil || loadedSpec == nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return loadedSpec
}

// obj follows keys through nested objects; nil when one is missing.
func obj(x any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ := x.(map[string]any)
		x = m[k]
	}
	m, _ := x.(map[string]any)
	return m
}

// deref follows $ref chains of a component (parameter, response, request body).
func (s *spec) deref(x map[string]any) map[string]any {
	for range 10 {
		ref, ok := x["$ref"].(string)
		if !ok {
			return x
		}
		target, _ := s.v.resolveRef(ref)
		x, _ = target.(map[string]any)
	}
	return x
}

// operation returns the operation of method (lower case) on a path template.
func (s *spec) operation(method, path string) map[string]any {
	return obj(s.doc, "paths", path, strings.ToLower(method))
}

// requestSchema returns the schema of an operation's request body for a media type.
func (s *spec) requestSchema(method, path, media string) (any, bool) {
	body := s.deref(obj(s.operation(method, path), "requestBody"))
	sch, ok := obj(body, "content", media)["schema"]
	return sch, ok
}

// response returns the response an operation declares for a status (or "default").
func (s *spec) response(method, path string, status int) map[string]any {
	responses := obj(s.operation(method, path), "responses")
	if r, ok := responses[strconv.Itoa(status)].(map[string]any); ok {
		return s.deref(r)
	}
	if r, ok := responses["default"].(map[string]any); ok {
		return s.deref(r)
	}
	return nil
}

// responseSchema returns the schema of an operation's 200 JSON response.
func (s *spec) responseSchema(method, path string) any {
	return obj(s.response(method, path, 200), "content", "application/json")["schema"]
}

// settingsPath matches the path template of a settings area.
var settingsPath = regexp.MustCompile(`^/v1/orgs/\{orgId\}/settings/([a-z][a-z-]*)$`)

// settingsArea is one area as the document describes it.
type settingsArea struct {
	Name, Path string
}

// settingsAreas lists every settings area the document describes with GET, PUT and PATCH,
// so that a new area is covered by every test built on this without being listed.
func (s *spec) settingsAreas(t *testing.T) []settingsArea {
	t.Helper()
	var out []settingsArea
	for path := range obj(s.doc, "paths") {
		m := settingsPath.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		for _, method := range []string{"get", "put", "patch"} {
			if s.operation(method, path) == nil {
				t.Errorf("%s: settings area without %s", path, strings.ToUpper(method))
			}
		}
		out = append(out, settingsArea{Name: m[1], Path: path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) < 3 {
		t.Fatalf("found %d settings areas in openapi.yaml, want at least 3", len(out))
	}
	return out
}

// checkResponse fails the test unless resp is one the document declares for the
// operation: its status is listed, it carries the headers declared required, its media
// type is one of the response's, and its body validates against that media type's schema
// (in the response direction).
func (s *spec) checkResponse(t *testing.T, method, path string, resp apitest.Response) {
	t.Helper()
	decl := s.response(method, path, resp.Status)
	if decl == nil {
		t.Errorf("%s %s answered %d, which openapi.yaml does not list:\n%s", method, path, resp.Status, resp.Body)
		return
	}
	for name, h := range obj(decl, "headers") {
		hm, _ := h.(map[string]any)
		h := s.deref(hm)
		if req, _ := h["required"].(bool); req && resp.Header.Get(name) == "" {
			t.Errorf("%s %s %d: no %s header, which openapi.yaml says is always sent", method, path, resp.Status, name)
		}
	}
	content := obj(decl, "content")
	if len(content) == 0 {
		if len(resp.Body) > 0 {
			t.Errorf("%s %s %d: got a body, want none (openapi.yaml declares no content):\n%s", method, path, resp.Status, resp.Body)
		}
		return
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	media, ok := content[mt].(map[string]any)
	if err != nil || !ok {
		t.Errorf("%s %s %d: got Content-Type %q, want one of %v", method, path, resp.Status, resp.Header.Get("Content-Type"), keys(content))
		return
	}
	if !strings.HasSuffix(mt, "json") {
		return
	}
	inst, err := decodeJSON(resp.Body)
	if err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v\n%s", method, path, resp.Status, err, resp.Body)
		return
	}
	if errs := s.v.validate(media["schema"], inst, inResponse); len(errs) > 0 {
		t.Errorf("%s %s %d: the body does not match openapi.yaml:\n%s\nbody: %s", method, path, resp.Status, schemaErrors(errs), resp.Body)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// mustEncode encodes a value for a request body.
func mustEncode(t *testing.T, x any) []byte {
	t.Helper()
	data, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mustDecode decodes a response body into the validator's shapes.
func mustDecode(t *testing.T, resp apitest.Response) any {
	t.Helper()
	x, err := decodeJSON(resp.Body)
	if err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, resp.Body)
	}
	return x
}

// answerCheck sends requests to srv as a caller of an organisation and checks each
// answer against the spec: the status the test expects, and the status, headers and
// body openapi.yaml lists. A request body the server accepts must be valid against the
// operation's request schema, and one it refuses as invalid (400, 422) must not be,
// unless Stateful says the refusal depends on stored state (a group that does not exist)
// that no schema can foresee. A PATCH body is sent as a merge patch unless a
// Content-Type header says otherwise.
type answerCheck struct {
	t        *testing.T
	s        *spec
	srv      *apitest.Server
	Stateful bool
}

// do sends method path body as role of org with header pairs and checks the answer.
func (c *answerCheck) do(want int, org, role, method, path, body string, header ...string) apitest.Response {
	c.t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	req := apitest.Request{Method: method, Path: path, Token: c.srv.Token(org, role), Header: h}
	tmpl := c.s.templateOf(strings.SplitN(path, "?", 2)[0])
	if body != "" {
		req.Body = []byte(body)
		media := httpx.MediaJSON
		if method == http.MethodPatch {
			media = httpx.MediaMergePatch
		}
		if ct, ok := h["Content-Type"]; ok {
			media = ct
		} else {
			req.ContentType = media
		}
		if sch, ok := c.s.requestSchema(method, tmpl, media); ok {
			inst, err := decodeJSON(req.Body)
			refused := (want == http.StatusBadRequest || want == http.StatusUnprocessableEntity) && !c.Stateful
			if err == nil && refused == (len(c.s.v.validate(sch, inst, inRequest)) == 0) {
				c.t.Errorf("%s %s %s: answered %d, but the request schema says valid=%v", method, path, body, want, !refused)
			}
		}
	}
	resp := c.srv.Do(req)
	if resp.Status != want {
		c.t.Errorf("%s %s: got %d, want %d\n%s", method, path, resp.Status, want, resp.Body)
	}
	c.s.checkResponse(c.t, method, tmpl, resp)
	return resp
}
