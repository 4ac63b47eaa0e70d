// Package signertest is the contract suite every signer.Signer adapter passes: a token
// minted through the port verifies with an independent JWT library (golang-jwt) against
// the published JWKS, its kid names the current key, tampering fails, and a done context
// is an error.
package signertest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convrs/admin/pkg/signer"
)

// Issuer and Audience of the suite's tokens.
const (
	Issuer   = "https://api.example.com"
	Audience = "convrs-admin"
)

// Claims returns valid claims issued at now for ten minutes.
func Claims(now time.Time) signer.Claims {
	return signer.Claims{
		Subject: "agt_01J9ZC3V5W6X7Y8Z9A0B1C2D3E", OrgID: "acme", Role: "admin",
		Issuer: Issuer, Audience: Audience, SessionID: "ses_01J9ZC3V5W6X7Y8Z9A0B1C2D3F",
		IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	}
}

// Verify checks token with golang-jwt against the keys of the published JWKS document
// (parsed back by signer.ParseJWKS), the way an API Gateway JWT authorizer would: RS256
// only, the kid must name a published key, iss, aud, exp and iat checked at now. It
// returns the claims and the header's kid.
func Verify(token string, jwks []byte, now time.Time) (jwt.MapClaims, string, error) {
	keys, err := signer.ParseJWKS(jwks)
	if err != nil {
		return nil, "", err
	}
	var kid string
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		for _, k := range keys {
			if k.ID == kid {
				return k.Public, nil
			}
		}
		return nil, errors.New("no published key has this kid")
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	return claims, kid, err
}

// Run runs the contract suite on signers made by newSigner; each call may return the same
// signer or a new one with the same keys.
func Run(t *testing.T, newSigner func(t *testing.T) signer.Signer) {
	t.Run("MintVerifiesAgainstJWKS", func(t *testing.T) {
		t.Parallel()
		testMintVerifies(t, newSigner(t))
	})
	t.Run("Tampering", func(t *testing.T) {
		t.Parallel()
		testTampering(t, newSigner(t))
	})
	t.Run("SignRefusesOtherKeysAndBadDigests", func(t *testing.T) {
		t.Parallel()
		testSignRefuses(t, newSigner(t))
	})
	t.Run("DoneContext", func(t *testing.T) {
		t.Parallel()
		testDoneContext(t, newSigner(t))
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		testConcurrent(t, newSigner(t))
	})
}

// MustJWKS returns the JWKS document of s's published keys.
func MustJWKS(t *testing.T, s signer.Signer) []byte {
	t.Helper()
	keys, err := s.PublicKeys(context.Background())
	if err != nil {
		t.Fatalf("PublicKeys: %v", err)
	}
	doc, err := signer.JWKS(keys)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return doc
}

// MustMint mints c through s.
func MustMint(t *testing.T, s signer.Signer, c signer.Claims) string {
	t.Helper()
	tok, err := signer.Mint(context.Background(), s, c)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

func testMintVerifies(t *testing.T, s signer.Signer) {
	ctx := context.Background()
	cur, err := s.Current(ctx)
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if err := signer.ValidateKey(cur); err != nil {
		t.Fatalf("Current returned an invalid key: %v", err)
	}
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		t.Fatalf("PublicKeys: %v", err)
	}
	if len(keys) == 0 || keys[0].ID != cur.ID || !keys[0].Public.Equal(cur.Public) {
		t.Fatalf("PublicKeys does not list the current key %s first: %v", cur.ID, keys)
	}
	now := time.Now().Truncate(time.Second)
	c := Claims(now)
	tok := MustMint(t, s, c)
	claims, kid, err := Verify(tok, MustJWKS(t, s), now.Add(time.Minute))
	if err != nil {
		t.Fatalf("golang-jwt refuses the minted token against the published JWKS: %v", err)
	}
	if kid != cur.ID {
		t.Errorf("kid %q, want the current key's id %q", kid, cur.ID)
	}
	want := map[string]any{
		"sub": c.Subject, "org_id": c.OrgID, "role": c.Role, "iss": c.Issuer, "aud": c.Audience, "sid": c.SessionID,
		"iat": float64(now.Unix()), "exp": float64(now.Add(10 * time.Minute).Unix()),
	}
	if len(claims) != len(want) {
		t.Errorf("claims %v, want exactly %v", claims, want)
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s: got %v (%T), want %v", k, claims[k], claims[k], v)
		}
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if got, want := string(hdr), `{"alg":"RS256","kid":"`+cur.ID+`","typ":"JWT"}`; got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	if _, _, err := Verify(tok, MustJWKS(t, s), now.Add(11*time.Minute)); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("after exp: %v, want expired", err)
	}
}

