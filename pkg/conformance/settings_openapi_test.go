package conformance_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
)

// These tests hold openapi.yaml to what the settings routes do, area by area, field by
// field: the defaults, every bound and enum, what may be echoed back, unknown fields, and
// the shape of every response. Areas and fields come from the document itself.

const mediaMergePatch = "application/merge-patch+json"

// orgSeq hands out organisation ids, so that cases sharing a server never share state.
var orgSeq atomic.Int64

func newOrgID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, orgSeq.Add(1)) }

// areaClient calls one area's routes for one organisation and checks every response
// against openapi.yaml.
type areaClient struct {
	t    *testing.T
	s    *spec
	srv  *apitest.Server
	area settingsArea
	org  string
}

func newAreaClient(t *testing.T, s *spec, srv *apitest.Server, area settingsArea) *areaClient {
	return &areaClient{t: t, s: s, srv: srv, area: area, org: newOrgID("o")}
}

func (c *areaClient) url(suffix string) string {
	return strings.Replace(c.area.Path, "{orgId}", c.org, 1) + suffix
}

// do sends a request to the area's path (plus suffix) and checks the response against the
// document.
func (c *areaClient) do(method, suffix string, body []byte, contentType string) apitest.Response {
	c.t.Helper()
	resp := c.srv.Do(apitest.Request{Method: method, Path: c.url(suffix), Token: c.srv.Token(c.org, auth.RoleAdmin),
		Body: body, ContentType: contentType})
	c.s.checkResponse(c.t, method, c.area.Path+suffix, resp)
	return resp
}

func (c *areaClient) get() apitest.Response { c.t.Helper(); return c.do(http.MethodGet, "", nil, "") }

func (c *areaClient) put(doc any) apitest.Response {
	c.t.Helper()
	return c.do(http.MethodPut, "", mustEncode(c.t, doc), "application/json")
}

func (c *areaClient) patch(p any) apitest.Response {
	c.t.Helper()
	return c.do(http.MethodPatch, "", mustEncode(c.t, p), mediaMergePatch)
}

// areaSchemas are the schemas of one area's document: the GET response, the PUT request
// and the PATCH request.
type areaSchemas struct {
	Response, Put, Patch any
}

func (s *spec) schemasOf(t *testing.T, a settingsArea) areaSchemas {
	t.Helper()
	var out areaSchemas
	var ok1, ok2 bool
	out.Response = s.responseSchema("get", a.Path)
	out.Put, ok1 = s.requestSchema("put", a.Path, "application/json")
	out.Patch, ok2 = s.requestSchema("patch", a.Path, mediaMergePatch)
	if out.Response == nil || !ok1 || !ok2 {
		t.Fatalf("%s: want a GET 200 application/json schema, a PUT application/json and a PATCH %s request schema", a.Path, mediaMergePatch)
	}
	return out
}

func (s *spec) generatorFor(area string) *generator {
	return &generator{s: s, samplers: caseOverrides[area].Items, texts: caseOverrides[area].Texts}
}

// baseDoc is the smallest valid document of an area: its required fields sampled from
// the PUT schema, plus the area's override.
func (s *spec) baseDoc(t *testing.T, a settingsArea, put any) map[string]any {
	t.Helper()
	base, _ := s.generatorFor(a.Name).sample(put, 0, "").(map[string]any)
	if base == nil {
		t.Fatalf("%s: the PUT schema is not an object schema", a.Path)
	}
	doc, _ := mergePatch(base, caseOverrides[a.Name].Base).(map[string]any)
	if errs := s.v.validate(put, doc, inRequest); len(errs) > 0 {
		t.Fatalf("%s: the base document %s is not valid against the PUT schema:\n%s", a.Name, compactJSON(doc), schemaErrors(errs))
	}
	return doc
}

