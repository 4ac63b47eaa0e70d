package auditfn_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

type page struct {
	Items []struct {
		ID, Area string
	}
	NextCursor string
}

func list(t *testing.T, s *apitest.Server, query string, status int) page {
	t.Helper()
	r := s.Admin(http.MethodGet, "/v1/orgs/acme/audit"+query, nil).Expect(t, status)
	var p page
	if status == 200 {
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func seed(t *testing.T, s *apitest.Server, n int) {
	t.Helper()
	for i := range n {
		if i%2 == 0 {
			s.Admin(http.MethodPut, "/v1/orgs/acme/settings/chat-handling", []byte(fmt.Sprintf(`{"autoCloseAfterDays":%d}`, i+1))).Expect(t, 200)
		} else {
			s.Admin(http.MethodPut, "/v1/orgs/acme/settings/general", []byte(fmt.Sprintf(`{"name":"Acme %d"}`, i))).Expect(t, 200)
		}
	}
}

func TestPagingNewestFirst(t *testing.T) {
	s := apitest.New(t)
	seed(t, s, 7)
	var ids []string
	q := "?limit=3"
	for pages := 0; ; pages++ {
		p := list(t, s, q, 200)
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.NextCursor == "" {
			break
		}
		q = "?limit=3&cursor=" + url.QueryEscape(p.NextCursor)
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(ids) != 7 {
		t.Fatalf("got %d entries, want 7", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Errorf("not newest first at %d: %s after %s", i, ids[i], ids[i-1])
		}
	}
	if p := list(t, s, "", 200); len(p.Items) != 7 || p.NextCursor != "" {
		t.Errorf("default limit 25: got %d items, cursor %q", len(p.Items), p.NextCursor)
	}
}

func TestAreaFilter(t *testing.T) {
	s := apitest.New(t)
	seed(t, s, 5)
	p := list(t, s, "?area=general", 200)
	if len(p.Items) != 2 {
		t.Fatalf("area=general: got %d, want 2", len(p.Items))
	}
	for _, it := range p.Items {
		if it.Area != "general" {
			t.Errorf("area filter let %s through", it.Area)
		}
	}
}

func TestBadQueries(t *testing.T) {
	s := apitest.New(t)
	seed(t, s, 3)
	p := list(t, s, "?limit=1", 200)
	tests := []struct {
		name, query string
		status      int
	}{
		{"limit 0", "?limit=0", 422},
		{"limit 101", "?limit=101", 422},
		{"limit not a number", "?limit=ten", 400},
		{"limit empty", "?limit=", 400},
		{"limit not an integer", "?limit=2.5", 400},
		{"bad area", "?area=Gen%20eral", 400},
		{"tampered cursor", "?cursor=" + url.QueryEscape(p.NextCursor[:len(p.NextCursor)-3]+"xyz"), 400},
		{"cursor for another filter", "?area=general&cursor=" + url.QueryEscape(p.NextCursor), 400},
		{"garbage cursor", "?cursor=%00%01", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { list(t, s, tc.query, tc.status) })
	}
	if got := list(t, s, "?limit=100", 200); len(got.Items) != 3 {
		t.Errorf("limit 100: got %d items", len(got.Items))
	}
}

func TestWhoMayRead(t *testing.T) {
	s := apitest.New(t)
	s.As("acme", "compliance", http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200)
	s.As("acme", "agent", http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 403)
	s.As("globex", "admin", http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 404)
	s.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/orgs/acme/audit"}).Expect(t, 401)
}
