package general_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
)

// The logo is served with its ETag; If-None-Match answers 304 without the bytes, and the
// versioned URL (?v= of the current upload) may be cached for a year.
func TestLogoCaching(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	img := pngBytes(t, 4, 4)
	url := s.Admin(http.MethodPut, logoPath, img, "Content-Type", "image/png").Expect(t, 200).JSON(t)["logo"].(map[string]any)["url"].(string)
	r := s.Admin(http.MethodGet, url, nil).Expect(t, 200)
	etag := r.Header.Get("ETag")
	if r.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" || etag == "" {
		t.Errorf("versioned URL: Cache-Control %q, ETag %q", r.Header.Get("Cache-Control"), etag)
	}
	if r := s.Admin(http.MethodGet, logoPath, nil).Expect(t, 200); r.Header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("unversioned URL: Cache-Control %q, want private, no-cache", r.Header.Get("Cache-Control"))
	}
	if r := s.Admin(http.MethodGet, logoPath+"?v=old", nil).Expect(t, 200); r.Header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("stale version: Cache-Control %q, want private, no-cache", r.Header.Get("Cache-Control"))
	}
	for _, inm := range []string{etag, "W/" + etag, `"x", ` + etag, "*"} {
		r := s.Admin(http.MethodGet, url, nil, "If-None-Match", inm)
		if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: got %d with %d bytes, ETag %q; want 304, no body, the ETag", inm, r.Status, len(r.Body), r.Header.Get("ETag"))
		}
	}
	if r := s.Admin(http.MethodGet, url, nil, "If-None-Match", `"logo-other"`).Expect(t, 200); len(r.Body) != len(img) {
		t.Errorf("If-None-Match of another version: got %d bytes, want the logo", len(r.Body))
	}
	// A new upload is a new ETag and a new URL; the old If-None-Match no longer matches.
	url2 := s.Admin(http.MethodPut, logoPath, pngBytes(t, 5, 5), "Content-Type", "image/png").Expect(t, 200).JSON(t)["logo"].(map[string]any)["url"].(string)
	if url2 == url || !strings.HasPrefix(url2, logoPath+"?v=") {
		t.Errorf("new upload URL %q, old %q", url2, url)
	}
	s.Admin(http.MethodGet, logoPath, nil, "If-None-Match", etag).Expect(t, 200)
}