// TestOpenAPISchemasUseSupportedKeywords keeps the document inside the subset the test
// validator understands, so that no constraint goes unchecked.
func TestOpenAPISchemasUseSupportedKeywords(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	var problems []string
	for name, sch := range obj(s.doc, "components", "schemas") {
		problems = append(problems, unknownKeywords(sch, "#/components/schemas/"+name)...)
	}
	var walk func(x any, where string)
	walk = func(x any, where string) {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				if k == "schema" {
					problems = append(problems, unknownKeywords(v, where+"/schema")...)
					continue
				}
				if k == "schemas" || k == "examples" || k == "example" {
					continue
				}
				walk(v, where+"/"+k)
			}
		case []any:
			for i, v := range x {
				walk(v, fmt.Sprintf("%s/%d", where, i))
			}
		}
	}
	walk(s.doc["paths"], "#/paths")
	walk(obj(s.doc, "components"), "#/components")
	if len(problems) > 0 {
		t.Errorf("openapi.yaml uses what the test validator does not check:\n%s", strings.Join(problems, "\n"))
	}
}

// TestOpenAPIDefaultsMatchNeverSavedGET checks that every area's response schema states a
// default for every field a never-saved GET returns (server-owned read-only fields aside),
// equal to it, nested objects field by field; and that a PUT of the smallest valid
// document gives every field it leaves out its PUT schema default.
func TestOpenAPIDefaultsMatchNeverSavedGET(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	for _, a := range s.settingsAreas(t) {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			sch := s.schemasOf(t, a)
			c := newAreaClient(t, s, srv, a)
			got := mustDecode(t, c.get().Expect(t, http.StatusOK))
			s.compareDefaults(t, "GET", sch.Response, got, nil, "", true)

			c = newAreaClient(t, s, srv, a)
			base := s.baseDoc(t, a, sch.Put)
			saved := mustDecode(t, c.put(base).Expect(t, http.StatusOK))
			s.compareDefaults(t, "PUT "+compactJSON(base), sch.Put, saved, base, "", false)
		})
	}
}

// compareDefaults compares the defaults a schema states with a document, leaving out the
// fields of sent (what a request set). With strict, every field of got needs a default
// (read-only fields and objects whose own fields have them aside).
func (s *spec) compareDefaults(t *testing.T, what string, schema, got, sent any, prefix string, strict bool) {
	t.Helper()
	doc, _ := got.(map[string]any)
	sentDoc, _ := sent.(map[string]any)
	props, _ := s.flat(schema)["properties"].(map[string]any)
	for _, name := range keys(props) {
		field := join(prefix, name)
		pf := s.flat(props[name])
		val, present := doc[name]
		def, hasDefault := pf["default"]
		if sentVal, wasSent := sentDoc[name]; wasSent {
			if _, isObject := sentVal.(map[string]any); isObject {
				s.compareDefaults(t, what, pf, val, sentVal, field, strict)
			}
			continue
		}
		switch {
		case hasDefault && !present:
			t.Errorf("%s: %s: the schema's default is %s, but the document has no such field", what, field, compactJSON(def))
		case hasDefault:
			if !jsonEqual(def, val) {
				t.Errorf("%s: %s: got %s, want %s (the schema's default)", what, field, compactJSON(val), compactJSON(def))
			}
		case !present || isReadOnly(pf):
		case hasType(pf, "object") && pf["properties"] != nil:
			s.compareDefaults(t, what, pf, val, nil, field, strict)
		case strict:
			t.Errorf("%s: %s is %s, but the schema states no default", what, field, compactJSON(val))
		}
	}
	if strict {
		for _, name := range keys(doc) {
			if _, ok := props[name]; !ok {
				t.Errorf("%s: %s is in the document but not in the schema", what, join(prefix, name))
			}
		}
	}
}

