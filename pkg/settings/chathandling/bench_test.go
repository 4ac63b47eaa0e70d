package chathandling_test

import (
	"context"
	"fmt"
	"io"
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
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// The local server's path: RS256 dev token verified on every request, bbolt store.
func BenchmarkLocalGet(b *testing.B) {
	s := apitest.New(b)
	tok := s.Token("acme", "admin")
	s.Do(apitest.Request{Method: http.MethodPut, Path: path, Token: tok, Body: []byte(`{"maxChatsPerAgent":4}`)}).Expect(b, 200)
	req := apitest.Request{Method: http.MethodGet, Path: path, Token: tok}
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Do(req); r.Status != 200 {
			b.Fatal(r.Status)
		}
	}
}

func BenchmarkLocalPut(b *testing.B) {
	s := apitest.New(b)
	tok := s.Token("acme", "admin")
	bodies := [][]byte{[]byte(`{"maxChatsPerAgent":4}`), []byte(`{"maxChatsPerAgent":5}`)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if r := s.Do(apitest.Request{Method: http.MethodPut, Path: path, Token: tok, Body: bodies[i%2]}); r.Status != 200 {
			b.Fatal(r.Status)
		}
	}
}

// The Lambda path: an API Gateway v2 event through the function's entry point (claims
// from the JWT authorizer, request conversion, handler, response conversion), on the
// embedded store so that the figure is the handler's own cost, not the network's.
func lambdaEntry(b testing.TB) lambdafn.HTTPEntry {
	store, err := bolt.Open(filepath.Join(b.TempDir(), "convrs.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	return lambdafn.EntryPoint(chathandling.Function, app.Deps{Settings: store, Now: time.Now}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

func event(method, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " /v1/orgs/{orgId}/settings/chat-handling", RawPath: path,
		Headers: map[string]string{"content-type": "application/json"}, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench", DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "u1", "org_id": "acme", "role": "admin"}}},
		},
	}
}

func BenchmarkLambdaGet(b *testing.B) {
	entry := lambdaEntry(b)
	ctx := context.Background()
	ev := event(http.MethodGet, "")
	b.ReportAllocs()
	for b.Loop() {
		if r, err := entry(ctx, ev); err != nil || r.StatusCode != 200 {
			b.Fatal(r.StatusCode, err)
		}
	}
}

func BenchmarkLambdaPut(b *testing.B) {
	entry := lambdaEntry(b)
	ctx := context.Background()
	evs := []events.APIGatewayV2HTTPRequest{event(http.MethodPut, `{"maxChatsPerAgent":4}`), event(http.MethodPut, `{"maxChatsPerAgent":5}`)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if r, err := entry(ctx, evs[i%2]); err != nil || r.StatusCode != 200 {
			b.Fatal(r.StatusCode, err, r.Body)
		}
	}
}

func ExampleSettings_Validate() {
	s := chathandling.Defaults()
	s.MaxChatsPerAgent = 12
	fmt.Println(s.Validate())
	// Output: invalid: one or more fields are invalid; maxChatsPerAgent: must be between 1 and 9
}
