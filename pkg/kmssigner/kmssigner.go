// Package kmssigner is the AWS KMS signer.Signer adapter, built on aws-sdk-go-v2: the
// deployment's tokens are signed by an asymmetric KMS key (KeySpec RSA_2048, RSA_3072 or
// RSA_4096, KeyUsage SIGN_VERIFY) whose private half never leaves KMS.
//
// Sign sends KMS the SHA-256 digest of the token's signing input (MessageType DIGEST,
// SigningAlgorithm RSASSA_PKCS1_V1_5_SHA_256), never the token: KMS and its CloudTrail
// records see 32 bytes, not the claims. The public keys come from GetPublicKey (a DER
// SubjectPublicKeyInfo), read once per key and kept for the life of the container: a KMS
// key's material never changes (KMS does not rotate asymmetric keys), so nothing can go
// stale.
//
// Keys are configured by key id, key ARN, alias name (alias/...) or alias ARN. The
// configured reference is resolved once, by GetPublicKey, to the key's ARN: Sign names
// that ARN, so the key that signs is always the one whose id is in the token's kid, even
// if the alias is moved meanwhile (a container picks up a moved alias when it starts).
// The kid is the key id (the ARN's last part: a UUID, or mrk-... for a multi-region key,
// whose replicas share it), which names the key without the account and region.
//
// Rotation is manual (KMS does not rotate asymmetric keys): create the new key and list
// it in published (it is published, not used); after the API Gateway authorizer's two
// hours of JWKS caching, make it the current key and list the old one in published; when
// the old key's last tokens have expired, drop it and schedule its deletion.
//
// The function's role needs kms:Sign and kms:GetPublicKey on the keys' ARNs.
package kmssigner

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/signer"
)

// API is the subset of *kms.Client that Signer uses.
type API interface {
	Sign(ctx context.Context, params *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, params *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ API = (*kms.Client)(nil)

// Algorithm is the KMS signing algorithm of RS256.
const Algorithm = types.SigningAlgorithmSpecRsassaPkcs1V15Sha256

// MaxKeyRefLen bounds a configured key reference (an alias ARN is at most about 300).
const MaxKeyRefLen = 512

// maxDERLen bounds a GetPublicKey answer: a 4096-bit key's SubjectPublicKeyInfo is 550
// bytes.
const maxDERLen = 2048

// busy is the client-safe message of an Unavailable error.
const busy = "the signing key is busy, please retry"

// Signer is a signer.Signer on AWS KMS keys. It is safe for concurrent use.
type Signer struct {
	client  API
	refs    []string // the current key first, then the published ones
	refsErr error

	mu   sync.Mutex
	keys map[string]resolved // by configured reference
}

var _ signer.Signer = (*Signer)(nil)

// resolved is a key read by GetPublicKey.
type resolved struct {
	arn string
	key signer.Key
}

// New returns a Signer signing with the KMS key current and publishing it, then the keys
// in published (the next key ahead of its use, the previous ones while their tokens
// live). Invalid references (ValidateKeyRefs) make every method fail before any request;
// call ValidateKeyRefs first to fail at start-up.
func New(client API, current string, published ...string) *Signer {
	refs := append([]string{current}, published...)
	return &Signer{client: client, refs: refs, refsErr: ValidateKeyRefs(refs), keys: map[string]resolved{}}
}

// NewFromConfig returns a Signer on a KMS client built from ac, with the endpoint
// overridden by AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL when set. See New.
func NewFromConfig(ac aws.Config, current string, published ...string) *Signer {
	client := kms.NewFromConfig(ac, func(o *kms.Options) {
		o.BaseEndpoint = lambdafn.Endpoint(nil, "KMS")
	})
	return New(client, current, published...)
}

// ValidateKeyRefs checks configured key references: 1 to signer.MaxPublishedKeys of them,
// distinct, each 1 to MaxKeyRefLen bytes of letters, digits and : / _ -. It returns a
// plain error (a configuration mistake).
func ValidateKeyRefs(refs []string) error {
	if len(refs) == 0 || len(refs) > signer.MaxPublishedKeys {
		return fmt.Errorf("kmssigner: %d keys, want 1 to %d", len(refs), signer.MaxPublishedKeys)
	}
	for i, r := range refs {
		if r == "" || len(r) > MaxKeyRefLen || strings.ContainsFunc(r, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":/_-", c))
		}) {
			return fmt.Errorf("kmssigner: key %q must be a key id, key ARN, alias name or alias ARN of at most %d bytes", r, MaxKeyRefLen)
		}
		if slices.Contains(refs[:i], r) {
			return fmt.Errorf("kmssigner: key %q is listed twice", r)
		}
	}
	return nil
}