// TestOpenAPIBoundsMatchValidation sends, for every bounded field of every area's PUT
// schema, the values at and just past each bound (and every enum value and one that is
// not) as a merge patch of just that field on top of a valid document. The server must
// accept (200) exactly what the schema accepts and refuse the rest with a 422 naming that
// field; the PATCH schema must say the same of the patch as the PUT schema of the result.
func TestOpenAPIBoundsMatchValidation(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	for _, a := range s.settingsAreas(t) {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			sch := s.schemasOf(t, a)
			base := s.baseDoc(t, a, sch.Put)
			// The bounds of both request schemas: a bound only one of them states is a
			// disagreement between them, reported below.
			g := s.generatorFor(a.Name)
			var cases []boundCase
			seen := map[string]bool{}
			for _, tc := range append(g.boundCases(sch.Put), g.boundCases(sch.Patch)...) {
				if name := tc.Field + " " + tc.Label; !seen[name] {
					seen[name] = true
					cases = append(cases, tc)
				}
			}
			if len(cases) == 0 {
				t.Logf("%s: no bounded fields", a.Name)
			}
			for _, tc := range cases {
				t.Run(tc.Field+" "+tc.Label, func(t *testing.T) {
					t.Parallel()
					patch := tc.Patch()
					doc := mergePatch(base, patch)
					if errs := s.v.validate(sch.Put, doc, inRequest); (len(errs) == 0) != tc.Valid {
						t.Errorf("the PUT schema: got valid=%v, want %v\n%s\ndocument: %s",
							len(errs) == 0, tc.Valid, schemaErrors(errs), short(doc))
					}
					if errs := s.v.validate(sch.Patch, patch, inRequest); (len(errs) == 0) != tc.Valid {
						t.Errorf("the PATCH schema: got valid=%v, want %v\n%s\npatch: %s",
							len(errs) == 0, tc.Valid, schemaErrors(errs), short(patch))
					}

					c := newAreaClient(t, s, srv, a)
					c.put(base).Expect(t, http.StatusOK)
					resp := c.patch(patch)
					switch {
					case tc.Valid && resp.Status != http.StatusOK:
						t.Errorf("PATCH %s: got %d, want 200 (the schema accepts it)\n%s", short(patch), resp.Status, resp.Body)
					case tc.Valid:
						if got, _ := valueAt(mustDecode(t, resp), tc.Segs); !jsonEqual(got, tc.Value) {
							t.Errorf("PATCH %s: the saved %s is %s, want the value sent", short(patch), tc.Field, short(got))
						}
					case resp.Status != http.StatusUnprocessableEntity:
						t.Errorf("PATCH %s: got %d, want 422 (the schema refuses it)\n%s", short(patch), resp.Status, resp.Body)
					default:
						fields := resp.FieldErrors(t)
						named := false
						for f := range fields {
							under := f == tc.Field || strings.HasPrefix(f, tc.Field+".") || strings.HasPrefix(f, tc.Field+"[")
							named = named || under
							if !under {
								t.Errorf("PATCH %s: got an error on %s, want errors on %s only", short(patch), f, tc.Field)
							}
						}
						if !named {
							t.Errorf("PATCH %s: got errors %v, want one naming %s", short(patch), fields, tc.Field)
						}
					}
				})
			}
		})
	}
}

