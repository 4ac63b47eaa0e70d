package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"testing"
)

// The access line's encoder writes what slog's JSONHandler writes for the same record, so
// the log pipeline sees one format whichever path wrote a line.
func TestAccessLineMatchesJSONHandler(t *testing.T) {
	t.Parallel()
	lines := []accessLine{
		{"rid-1", "GET", "GET /v1/orgs/{orgId}/settings/general", "/v1/orgs/acme/settings/general", "acme", 200, 188, 0.123},
		{"r", "PUT", "", "/v1/orgs/a\"b\\c/x<y>&z\n\t\r\x01\x7f", "a\u2028b\u2029c", 404, 0, 12.5},
		{"", "DELETE", "", "/bad\xffutf8/é", "", 500, 1 << 20, 1e-7},
		{"x", "GET", "", "/", "", 0, 0, 0},
		{"x", "GET", "", "/", "", 200, 10, 123456.789},
	}
	for _, l := range lines {
		var fast, slow bytes.Buffer
		NewLogger(&fast, slog.LevelInfo).Handler().(*lineHandler).access(context.Background(), l)
		slog.New(slog.NewJSONHandler(&slow, nil)).LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("requestId", l.requestID), slog.String("method", l.method), slog.String("route", l.route),
			slog.String("path", l.path), slog.String("org", l.org), slog.Int("status", l.status),
			slog.Int("bytes", l.bytes), slog.Float64("latencyMs", l.latencyMs))
		timeRE := regexp.MustCompile(`^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)",`)
		if !timeRE.Match(fast.Bytes()) || !timeRE.Match(slow.Bytes()) {
			t.Errorf("time format:\n fast %s slow %s", fast.Bytes(), slow.Bytes())
		}
		strip := func(b []byte) string { return timeRE.ReplaceAllString(string(b), "{") }
		if f, s := strip(fast.Bytes()), strip(slow.Bytes()); f != s {
			t.Errorf("access line differs from slog's:\n got %s\nwant %s", f, s)
		}
		if !json.Valid(bytes.TrimSpace(fast.Bytes())) {
			t.Errorf("not JSON: %s", fast.Bytes())
		}
	}
	var quiet bytes.Buffer
	NewLogger(&quiet, slog.LevelWarn).Handler().(*lineHandler).access(context.Background(), lines[0])
	if quiet.Len() != 0 {
		t.Errorf("at level warn an access line was written: %s", quiet.Bytes())
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("/v1/orgs/acme", "acme", 1.5)
	f.Add("\xff\u2028\"\\", "", 1e-9)
	f.Fuzz(func(t *testing.T, path, org string, latency float64) {
		if latency != latency || latency > 1e300 || latency < -1e300 {
			return // NaN and infinities are not latencies (and not JSON)
		}
		var fast, slow bytes.Buffer
		l := accessLine{"rid", "GET", "", path, org, 200, 1, latency}
		NewLogger(&fast, slog.LevelInfo).Handler().(*lineHandler).access(context.Background(), l)
		slog.New(slog.NewJSONHandler(&slow, nil)).LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("requestId", l.requestID), slog.String("method", l.method), slog.String("route", l.route),
			slog.String("path", l.path), slog.String("org", l.org), slog.Int("status", l.status),
			slog.Int("bytes", l.bytes), slog.Float64("latencyMs", l.latencyMs))
		strip := regexp.MustCompile(`^\{"time":"[^"]*",`)
		if f, s := strip.ReplaceAllString(fast.String(), "{"), strip.ReplaceAllString(slow.String(), "{"); f != s {
			t.Fatalf("differs:\n got %s\nwant %s", f, s)
		}
	})
}
