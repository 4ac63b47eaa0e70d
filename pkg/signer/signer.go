// Package signer issues the deployment's own access tokens: RS256 JWTs signed through the
// Signer port, and the documents that publish their keys (/.well-known/jwks.json and
// /.well-known/openid-configuration) so that the API Gateway JWT authorizer, or any
// client, can verify them.
//
// The port signs a SHA-256 digest, never the token: Mint builds the header and payload,
// hashes them and asks the Signer for an RSASSA-PKCS1-v1_5 signature of the digest, so
// every adapter signs the same way and none of them (nor AWS KMS, which gets the digest
// with MessageType DIGEST) sees the claims. Mint checks the signature against the key's
// public key before it hands the token out, so that a misconfigured key (a kid naming
// one key while another signs) fails at the issuer, not at every verifier.
//
// Adapters: the local development key (pkg/devkeys, through FromKey) and AWS KMS
// asymmetric keys (pkg/kmssigner). A key's id is its JWT kid: the KMS key id in AWS, the
// RFC 7638 thumbprint of the public key locally.
//
// Rotation: a Signer signs with one key (Current) and publishes every key a verifier must
// still accept (PublicKeys: the current one first, then the next key announced ahead of
// its use and the previous ones while tokens they signed are alive). The API Gateway JWT
// authorizer caches the published keys for up to two hours, so a new key is published at
// least that long before it signs, and an old one stays published for that long plus the
// longest token lifetime after it stopped signing.
package signer

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/auth"
)

// Algorithm is the only JWS algorithm this package signs with and publishes.
const Algorithm = "RS256"

// Bounds of the keys a Signer may use or publish.
const (
	MinKeyBits = 2048
	MaxKeyBits = 4096
	// MaxKeyIDLen is the longest kid, in bytes: a KMS key ARN is about 80.
	MaxKeyIDLen = 128
	// MaxPublishedKeys bounds PublicKeys (current, next and previous keys, with room).
	MaxPublishedKeys = 8
)

// Key is a public key that verifies tokens, and its id (the JWT kid).
type Key struct {
	ID     string
	Public *rsa.PublicKey
}

// Signer is the port of the deployment's token signing key. Implementations are safe for
// concurrent use and honour ctx (a done context is an error before any work).
type Signer interface {
	// Current returns the key that signs now. It returns an error when the key cannot
	// be read or is unusable (see ValidateKey).
	Current(ctx context.Context) (Key, error)
	// Sign returns the RSASSA-PKCS1-v1_5 signature of digest, a SHA-256 digest (32
	// bytes), made with the key whose id is kid (as Current returned it). It returns an
	// error for another kid, a digest of the wrong length, or when signing fails.
	Sign(ctx context.Context, kid string, digest []byte) ([]byte, error)
	// PublicKeys returns the keys a verifier must accept, the current one first, at most
	// MaxPublishedKeys, each valid (ValidateKey) and with distinct ids.
	PublicKeys(ctx context.Context) ([]Key, error)
}

// ValidateKey checks a key before it is used or published: an id of 1 to MaxKeyIDLen
// bytes of the characters [A-Za-z0-9._:/+=-] (a KMS key id or ARN, a base64url
// thumbprint), and an RSA public key of MinKeyBits to MaxKeyBits whose exponent is an odd
// number from 3 to 2^31-1. It returns a plain error (a configuration mistake).
func ValidateKey(k Key) error {
	if err := validateKeyID(k.ID); err != nil {
		return err
	}
	if k.Public == nil || k.Public.N == nil {
		return fmt.Errorf("signer: key %s: no public key", k.ID)
	}
	if bits := k.Public.N.BitLen(); bits < MinKeyBits || bits > MaxKeyBits {
		return fmt.Errorf("signer: key %s: %d-bit modulus, want %d to %d bits", k.ID, bits, MinKeyBits, MaxKeyBits)
	}
	if e := k.Public.E; e < 3 || e%2 == 0 || e > 1<<31-1 {
		return fmt.Errorf("signer: key %s: public exponent %d is not an odd number from 3 to 2^31-1", k.ID, e)
	}
	return nil
}

