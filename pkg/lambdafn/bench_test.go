package lambdafn_test

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

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// getEvent is the chat-handling GET sample of events/, as API Gateway sends it.
func getEvent(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "chat-handling", "get.json"))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func invoke(b *testing.B, h lambda.Handler, payload []byte) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := h.Invoke(ctx, payload)
		if err != nil || len(out) < 100 {
			b.Fatalf("invoke: %v %s", err, out)
		}
	}
}

func floorHandler(b *testing.B) lambda.Handler {
	body := []byte(`{"version":1,"updatedAt":"2026-11-25T10:00:00Z","updatedBy":"demo-admin","maxChatsPerAgent":4,"moveToQueueWhenAgentOffline":false,"autoCloseAfterDays":0,"moveToQueueAfterNoLoginDays":0}`)
	// The same response as the real GET (body and headers), written with no work.
	trivial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Request-Id", "Jv1eb2z0oAMEV-w=")
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("ETag", `"1"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	return lambda.NewHandler(httpadapter.NewV2(trivial).ProxyWithContext)
}

// BenchmarkInvokeFloor is the floor of a GET: the same event JSON decoded by
// aws-lambda-go, converted by aws-lambda-go-api-proxy, a trivial handler writing the same
// response as the real one (body and headers), and the response encoded.
func BenchmarkInvokeFloor(b *testing.B) {
	invoke(b, floorHandler(b), getEvent(b))
}

// BenchmarkInvokeGet is the whole GET of a saved chat-handling document through the
// function's real entry point: the same decode, adapter and encode as the floor, plus our
// request id, access log, claims, authorisation, a read of the embedded store (the
// DynamoDB call is the network's cost, not ours) and the representation.
func BenchmarkInvokeGet(b *testing.B) {
	invoke(b, getHandler(b), getEvent(b))
}

// BenchmarkInvokeRatio runs the floor and the whole GET interleaved, in rounds of 512
// invocations each, so that both see the same machine (load, frequency), and reports
// each one's ns/op and their ratio (ratio = GET / floor; the target is <= 1.15). Rounds
// are long enough for each side to run with warm caches, as a Lambda container does
// (it runs one function); with rounds of 64 the switching itself costs both sides a few
// percent, more for the side with more code.
func BenchmarkInvokeRatio(b *testing.B) {
	floor, get, payload := floorHandler(b), getHandler(b), getEvent(b)
	ctx := context.Background()
	const round = 512
	var tf, tg time.Duration
	n := 0
	for b.Loop() {
		for _, side := range []struct {
			h lambda.Handler
			t *time.Duration
		}{{floor, &tf}, {get, &tg}} {
			start := time.Now()
			for range round {
				if _, err := side.h.Invoke(ctx, payload); err != nil {
					b.Fatal(err)
				}
			}
			*side.t += time.Since(start)
		}
		n += round
	}
	b.ReportMetric(float64(tf.Nanoseconds())/float64(n), "floor-ns/op")
	b.ReportMetric(float64(tg.Nanoseconds())/float64(n), "get-ns/op")
	b.ReportMetric(float64(tg)/float64(tf), "ratio")
}

func getHandler(b *testing.B) lambda.Handler {
	store, err := bolt.OpenWith(filepath.Join(b.TempDir(), "convrs.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	log := lambdafn.Logger(io.Discard, slog.LevelInfo) // the functions' logger: every access line is written
	entry := lambdafn.EntryPoint(chathandling.Function, app.Deps{Settings: store, Now: time.Now}, log)
	h := lambda.NewHandler(entry)
	put := getEvent(b)
	var ev map[string]any
	_ = json.Unmarshal(put, &ev)
	ev["routeKey"] = "PUT /v1/orgs/{orgId}/settings/chat-handling"
	ev["body"] = `{"maxChatsPerAgent":4}`
	ev["headers"].(map[string]any)["content-type"] = "application/json"
	rc := ev["requestContext"].(map[string]any)
	rc["routeKey"] = ev["routeKey"]
	rc["http"].(map[string]any)["method"] = "PUT"
	putRaw, _ := json.Marshal(ev)
	if out, err := h.Invoke(context.Background(), putRaw); err != nil || !json.Valid(out) {
		b.Fatalf("seed PUT: %v %s", err, out)
	}
	return h
}
