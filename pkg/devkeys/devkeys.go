// Package devkeys mints and verifies the local development bearer tokens (RS256, a key
// kept in the data folder): cmd/local and the API tests use it. Lambda functions never
// link it: in AWS the API Gateway JWT authorizer verifies tokens and auth.Claims reads
// what it passed.
package devkeys

import (
	"context"
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

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/sessions"
	"github.com/convrs/admin/pkg/signer"
)

// Dev token issuer and audience. The local server's issuer is its own base URL (what
// its /.well-known/openid-configuration says); DefaultIssuer is that URL at the default
// address (cmd/local -addr 127.0.0.1:3000), which `cmd/local token` uses unless told
// otherwise. The deployed API uses the template's parameters instead.
const (
	DefaultIssuer = "http://127.0.0.1:3000"
	Audience      = "convrs-admin"
	devKeyFile    = "dev-signing-key.pem"
	// Leeway is the clock skew Authenticate allows on exp and iat.
	Leeway = 30 * time.Second
)

// Keys verifies and mints RS256 bearer tokens with the local development key, exactly
// as the sign-in routes mint them (package signer): the local server verifies what it
// issues the way the API Gateway JWT authorizer does in AWS.
type Keys struct {
	key    *rsa.PrivateKey
	signer *signer.KeySigner
	now    func() time.Time
	issuer string
}

var _ auth.Authenticator = (*Keys)(nil)

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
		return New(rk, nil), nil
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
	return New(rk, nil), nil
}

// New wraps an existing key, issuing as DefaultIssuer; now may be nil for time.Now.
func New(key *rsa.PrivateKey, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{key: key, signer: signer.FromKey(key), now: now, issuer: DefaultIssuer}
}

// WithIssuer returns a copy of k that mints and accepts tokens of issuer iss (the local
// server's base URL).
func (k *Keys) WithIssuer(iss string) *Keys {
	c := *k
	c.issuer = iss
	return &c
}

// Issuer is the iss k mints and accepts.
func (k *Keys) Issuer() string { return k.issuer }

// Mint signs a token for p valid for ttl (at most signer.MaxLifetime), with a session id
// of its own that no session record holds (so POST /v1/auth/refresh refuses it: sign in
// for a token that refreshes). p.Scope is kept; p.Permissions are not written (routes
// resolve the role's). It returns an error when p lacks a subject, organisation or role,
// or ttl is not from 1 s to signer.MaxLifetime.
func (k *Keys) Mint(p auth.Principal, ttl time.Duration) (string, error) {
	now := k.now()
	return signer.Mint(context.Background(), k.signer, signer.Claims{
		Subject: p.Subject, OrgID: p.OrgID, Role: p.Role, Scope: p.Scope,
		Issuer: k.issuer, Audience: Audience, SessionID: "dev" + sessions.NewID(),
		IssuedAt: now, ExpiresAt: now.Add(ttl),
	})
}

// Authenticate verifies the bearer token with signer.Verify: RS256, signed by the dev
// key, k's issuer and Audience, not expired (Leeway allowed), exactly the claims the
// sign-in routes write. Any failure is problem.Unauthenticated.
func (k *Keys) Authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > signer.MaxTokenLen {
		return auth.Principal{}, problem.New(problem.Unauthenticated, "missing or invalid bearer token")
	}
	// The key is in memory: no context to honour (a request abandoned later is the
	// handler's to notice).
	keys, err := k.signer.PublicKeys(context.WithoutCancel(r.Context()))
	if err != nil {
		return auth.Principal{}, err
	}
	c, err := signer.Verify(strings.TrimSpace(token), keys, signer.Expect{Issuer: k.issuer, Audience: Audience, Now: k.now(), Leeway: Leeway})
	if err != nil {
		return auth.Principal{}, problem.Wrap(problem.Unauthenticated, err, "missing or invalid bearer token")
	}
	p, err := auth.FromClaims(c.Subject, c.OrgID, c.Role, "")
	if err != nil {
		return auth.Principal{}, err
	}
	p.Scope = c.Scope
	return p, nil
}

// Signer returns the signer.Signer of the dev key, for the local server's sign-in: its kid
// is the key's RFC 7638 thumbprint, and the key it publishes is the one Authenticate
// trusts.
func (k *Keys) Signer() *signer.KeySigner { return k.signer }