// short renders a value for a message, cut to a readable length.
func short(x any) string {
	s := compactJSON(x)
	if len(s) > 160 {
		return s[:150] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// TestOpenAPIEchoedDocumentsAreValidRequests checks what the README promises a client: a
// document read with GET may be sent back as is with PUT (read-only fields included) and
// as a merge patch. The schemas must accept it exactly when the server does: a never-saved
// document (general has an empty name then) and one saved with every server-owned field
// set (general's logo uploaded).
func TestOpenAPIEchoedDocumentsAreValidRequests(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	for _, a := range s.settingsAreas(t) {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			sch := s.schemasOf(t, a)

			c := newAreaClient(t, s, srv, a)
			fresh := mustDecode(t, c.get().Expect(t, http.StatusOK))
			putErrs := s.v.validate(sch.Put, fresh, inRequest)
			resp := c.put(fresh)
			if want := statusFor(putErrs); resp.Status != want {
				t.Errorf("PUT of the never-saved GET: got %d, want %d as the schema says (%s)\n%s", resp.Status, want, schemaErrors(putErrs), resp.Body)
			}

			c = newAreaClient(t, s, srv, a)
			base := s.baseDoc(t, a, sch.Put)
			c.put(base).Expect(t, http.StatusOK)
			if s.operation("put", a.Path+"/logo") != nil {
				c.do(http.MethodPut, "/logo", tinyPNG(t), "image/png").Expect(t, http.StatusOK)
			}
			saved := mustDecode(t, c.get().Expect(t, http.StatusOK))
			if v, _ := valueAt(saved, []string{"version"}); jsonEqual(v, num(0)) {
				// The base document is the defaults: change a field so that the server-owned
				// fields are set.
				changed := false
				for _, tc := range s.generatorFor(a.Name).boundCases(sch.Put) {
					if got, _ := valueAt(saved, tc.Segs); tc.Valid && !jsonEqual(got, tc.Value) {
						c.patch(tc.Patch()).Expect(t, http.StatusOK)
						changed = true
						break
					}
				}
				// An area of switches only has no bounds: flip a top-level boolean.
				for k, v := range saved.(map[string]any) {
					if b, ok := v.(bool); ok && !changed {
						c.patch(map[string]any{k: !b}).Expect(t, http.StatusOK)
						changed = true
					}
				}
				saved = mustDecode(t, c.get().Expect(t, http.StatusOK))
			}
			if v, _ := valueAt(saved, []string{"updatedAt"}); v == nil {
				t.Fatalf("could not save a document with its server-owned fields set: %s", compactJSON(saved))
			}
			if errs := s.v.validate(sch.Put, saved, inRequest); len(errs) > 0 {
				t.Errorf("a saved GET document is not a valid PUT body:\n%s\n%s", schemaErrors(errs), compactJSON(saved))
			}
			if errs := s.v.validate(sch.Patch, saved, inRequest); len(errs) > 0 {
				t.Errorf("a saved GET document is not a valid PATCH body:\n%s\n%s", schemaErrors(errs), compactJSON(saved))
			}
			c.put(saved).Expect(t, http.StatusOK)
			c.patch(saved).Expect(t, http.StatusOK)
		})
	}
}

// statusFor is the status a write should get from what the schema says of its body.
func statusFor(errs []schemaError) int {
	if len(errs) == 0 {
		return http.StatusOK
	}
	return http.StatusUnprocessableEntity
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.NRGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOpenAPIUnknownFieldsRefused checks that the request schemas are closed wherever the
// server is: an unknown field at the top or in any nested object of a PUT or PATCH is a
// 400 naming it, and the schema refuses it too.
func TestOpenAPIUnknownFieldsRefused(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	for _, a := range s.settingsAreas(t) {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			sch := s.schemasOf(t, a)
			base := s.baseDoc(t, a, sch.Put)
			for _, segs := range s.objectFields(sch.Put, nil) {
				field := strings.Join(slices.Concat(segs, []string{"unknownField"}), ".")
				t.Run(field, func(t *testing.T) {
					t.Parallel()
					patch := boundCase{Segs: slices.Concat(segs, []string{"unknownField"}), Value: true}.Patch()
					doc := mergePatch(base, patch)
					if s.v.valid(sch.Put, doc, inRequest) {
						t.Errorf("the PUT schema accepts %s", field)
					}
					if s.v.valid(sch.Patch, patch, inRequest) {
						t.Errorf("the PATCH schema accepts %s", field)
					}
					c := newAreaClient(t, s, srv, a)
					for _, resp := range []apitest.Response{c.put(doc), c.patch(patch)} {
						if resp.Status != http.StatusBadRequest {
							t.Errorf("got %d, want 400\n%s", resp.Status, resp.Body)
						} else if _, ok := resp.FieldErrors(t)[field]; !ok {
							t.Errorf("got errors %v, want one naming %s", resp.FieldErrors(t), field)
						}
					}
				})
			}
		})
	}
}

