package settings_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

type hookDoc struct {
	Name    string `json:"name"`
	Expires string `json:"expires"`
	Derived string `json:"derived"` // read-only: what Present says
}

func (d hookDoc) Validate() error {
	var f problem.Fields
	if d.Derived != "" {
		f.Add("derived", "was stored")
	}
	return f.Err()
}

type orgAuthn struct{}

func (orgAuthn) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{Subject: "u1", OrgID: "acme", Role: auth.RoleAdmin}, nil
}

// Present fills derived read-only fields in every representation (never stored, never
// taken from a client); Warnings add a "warnings" member that follows the clock.
func TestPresentAndWarnings(t *testing.T) {
	t.Parallel()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	area := settings.Area[hookDoc]{
		Name: "hooks", Defaults: func() hookDoc { return hookDoc{} }, ReadOnly: []string{"derived"},
		Prepare: func(_ hookDoc, next *hookDoc) { next.Derived = "" },
		Present: func(org string, d *hookDoc) { d.Derived = org + "/" + d.Name },
		Warnings: func(d hookDoc, at time.Time) []settings.Warning {
			exp, err := time.Parse(time.DateOnly, d.Expires)
			if err != nil || exp.Sub(at) > 30*24*time.Hour {
				return nil
			}
			return []settings.Warning{{Field: "expires", Message: "expires within 30 days"}}
		},
	}
	api := httpx.New(orgAuthn{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	settings.NewService(area, store, clock).Register(api, auth.AnyRole)
	do := func(method, body string) map[string]any {
		t.Helper()
		req := httptest.NewRequest(method, "/v1/orgs/acme/settings/hooks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", method, rec.Code, rec.Body)
		}
		return m
	}
	m := do(http.MethodPut, `{"name":"a","expires":"2026-12-10","derived":"forged"}`)
	if m["derived"] != "acme/a" || m["warnings"] == nil {
		t.Errorf("PUT: got %v, want derived acme/a and a warning", m)
	}
	rec, err := store.Get(context.Background(), "acme", "hooks", settings.Strong)
	if err != nil || strings.Contains(string(rec.Data), "derived\":\"a") || strings.Contains(string(rec.Data), "forged") {
		t.Errorf("stored %s, %v: derived fields must not be stored", rec.Data, err)
	}
	if m := do(http.MethodGet, ""); m["derived"] != "acme/a" || m["warnings"] == nil {
		t.Errorf("GET: got %v", m)
	}
	mu.Lock()
	now = now.AddDate(-1, 0, 0)
	mu.Unlock()
	if m := do(http.MethodGet, ""); m["warnings"] != nil || m["derived"] != "acme/a" {
		t.Errorf("GET a year earlier: got %v, want no warnings", m)
	}
}

type nestedDoc struct {
	Name  string      `json:"name"`
	Inner nestedInner `json:"inner"`
}

type nestedInner struct {
	Typed   string `json:"typed"`
	Derived string `json:"derived,omitempty"` // read-only: what Present says
}

func (nestedDoc) Validate() error { return nil }

// Dotted ReadOnly fields are stripped from inside nested objects whatever their value,
// and the warnings member an area with Warnings adds may be sent back; other names in
// nested objects are still checked.
func TestNestedReadOnlyAndEchoedWarnings(t *testing.T) {
	t.Parallel()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	area := settings.Area[nestedDoc]{
		Name: "nested", Defaults: func() nestedDoc { return nestedDoc{} }, ReadOnly: []string{"inner.derived"},
		Prepare:  func(_ nestedDoc, next *nestedDoc) { next.Inner.Derived = "" },
		Present:  func(org string, d *nestedDoc) { d.Inner.Derived = org },
		Warnings: func(nestedDoc, time.Time) []settings.Warning { return []settings.Warning{{Message: "always"}} },
	}
	api := httpx.New(orgAuthn{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	settings.NewService(area, store, nil).Register(api, auth.AnyRole)
	do := func(method, ctype, body string) (int, string) {
		req := httptest.NewRequest(method, "/v1/orgs/acme/settings/nested", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	tests := []struct {
		method, body string
		status       int
	}{
		{http.MethodPut, `{"name":"a","inner":{"typed":"t","derived":42},"warnings":[{"message":"x"}]}`, 200},
		{http.MethodPatch, `{"inner":{"derived":{"any":"shape"}},"warnings":null}`, 200},
		{http.MethodPut, `{"inner":null}`, 200},
		{http.MethodPut, `{"inner":{"Derived":"x"}}`, 400},
		{http.MethodPut, `{"inner":{"other":1}}`, 400},
		{http.MethodPut, `{"inner":{"derived":1,"derived":2}}`, 400},
	}
	for _, tc := range tests {
		ctype := "application/json"
		if tc.method == http.MethodPatch {
			ctype = "application/merge-patch+json"
		}
		if code, body := do(tc.method, ctype, tc.body); code != tc.status {
			t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.body, code, body, tc.status)
		}
	}
	rec, err := store.Get(context.Background(), "acme", "nested", settings.Strong)
	if err != nil || strings.Contains(string(rec.Data), "derived") || strings.Contains(string(rec.Data), "warnings") {
		t.Errorf("stored %s, %v: read-only fields must not be stored", rec.Data, err)
	}
	if _, body := do(http.MethodGet, "", ""); !strings.Contains(body, `"derived":"acme"`) || !strings.Contains(body, `"warnings":[{"message":"always"}]`) {
		t.Errorf("GET: got %s", body)
	}
}
