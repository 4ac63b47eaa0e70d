package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/discovery"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/kmssigner"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/s3blob"
	"github.com/convrs/admin/pkg/settings/general"
)

// A REST API (v1) event reaching a function is a misconfigured integration: the answer is
// a problem that says so, and the log names the misconfiguration (read as payload 2.0 it
// used to route as GET / and answer 404).
func TestRESTEventIsAMisconfiguration(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	entry := lambdafn.EntryPoint(discovery.Function, app.Deps{Now: time.Now}, slog.New(slog.NewJSONHandler(&logs, nil)))
	v1 := `{"resource":"/healthz","path":"/healthz","httpMethod":"GET","headers":{"Host":"x"},
		"requestContext":{"resourcePath":"/healthz","httpMethod":"GET","requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","stage":"prod"},
		"body":null,"isBase64Encoded":false}`
	for _, raw := range []string{v1, `{"version":"1.0","httpMethod":"GET","path":"/healthz","requestContext":{"requestId":"r1"}}`} {
		out, err := lambda.NewHandler(entry).Invoke(context.Background(), []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 500 || resp.Headers["Content-Type"] != "application/problem+json" || !strings.Contains(resp.Body, "payload format 2.0") {
			t.Errorf("got %d %v %s, want a 500 problem naming payload format 2.0", resp.StatusCode, resp.Headers, resp.Body)
		}
	}
	if !strings.Contains(logs.String(), "misconfigured integration") {
		t.Errorf("log does not name the misconfiguration: %s", logs.String())
	}
}

// A function refuses to start, naming every missing variable and port.
func TestBuildRefusesMissingConfiguration(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
	getenv := func(k string) string { return env[k] }
	_, _, err := lambdafn.Build(general.Function, getenv)
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") || !strings.Contains(err.Error(), "LOGO_BUCKET") {
		t.Errorf("got %v, want an error naming TABLE_NAME and LOGO_BUCKET", err)
	}
	env["TABLE_NAME"], env["LOGO_BUCKET"] = "convrs", "logos"
	_, _, err = lambdafn.Build(general.Function, getenv)
	if err == nil || !strings.Contains(err.Error(), "settings store") || !strings.Contains(err.Error(), "logo blob store") {
		t.Errorf("got %v, want an error naming the settings and logo blob stores main did not provide", err)
	}
	if _, _, err := lambdafn.Build(general.Function, getenv, dynamo.Table, s3blob.Logos); err != nil {
		t.Errorf("with its adapters: %v", err)
	}
	// discovery publishes the signing keys: it needs their variables and the KMS adapter.
	_, _, err = lambdafn.Build(discovery.Function, getenv, dynamo.Table, kmssigner.Keys)
	for _, v := range []string{"SIGNING_KEY_ID", "TOKEN_ISSUER", "TOKEN_AUDIENCE"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("discovery without the signing variables: %v, want an error naming %s", err, v)
		}
	}
	env["SIGNING_KEY_ID"], env["TOKEN_ISSUER"], env["TOKEN_AUDIENCE"] = "alias/convrs/stack/token-signing", "https://admin-api.example.com", "convrs-admin"
	if _, _, err := lambdafn.Build(discovery.Function, getenv, dynamo.Table); err == nil || !strings.Contains(err.Error(), "token signer, issuer and audience") {
		t.Errorf("discovery without kmssigner.Keys: %v, want an error naming the token signer", err)
	}
	if _, _, err := lambdafn.Build(discovery.Function, getenv, dynamo.Table, kmssigner.Keys); err != nil {
		t.Errorf("discovery with the table (custom roles for GET /v1/me) and the signing keys: %v", err)
	}
}

// A function that keeps sign-in sessions needs the table, and gets its session store from
// dynamo.Table.
func TestBuildWiresSessions(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
	getenv := func(k string) string { return env[k] }
	f := app.Function{Name: "sessions-probe", Needs: app.Needs{Sessions: app.Write},
		HTTP: func(*httpx.API, app.Deps) {}}
	if _, _, err := lambdafn.Build(f, getenv, dynamo.Table); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("without TABLE_NAME: %v, want an error naming it", err)
	}
	env["TABLE_NAME"] = "convrs"
	if _, _, err := lambdafn.Build(f, getenv); err == nil || !strings.Contains(err.Error(), "session store") {
		t.Errorf("without the table adapter: %v, want an error naming the session store", err)
	}
	if _, _, err := lambdafn.Build(f, getenv, dynamo.Table); err != nil {
		t.Errorf("with the table: %v", err)
	}
}
