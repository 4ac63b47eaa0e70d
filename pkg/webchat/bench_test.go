package webchat_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkKeysVerifyRatio compares Keys.Verify with a warm cache (the key set held and
// fresh, as on every request but one a second per organisation and container) with the
// floor, a bare golang-jwt parse of the same token under the same secret, in interleaved
// rounds so that the machine's drift hits both alike. It reports the ratio (target: at
// most 1.5) and the secret-store reads per verify (target: 0).
func BenchmarkKeysVerifyRatio(b *testing.B) {
	f := newFixture(b)
	f.clock.now = time.Now() // the bare parse checks exp against the real clock
	admin := f.keys()
	issued, err := admin.Generate(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	k := f.keys() // a verifier's container
	now := f.clock.Now()
	// kid in the header, as the integration example signs.
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "user-42", "name": "Ada Lovelace", "email": "ada@example.com",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	t.Header["kid"] = issued.KID
	tok, err := t.SignedString([]byte(issued.Secret))
	if err != nil {
		b.Fatal(err)
	}
	secret := []byte(issued.Secret)
	bare := func() error {
		_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"}))
		return err
	}
	if r, err := k.Verify(ctx, "acme", tok); err != nil || !r.Valid {
		b.Fatalf("warm-up verify: %+v %v", r, err)
	}
	reads := k.SecretReads()
	const round = 512
	var tb, tv time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for range round {
			if err := bare(); err != nil {
				b.Fatal(err)
			}
		}
		tb += time.Since(start)
		start = time.Now()
		for range round {
			if r, err := k.Verify(ctx, "acme", tok); err != nil || !r.Valid {
				b.Fatalf("%+v %v", r, err)
			}
		}
		tv += time.Since(start)
		n += round
	}
	b.ReportMetric(float64(tb.Nanoseconds())/float64(n), "bare-ns/op")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(n), "verify-ns/op")
	b.ReportMetric(float64(tv)/float64(tb), "ratio")
	b.ReportMetric(float64(k.SecretReads()-reads)/float64(n), "secret-reads/verify")
}