func testTampering(t *testing.T, s signer.Signer) {
	now := time.Now().Truncate(time.Second)
	tok := MustMint(t, s, Claims(now))
	jwks := MustJWKS(t, s)
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	enc := base64.RawURLEncoding.EncodeToString
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	flipped := append([]byte(nil), sig...)
	flipped[len(flipped)/2] ^= 1
	other := Claims(now)
	other.Role = "agent"
	otherTok := MustMint(t, s, other)
	for name, bad := range map[string]string{
		"role raised":        parts[0] + "." + enc([]byte(strings.Replace(string(payload), `"role":"admin"`, `"role":"owner"`, 1))) + "." + parts[2],
		"org changed":        parts[0] + "." + enc([]byte(strings.Replace(string(payload), `"org_id":"acme"`, `"org_id":"evil"`, 1))) + "." + parts[2],
		"signature flipped":  parts[0] + "." + parts[1] + "." + enc(flipped),
		"signature dropped":  parts[0] + "." + parts[1] + ".",
		"other signature":    parts[0] + "." + parts[1] + "." + strings.Split(otherTok, ".")[2],
		"unknown kid":        enc([]byte(strings.Replace(string(header), `"kid":"`, `"kid":"x`, 1))) + "." + parts[1] + "." + parts[2],
		"alg none":           enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		"alg HS256":          enc([]byte(strings.Replace(string(header), "RS256", "HS256", 1))) + "." + parts[1] + "." + parts[2],
		"truncated":          tok[:len(tok)-10],
		"padding in payload": parts[0] + "." + parts[1] + "=." + parts[2],
	} {
		if _, _, err := Verify(bad, jwks, now); err == nil {
			t.Errorf("%s: a tampered token verifies", name)
		}
	}
}

func testSignRefuses(t *testing.T, s signer.Signer) {
	ctx := context.Background()
	cur, err := s.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := s.Sign(ctx, "someone-elses-key", d[:]); err == nil {
		t.Error("Sign with a kid that is not the current key's succeeded")
	}
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := s.Sign(ctx, cur.ID, make([]byte, n)); err == nil {
			t.Errorf("Sign of a %d-byte digest succeeded", n)
		}
	}
	sig, err := s.Sign(ctx, cur.ID, d[:])
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if len(sig) != cur.Public.Size() {
		t.Errorf("signature of %d bytes, want %d", len(sig), cur.Public.Size())
	}
}

func testDoneContext(t *testing.T, s signer.Signer) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := sha256.Sum256([]byte("x"))
	kid := "kid"
	if cur, err := s.Current(context.Background()); err == nil {
		kid = cur.ID
	}
	if _, err := s.Current(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Current with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Sign(ctx, kid, d[:]); !errors.Is(err, context.Canceled) {
		t.Errorf("Sign with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.PublicKeys(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("PublicKeys with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := signer.Mint(ctx, s, Claims(time.Now())); !errors.Is(err, context.Canceled) {
		t.Errorf("Mint with a canceled context: %v, want context.Canceled", err)
	}
	past, stop := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer stop()
	if _, err := signer.Mint(past, s, Claims(time.Now())); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Mint past its deadline: %v, want context.DeadlineExceeded", err)
	}
}

func testConcurrent(t *testing.T, s signer.Signer) {
	now := time.Now().Truncate(time.Second)
	jwks := MustJWKS(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			tok, err := signer.Mint(context.Background(), s, Claims(now))
			if err == nil {
				_, _, err = Verify(tok, jwks, now)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent mint: %v", err)
	}
}