// objectFields lists the paths of the object schema and of its nested object fields
// (read-only ones aside).
func (s *spec) objectFields(schema any, segs []string) [][]string {
	f := s.flat(schema)
	if !hasType(f, "object") || f["properties"] == nil || len(segs) > 8 {
		return nil
	}
	out := [][]string{segs}
	props, _ := f["properties"].(map[string]any)
	for _, name := range keys(props) {
		if pf := s.flat(props[name]); !isReadOnly(pf) {
			out = append(out, s.objectFields(pf, append(segs[:len(segs):len(segs)], name))...)
		}
	}
	return out
}

// TestOpenAPIPatchNullResetsToDefault checks the nullability of every field of every
// PATCH schema against the server: where the schema allows null, a merge patch of null
// (after a patch that set another value) gives back the never-saved value; where it does
// not, the server refuses the null.
func TestOpenAPIPatchNullResetsToDefault(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	for _, a := range s.settingsAreas(t) {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			sch := s.schemasOf(t, a)
			base := s.baseDoc(t, a, sch.Put)
			cases := s.generatorFor(a.Name).boundCases(sch.Put)
			for _, segs := range s.typedFields(sch.Patch, nil) {
				field := strings.Join(segs, ".")
				t.Run(field, func(t *testing.T) {
					t.Parallel()
					c := newAreaClient(t, s, srv, a)
					// The never-saved document of this very organisation: derived read-only
					// fields (SSO's assertion URL) differ from one organisation to another.
					fresh := mustDecode(t, c.get().Expect(t, http.StatusOK))
					c.put(base).Expect(t, http.StatusOK)
					want, wantPresent := valueAt(fresh, segs)
					// First set a value that is not the default, where one is known.
					other := cases[:0:0]
					if b, ok := want.(bool); ok {
						other = append(other, boundCase{Segs: segs, Value: !b, Valid: true})
					}
					for _, tc := range cases {
						if tc.Field == field && tc.Valid && !jsonEqual(tc.Value, want) {
							other = append(other, tc)
						}
					}
					if len(other) > 0 {
						c.patch(other[0].Patch()).Expect(t, http.StatusOK)
					}
					patch := boundCase{Segs: segs, Value: nil}.Patch()
					allowed := s.v.valid(sch.Patch, patch, inRequest)
					resp := c.patch(patch)
					switch {
					case !allowed && resp.Status < 400:
						t.Errorf("PATCH %s: got %d, want a refusal (the PATCH schema does not allow null)", short(patch), resp.Status)
					case !allowed:
					case resp.Status != http.StatusOK:
						t.Errorf("PATCH %s: got %d, want 200 (the PATCH schema allows null)\n%s", short(patch), resp.Status, resp.Body)
					default:
						got, present := valueAt(mustDecode(t, resp), segs)
						if present != wantPresent || !jsonEqual(got, want) {
							t.Errorf("PATCH %s: %s is %s (present %v), want the never-saved %s (present %v)",
								short(patch), field, short(got), present, short(want), wantPresent)
						}
					}
				})
			}
		})
	}
}

// typedFields lists the paths of the fields of an object schema and of its nested object
// fields that have a type (echoed, ignored fields have none) and are not read-only.
func (s *spec) typedFields(schema any, segs []string) [][]string {
	props, _ := s.flat(schema)["properties"].(map[string]any)
	var out [][]string
	for _, name := range keys(props) {
		pf := s.flat(props[name])
		if isReadOnly(pf) || len(types(pf)) == 0 && pf["oneOf"] == nil && pf["anyOf"] == nil {
			continue
		}
		path := slices.Concat(segs, []string{name})
		out = append(out, path)
		if len(path) < 8 {
			out = append(out, s.typedFields(pf, path)...)
		}
	}
	return out
}
