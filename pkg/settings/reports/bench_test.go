package reports_test

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
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/reports"
)

const ragBody = `{"values":{"averageWaitTime":75,"averageResponseTime":20,"csatScore":4.1,"sentiment":44.5,"aiBotContainment":50}}`

var sink reports.Rating

// The pure rating of the five KPIs (no I/O, no allocation).
func BenchmarkRate5(b *testing.B) {
	th := reports.Defaults().Thresholds
	vals := [...]float64{75, 20, 4.1, 44.5, 50}
	kpis := reports.KPIs()
	b.ReportAllocs()
	for b.Loop() {
		for i, k := range kpis {
			sink = th.Rate(k, vals[i])
		}
	}
}

// The route's work without HTTP: strict decode of the body, parse and check the values,
// rate them, encode the answer.
func BenchmarkDecodeRateEncode(b *testing.B) {
	th := reports.Defaults().Thresholds
	body := []byte(ragBody)
	b.ReportAllocs()
	for b.Loop() {
		var req reports.RAGRequest
		if err := httpx.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
		vals, err := req.Parse()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (reports.RAGResponse{Ratings: th.RateAll(vals)}).MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// The Lambda path: an API Gateway v2 event (claims from the JWT authorizer) through the
// function's entry point, on the embedded store with saved thresholds.
func BenchmarkLambdaRAG(b *testing.B) {
	store, err := bolt.Open(filepath.Join(b.TempDir(), "convrs.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	entry := lambdafn.EntryPoint(reports.Function, app.Deps{Settings: store, Now: time.Now}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	put := lambdaEvent(http.MethodPut, "/v1/orgs/{orgId}/settings/reports", "/v1/orgs/acme/settings/reports", "admin",
		`{"thresholds":{"csatScore":{"green":4.25,"amber":3.75}}}`)
	if r, err := entry(ctx, put); err != nil || r.StatusCode != 200 {
		b.Fatal(r.StatusCode, err, r.Body)
	}
	ev := lambdaEvent(http.MethodPost, reports.RAGPath, "/v1/orgs/acme/reports/rag", "agent", ragBody)
	b.ReportAllocs()
	for b.Loop() {
		if r, err := entry(ctx, ev); err != nil || r.StatusCode != 200 {
			b.Fatal(r.StatusCode, err, r.Body)
		}
	}
}

// The local server's path: RS256 dev token verified on every request, bbolt store.
func BenchmarkLocalRAG(b *testing.B) {
	s := apitest.New(b)
	s.Admin(http.MethodPut, path, []byte(`{"thresholds":{"csatScore":{"green":4.25,"amber":3.75}}}`)).Expect(b, 200)
	req := apitest.Request{Method: http.MethodPost, Path: ragPath, Token: s.Token("acme", "agent"), Body: []byte(ragBody)}
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Do(req); r.Status != 200 {
			b.Fatal(r.Status, string(r.Body))
		}
	}
}

func lambdaEvent(method, pattern, path, role, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + pattern, RawPath: path,
		Headers: map[string]string{"content-type": "application/json", "content-length": fmt.Sprint(len(body))}, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench", DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": role + "@acme", "org_id": "acme", "role": role}}},
		},
	}
}

func ExampleThresholds_Rate() {
	th := reports.Defaults().Thresholds
	for _, v := range []float64{4.0, 3.99, 3.5, 3.49} {
		fmt.Println(v, th.Rate(reports.CSATScore, v))
	}
	// Output:
	// 4 green
	// 3.99 amber
	// 3.5 amber
	// 3.49 red
}

func ExampleSettings_Validate() {
	s := reports.Defaults()
	s.Thresholds.AverageWaitTime.Amber = 59
	s.Thresholds.CSATScore.Green = 4.125
	fmt.Println(s.Validate())
	// Output: invalid: one or more fields are invalid; thresholds.averageWaitTime.amber: must be at least green (60); thresholds.csatScore.green: must have at most 2 decimals
}
