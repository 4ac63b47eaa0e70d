package signer

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/httpx"
)

// MaxTokenLen bounds a token Verify reads.
const MaxTokenLen = 8 << 10

// Errors of Verify: every failure wraps ErrInvalidToken; an expired token (otherwise
// valid) wraps ErrExpired too.
var (
	ErrInvalidToken = errors.New("signer: invalid token")
	ErrExpired      = errors.New("signer: expired token")
)

// Expect is what Verify requires of a token besides its signature.
type Expect struct {
	Issuer   string
	Audience string
	Now      time.Time
	// Leeway is the clock skew allowed on exp and iat (at most a minute).
	Leeway time.Duration
	// ExpiredFor, when positive, accepts a token that expired at most that long ago (at
	// most MaxExpiredFor): the sign-in routes read the session id of an expired token to
	// refresh or end its session, whose own record then decides.
	ExpiredFor time.Duration
}

// MaxExpiredFor bounds Expect.ExpiredFor: the longest idle timeout (24 hours).
const MaxExpiredFor = 24 * time.Hour

// Verify checks a token minted by Mint against keys (the published set) and returns its
// claims. It accepts exactly what Mint writes: three unpadded base64url parts, a header
// {"alg":"RS256","kid":...,"typ":"JWT"} whose kid is one of keys, a valid RSASSA-PKCS1-v1_5
// SHA-256 signature, a payload with exactly Mint's claims (no others, no duplicates, exact
// names) that pass Claims.Validate, the expected iss and aud, iat not after Now+Leeway
// and exp after Now-Leeway. The local server uses it where in AWS the API Gateway JWT
// authorizer verifies, and the sign-in routes to read a token they issued. Every failure
// wraps ErrInvalidToken (and ErrExpired for a token whose only fault is its age); the
// message never holds the token.
func Verify(token string, keys []Key, want Expect) (Claims, error) {
	c, err := verify(token, keys, want)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return c, nil
}

func verify(token string, keys []Key, want Expect) (Claims, error) {
	if len(token) > MaxTokenLen {
		return Claims{}, fmt.Errorf("longer than %d bytes", MaxTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("not three dot-separated parts")
	}
	raw := make([][]byte, 3)
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || len(b) == 0 {
			return Claims{}, fmt.Errorf("part %d is not unpadded base64url", i+1)
		}
		raw[i] = b
	}
	var h header
	if err := httpx.Unmarshal(raw[0], &h); err != nil {
		return Claims{}, fmt.Errorf("header: %w", err)
	}
	if h.Alg != Algorithm || h.Typ != "JWT" {
		return Claims{}, fmt.Errorf("header alg %q typ %q, want %s JWT", h.Alg, h.Typ, Algorithm)
	}
	var key *rsa.PublicKey
	for _, k := range keys {
		if k.ID == h.Kid && k.Public != nil {
			key = k.Public
			break
		}
	}
	if key == nil {
		return Claims{}, errors.New("no published key has the token's kid")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], raw[2]); err != nil {
		return Claims{}, errors.New("bad signature")
	}
	var p payload
	if err := httpx.Unmarshal(raw[1], &p); err != nil {
		return Claims{}, fmt.Errorf("payload: %w", err)
	}
	if p.Scope != nil && *p.Scope == "" {
		return Claims{}, errors.New("payload: empty scope")
	}
	c := Claims{
		Subject: p.Subject, OrgID: p.OrgID, Role: p.Role, Issuer: p.Issuer, Audience: p.Audience, SessionID: p.SessionID, Scope: deref(p.Scope),
		IssuedAt: time.Unix(p.IssuedAt, 0), ExpiresAt: time.Unix(p.ExpiresAt, 0),
	}
	if err := c.Validate(); err != nil {
		return Claims{}, err
	}
	if c.Issuer != want.Issuer || c.Audience != want.Audience {
		return Claims{}, errors.New("wrong issuer or audience")
	}
	leeway := min(max(want.Leeway, 0), time.Minute)
	if c.IssuedAt.After(want.Now.Add(leeway)) {
		return Claims{}, errors.New("issued in the future")
	}
	if !c.ExpiresAt.After(want.Now.Add(-leeway - min(max(want.ExpiredFor, 0), MaxExpiredFor))) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

// deref is *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
