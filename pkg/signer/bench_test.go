package signer_test

import (
	"context"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

// BenchmarkMint: a token signed with an in-memory 2048-bit key (the local server; in AWS
// the KMS Sign round trip replaces the RSA private-key operation).
func BenchmarkMint(b *testing.B) {
	s := signer.FromKey(testKey(b, 0))
	c := signertest.Claims(time.Now())
	for b.Loop() {
		if _, err := signer.Mint(context.Background(), s, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify: reading a token back (the refresh route, the local server's check).
func BenchmarkVerify(b *testing.B) {
	s := signer.FromKey(testKey(b, 0))
	now := time.Now()
	tok, err := signer.Mint(context.Background(), s, signertest.Claims(now))
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := s.PublicKeys(context.Background())
	want := signer.Expect{Issuer: signertest.Issuer, Audience: signertest.Audience, Now: now}
	for b.Loop() {
		if _, err := signer.Verify(tok, keys, want); err != nil {
			b.Fatal(err)
		}
	}
}
