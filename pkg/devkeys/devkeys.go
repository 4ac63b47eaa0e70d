// Package devkeys mints and verifies the local development bearer tokens (RS256, a key
// kept in the data folder): cmd/local and the API tests use it. Lambda functions never
// link it: in AWS the API Gateway JWT authorizer verifies tokens and auth.Claims reads
// what it passed.
package devkeys

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/signer"
)

// Dev token issuer and audience; the deployed API uses the template's parameters instead.
const (
	Issuer      = "convrs-local"
	Audience    = "convrs-admin"
	devKeyFile  = "dev-signing-key.pem"
	maxTokenLen = 8 << 10
)

// Keys verifies and mints RS256 bearer tokens with the local development key.
type Keys struct {
	key *rsa.PrivateKey
	now func() time.Time
}

var _ auth.Authenticator = (*Keys)(nil)

type devClaims struct {
	OrgID       string `json:"org_id"`
	Role        string `json:"role"`
	Permissions string `json:"permissions,omitempty"`
	jwt.RegisteredClaims
}

// LoadOrCreate reads the dev signing key from dir, creating dir (0700) and a new
// 2048-bit key (0600) on first use. It returns an error when the key file exists but
// cannot be read or parsed, or when it cannot be written.
func LoadOrCreate(dir string) (*Keys, error) {
	path := filepath.Join(dir, devKeyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("dev key %s: no PEM block", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("dev key %s: %w", path, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("dev key %s: not an RSA key", path)
		}
		return &Keys{key: rk, now: time.Now}, nil
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("dev key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dev key: %w", err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("dev key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		return nil, fmt.Errorf("dev key: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("dev key: %w", err)
	}
	// Two servers starting at once must agree on one key: link fails if another won.
	if err := os.Link(tmp, path); err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreate(dir)
		}
		return nil, fmt.Errorf("dev key: %w", err)
	}
	_ = os.Remove(tmp)
	return &Keys{key: rk, now: time.Now}, nil
}

// New wraps an existing key; now may be nil for time.Now.
func New(key *rsa.PrivateKey, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{key: key, now: now}
}

// Mint signs a token for p valid for ttl. It returns an error when p lacks a subject,
// organisation or role, or ttl is not positive.
func (k *Keys) Mint(p auth.Principal, ttl time.Duration) (string, error) {
	if _, err := auth.FromClaims(p.Subject, p.OrgID, p.Role, ""); err != nil || ttl <= 0 {
		return "", errors.New("a token needs sub, org, role and a positive ttl")
	}
	now := k.now()
	c := devClaims{
		OrgID:       p.OrgID,
		Role:        p.Role,
		Permissions: strings.Join(p.Permissions, " "),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(k.key)
}

// Authenticate verifies the bearer token: RS256 only, signed by the dev key, right issuer
// and audience, not expired. Any failure is problem.Unauthenticated.
func (k *Keys) Authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenLen {
		return auth.Principal{}, problem.New(problem.Unauthenticated, "missing or invalid bearer token")
	}
	var c devClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(token), &c, func(*jwt.Token) (any, error) {
		return &k.key.PublicKey, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(k.now),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return auth.Principal{}, problem.Wrap(problem.Unauthenticated, err, "missing or invalid bearer token")
	}
	return auth.FromClaims(c.Subject, c.OrgID, c.Role, c.Permissions)
}

// Signer returns the signer.Signer of the dev key, for the local server's sign-in: its kid
// is the key's RFC 7638 thumbprint, and the key it publishes is the one Authenticate
// trusts.
func (k *Keys) Signer() *signer.KeySigner { return signer.FromKey(k.key) }