func validateKeyID(id string) error {
	if id == "" || len(id) > MaxKeyIDLen {
		return fmt.Errorf("signer: a key id must be 1 to %d bytes", MaxKeyIDLen)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		switch c {
		case '.', '_', ':', '/', '+', '=', '-':
			ok = true
		}
		if !ok {
			return fmt.Errorf("signer: key id %q: only letters, digits and . _ : / + = - are allowed", id)
		}
	}
	return nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an RSA public key (SHA-256,
// base64url without padding): a stable kid derived from the key alone.
func Thumbprint(pub *rsa.PublicKey) string {
	// Members in lexicographic order, no white space, as RFC 7638 section 3.2 requires.
	canonical := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Claims are what a token says: who (Subject, an agent id), for which organisation and
// role, issued by Issuer for Audience, when, until when, in which session.
type Claims struct {
	Subject   string
	OrgID     string
	Role      string
	Issuer    string
	Audience  string
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Scope is "" for a token that allows what the role allows, or auth.ScopePassword
	// for one that only allows changing the password (an expired password, or one an
	// admin set). It is written only when not empty.
	Scope string
}

// payload is the JSON of Claims, members in this order.
type payload struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	ExpiresAt int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	OrgID     string `json:"org_id"`
	Role      string `json:"role"`
	SessionID string `json:"sid"`
	// Scope is nil when empty, so that a token saying "scope":"" (which Mint never
	// writes) is refused.
	Scope *string `json:"scope,omitempty"`
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// MaxLifetime bounds ExpiresAt - IssuedAt: an access token is short-lived.
const MaxLifetime = 24 * time.Hour

// Validate checks claims before they are signed: the sub, org_id and role that
// auth.FromClaims accepts (so a token minted here is one every route can read), an issuer,
// audience and session id of 1 to 256 bytes of valid UTF-8 without control characters or
// surrounding space, and an expiry after the issue time by at most MaxLifetime (times in
// whole seconds after 1970). It returns a plain error.
func (c Claims) Validate() error {
	if _, err := auth.FromClaims(c.Subject, c.OrgID, c.Role, ""); err != nil {
		return fmt.Errorf("signer: claims: %w", err)
	}
	for name, v := range map[string]string{"iss": c.Issuer, "aud": c.Audience, "sid": c.SessionID} {
		if v == "" || len(v) > 256 || !utf8.ValidString(v) || !clean(v) {
			return fmt.Errorf("signer: claims: %s must be 1 to 256 bytes of text without control characters or surrounding space", name)
		}
	}
	if c.Scope != "" && c.Scope != auth.ScopePassword {
		return fmt.Errorf("signer: claims: scope must be empty or %q", auth.ScopePassword)
	}
	iat, exp := c.IssuedAt.Unix(), c.ExpiresAt.Unix()
	if iat <= 0 || exp <= iat || time.Duration(exp-iat)*time.Second > MaxLifetime {
		return fmt.Errorf("signer: claims: exp must follow iat by 1s to %v", MaxLifetime)
	}
	return nil
}

// nonEmpty is &s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func clean(s string) bool {
	for i, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
		if (i == 0 || i+utf8.RuneLen(r) == len(s)) && (r == ' ' || r == '\u00a0') {
			return false
		}
	}
	return true
}

// Mint returns a compact RS256 JWT of c, signed through s with its current key (whose id
// is the header's kid). It returns an error when c is invalid (Claims.Validate), when the
// signer fails (its error, wrapped), or when the signature does not verify under the
// current key's public key.
func Mint(ctx context.Context, s Signer, c Claims) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	key, err := s.Current(ctx)
	if err != nil {
		return "", fmt.Errorf("signer: current key: %w", err)
	}
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	h, err := json.Marshal(header{Alg: Algorithm, Kid: key.ID, Typ: "JWT"})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(payload{
		Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
		ExpiresAt: c.ExpiresAt.Unix(), IssuedAt: c.IssuedAt.Unix(),
		OrgID: c.OrgID, Role: c.Role, SessionID: c.SessionID, Scope: nonEmpty(c.Scope),
	})
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(p)
	digest := sha256.Sum256([]byte(input))
	sig, err := s.Sign(ctx, key.ID, digest[:])
	if err != nil {
		return "", fmt.Errorf("signer: sign with %s: %w", key.ID, err)
	}
	if err := rsa.VerifyPKCS1v15(key.Public, crypto.SHA256, digest[:], sig); err != nil {
		return "", fmt.Errorf("signer: the signature made with %s does not verify under its public key: %w", key.ID, err)
	}
	return input + "." + b64(sig), nil
}

// ErrUnknownKey is returned (wrapped) by Sign for a kid that is not the current key's.
var ErrUnknownKey = errors.New("signer: not the current signing key")
