package apitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

// FuzzSettingsWrites sends arbitrary bodies to every settings write route: whatever the
// input, the answer is a success or a 4xx problem, never a 5xx or a crash.
func FuzzSettingsWrites(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Acme","outbound":{"requireCrmLink":true}}`,
		`{"openTime":"22:00:00","closeTime":"06:00:00","timeZone":"Europe/London","days":["monday"],"hours":{"monday":[{"open":"01:00:00","close":"02:00:00"}]},"exceptions":[{"date":"2026-12-25","closed":true}],"missedChatReport":{"enabled":true,"email":"a@b.co"}}`,
		`{"maxChatsPerAgent":9,"autoCloseAfterDays":60}`,
		`{"hours":{"sunday":[{"open":"23:00:00","close":"01:00:00"}]},"days":["sunday","monday"]}`,
		`{"exceptions":[{"date":"2026-02-30","open":"10:00:00"}]}`,
		`{"loginAttempts":20,"sessionTimeoutMinutes":1e400}`, `{"language":"PT-br","timeZone":"europe/london\u200b"}`,
		`{"handoff":{"enabled":false,"smartHandoff":true},"billing":{"state":"past_due","enabled":null}}`,
		`{"logo":{"url":1}}`, `{"timeZone":"../../etc/passwd"}`, `{"a":{"b":[null,{}]}}`, `[]`, `{`, "\x00",
	} {
		f.Add([]byte(seed), uint8(0))
	}
	s := apitest.New(f)
	tok := s.Token("acme", "admin")
	// Every settings area the API serves (an area with a PUT route), from the API itself.
	var paths []string
	for _, rt := range s.API.Routes() {
		if rt.Method == http.MethodPut && strings.HasPrefix(rt.Pattern, "/v1/orgs/{orgId}/settings/") && strings.Count(rt.Pattern, "/") == 5 {
			paths = append(paths, strings.ReplaceAll(rt.Pattern, "{orgId}", "acme"))
		}
	}
	if len(paths) < 3 {
		f.Fatalf("found only the settings areas %v", paths)
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		p := paths[int(which)%len(paths)]
		for _, m := range []struct{ method, ctype string }{
			{http.MethodPut, "application/json"},
			{http.MethodPatch, "application/merge-patch+json"},
		} {
			r := s.Do(apitest.Request{Method: m.method, Path: p, Token: tok, Body: body, ContentType: m.ctype})
			if r.Status >= 500 || r.Status == 0 {
				t.Fatalf("%s %s with %q: status %d\n%s", m.method, p, body, r.Status, r.Body)
			}
		}
		if r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/orgs/acme/office-hours/status?at=2026-03-29T01:30:00Z", Token: tok}); r.Status != 200 {
			t.Fatalf("status after %q: %d\n%s", body, r.Status, r.Body)
		}
	})
}

// FuzzReadQueries sends arbitrary query strings to every GET route the API serves: whatever
// the query, the answer is a success or a 4xx problem, never a 5xx (a far-future at was a
// 500 before it was bounded).
func FuzzReadQueries(f *testing.F) {
	for _, seed := range []string{
		"at=9999-12-31T23:59:59Z", "at=0000-01-01T00:00:00Z", "at=2026-03-29T01:30:00%2B14:00", "at=yesterday",
		"at=", "limit=0", "limit=-1", "limit=99999999999999999999", "limit=abc", "area=general&limit=100",
		"cursor=a.b", "cursor=%00", "area=..%2F..", "area=GENERAL", "at=2026-01-01T00:00:00Z&at=x", "%zz",
	} {
		f.Add(seed, uint8(0))
	}
	s := apitest.New(f)
	s.Admin(http.MethodPut, "/v1/orgs/acme/settings/chat-handling", []byte(`{"maxChatsPerAgent":4}`)).Expect(f, 200)
	tok := s.Token("acme", "admin")
	var paths []string
	for _, rt := range s.API.Routes() {
		if rt.Method == http.MethodGet {
			paths = append(paths, strings.ReplaceAll(rt.Pattern, "{orgId}", "acme"))
		}
	}
	f.Fuzz(func(t *testing.T, query string, which uint8) {
		p := paths[int(which)%len(paths)]
		// Keep the request line parseable (httptest.NewRequest panics otherwise); bad
		// percent escapes, repeated keys and any other byte stay.
		query = strings.Map(func(r rune) rune {
			if r <= ' ' || r == 0x7f || r == '#' || r >= 0x80 {
				return -1
			}
			return r
		}, query)
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: p + "?" + query, Token: tok})
		if r.Status >= 500 || r.Status == 0 {
			t.Fatalf("GET %s?%s: status %d\n%s", p, query, r.Status, r.Body)
		}
	})
}
