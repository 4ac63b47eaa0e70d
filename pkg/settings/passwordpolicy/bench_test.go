package passwordpolicy_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

// The evaluator alone, under the default policy: a typical password (accepted, and one
// breaking two rules), and the longest the route accepts (256 code points) in ASCII, in
// emoji (1 KiB of UTF-8, already in NFC) and in decomposed letters (each "e" + combining
// accent, which NFC must compose: the most work per character).
func BenchmarkEvaluate(b *testing.B) {
	p := passwordpolicy.Defaults()
	for _, bc := range []struct{ name, password string }{
		{"typical", "Tr0ub4dor&3x"},
		{"typical-failing", "password"},
		{"typical-unicode", "Crème-brûlée-42"},
		{"longest-ascii", strings.Repeat("Ab1!", 64)},
		{"longest-emoji", strings.Repeat("😀", passwordpolicy.MaxPasswordLength)},
		{"longest-decomposed", strings.Repeat("e\u0301", passwordpolicy.MaxPasswordLength/2)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.password)))
			for b.Loop() {
				_ = p.Evaluate(bc.password)
			}
		})
	}
}

// A check through the local server's path: RS256 dev token verified, strict decoding,
// one read of the policy from bbolt, the evaluation, the JSON answer.
func BenchmarkCheckLocal(b *testing.B) {
	s := apitest.New(b)
	req := apitest.Request{Method: http.MethodPost, Path: checkPath, Token: s.Token("acme", "admin"), Body: []byte(`{"password":"Tr0ub4dor&3x"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Do(req); r.Status != 200 {
			b.Fatal(r.Status, string(r.Body))
		}
	}
}

// A check through the Lambda entry point (claims from the JWT authorizer, the API
// Gateway adapter), on the embedded store so that the figure is the handler's own cost.
func BenchmarkCheckLambda(b *testing.B) {
	store, err := bolt.Open(filepath.Join(b.TempDir(), "convrs.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	ag, err := store.Agents()
	if err != nil {
		b.Fatal(err)
	}
	entry := lambdafn.EntryPoint(passwordpolicy.Function, app.Deps{Settings: store, Agents: ag, Now: time.Now}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	for _, bc := range []struct{ name, password string }{
		{"typical", "Tr0ub4dor&3x"},
		{"longest-emoji", strings.Repeat("😀", passwordpolicy.MaxPasswordLength)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ev := checkEvent(`{"password":"` + bc.password + `"}`)
			b.ReportAllocs()
			for b.Loop() {
				if r, err := entry(ctx, ev); err != nil || r.StatusCode != 200 {
					b.Fatal(r.StatusCode, err, r.Body)
				}
			}
		})
	}
}
