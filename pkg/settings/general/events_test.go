package general_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/general"
)

// TestEvents replays events/general/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, general.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"name": "", "logo": nil, "updatedAt": nil, "updatedBy": nil,
				"outbound.requireEmailAndName": false, "outbound.requireCrmLink": false})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"name": "Demo Organisation", "logo": nil, "updatedBy": "demo-admin",
				"outbound.requireEmailAndName": true, "outbound.requireCrmLink": false})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"name": "Demo Organisation",
				"outbound.requireEmailAndName": true, "outbound.requireCrmLink": true})
		}},
		apitest.EventCase{File: "put-logo.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			img := apitest.RequestBody(t, r.Req)
			if !strings.HasPrefix(string(img), "\x89PNG\r\n\x1a\n") {
				t.Fatalf("the sample body is not a PNG image")
			}
			r.Saved["logo"] = img
			apitest.WantSettings(t, r, 3, map[string]any{"name": "Demo Organisation", "logo.contentType": "image/png",
				"logo.size": len(img), "logo.width": 2, "logo.height": 2})
			url, _ := apitest.Lookup(apitest.MustJSON(t, r.Body), "logo.url")
			if s, _ := url.(string); !strings.HasPrefix(s, "/v1/orgs/demo/settings/general/logo") {
				t.Errorf("logo.url = %v, want the logo route of org demo", url)
			}
		}},
		apitest.EventCase{File: "get-logo.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			if ct := apitest.Header(r.Resp, "Content-Type"); ct != "image/png" {
				t.Errorf("Content-Type = %q, want image/png", ct)
			}
			if !r.Resp.IsBase64Encoded {
				t.Errorf("isBase64Encoded = false, want true for image bytes")
			}
			if !bytes.Equal(r.Body, r.Saved["logo"]) {
				t.Errorf("got %d bytes, want the %d bytes put-logo uploaded", len(r.Body), len(r.Saved["logo"]))
			}
			if apitest.Header(r.Resp, "ETag") == "" {
				t.Errorf("no ETag")
			}
		}},
		apitest.EventCase{File: "delete-logo.json", Status: http.StatusNoContent, Check: func(t *testing.T, r *apitest.EventRun) {
			if len(r.Body) != 0 {
				t.Errorf("body = %q, want none", r.Body)
			}
		}},
	)
}
