package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/auth"
)

// Area describes a settings area to SettingsArea, the test of what every area shares.
type Area struct {
	// Name is the area's URL segment and audit area, e.g. "chat-handling".
	Name string
	// Valid is a PUT body that validates and differs from the defaults in Field.
	Valid string
	// Field is a top-level field that Valid sets to a non-default value, and Patch
	// (a merge patch valid on top of Valid) changes again.
	Field string
	Patch string
	// Invalid is a PUT body whose InvalidField is out of range (a 422 naming it), or, for
	// an area where every value of the right type is valid, of the wrong type
	// (InvalidStatus 400).
	Invalid       string
	InvalidField  string
	InvalidStatus int // default 422
	// Roles lists the predefined roles allowed to use the area's routes (default: admin).
	Roles []string
}

// SettingsArea tests, once for every area, the behaviour the settings service gives them
// all: defaults and version 0 for an area never saved, strong ETags, PUT replace and its
// read-only fields, PATCH merge (null resets), If-Match (match, mismatch, *, weak tags,
// lists), an unchanged write is not a write, every change audited with its fields, actor
// and request id, strict decoding (400), media types (415), body limit, validation (422
// changes nothing) and the authorisation matrix (401 without a token, 404 for another or
// a malformed organisation, 403 for every predefined role the area does not allow).
func SettingsArea(t *testing.T, a Area) {
	t.Helper()
	if len(a.Roles) == 0 {
		a.Roles = []string{auth.RoleAdmin}
	}
	if a.InvalidStatus == 0 {
		a.InvalidStatus = http.StatusUnprocessableEntity
	}
	path := "/v1/orgs/acme/settings/" + a.Name
	merge := []string{"Content-Type", "application/merge-patch+json"}
	audit := func(t *testing.T, s *Server) []map[string]any {
		t.Helper()
		var page struct{ Items []map[string]any }
		r := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area="+a.Name, nil).Expect(t, 200)
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		return page.Items
	}

	t.Run("NeverSavedIsDefaultsAtVersion0", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		r := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
		m := r.JSON(t)
		if r.Header.Get("ETag") != `"0"` || m["version"] != 0.0 || m["updatedAt"] != nil || m["updatedBy"] != nil {
			t.Errorf("got ETag %s, %s; want ETag \"0\", version 0 and null updatedAt, updatedBy", r.Header.Get("ETag"), r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got Cache-Control %q, Content-Type %q", r.Header.Get("Cache-Control"), r.Header.Get("Content-Type"))
		}
	})

	t.Run("PutReplacesAndEchoedReadOnlyFieldsAreIgnored", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		defaults := s.Admin(http.MethodGet, path, nil).JSON(t)
		r := s.Admin(http.MethodPut, path, []byte(a.Valid)).Expect(t, 200)
		m := r.JSON(t)
		if r.Header.Get("ETag") != `"1"` || m["version"] != 1.0 || m["updatedBy"] != "admin@acme" || m["updatedAt"] != "2026-11-25T10:00:00Z" {
			t.Errorf("PUT: got ETag %s, %s", r.Header.Get("ETag"), r.Body)
		}
		if jsonText(m[a.Field]) == jsonText(defaults[a.Field]) {
			t.Errorf("Valid must set %s to a non-default value; both are %s", a.Field, jsonText(m[a.Field]))
		}
		g := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
		if string(g.Body) != string(r.Body) || g.Header.Get("ETag") != `"1"` {
			t.Errorf("GET after PUT:\n got %s\nwant %s", g.Body, r.Body)
		}
		// A client may send the whole representation back, read-only fields included.
		echo := g.JSON(t)
		echo["version"], echo["updatedAt"], echo["updatedBy"] = 99, "2020-01-01T00:00:00Z", "mallory"
		body, _ := json.Marshal(echo)
		r = s.Admin(http.MethodPut, path, body).Expect(t, 200)
		if m := r.JSON(t); m["version"] != 1.0 || m["updatedBy"] != "admin@acme" {
			t.Errorf("echoed representation: got %s, want version 1 unchanged", r.Body)
		}
	})

	t.Run("PatchMergesAndNullResets", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		defaults := s.Admin(http.MethodGet, path, nil).JSON(t)
		valid := s.Admin(http.MethodPut, path, []byte(a.Valid)).Expect(t, 200).JSON(t)
		m := s.Admin(http.MethodPatch, path, []byte(a.Patch), merge...).Expect(t, 200).JSON(t)
		if m["version"] != 2.0 || jsonText(m[a.Field]) == jsonText(valid[a.Field]) {
			t.Errorf("PATCH %s: got %v, want version 2 with %s changed", a.Patch, m, a.Field)
		}
		for k, v := range valid {
			if k != a.Field && k != "version" && k != "updatedAt" && !strings.Contains(a.Patch, `"`+k+`"`) && jsonText(m[k]) != jsonText(v) {
				t.Errorf("PATCH changed %s: %s -> %s", k, jsonText(v), jsonText(m[k]))
			}
		}
		m = s.Admin(http.MethodPatch, path, []byte(`{"`+a.Field+`":null}`), "Content-Type", "application/merge-patch+json; charset=utf-8").Expect(t, 200).JSON(t)
		if jsonText(m[a.Field]) != jsonText(defaults[a.Field]) {
			t.Errorf("null resets %s to its default %s: got %s", a.Field, jsonText(defaults[a.Field]), jsonText(m[a.Field]))
		}
		s.Admin(http.MethodPatch, path, []byte(a.Patch)).Expect(t, 415)
		s.Admin(http.MethodPatch, path, []byte(`[]`), merge...).Expect(t, 400)
	})

	t.Run("IfMatch", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		s.Admin(http.MethodPut, path, []byte(a.Valid)).Expect(t, 200)
		etag := func() string { return s.Admin(http.MethodGet, path, nil).Header.Get("ETag") }
		for _, stale := range []string{`"0"`, `W/"1"`, `1`, `"7", "8"`, `"2"`} {
			r := s.Admin(http.MethodPatch, path, []byte(a.Patch), "Content-Type", merge[1], "If-Match", stale).Expect(t, 412)
			if !strings.Contains(string(r.Body), "If-Match") {
				t.Errorf("If-Match %s: the 412 does not say why: %s", stale, r.Body)
			}
		}
		// A list holding the current tag, "*", and the current tag alone all match.
		s.Admin(http.MethodPatch, path, []byte(a.Patch), "Content-Type", merge[1], "If-Match", `"7", `+etag()).Expect(t, 200)
		s.Admin(http.MethodPut, path, []byte(a.Valid), "If-Match", "*").Expect(t, 200)
		s.Admin(http.MethodPatch, path, []byte(a.Patch), "Content-Type", merge[1], "If-Match", etag()).Expect(t, 200)
		s.Admin(http.MethodPut, path, []byte(a.Valid), "If-Match", `"1"`).Expect(t, 412)
		if got := etag(); got != `"4"` {
			t.Errorf("ETag after three accepted writes: %s, want \"4\"", got)
		}
	})

	t.Run("RacingWritesOnOneETag", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		const n = 8
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() {
				body := a.Valid
				if i%2 == 1 {
					body = a.Invalid
				}
				statuses[i] = s.Admin(http.MethodPut, path, []byte(body), "If-Match", `"0"`).Status
			})
		}
		wg.Wait()
		won := 0
		for _, st := range statuses {
			switch st {
			case 200:
				won++
			case 412, a.InvalidStatus:
			default:
				t.Errorf("unexpected status %d", st)
			}
		}
		if v := s.Admin(http.MethodGet, path, nil).JSON(t)["version"]; won < 1 || v != 1.0 {
			t.Errorf("%d racing writes on ETag \"0\" won and the version is %v; want exactly one write (version 1)", won, v)
		}
	})

	t.Run("UnchangedWriteIsNotAWrite", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		s.Admin(http.MethodPut, path, []byte(a.Valid)).Expect(t, 200)
		r := s.Admin(http.MethodPut, path, []byte(a.Valid)).Expect(t, 200)
		if r.Header.Get("ETag") != `"1"` {
			t.Errorf("an unchanged PUT made a new version: ETag %s", r.Header.Get("ETag"))
		}
		s.Admin(http.MethodPatch, path, []byte(`{}`), merge...).Expect(t, 200)
		if n := len(audit(t, s)); n != 1 {
			t.Errorf("audit entries: got %d, want 1", n)
		}
	})

	t.Run("ChangesAreAudited", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		at := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
		s.SetNow(at)
		defaults := s.Admin(http.MethodGet, path, nil).JSON(t)
		r := s.Admin(http.MethodPut, path, []byte(a.Valid), "X-Request-Id", "req-put").Expect(t, 200)
		if r.Header.Get("X-Request-Id") != "req-put" {
			t.Errorf("X-Request-Id: got %q, want req-put", r.Header.Get("X-Request-Id"))
		}
		s.Admin(http.MethodPatch, path, []byte(a.Patch), "Content-Type", merge[1], "X-Request-Id", "req-patch").Expect(t, 200)
		items := audit(t, s)
		if len(items) != 2 {
			t.Fatalf("audit entries: got %d, want 2", len(items))
		}
		for i, want := range []struct{ action, rid string }{{"patch", "req-patch"}, {"replace", "req-put"}} {
			e := items[i]
			if e["action"] != want.action || e["requestId"] != want.rid || e["actor"] != "admin@acme" || e["area"] != a.Name || e["at"] != "2026-11-25T12:30:00Z" {
				t.Errorf("entry %d: got %v, want action %s request %s by admin@acme", i, e, want.action, want.rid)
			}
		}
		found := false
		for _, c := range items[1]["changes"].([]any) {
			c := c.(map[string]any)
			if c["field"] == a.Field || strings.HasPrefix(c["field"].(string), a.Field+".") {
				found = true
				if !strings.Contains(a.Field, ".") && c["field"] == a.Field && jsonText(c["from"]) != jsonText(defaults[a.Field]) {
					t.Errorf("change of %s: from %s, want the default %s", a.Field, jsonText(c["from"]), jsonText(defaults[a.Field]))
				}
			}
		}
		if !found {
			t.Errorf("the PUT's entry does not record %s: %v", a.Field, items[1]["changes"])
		}
	})

	t.Run("BadInputIsRefusedAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		big := `{"` + a.Field + `":"` + strings.Repeat("a", 65<<10) + `"}`
		for _, tc := range []struct {
			name, method, ctype, body, field string
			status                           int
		}{
			{"unknown field", http.MethodPut, "application/json", `{"noSuchField":1}`, "noSuchField", 400},
			{"wrongly cased field", http.MethodPut, "application/json", `{"` + strings.ToUpper(a.Field) + `":1}`, strings.ToUpper(a.Field), 400},
			{"duplicate field", http.MethodPut, "application/json", `{"` + a.Field + `":null,"` + a.Field + `":null}`, a.Field, 400},
			{"malformed JSON", http.MethodPut, "application/json", `{"` + a.Field + `":`, "", 400},
			{"trailing data", http.MethodPut, "application/json", a.Valid + `{}`, "", 400},
			{"not an object", http.MethodPut, "application/json", `[1]`, "", 400},
			{"empty body", http.MethodPut, "application/json", ``, "", 400},
			{"body over 64 KiB", http.MethodPut, "application/json", big, "", 400},
			{"out of range", http.MethodPut, "application/json", a.Invalid, a.InvalidField, a.InvalidStatus},
			{"PUT as text", http.MethodPut, "text/plain", a.Valid, "", 415},
			{"PUT without a media type", http.MethodPut, "", a.Valid, "", 415},
			{"PATCH as JSON", http.MethodPatch, "application/json", a.Patch, "", 415},
			{"PATCH unknown field", http.MethodPatch, "application/merge-patch+json", `{"noSuchField":null}`, "noSuchField", 400},
		} {
			req := Request{Method: tc.method, Path: path, Token: s.Token("acme", auth.RoleAdmin), Body: []byte(tc.body), ContentType: tc.ctype}
			if tc.ctype == "" {
				req.Header = map[string]string{"Content-Type": ""}
			}
			r := s.Do(req).Expect(t, tc.status)
			if tc.field != "" {
				if _, ok := r.FieldErrors(t)[tc.field]; !ok {
					t.Errorf("%s: the %d does not name %s: %s", tc.name, tc.status, tc.field, r.Body)
				}
			}
		}
		if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["version"] != 0.0 {
			t.Errorf("refused writes changed the settings: %v", m)
		}
		if n := len(audit(t, s)); n != 0 {
			t.Errorf("refused writes were audited: %d entries", n)
		}
	})

	t.Run("Authorisation", func(t *testing.T) {
		t.Parallel()
		s := New(t)
		for _, m := range []struct{ method, body string }{{http.MethodGet, ""}, {http.MethodPut, a.Valid}, {http.MethodPatch, a.Patch}} {
			var body []byte
			if m.body != "" {
				body = []byte(m.body)
			}
			ctype := "application/json"
			if m.method == http.MethodPatch {
				ctype = merge[1]
			}
			r := s.Do(Request{Method: m.method, Path: path, Body: body, ContentType: ctype}).Expect(t, 401)
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s without a token: 401 without WWW-Authenticate", m.method)
			}
			s.Do(Request{Method: m.method, Path: path, Body: body, ContentType: ctype, Token: "abc.def.ghi"}).Expect(t, 401)
			for _, org := range []string{"globex", "acme%2Fx", "acme%00", "-acme"} {
				p := strings.Replace(path, "/acme/", "/"+org+"/", 1)
				s.Do(Request{Method: m.method, Path: p, Body: body, ContentType: ctype, Token: s.Token("acme", auth.RoleAdmin)}).Expect(t, 404)
			}
			s.Do(Request{Method: m.method, Path: path, Body: body, ContentType: ctype, Token: s.Token("globex", auth.RoleAdmin)}).Expect(t, 404)
			for _, role := range []string{auth.RoleAdmin, auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent, "custom-role"} {
				allowed := false
				for _, ok := range a.Roles {
					allowed = allowed || ok == role
				}
				if allowed {
					continue
				}
				s.Do(Request{Method: m.method, Path: path, Body: body, ContentType: ctype, Token: s.Token("acme", role)}).Expect(t, 403)
			}
		}
		if v := s.Admin(http.MethodGet, path, nil).JSON(t)["version"]; v != 0.0 {
			t.Errorf("refused requests changed the settings: version %v", v)
		}
		r := s.Admin(http.MethodDelete, path, nil).Expect(t, 405)
		if allow := r.Header.Get("Allow"); !strings.Contains(allow, "PATCH") || !strings.Contains(allow, "PUT") {
			t.Errorf("405 Allow: got %q", allow)
		}
	})
}

// JSONText is v encoded as JSON, for comparisons and messages.
func JSONText(v any) string { return jsonText(v) }

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
