package token_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convrs/admin/pkg/webchat/token"
)

// benchToken is a typical widget token: kid, sub, name, email, iat, exp.
func benchToken(b *testing.B) (string, token.KeySet, time.Time) {
	now := time.Now()
	k := token.NewKey()
	tok := mustSign(b, k, claimsAt(now, nil))
	ks := token.KeySet{Current: &k}
	if r := token.Verify(tok, ks, now); !r.Valid {
		b.Fatalf("bench token refused: %+v", r)
	}
	return tok, ks, now
}

// bareParse is the floor: golang-jwt alone, the same token and key, minimal options.
func bareParse(tok string, secret []byte) error {
	_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"}))
	return err
}

func BenchmarkVerify(b *testing.B) {
	tok, ks, now := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		if r := token.Verify(tok, ks, now); !r.Valid {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkBareParse(b *testing.B) {
	tok, ks, _ := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := bareParse(tok, ks.Current.Secret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRatio runs both in interleaved rounds, so that the machine's drift hits
// both alike, and reports Verify's time over the bare parse's (target: at most 1.5).
func BenchmarkVerifyRatio(b *testing.B) {
	tok, ks, now := benchToken(b)
	const round = 512
	var tb, tv time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		for range round {
			if err := bareParse(tok, ks.Current.Secret); err != nil {
				b.Fatal(err)
			}
		}
		tb += time.Since(start)
		start = time.Now()
		for range round {
			if r := token.Verify(tok, ks, now); !r.Valid {
				b.Fatal(r.Message)
			}
		}
		tv += time.Since(start)
		n += round
	}
	b.ReportMetric(float64(tb.Nanoseconds())/float64(n), "bare-ns/op")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(n), "verify-ns/op")
	b.ReportMetric(float64(tv)/float64(tb), "ratio")
}
