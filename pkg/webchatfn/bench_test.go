package webchatfn_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/webchat/token"
	"github.com/convrs/admin/pkg/webchatfn"
)

// identifyHandlers returns the identify function's real Lambda entry point on embedded
// adapters holding the samples' key, the floor (the same event decoded by aws-lambda-go
// and converted by aws-lambda-go-api-proxy, a trivial handler writing the same answer,
// the response encoded), and the identify sample event.
func identifyHandlers(b *testing.B) (real, floor lambda.Handler, event []byte) {
	b.Helper()
	event, err := os.ReadFile(filepath.Join("..", "..", "events", "webchat-identify", "identify.json"))
	if err != nil {
		b.Fatal(err)
	}
	deps, store, err := local.Embedded(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	deps.Now = time.Now
	seedSampleKey(b, deps)
	real = lambda.NewHandler(lambdafn.EntryPoint(webchatfn.IdentifyFunction, deps, slog.New(slog.NewJSONHandler(io.Discard, nil))))
	out, err := real.Invoke(context.Background(), event)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"userId":"user-42","name":"Ada Lovelace","email":"ada@example.com","claims":{"email":"ada@example.com","exp":4102444800,"iat":1772955000,"name":"Ada Lovelace","sub":"user-42"}}`)
	floor = lambda.NewHandler(httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Request-Id", "Jv1wAbCdEfEV_B=")
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})).ProxyWithContext)
	if len(out) < len(body) {
		b.Fatalf("identify: %s", out)
	}
	return real, floor, event
}

func invokeLoop(b *testing.B, h lambda.Handler, event []byte) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdentify is one identify request end to end in-process: the API Gateway event
// through the function's Lambda entry point (request id, access log, strict decode, the
// cached key set, the token check, the answer), with the key set warm.
func BenchmarkIdentify(b *testing.B) {
	real, _, event := identifyHandlers(b)
	invokeLoop(b, real, event)
}

// BenchmarkIdentifyFloor is the same event through the same Lambda and API Gateway
// adapters to a handler that writes the same answer with no work.
func BenchmarkIdentifyFloor(b *testing.B) {
	_, floor, event := identifyHandlers(b)
	invokeLoop(b, floor, event)
}

// BenchmarkIdentifyRatio runs the floor, the token check alone and the whole identify
// interleaved, in rounds of 256, and reports each one's ns/op and identify's over the
// floor's and the token check's.
func BenchmarkIdentifyRatio(b *testing.B) {
	real, floor, event := identifyHandlers(b)
	ks := token.KeySet{Current: &token.Key{KID: sampleKID, Secret: []byte(sampleSecret)}}
	tok := sampleToken(b, event)
	ctx := context.Background()
	const round = 256
	var tf, tt, ti time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		for range round {
			if _, err := floor.Invoke(ctx, event); err != nil {
				b.Fatal(err)
			}
		}
		tf += time.Since(start)
		start = time.Now()
		for range round {
			if r := token.Verify(tok, ks, start); !r.Valid {
				b.Fatal(r.Message)
			}
		}
		tt += time.Since(start)
		start = time.Now()
		for range round {
			if _, err := real.Invoke(ctx, event); err != nil {
				b.Fatal(err)
			}
		}
		ti += time.Since(start)
		n += round
	}
	b.ReportMetric(float64(tf.Nanoseconds())/float64(n), "floor-ns/op")
	b.ReportMetric(float64(tt.Nanoseconds())/float64(n), "verify-ns/op")
	b.ReportMetric(float64(ti.Nanoseconds())/float64(n), "identify-ns/op")
	b.ReportMetric(float64(ti)/float64(tf+tt), "ratio-to-floor+verify")
}

// sampleToken is the token in the identify sample's body.
func sampleToken(b *testing.B, event []byte) string {
	var ev struct{ Body string }
	if err := json.Unmarshal(event, &ev); err != nil {
		b.Fatal(err)
	}
	var body struct{ Token string }
	if err := json.Unmarshal([]byte(ev.Body), &body); err != nil || body.Token == "" {
		b.Fatalf("identify sample body: %v", err)
	}
	return body.Token
}