// resolve returns the key ref names, from the cache or GetPublicKey. Failures are not
// kept: the next call asks again.
func (s *Signer) resolve(ctx context.Context, ref string) (resolved, error) {
	s.mu.Lock()
	r, ok := s.keys[ref]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	out, err := s.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(ref)})
	if err != nil {
		return resolved{}, mapError("get public key", ref, err)
	}
	r, err = fromOutput(out)
	if err != nil {
		return resolved{}, fmt.Errorf("kmssigner: key %s: %w", ref, err)
	}
	s.mu.Lock()
	s.keys[ref] = r
	s.mu.Unlock()
	return r, nil
}

// fromOutput checks a GetPublicKey answer: an RSA key of 2048 to 4096 bits for
// SIGN_VERIFY that allows RSASSA_PKCS1_V1_5_SHA_256, whose KeySpec matches its size, with
// a key ARN.
func fromOutput(out *kms.GetPublicKeyOutput) (resolved, error) {
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return resolved{}, fmt.Errorf("key usage %q, want SIGN_VERIFY", out.KeyUsage)
	}
	if !slices.Contains(out.SigningAlgorithms, Algorithm) {
		return resolved{}, fmt.Errorf("the key does not allow %s (it allows %v)", Algorithm, out.SigningAlgorithms)
	}
	pub, err := ParsePublicKey(out.PublicKey)
	if err != nil {
		return resolved{}, err
	}
	if want := fmt.Sprintf("RSA_%d", pub.N.BitLen()); string(out.KeySpec) != want {
		return resolved{}, fmt.Errorf("key spec %q, but the public key is %s", out.KeySpec, want)
	}
	arn := aws.ToString(out.KeyId)
	id, err := KeyIDFromARN(arn)
	if err != nil {
		return resolved{}, err
	}
	k := signer.Key{ID: id, Public: pub}
	if err := signer.ValidateKey(k); err != nil {
		return resolved{}, err
	}
	return resolved{arn: arn, key: k}, nil
}

// ParsePublicKey reads the public key GetPublicKey returns: a DER SubjectPublicKeyInfo of
// at most 2048 bytes holding an RSA key of signer.MinKeyBits to signer.MaxKeyBits. It
// returns a plain error.
func ParsePublicKey(der []byte) (*rsa.PublicKey, error) {
	if len(der) == 0 || len(der) > maxDERLen {
		return nil, fmt.Errorf("a public key of %d bytes, want 1 to %d", len(der), maxDERLen)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T public key, want RSA", k)
	}
	if err := signer.ValidateKey(signer.Key{ID: "k", Public: pub}); err != nil {
		return nil, err
	}
	return pub, nil
}

// KeyIDFromARN returns the key id of a KMS key ARN
// (arn:<partition>:kms:<region>:<account>:key/<key id>): 1 to 64 letters, digits and
// hyphens. It returns a plain error for anything else, an alias ARN included.
func KeyIDFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(arn) > MaxKeyRefLen || len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "kms" || parts[3] == "" || parts[4] == "" {
		return "", fmt.Errorf("%q is not a KMS key ARN", arn)
	}
	id, ok := strings.CutPrefix(parts[5], "key/")
	if !ok || id == "" || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')
	}) {
		return "", fmt.Errorf("%q is not a KMS key ARN", arn)
	}
	return id, nil
}

