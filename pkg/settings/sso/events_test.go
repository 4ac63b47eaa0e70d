package sso_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/sso"
)

// TestEvents replays events/sso/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	assertion := apitest.BaseURL + "/v1/sso/saml/demo/acs"
	apitest.ReplayEvents(t, sso.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"enabled": false, "provider": nil, "allowPasswordLogin": true,
				"saml.ssoUrl": "", "saml.certificate": "", "saml.assertionUrl": assertion,
				"saml.entityId": apitest.BaseURL + "/v1/sso/saml/demo", "saml.certificateInfo": nil})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"enabled": true, "provider": "saml", "allowPasswordLogin": false,
				"saml.ssoUrl": "https://idp.example.com/sso/saml", "saml.useRoleFromSaml": true, "saml.assertionUrl": assertion,
				"saml.certificate":               "-----BEGIN CERTIFICATE-----\n" + base64Lines(samplePEM) + "-----END CERTIFICATE-----",
				"saml.certificateInfo.subject":   "CN=idp.example.com,O=Example IdP",
				"saml.certificateInfo.issuer":    "CN=idp.example.com,O=Example IdP",
				"saml.certificateInfo.notBefore": "2026-01-01T00:00:00Z",
				"saml.certificateInfo.notAfter":  "2036-01-01T00:00:00Z",
				"saml.certificateInfo.sha256":    sampleSHA256,
			})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"enabled": true, "provider": "saml", "allowPasswordLogin": true,
				"saml.certificateInfo.sha256": sampleSHA256})
		}},
		apitest.EventCase{File: "put-invalid.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "saml.certificate", "message": "is required when SSO is enabled with provider saml"},
				{"field": "saml.ssoUrl", "message": "must be an https URL"}}})
		}},
	)
}

// base64Lines is the body of a PEM, each line with its newline.
func base64Lines(p string) string {
	b := bytes.SplitAfterN([]byte(p), []byte("\n"), 2)[1]
	return string(b[:bytes.LastIndex(b, []byte("-----END"))])
}

// lambdaEntry is the function's Lambda entry point on the embedded store, logging to log.
func lambdaEntry(tb testing.TB, log *slog.Logger) lambdafn.HTTPEntry {
	tb.Helper()
	store, err := bolt.Open(filepath.Join(tb.TempDir(), "convrs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	return lambdafn.EntryPoint(sso.Function, app.Deps{Settings: store, BaseURL: apitest.BaseURL, Now: func() time.Time { return testNow }}, log)
}

func event(method, body string) events.APIGatewayV2HTTPRequest {
	ctype := "application/json"
	if method == http.MethodPatch {
		ctype = "application/merge-patch+json"
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " /v1/orgs/{orgId}/settings/sso", RawPath: path,
		Headers: map[string]string{"content-type": ctype}, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "test", DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "u1", "org_id": "acme", "role": "admin"}}},
		},
	}
}

// A private key pasted by mistake appears neither in the answer nor in any log line (the
// function's logger at debug level, and the default logger, which error paths use), on
// the Lambda path.
func TestPrivateKeyNeverLoggedOrEchoed(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(log)
	defer slog.SetDefault(prev)

	entry := lambdaEntry(t, log)
	ctx := context.Background()
	for name, key := range keyPEMs(t) {
		for _, body := range []string{
			string(samlDoc(t, key)),
			string(samlDoc(t, samplePEM+key)),
			// Refused before validation: a wrong type beside the key, and bad JSON after it.
			`{"saml":{"certificate":` + jsonString(key) + `,"useRoleFromSaml":"yes"}}`,
			`{"saml":{"certificate":` + jsonString(key) + `,}`,
		} {
			for _, method := range []string{http.MethodPut, http.MethodPatch} {
				r, err := entry(ctx, event(method, body))
				if err != nil || r.StatusCode < 400 {
					t.Fatalf("%s %s: got %d %v, want a refusal", name, method, r.StatusCode, err)
				}
				assertNoKey(t, name+" "+method+" response", r.Body, key)
			}
		}
		assertNoKey(t, name+" logs", logs.String(), key)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the test does not see the logs")
	}
	r, err := entry(ctx, event(http.MethodGet, ""))
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("GET: %d %v", r.StatusCode, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil || m["version"] != 0.0 {
		t.Errorf("refused writes changed the settings: %s", r.Body)
	}
}
