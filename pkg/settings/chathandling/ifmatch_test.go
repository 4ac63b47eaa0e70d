package chathandling_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

// An If-Match list is read whole on both paths. The Lambda adapter splits header values on
// commas into several field lines, and the handler used to read only the first: `If-Match:
// "7", "1"` against the current "1" was a 412 in Lambda and a 200 locally.
func TestIfMatchListOnBothPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ifMatch string
		status  int
	}{
		{`"7", "1"`, 200},
		{`"1", "7"`, 200},
		{`"7","8"`, 412},
		{`W/"1", "7"`, 412},
		{`"7", *`, 200},
	}
	for _, tc := range tests {
		// Local path: one field line with the whole list.
		s := apitest.New(t)
		s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":4}`)).Expect(t, 200)
		s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":5}`), "If-Match", tc.ifMatch).Expect(t, tc.status)

		// Lambda path: API Gateway v2 event through the function's entry point.
		entry := lambdaEntry(t)
		ctx := context.Background()
		if r, err := entry(ctx, event(http.MethodPut, `{"maxChatsPerAgent":4}`)); err != nil || r.StatusCode != 200 {
			t.Fatalf("first PUT: %d %v %s", r.StatusCode, err, r.Body)
		}
		ev := event(http.MethodPut, `{"maxChatsPerAgent":5}`)
		ev.Headers["if-match"] = tc.ifMatch
		r, err := entry(ctx, ev)
		if err != nil || r.StatusCode != tc.status {
			t.Errorf("Lambda If-Match %s: got %d %v %s, want %d", tc.ifMatch, r.StatusCode, err, r.Body, tc.status)
		}
	}
}

// Several If-Match field lines form one list (RFC 9110 5.3).
func TestIfMatchSeveralFieldLines(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":4}`)).Expect(t, 200)
	req := apitest.Request{Method: http.MethodPut, Path: path, Token: s.Token("acme", "admin"), Body: []byte(`{"maxChatsPerAgent":6}`),
		HeaderLines: map[string][]string{"If-Match": {`"9"`, `"1"`}}}
	s.Do(req).Expect(t, 200)
}
