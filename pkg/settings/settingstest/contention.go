package settingstest

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

type counterDoc struct {
	N int `json:"n"`
}

func (d counterDoc) Validate() error {
	var f problem.Fields
	if d.N < 0 {
		f.Add("n", "must not be negative")
	}
	return f.Err()
}

type adminAuthn string

func (a adminAuthn) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{Subject: "u1", OrgID: string(a), Role: auth.RoleAdmin}, nil
}

// ContendedWrites sends n concurrent PUTs without If-Match, each with its own value, to the
// test area "counter" of a new organisation on store, through the settings service's
// HTTP handler, and returns the organisation and the status of each PUT.
func ContendedWrites(t testing.TB, store settings.Store, n int) (string, []int) {
	t.Helper()
	org := newOrg()
	api := httpx.New(adminAuthn(org), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	settings.NewService(settings.Area[counterDoc]{Name: "counter", Defaults: func() counterDoc { return counterDoc{} }}, store, nil).
		Register(api, auth.AnyRole)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req := httptest.NewRequest(http.MethodPut, "/v1/orgs/"+org+"/settings/counter", bytes.NewReader(fmt.Appendf(nil, `{"n":%d}`, i+1)))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			statuses[i] = rec.Code
		}()
	}
	close(start)
	wg.Wait()
	return org, statuses
}
