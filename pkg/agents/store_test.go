package agents_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/problem"
)

func TestNormalizeQuery(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in    agents.Query
		field string
		text  string
		limit int
	}{
		{agents.Query{Text: "  Ana SILVA "}, "", "ana silva", agents.DefaultLimit},
		{agents.Query{Text: strings.Repeat("a", agents.MaxQuery), Limit: agents.MaxLimit}, "", strings.Repeat("a", agents.MaxQuery), agents.MaxLimit},
		{agents.Query{Text: strings.Repeat("a", agents.MaxQuery+1)}, "search", "", 0},
		{agents.Query{Text: "ana\u200bsilva"}, "search", "", 0},
		{agents.Query{Text: "ana\nsilva"}, "search", "", 0},
		{agents.Query{Status: "Active"}, "status", "", 0},
		{agents.Query{Limit: -1}, "limit", "", 0},
		{agents.Query{Limit: agents.MaxLimit + 1}, "limit", "", 0},
		{agents.Query{After: "not an id"}, "cursor", "", 0},
	} {
		q := c.in
		err := agents.Normalize(&q)
		if c.field == "" {
			if err != nil || q.Text != c.text || q.Limit != c.limit {
				t.Errorf("Normalize(%+v) = %+v, %v", c.in, q, err)
			}
			continue
		}
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Code != problem.Invalid || len(pe.Fields) != 1 || pe.Fields[0].Field != c.field {
			t.Errorf("Normalize(%+v): %v, want Invalid on %s", c.in, err, c.field)
		}
	}
}

// FuzzNormalizeQuery: an accepted text is lower case, trimmed, bounded and free of
// control characters (so no match spans SearchKey's line feed), and normalising is
// idempotent.
func FuzzNormalizeQuery(f *testing.F) {
	for _, s := range []string{"ana", " ANA ", "é", "\u212a", "a\nb", "\u202e", strings.Repeat("x", 101), "İ"} {
		f.Add(s, "active", 10)
	}
	f.Fuzz(func(t *testing.T, text, status string, limit int) {
		q := agents.Query{Text: text, Status: agents.Status(status), Limit: limit}
		if err := agents.Normalize(&q); err != nil {
			if problem.CodeOf(err) != problem.Invalid {
				t.Fatalf("Normalize: %v, want Invalid", err)
			}
			return
		}
		if len(q.Text) > agents.MaxQuery || strings.ContainsAny(q.Text, "\n\r\x00") || q.Limit < 1 || q.Limit > agents.MaxLimit {
			t.Fatalf("accepted %+v", q)
		}
		if utf8.ValidString(q.Text) && strings.TrimFunc(q.Text, unicode.IsSpace) != q.Text {
			t.Fatalf("not trimmed: %q", q.Text)
		}
		again := q
		if err := agents.Normalize(&again); err != nil || again != q {
			t.Fatalf("not idempotent: %+v then %+v, %v", q, again, err)
		}
	})
}
