package sso_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

// The Lambda path of a GET of a saved SAML configuration: the representation presents the
// certificate (subject, issuer, fingerprint) and checks it for warnings on every read.
func BenchmarkLambdaGet(b *testing.B) {
	entry := lambdaEntry(b, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	rsaSpec := validSpec()
	rsaSpec.rsa = true
	if r, err := entry(ctx, event(http.MethodPut, string(samlDoc(b, certPEM(b, rsaSpec))))); err != nil || r.StatusCode != 200 {
		b.Fatal(r.StatusCode, err, r.Body)
	}
	ev := event(http.MethodGet, "")
	b.ReportAllocs()
	for b.Loop() {
		if r, err := entry(ctx, ev); err != nil || r.StatusCode != 200 {
			b.Fatal(r.StatusCode, err)
		}
	}
}

// A PUT that changes the certificate each time: parse and check on write, and present the
// new certificate in the answer.
func BenchmarkLambdaPut(b *testing.B) {
	entry := lambdaEntry(b, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	rsaSpec := validSpec()
	rsaSpec.rsa = true
	bodies := []string{string(samlDoc(b, certPEM(b, rsaSpec))), string(samlDoc(b, certPEM(b, rsaSpec)))}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if r, err := entry(ctx, event(http.MethodPut, bodies[i%2])); err != nil || r.StatusCode != 200 {
			b.Fatal(r.StatusCode, err, r.Body)
		}
	}
}