// Current returns the current key (GetPublicKey on the first call).
func (s *Signer) Current(ctx context.Context) (signer.Key, error) {
	if err := ctx.Err(); err != nil {
		return signer.Key{}, fmt.Errorf("kmssigner: current key: %w", err)
	}
	if s.refsErr != nil {
		return signer.Key{}, s.refsErr
	}
	r, err := s.resolve(ctx, s.refs[0])
	return r.key, err
}

// Sign asks KMS to sign digest with the current key, which kid must name. It returns an
// error wrapping signer.ErrUnknownKey for another kid and a plain error for a digest that
// is not 32 bytes, both before any request; an Unavailable *problem.Error (RetryAfter 1s)
// when KMS throttles or fails transiently (awserr); and a plain error for any other
// failure (access denied, a disabled key, an answer naming another key or algorithm).
func (s *Signer) Sign(ctx context.Context, kid string, digest []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("kmssigner: a SHA-256 digest is %d bytes, not %d", sha256.Size, len(digest))
	}
	cur, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	if kid != cur.ID {
		return nil, fmt.Errorf("kmssigner: %w: %q", signer.ErrUnknownKey, kid)
	}
	s.mu.Lock()
	arn := s.keys[s.refs[0]].arn
	s.mu.Unlock()
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(arn),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: Algorithm,
	})
	if err != nil {
		return nil, mapError("sign", arn, err)
	}
	if aws.ToString(out.KeyId) != arn || out.SigningAlgorithm != Algorithm {
		return nil, fmt.Errorf("kmssigner: sign: KMS answered for key %q with %q, want %q with %s", aws.ToString(out.KeyId), out.SigningAlgorithm, arn, Algorithm)
	}
	if len(out.Signature) != cur.Public.Size() {
		return nil, fmt.Errorf("kmssigner: sign: a signature of %d bytes, want %d", len(out.Signature), cur.Public.Size())
	}
	return out.Signature, nil
}

// PublicKeys returns the current key, then the published ones (GetPublicKey once each).
// It returns an error when one cannot be read, or when two references name the same key.
func (s *Signer) PublicKeys(ctx context.Context) ([]signer.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kmssigner: public keys: %w", err)
	}
	if s.refsErr != nil {
		return nil, s.refsErr
	}
	keys := make([]signer.Key, 0, len(s.refs))
	for _, ref := range s.refs {
		r, err := s.resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		keys = append(keys, r.key)
	}
	if err := signer.ValidateSet(keys); err != nil {
		return nil, fmt.Errorf("kmssigner: %w (do two of the configured references name one key?)", err)
	}
	return keys, nil
}

// mapError turns an SDK error into the project's vocabulary through awserr: throttling
// and transient failures (KMSInternalException, DependencyTimeoutException, 5xx,
// connection errors) become Unavailable with RetryAfter 1s, anything else (a done
// context included) a plain error naming the operation and the key.
func mapError(op, key string, err error) error {
	return awserr.Problem(fmt.Sprintf("kmssigner: %s %s", op, key), err, busy)
}

// Keys is the lambdafn.Adapter of the deployment's signing keys: a KMS client on the
// function's AWS configuration (endpoint from AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL)
// signing with SIGNING_KEY_ID and publishing it, then SIGNING_KEYS_PUBLISHED. The
// references are checked here (ValidateKeyRefs), so a mistyped one stops the function at
// start; the keys themselves are read on first use (GetPublicKey), not at start, so that
// a cold start costs no KMS request. Only the functions whose main passes it link the KMS
// client.
func Keys(ac aws.Config, cfg config.Config, d *app.Deps) error {
	refs := append([]string{cfg.SigningKeyID}, cfg.SigningKeysPublished...)
	if err := ValidateKeyRefs(refs); err != nil {
		return fmt.Errorf("%w (%s, %s)", err, config.EnvSigningKeyID, config.EnvSigningKeysPublished)
	}
	d.Signer = NewFromConfig(ac, cfg.SigningKeyID, cfg.SigningKeysPublished...)
	return nil
}
