package general_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/general"
)

const (
	path     = "/v1/orgs/acme/settings/general"
	logoPath = path + "/logo"
)

func TestNameRules(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"plain", "Acme", ""},
		{"100 characters", strings.Repeat("é", 100), ""},
		{"101 characters", strings.Repeat("é", 101), "must be at most 100 characters"},
		{"empty", "", "is required"},
		{"control character", "Ac\x07me", "must not contain control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := general.Settings{Name: tc.in}.Validate()
			got := ""
			if pe, ok := err.(*problem.Error); ok && len(pe.Fields) == 1 && pe.Fields[0].Field == "name" {
				got = pe.Fields[0].Message
			} else if err != nil {
				t.Fatalf("got %v, want a problem on field name", err)
			}
			if got != tc.wantErr {
				t.Errorf("got %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func TestPutTrimsNameAndIgnoresLogo(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"name":"  Acme Corp  ","outbound":{"requireEmailAndName":true},"logo":{"url":"https://evil.example/x.png"}}`)).Expect(t, 200)
	m := r.JSON(t)
	out := m["outbound"].(map[string]any)
	if m["name"] != "Acme Corp" || out["requireEmailAndName"] != true || out["requireCrmLink"] != false || m["logo"] != nil {
		t.Errorf("got %s", r.Body)
	}
}

func TestWhitespaceNameIsRequired(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"name":"   "}`)).Expect(t, 422)
	if got := r.FieldErrors(t)["name"]; got != "is required" {
		t.Errorf("got %q, want \"is required\"", got)
	}
	r = s.Admin(http.MethodPut, path, []byte(`{"outbound":{"requireCrmLink":"true"}}`)).Expect(t, 400)
	if got := r.FieldErrors(t)["outbound.requireCrmLink"]; got != "must be a boolean, not string" {
		t.Errorf("nested wrong type: got %v", r.FieldErrors(t))
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLogoLifecycle(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodGet, logoPath, nil).Expect(t, 404)
	img := pngBytes(t, 40, 20)
	// An organisation that never set its name can still upload a logo.
	r := s.Admin(http.MethodPut, logoPath, img, "Content-Type", "application/octet-stream").Expect(t, 200)
	logo := r.JSON(t)["logo"].(map[string]any)
	if logo["contentType"] != "image/png" || logo["width"] != 40.0 || logo["height"] != 20.0 || logo["size"] != float64(len(img)) ||
		!strings.HasPrefix(logo["url"].(string), logoPath+"?v=") || logo["updatedAt"] != "2026-11-25T10:00:00Z" {
		t.Errorf("logo metadata: got %v", logo)
	}
	g := s.Admin(http.MethodGet, logoPath, nil).Expect(t, 200)
	if !bytes.Equal(g.Body, img) || g.Header.Get("Content-Type") != "image/png" || g.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET logo: %d bytes of %s", len(g.Body), g.Header.Get("Content-Type"))
	}
	// A PUT of the settings keeps the logo.
	m := s.Admin(http.MethodPut, path, []byte(`{"name":"Acme","logo":null}`)).Expect(t, 200).JSON(t)
	if m["logo"] == nil {
		t.Error("PUT of the settings dropped the logo")
	}
	// Replacing the logo serves the new bytes.
	var gb bytes.Buffer
	if err := gif.Encode(&gb, image.NewPaletted(image.Rect(0, 0, 3, 3), []color.Color{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	s.Admin(http.MethodPut, logoPath, gb.Bytes(), "Content-Type", "image/png").Expect(t, 200)
	g = s.Admin(http.MethodGet, logoPath, nil).Expect(t, 200)
	if !bytes.Equal(g.Body, gb.Bytes()) || g.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("after replacing: got %s", g.Header.Get("Content-Type"))
	}
	s.Admin(http.MethodDelete, logoPath, nil).Expect(t, 204)
	s.Admin(http.MethodGet, logoPath, nil).Expect(t, 404)
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t); m["logo"] != nil || m["name"] != "Acme" {
		t.Errorf("after DELETE: got %v", m)
	}
	s.Admin(http.MethodDelete, logoPath, nil).Expect(t, 204)
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=general", nil).Expect(t, 200).JSON(t)
	var actions []string
	for _, it := range a["items"].([]any) {
		actions = append(actions, it.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); got != "logo.delete,logo.upload,replace,logo.upload" {
		t.Errorf("audit actions: got %s", got)
	}
}

func TestLogoRejections(t *testing.T) {
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	good := jb.Bytes()
	tests := []struct {
		name   string
		body   []byte
		ctype  string
		status int
	}{
		{"jpeg accepted whatever the header says", good, "text/plain", 200},
		{"text claiming to be png", []byte("hello, not an image"), "image/png", 415},
		{"pdf", []byte("%PDF-1.7\n..."), "image/png", 415},
		{"too large", append(pngHeader(), make([]byte, 1536001)...), "image/png", 413},
		{"corrupt png", append(pngHeader(), []byte("garbage garbage garbage")...), "image/png", 422},
		{"truncated jpeg", good[:len(good)/2], "image/jpeg", 422},
		{"empty", []byte{}, "image/png", 422},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := apitest.New(t)
			s.Admin(http.MethodPut, logoPath, tc.body, "Content-Type", tc.ctype).Expect(t, tc.status)
			if tc.status != 200 {
				s.Admin(http.MethodGet, logoPath, nil).Expect(t, 404)
			}
		})
	}
}

func pngHeader() []byte { return []byte("\x89PNG\r\n\x1a\n") }

// TestLogoDimensions checks the pixel limit through the API: 2048 wide is accepted,
// 2049 is a 422 on field logo that names the limit.
func TestLogoDimensions(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, logoPath, pngBytes(t, 2048, 1), "Content-Type", "image/png").Expect(t, 200)
	if w := r.JSON(t)["logo"].(map[string]any)["width"]; w != 2048.0 {
		t.Errorf("got width %v, want 2048", w)
	}
	r = s.Admin(http.MethodPut, logoPath, pngBytes(t, 2049, 1), "Content-Type", "image/png").Expect(t, 422)
	if got, want := r.FieldErrors(t)["logo"], "image must be at most 2048x2048 pixels"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestLogoCheckFollowsRequestContext checks that the upload handler checks the image
// under the request's context: a request abandoned by its client gets a 503 and
// stores nothing, where the same bytes are otherwise accepted.
func TestLogoCheckFollowsRequestContext(t *testing.T) {
	s := apitest.New(t)
	// The HTTP front's read of the organisation's record follows the request's context
	// too, and would give up first (500, the request abandoned): without the tree, the
	// request reaches the image check.
	s.API.SetOrgs(nil)
	img := pngBytes(t, 40, 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPut, logoPath, bytes.NewReader(img)).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+s.Token("acme", auth.RoleAdmin))
	req.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	s.API.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("got status %d, want 503\n%s", rec.Code, rec.Body)
	}
	s.Admin(http.MethodGet, logoPath, nil).Expect(t, 404)
	s.Admin(http.MethodPut, logoPath, img, "Content-Type", "image/png").Expect(t, 200)
}

func TestLogoIfMatch(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"name":"Acme"}`)).Expect(t, 200)
	s.Admin(http.MethodPut, logoPath, pngBytes(t, 2, 2), "Content-Type", "image/png", "If-Match", `"0"`).Expect(t, 412)
	s.Admin(http.MethodGet, logoPath, nil).Expect(t, 404)
	s.Admin(http.MethodPut, logoPath, pngBytes(t, 2, 2), "Content-Type", "image/png", "If-Match", `"1"`).Expect(t, 200)
}

func TestLogoAuthorisation(t *testing.T) {
	s := apitest.New(t)
	s.As("acme", "agent", http.MethodPut, logoPath, pngBytes(t, 2, 2), "Content-Type", "image/png").Expect(t, 403)
	s.As("globex", "admin", http.MethodGet, logoPath, nil).Expect(t, 404)
	s.Do(apitest.Request{Method: http.MethodDelete, Path: logoPath}).Expect(t, 401)
}

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  general.AreaName,
		Valid: `{"name":"Acme","outbound":{"requireEmailAndName":true}}`,
		Field: "outbound", Patch: `{"outbound":{"requireCrmLink":true}}`,
		Invalid: `{"name":""}`, InvalidField: "name",
	})
}
