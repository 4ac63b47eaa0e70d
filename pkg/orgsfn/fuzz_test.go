package orgsfn

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// FuzzCreateBody: any body either decodes strictly into a name the rules accept (1-100
// characters, NFC, no control or bidi characters, trimmed) or is refused with a problem
// (400, 422), never anything else.
func FuzzCreateBody(f *testing.F) {
	for _, s := range []string{`{"name":"Acme EMEA"}`, `{"name":" \u200bx\u202e "}`, `{"Name":"x"}`, `{"name":"x","name":"y"}`,
		`{"name":null}`, `{"name":"` + strings.Repeat("é", 101) + `"}`, `{"name":"a\u0000b"}`, `[]`, `{"name":"Cafe\u0301"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var in Input
		err := httpx.Unmarshal([]byte(body), &in)
		if err == nil {
			in.Prepare()
			err = in.Validate()
		}
		if err != nil {
			if c := problem.CodeOf(err); c != problem.BadRequest && c != problem.Invalid {
				t.Fatalf("%q: %v (code %q)", body, err, c)
			}
			return
		}
		n := utf8.RuneCountInString(in.Name)
		if n < 1 || n > orgs.MaxNameChars || !norm.NFC.IsNormalString(in.Name) || strings.ContainsFunc(in.Name, unicode.IsControl) ||
			strings.TrimSpace(in.Name) != in.Name {
			t.Fatalf("%q: accepted the name %q", body, in.Name)
		}
	})
}

// FuzzListQuery: any query string of the descendants list is a page request (limit
// 1-100, after an id) or a 400/422 problem.
func FuzzListQuery(f *testing.F) {
	cursors, err := audit.NewCursors([]byte(strings.Repeat("k", 32)))
	if err != nil {
		f.Fatal(err)
	}
	good := cursors.Seal("acme", cursorScope, "org_abc")
	for _, s := range []string{"", "limit=5", "limit=0", "limit=x", "limit=1&limit=1", "cursor=" + good, "cursor=" + good + "x", "cursor=%00",
		"limit=100&cursor=" + cursors.Seal("acme", cursorScope, "a#b"), "limit=" + strings.Repeat("9", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/v1/orgs/acme/suborgs", nil)
		r.URL.RawQuery = query
		limit, after, err := pageQuery(r, "acme", cursors)
		if err != nil {
			if c := problem.CodeOf(err); c != problem.BadRequest && c != problem.Invalid {
				t.Fatalf("%q: %v", query, err)
			}
			return
		}
		if limit < 1 || limit > orgs.MaxLimit || (after != "" && !ids.Valid(after)) {
			t.Fatalf("%q: limit %d after %q", query, limit, after)
		}
	})
}
