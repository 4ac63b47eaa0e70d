package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestDocsRoutes checks the local server's public contract routes: /openapi.yaml is the
// repository's openapi.yaml byte for byte, /docs its rendered reference; neither needs a
// token, and the API behind them still does.
func TestDocsRoutes(t *testing.T) {
	t.Parallel()
	srv, err := newServer(t.TempDir(), "http://127.0.0.1:3000", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ts := httptest.NewServer(srv.api)
	t.Cleanup(ts.Close)

	fetch := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	want, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := fetch("/openapi.yaml")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("/openapi.yaml: got %d with %d bytes, want 200 with the %d bytes of openapi.yaml", resp.StatusCode, len(body), len(want))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("/openapi.yaml Content-Type: got %q, want application/yaml", ct)
	}

	resp, body = fetch("/docs")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("/docs: got %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, op := range []string{"getGeneralSettings", "patchOfficeHoursSettings", "listAudit"} {
		if !bytes.Contains(body, []byte(op)) {
			t.Errorf("/docs does not mention %s", op)
		}
	}

	if resp, _ := fetch("/v1/orgs/demo/settings/general"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API without a token: got %d, want 401", resp.StatusCode)
	}
	if resp, _ := fetch("/nowhere"); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("an unknown path: got %d %q, want the API's 404 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
