package signer

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"

	"github.com/convrs/admin/pkg/httpx"
)

// Paths of the published documents, below the issuer URL.
const (
	JWKSPath      = "/.well-known/jwks.json"
	DiscoveryPath = "/.well-known/openid-configuration"
)

// MaxJWKSLen bounds a JWKS document ParseJWKS reads: MaxPublishedKeys 4096-bit keys take
// about 6 KB.
const MaxJWKSLen = 64 << 10

// JWK is one published key (RFC 7517), as JWKS writes it.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKSDocument is the body of /.well-known/jwks.json.
type JWKSDocument struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the JSON Web Key Set publishing keys, in their order: for each, kty RSA,
// use sig, alg RS256, its kid, and n and e as unpadded base64url big-endian integers
// without leading zeros (RFC 7518 section 6.3.1). It returns an error when keys is not a
// valid set (1 to MaxPublishedKeys keys passing ValidateKey, distinct ids).
func JWKS(keys []Key) ([]byte, error) {
	if err := ValidateSet(keys); err != nil {
		return nil, err
	}
	doc := JWKSDocument{Keys: make([]JWK, len(keys))}
	for i, k := range keys {
		doc.Keys[i] = JWK{
			Kty: "RSA", Use: "sig", Alg: Algorithm, Kid: k.ID,
			N: b64(k.Public.N.Bytes()), E: b64(big.NewInt(int64(k.Public.E)).Bytes()),
		}
	}
	return json.Marshal(doc)
}

// ParseJWKS reads a JSON Web Key Set as JWKS writes it, strictly: at most MaxJWKSLen
// bytes, one object with exactly the member names above (no duplicates, no others), every
// key kty RSA, use sig, alg RS256, n and e unpadded base64url without leading zeros, and
// the set valid as JWKS requires. It returns a plain error naming the first problem.
func ParseJWKS(data []byte) ([]Key, error) {
	if len(data) > MaxJWKSLen {
		return nil, fmt.Errorf("signer: a JWKS document is at most %d bytes", MaxJWKSLen)
	}
	var doc JWKSDocument
	if err := httpx.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("signer: JWKS: %w", err)
	}
	if len(doc.Keys) == 0 || len(doc.Keys) > MaxPublishedKeys {
		return nil, fmt.Errorf("signer: JWKS: %d keys, want 1 to %d", len(doc.Keys), MaxPublishedKeys)
	}
	keys := make([]Key, len(doc.Keys))
	for i, j := range doc.Keys {
		if j.Kty != "RSA" || j.Use != "sig" || j.Alg != Algorithm {
			return nil, fmt.Errorf("signer: JWKS: key %d is kty %q use %q alg %q, want RSA sig %s", i, j.Kty, j.Use, j.Alg, Algorithm)
		}
		n, err := unsignedInt(j.N, MaxKeyBits/8)
		if err != nil {
			return nil, fmt.Errorf("signer: JWKS: key %d: n: %w", i, err)
		}
		e, err := unsignedInt(j.E, 4)
		if err != nil {
			return nil, fmt.Errorf("signer: JWKS: key %d: e: %w", i, err)
		}
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("signer: JWKS: key %d: e is too large", i)
		}
		keys[i] = Key{ID: j.Kid, Public: &rsa.PublicKey{N: n, E: int(e.Int64())}}
	}
	if err := ValidateSet(keys); err != nil {
		return nil, fmt.Errorf("signer: JWKS: %w", err)
	}
	return keys, nil
}

// unsignedInt decodes an RFC 7518 Base64urlUInt of at most maxLen bytes.
func unsignedInt(s string, maxLen int) (*big.Int, error) {
	if len(s) > base64.RawURLEncoding.EncodedLen(maxLen) {
		return nil, fmt.Errorf("longer than %d bytes", maxLen)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not unpadded base64url: %w", err)
	}
	if len(b) == 0 || b[0] == 0 {
		return nil, fmt.Errorf("empty or with a leading zero byte")
	}
	return new(big.Int).SetBytes(b), nil
}

// DiscoveryDocument is the body of /.well-known/openid-configuration: what the API
// Gateway JWT authorizer reads (issuer and jwks_uri) and what OpenID Connect Discovery
// 1.0 requires a provider to state. The deployment issues tokens from its own sign-in
// routes, not through an authorization endpoint, so response_types_supported says only
// "token" (the access tokens it issues) and there is no authorization_endpoint.
type DiscoveryDocument struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
}

// ValidateIssuer checks an issuer URL (the iss claim and the base of the published
// documents): an absolute https URL (http only for localhost, 127.0.0.1 and [::1], for
// the local server) with a host, no user info, query or fragment and no trailing slash, at
// most 256 bytes, written as url.URL.String writes it. It returns a plain error.
func ValidateIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	switch {
	case len(issuer) > 256:
		return fmt.Errorf("signer: the issuer URL is longer than 256 bytes")
	case err != nil:
		return fmt.Errorf("signer: issuer: %w", err)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("signer: issuer %q must be an absolute URL with a host and no user, query or fragment", issuer)
	case u.String() != issuer:
		return fmt.Errorf("signer: issuer %q is not in its canonical form %q (escape spaces and other characters)", issuer, u.String())
	case strings.HasSuffix(issuer, "/"):
		return fmt.Errorf("signer: issuer %q must not end with /", issuer)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"):
		return nil
	}
	return fmt.Errorf("signer: issuer %q must be an https URL (http only for localhost)", issuer)
}

// OpenIDConfiguration returns the discovery document of issuer, whose jwks_uri is
// issuer + JWKSPath. It returns an error for an invalid issuer (ValidateIssuer).
func OpenIDConfiguration(issuer string) ([]byte, error) {
	if err := ValidateIssuer(issuer); err != nil {
		return nil, err
	}
	return json.Marshal(DiscoveryDocument{
		Issuer:                           issuer,
		JWKSURI:                          issuer + JWKSPath,
		ResponseTypesSupported:           []string{"token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{Algorithm},
		ClaimsSupported:                  []string{"iss", "sub", "aud", "exp", "iat", "org_id", "role", "sid"},
	})
}
