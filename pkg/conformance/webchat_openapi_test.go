package conformance_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/webchat"
	"github.com/convrs/admin/pkg/webchat/token"
)

// TestWebchatAnswersMatchOpenAPI walks the WebChat routes through every kind of answer
// (before and after a secret exists, refusals, conflicts, each identify outcome) and
// checks each against openapi.yaml: status listed, headers, body schema.
func TestWebchatAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	srv := apitest.New(t)
	const base = "/v1/orgs/demo/webchat"
	check := func(want int, r apitest.Request) apitest.Response {
		t.Helper()
		if r.Token == "" && r.Path != "/v1/webchat/identify" {
			r.Token = srv.Token("demo", "admin")
		}
		resp := srv.Do(r)
		if resp.Status != want {
			t.Errorf("%s %s: got %d, want %d\n%s", r.Method, r.Path, resp.Status, want, resp.Body)
		}
		s.checkResponse(t, r.Method, s.templateOf(r.Path), resp)
		return resp
	}
	body := func(v any) []byte { b, _ := json.Marshal(v); return b }
	identify := func(want int, tok string) {
		t.Helper()
		check(want, apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: body(map[string]string{"orgId": "demo", "token": tok})})
	}

	check(200, apitest.Request{Method: http.MethodGet, Path: base + "/secret"})
	check(200, apitest.Request{Method: http.MethodGet, Path: base + "/integration-example"})
	check(409, apitest.Request{Method: http.MethodPost, Path: base + "/secret/rotate"})
	check(404, apitest.Request{Method: http.MethodDelete, Path: base + "/secret/previous"})
	check(200, apitest.Request{Method: http.MethodPost, Path: base + "/verify", Body: body(map[string]string{"token": "x"})})
	identify(401, "x")

	gen := check(201, apitest.Request{Method: http.MethodPost, Path: base + "/secret"})
	var key struct{ KID, Secret string }
	_ = json.Unmarshal(gen.Body, &key)
	check(409, apitest.Request{Method: http.MethodPost, Path: base + "/secret", Body: []byte(`{}`)})
	check(400, apitest.Request{Method: http.MethodPost, Path: base + "/secret", Body: []byte(`{"x":1}`)})
	rot := check(200, apitest.Request{Method: http.MethodPost, Path: base + "/secret/rotate"})
	var key2 struct{ KID, Secret string }
	_ = json.Unmarshal(rot.Body, &key2)
	check(200, apitest.Request{Method: http.MethodGet, Path: base + "/secret"})
	check(200, apitest.Request{Method: http.MethodGet, Path: base + "/integration-example"})

	now := srv.Now
	sign := func(k struct{ KID, Secret string }, claims map[string]any) string {
		tok, err := token.Sign(token.Key{KID: k.KID, Secret: []byte(k.Secret)}, claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := map[string]any{"sub": "u1", "name": "Ada", "email": "ada@example.com", "exp": now.Add(time.Hour).Unix()}
	for _, tok := range []string{sign(key, good), sign(key2, good), sign(key2, map[string]any{"sub": "u1", "exp": now.Add(-time.Hour).Unix()}), "a.b"} {
		check(200, apitest.Request{Method: http.MethodPost, Path: base + "/verify", Body: body(map[string]string{"token": tok})})
	}
	check(422, apitest.Request{Method: http.MethodPost, Path: base + "/verify", Body: []byte(`{}`)})
	check(400, apitest.Request{Method: http.MethodPost, Path: base + "/verify", Body: []byte(`{"token":"a","kid":"b"}`)})
	check(415, apitest.Request{Method: http.MethodPost, Path: base + "/verify", Body: []byte(`{"token":"a"}`), Header: map[string]string{"Content-Type": "text/plain"}})

	// The identify function's cached key set (empty, from the first identify) is
	// trusted for webchat.Freshness.
	srv.SetNow(now.Add(webchat.Freshness))
	identify(200, sign(key2, good))
	identify(200, sign(key, map[string]any{"sub": "u1", "exp": now.Add(time.Hour).Unix()}))
	identify(401, sign(key2, map[string]any{"sub": "u1"}))
	check(422, apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: []byte(`{"token":"a"}`)})
	check(400, apitest.Request{Method: http.MethodPost, Path: "/v1/webchat/identify", Body: []byte(`{"orgId":"demo","token":"a","x":1}`)})

	check(204, apitest.Request{Method: http.MethodDelete, Path: base + "/secret/previous"})
	check(403, apitest.Request{Method: http.MethodGet, Path: base + "/secret", Token: srv.Token("demo", "agent")})
	check(404, apitest.Request{Method: http.MethodGet, Path: "/v1/orgs/acme/webchat/secret"})
	check(401, apitest.Request{Method: http.MethodGet, Path: base + "/secret", Token: "garbage"})
}
