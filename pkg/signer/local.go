package signer

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
)

// KeySigner is a Signer holding its private key in memory: the local development key
// (pkg/devkeys) and tests. Its kid is the key's RFC 7638 thumbprint.
type KeySigner struct {
	key       *rsa.PrivateKey
	current   Key
	published []Key
	err       error
}

var _ Signer = (*KeySigner)(nil)

// FromKey returns a Signer signing with key and publishing its public key, then the
// public keys in also (a previous key still trusted, say). An invalid key (ValidateKey)
// makes every method fail.
func FromKey(key *rsa.PrivateKey, also ...Key) *KeySigner {
	s := &KeySigner{key: key}
	if key == nil {
		s.err = fmt.Errorf("signer: no private key")
		return s
	}
	s.current = Key{ID: Thumbprint(&key.PublicKey), Public: &key.PublicKey}
	s.published = append([]Key{s.current}, also...)
	s.err = ValidateSet(s.published)
	return s
}

// ValidateSet checks a set of keys to publish: 1 to MaxPublishedKeys keys passing
// ValidateKey, with distinct ids. It returns a plain error.
func ValidateSet(keys []Key) error {
	if len(keys) == 0 || len(keys) > MaxPublishedKeys {
		return fmt.Errorf("signer: %d keys to publish, want 1 to %d", len(keys), MaxPublishedKeys)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
		if seen[k.ID] {
			return fmt.Errorf("signer: key id %s is published twice", k.ID)
		}
		seen[k.ID] = true
	}
	return nil
}

// Current returns the in-memory key.
func (s *KeySigner) Current(ctx context.Context) (Key, error) {
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	if s.err != nil {
		return Key{}, s.err
	}
	return s.current, nil
}

// Sign signs digest with the in-memory key when kid is its id.
func (s *KeySigner) Sign(ctx context.Context, kid string, digest []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	if kid != s.current.ID {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("signer: a SHA-256 digest is %d bytes, not %d", sha256.Size, len(digest))
	}
	return rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest)
}

// PublicKeys returns the key's public key, then the others given to FromKey.
func (s *KeySigner) PublicKeys(ctx context.Context) ([]Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	return append([]Key(nil), s.published...), nil
}
