package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/convrs/admin/pkg/problem"
)

func TestProblemExtensionsAndTitles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err       error
		status    int
		title     string
		extension map[string]any
	}{
		{problem.New(problem.Invalid, "bad"), 422, "Unprocessable Content", nil},
		{problem.New(problem.TooLarge, "big"), 413, "Content Too Large", nil},
		{problem.New(problem.Conflict, "busy").With("chats", []string{"c1", "c2"}).With("stickyUsers", []string{"u1"}),
			409, "Conflict", map[string]any{"chats": []any{"c1", "c2"}, "stickyUsers": []any{"u1"}}},
		{problem.New(problem.Unauthenticated, "no").With("reason", "expired"), 401, "Unauthorized", map[string]any{"reason": "expired"}},
		// A standard member cannot be overridden by an extension.
		{problem.New(problem.Forbidden, "no").With("status", 200).With("detail", "x"), 403, "Forbidden", nil},
		{errors.New("secret internal text"), 500, "Internal Server Error", nil},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), tc.err)
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("%v: body %s: %v", tc.err, rec.Body, err)
		}
		if rec.Code != tc.status || p.Status != tc.status || p.Title != tc.title {
			t.Errorf("%v: got %d %d %q, want %d %q", tc.err, rec.Code, p.Status, p.Title, tc.status, tc.title)
		}
		got, _ := json.Marshal(p.Extensions)
		want, _ := json.Marshal(tc.extension)
		if len(tc.extension) == 0 {
			want = []byte("null")
		}
		if string(got) != string(want) {
			t.Errorf("%v: extensions %s, want %s (body %s)", tc.err, got, want, rec.Body)
		}
		if tc.status == 500 && json.Valid(rec.Body.Bytes()) && p.Detail != "internal error; quote the request id when reporting it" {
			t.Errorf("500 detail %q leaks", p.Detail)
		}
	}
}

// A deadline that ran out is a 503 with Retry-After, not a 500; a cancelled request
// (the client went away) is logged as abandoned.
func TestContextErrors(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), fmt.Errorf("dynamo: get: %w", context.DeadlineExceeded))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("deadline: got %d Retry-After %q, want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
}
