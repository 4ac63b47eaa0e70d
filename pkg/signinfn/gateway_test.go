package signinfn_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/convrs/admin/pkg/agentsfn"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/general"
	"github.com/convrs/admin/pkg/signinfn"
)

// gateway invokes f's Lambda entry point as API Gateway would after its JWT authorizer
// accepted tok: the token's claims, every value a string (numbers as their decimal
// text), in the request context.
func gateway(t *testing.T, f app.Function, d app.Deps, tok, method, path, body string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	c := map[string]string{}
	for k, v := range claims(t, tok) {
		switch v := v.(type) {
		case float64:
			c[k] = fmt.Sprintf("%.0f", v)
		default:
			c[k] = fmt.Sprint(v)
		}
	}
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "gw-1", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "203.0.113.10"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c}}}}
	resp, err := lambdafn.EntryPoint(f, d, slog.New(slog.NewJSONHandler(io.Discard, nil)))(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The API Gateway path: the claims of tokens minted here, as the authorizer passes them,
// through the functions' entry points. A password-scope token changes the password and
// nothing else; the refreshed token opens the rest.
func TestTokensThroughTheGateway(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	id := agent(t, s, "acme", "ana@example.com", auth.RoleAdmin)
	s.Admin(http.MethodPost, "/v1/orgs/acme/agents/"+id+"/password", mustJSON(t, map[string]string{"password": "Temporary-1"})).Expect(t, http.StatusOK)
	scoped := login(s, "ana@example.com", "Temporary-1").Expect(t, http.StatusOK).JSON(t)["token"].(string)

	if r := gateway(t, general.Function, s.Deps, scoped, http.MethodGet, "/v1/orgs/acme/settings/general", ""); r.StatusCode != http.StatusForbidden {
		t.Errorf("general settings with a password-scope token: %d %s", r.StatusCode, r.Body)
	}
	if r := gateway(t, agentsfn.Function, s.Deps, scoped, http.MethodGet, "/v1/orgs/acme/agents", ""); r.StatusCode != http.StatusForbidden {
		t.Errorf("agents list with a password-scope token: %d %s", r.StatusCode, r.Body)
	}
	if r := gateway(t, agentsfn.Function, s.Deps, scoped, http.MethodPost, "/v1/orgs/acme/agents/me/password",
		`{"current":"Temporary-1","new":"`+password+`"}`); r.StatusCode != http.StatusOK {
		t.Fatalf("own password change with a password-scope token: %d %s", r.StatusCode, r.Body)
	}
	full := bearer(s, http.MethodPost, signinfn.RefreshPath, scoped, nil).Expect(t, http.StatusOK).JSON(t)["token"].(string)
	if r := gateway(t, general.Function, s.Deps, full, http.MethodGet, "/v1/orgs/acme/settings/general", ""); r.StatusCode != http.StatusOK {
		t.Errorf("general settings with the refreshed token: %d %s", r.StatusCode, r.Body)
	}
	if r := gateway(t, general.Function, s.Deps, full, http.MethodGet, "/v1/orgs/globex/settings/general", ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("another organisation's settings: %d %s", r.StatusCode, r.Body)
	}
}
