package kmssigner

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/discovery"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/iam"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

// functionEnv is a function's environment in AWS, with the signing variables.
func functionEnv(current, published string) map[string]string {
	return map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-key",
		"TABLE_NAME": "convrs", "SIGNING_KEY_ID": current, "SIGNING_KEYS_PUBLISHED": published,
		"TOKEN_ISSUER": "https://admin-api.example.com", "TOKEN_AUDIENCE": "convrs-admin",
	}
}

// get invokes an HTTP entry point with an anonymous GET of path.
func get(t *testing.T, h any, path string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	entry, ok := h.(lambdafn.HTTPEntry)
	if !ok {
		t.Fatalf("handler %T is not an HTTP entry point", h)
	}
	resp, err := entry(context.Background(), events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET " + path, RawPath: path,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodGet, Path: path}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// granted checks that every request the fake saw is an action the needs are granted
// (package iam: what the template's policies give).
func granted(t *testing.T, f *fakeKMS, n app.Needs) {
	t.Helper()
	actions := map[string]bool{}
	for _, g := range iam.Grants(n) {
		actions[g.Action] = true
	}
	for _, r := range f.requests() {
		op, _, _ := strings.Cut(r, " ")
		if !actions["kms:"+op] {
			t.Errorf("the adapter calls %s, which the function's policy does not grant (pkg/iam)", op)
		}
	}
}

// The discovery function as lambdafn builds it in AWS, with kmssigner.Keys: no KMS
// request at start, then the key set of the configured keys (current first) read once per
// container, with only the calls its policy grants.
func TestKeysAdapterPublishes(t *testing.T) {
	f, srv := newFakeKMS(t)
	arnA := f.addKey(t, keyA, testKey(t, 0))
	arnB := f.addKey(t, keyB, testKey(t, 1))
	f.aliases["alias/convrs/stack/token-signing"] = arnA
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // not used: the service's variable wins
	t.Setenv("AWS_ENDPOINT_URL_KMS", srv.URL)
	env := functionEnv("alias/convrs/stack/token-signing", arnB)
	h, _, err := lambdafn.Build(discovery.Function, func(k string) string { return env[k] }, dynamo.Table, Keys)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("requests at start %q, want none (keys are read on first use)", got)
	}
	for range 2 {
		resp := get(t, h, signer.JWKSPath)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		keys, err := signer.ParseJWKS([]byte(resp.Body))
		if err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range keys {
			kids = append(kids, k.ID)
		}
		if !slices.Equal(kids, []string{keyA, keyB}) {
			t.Errorf("kids %v, want the current key %s then the published %s", kids, keyA, keyB)
		}
	}
	if want := []string{"GetPublicKey alias/convrs/stack/token-signing", "GetPublicKey " + arnB}; !slices.Equal(f.requests(), want) {
		t.Errorf("requests %q, want %q (each key read once)", f.requests(), want)
	}
	granted(t, f, discovery.Function.Needs)
	resp := get(t, h, signer.DiscoveryPath)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"issuer":"https://admin-api.example.com"`) {
		t.Errorf("discovery document: %d %s", resp.StatusCode, resp.Body)
	}

	// KMS refusing: 503 with Retry-After, and the next request asks again.
	f.fail["GetPublicKey"] = failure{http.StatusBadRequest, "AccessDeniedException"}
	h, _, err = lambdafn.Build(discovery.Function, func(k string) string { return env[k] }, dynamo.Table, Keys)
	if err != nil {
		t.Fatal(err)
	}
	if resp := get(t, h, signer.JWKSPath); resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" {
		t.Errorf("KMS refusing: %d %v %s, want 503 with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
	}
}

// A function that signs (Needs.Signer Write): its tokens verify against the discovery
// function's key set, and it calls only what its policy grants.
func TestKeysAdapterSigns(t *testing.T) {
	f, srv := newFakeKMS(t)
	arnA := f.addKey(t, keyA, testKey(t, 0))
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL_KMS", srv.URL)
	env := functionEnv(arnA, "")
	getenv := func(k string) string { return env[k] }
	var deps app.Deps
	mint := app.Function{Name: "mint", Needs: app.Needs{Signer: app.Write}, HTTP: func(api *httpx.API, d app.Deps) {
		deps = d
		api.Handle(http.MethodGet, "/mint", auth.Public, func(w http.ResponseWriter, r *http.Request) {
			c := signertest.Claims(time.Now())
			c.Issuer, c.Audience = d.Issuer, d.Audience
			tok, err := signer.Mint(r.Context(), d.Signer, c)
			if err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			httpx.WriteJSON(w, r, http.StatusOK, map[string]string{"token": tok})
		})
	}}
	h, _, err := lambdafn.Build(mint, getenv, Keys)
	if err != nil {
		t.Fatal(err)
	}
	if deps.Issuer != "https://admin-api.example.com" || deps.Audience != "convrs-admin" {
		t.Errorf("Deps.Issuer, Audience = %q, %q; want TOKEN_ISSUER and TOKEN_AUDIENCE", deps.Issuer, deps.Audience)
	}
	resp := get(t, h, "/mint")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mint: %d %s", resp.StatusCode, resp.Body)
	}
	tok, _, _ := strings.Cut(strings.TrimPrefix(resp.Body, `{"token":"`), `"`)
	pub, _, err := lambdafn.Build(discovery.Function, getenv, dynamo.Table, Keys)
	if err != nil {
		t.Fatal(err)
	}
	set := get(t, pub, signer.JWKSPath)
	keys, err := signer.ParseJWKS([]byte(set.Body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.Verify(tok, keys, signer.Expect{Issuer: "https://admin-api.example.com", Audience: "convrs-admin", Now: time.Now()}); err != nil {
		t.Errorf("the token does not verify against the published set as the deployment's: %v", err)
	}
	granted(t, f, mint.Needs)
}

// Mistyped references stop the function at start, naming the variables; a function
// whose needs call for the signer refuses to start without the adapter.
func TestKeysAdapterRefuses(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:kms:us-east-1:123456789012:key/" + keyA
	for _, tc := range []struct {
		name, current, published, want string
	}{
		{"space in the key", "alias/convrs token", "", "must be a key id, key ARN, alias name or alias ARN"},
		{"bad published key", arn, "alias/next,alias/ne\u200bxt", "must be a key id"},
		{"published twice", arn, "alias/next,alias/next", "listed twice"},
	} {
		env := functionEnv(tc.current, tc.published)
		_, _, err := lambdafn.Build(discovery.Function, func(k string) string { return env[k] }, dynamo.Table, Keys)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "SIGNING_KEY_ID") {
			t.Errorf("%s: %v, want an error saying %q and naming SIGNING_KEY_ID", tc.name, err, tc.want)
		}
	}
	env := functionEnv(arn, "")
	_, _, err := lambdafn.Build(discovery.Function, func(k string) string { return env[k] }, dynamo.Table)
	if err == nil || !strings.Contains(err.Error(), "token signer, issuer and audience") {
		t.Errorf("without the adapter: %v", err)
	}
}
