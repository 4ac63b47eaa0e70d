package kmssigner

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

const (
	keyA = "1234abcd-12ab-34cd-56ef-1234567890ab"
	keyB = "mrk-0123456789abcdef0123456789abcdef"
)

var (
	keysOnce sync.Once
	rsaKeys  [3]*rsa.PrivateKey
)

func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

// newClient returns the real SDK client pointed at srv, with static credentials, two
// attempts per operation and no waiting between them.
func newClient(srv *httptest.Server) *kms.Client {
	return kms.New(kms.Options{
		Region:       awsfake.Region,
		Credentials:  awsfake.Credentials,
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer:      awsfake.Retryer(2),
	})
}

func TestContract(t *testing.T) {
	t.Parallel()
	signertest.Run(t, func(t *testing.T) signer.Signer {
		f, srv := newFakeKMS(t)
		f.addKey(t, keyA, testKey(t, 0))
		f.aliases["alias/convrs-token-signing"] = "arn:aws:kms:us-east-1:123456789012:key/" + keyA
		return New(newClient(srv), "alias/convrs-token-signing")
	})
}

// TestRequests checks what Signer sends KMS for a sign-in: GetPublicKey once for the
// configured alias, then Sign on the resolved key ARN of a 32-byte digest with
// RSASSA_PKCS1_V1_5_SHA_256 and MessageType DIGEST; no request carries the token's
// header, payload or any claim.
func TestRequests(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKMS(t)
	arn := f.addKey(t, keyA, testKey(t, 0))
	f.aliases["alias/convrs-token-signing"] = arn
	s := New(newClient(srv), "alias/convrs-token-signing")
	now := time.Now().Truncate(time.Second)
	var toks []string
	for range 3 {
		toks = append(toks, signertest.MustMint(t, s, signertest.Claims(now)))
	}
	if _, kid, err := signertest.Verify(toks[0], signertest.MustJWKS(t, s), now); err != nil || kid != keyA {
		t.Fatalf("kid %q, %v; want the key id %s", kid, err, keyA)
	}
	want := []string{"GetPublicKey alias/convrs-token-signing", "Sign " + arn, "Sign " + arn, "Sign " + arn}
	if got := f.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q (the public key read once per container)", got, want)
	}
	c := signertest.Claims(now)
	for _, body := range f.requestBodies() {
		for _, tok := range toks {
			parts := strings.Split(tok, ".")
			for _, secret := range []string{parts[0], parts[1], parts[0] + "." + parts[1],
				base64.StdEncoding.EncodeToString([]byte(parts[0] + "." + parts[1])), c.Subject, c.SessionID, c.Issuer} {
				if bytes.Contains(body, []byte(secret)) {
					t.Errorf("a request to KMS carries %q: %s", secret, body)
				}
			}
		}
	}
	// The messages signed are the digests of the tokens' signing inputs.
	bodies := f.requestBodies()
	for i, tok := range toks {
		parts := strings.Split(tok, ".")
		d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if !bytes.Contains(bodies[i+1], []byte(`"Message":"`+base64.StdEncoding.EncodeToString(d[:])+`"`)) {
			t.Errorf("Sign %d: body %s is not of the token's digest", i, bodies[i+1])
		}
	}
}

// TestRotation: the signer publishes the current key then the others; a token of the
// previous key verifies against the rotated JWKS; a kid of a published key that does not
// sign is refused by Sign before any request.
func TestRotation(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKMS(t)
	arnA := f.addKey(t, keyA, testKey(t, 0))
	arnB := f.addKey(t, keyB, testKey(t, 1))
	now := time.Now().Truncate(time.Second)
	before := New(newClient(srv), arnA, keyB) // B announced ahead of its use
	tok := signertest.MustMint(t, before, signertest.Claims(now))
	after := New(newClient(srv), keyB, arnA) // B signs, A still published
	keys, err := after.PublicKeys(t.Context())
	if err != nil || len(keys) != 2 || keys[0].ID != keyB || keys[1].ID != keyA {
		t.Fatalf("PublicKeys %v, %v; want %s then %s", keys, err, keyB, keyA)
	}
	if _, kid, err := signertest.Verify(tok, signertest.MustJWKS(t, after), now); err != nil || kid != keyA {
		t.Errorf("a token of the previous key against the rotated JWKS: kid %q, %v", kid, err)
	}
	n := len(f.requests())
	d := sha256.Sum256([]byte("x"))
	if _, err := after.Sign(t.Context(), keyA, d[:]); err == nil {
		t.Error("Sign with a published key that is not the current one succeeded")
	}
	if _, err := after.Sign(t.Context(), keyB, d[:31]); err == nil {
		t.Error("Sign of a 31-byte digest succeeded")
	}
	if got := f.requests()[n:]; len(got) != 0 {
		t.Errorf("refused Signs still sent %q", got)
	}
	if tok2 := signertest.MustMint(t, after, signertest.Claims(now)); !strings.Contains(f.requests()[len(f.requests())-1], arnB) {
		t.Errorf("the rotated signer did not sign with %s: %q (%s)", arnB, f.requests(), tok2)
	}
	// An alias and the key id it names are one key published twice.
	f.aliases["alias/a"] = arnA
	if _, err := New(newClient(srv), keyA, "alias/a").PublicKeys(t.Context()); err == nil {
		t.Error("one key configured twice (by id and alias) was published twice")
	}
}

// TestUnusableKeys: a key KMS describes as unfit for RS256 is refused at Current, and so
// is a KMS answer that does not hold together.
func TestUnusableKeys(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	for name, change := range map[string]func(*fakeKey){
		"encryption key":     func(k *fakeKey) { k.usage = "ENCRYPT_DECRYPT" },
		"PSS only":           func(k *fakeKey) { k.algs = []string{"RSASSA_PSS_SHA_256"} },
		"EC key":             func(k *fakeKey) { k.publicDER, k.spec = ecDER, "ECC_NIST_P256" },
		"1024-bit key":       func(k *fakeKey) { k.publicDER, k.spec = smallDER, "RSA_1024" },
		"spec mismatch":      func(k *fakeKey) { k.spec = "RSA_4096" },
		"garbage DER":        func(k *fakeKey) { k.publicDER = []byte("not a key") },
		"no public key":      func(k *fakeKey) { k.publicDER = nil },
		"alias ARN returned": func(k *fakeKey) { k.arn = "arn:aws:kms:us-east-1:123456789012:alias/x" },
		"bad key id in ARN":  func(k *fakeKey) { k.arn = "arn:aws:kms:us-east-1:123456789012:key/a b" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeKMS(t)
			arn := f.addKey(t, keyA, testKey(t, 0))
			change(f.keys[arn])
			s := New(newClient(srv), keyA)
			if k, err := s.Current(t.Context()); err == nil {
				t.Errorf("Current accepted %+v", k)
			}
			if _, err := signer.Mint(t.Context(), s, signertest.Claims(time.Now())); err == nil {
				t.Error("Mint succeeded")
			}
		})
	}
}

// TestMisbehavingSign: a Sign answer naming another key, or a signature that does not
// verify under the published key, never becomes a token.
func TestMisbehavingSign(t *testing.T) {
	t.Parallel()
	for name, set := range map[string]func(*fakeKMS){
		"other key id in answer": func(f *fakeKMS) { f.signAs = "arn:aws:kms:us-east-1:123456789012:key/" + keyB },
		"signed by another key":  func(f *fakeKMS) { f.signWith = testKey(t, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeKMS(t)
			f.addKey(t, keyA, testKey(t, 0))
			set(f)
			if tok, err := signer.Mint(t.Context(), New(newClient(srv), keyA), signertest.Claims(time.Now())); err == nil {
				t.Errorf("Mint returned %s", tok)
			}
		})
	}
}

// TestErrors: throttling and KMS's transient failures are Unavailable (503, retry), other
// failures plain errors (500); a failed read is not cached.
func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		target string
		status int
		code   string
		want   problem.Code
	}{
		{"GetPublicKey", 400, "ThrottlingException", problem.Unavailable},
		{"Sign", 400, "ThrottlingException", problem.Unavailable},
		{"Sign", 500, "KMSInternalException", problem.Unavailable},
		{"Sign", 500, "DependencyTimeoutException", problem.Unavailable},
		{"GetPublicKey", 400, "AccessDeniedException", problem.Internal},
		{"GetPublicKey", 400, "NotFoundException", problem.Internal},
		{"Sign", 400, "DisabledException", problem.Internal},
		{"Sign", 400, "KMSInvalidStateException", problem.Internal},
	} {
		t.Run(tc.target+" "+tc.code, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeKMS(t)
			f.addKey(t, keyA, testKey(t, 0))
			f.fail[tc.target] = failure{tc.status, tc.code}
			s := New(newClient(srv), keyA)
			_, err := signer.Mint(t.Context(), s, signertest.Claims(time.Now()))
			if err == nil || problem.CodeOf(err) != tc.want {
				t.Fatalf("Mint: %v (code %s), want %s", err, problem.CodeOf(err), tc.want)
			}
			var pe *problem.Error
			if errors.As(err, &pe) && strings.Contains(pe.Message, "message from KMS") {
				t.Errorf("the client-safe message carries KMS's text: %q", pe.Message)
			}
			f.mu.Lock()
			delete(f.fail, tc.target)
			f.mu.Unlock()
			if _, err := signer.Mint(t.Context(), s, signertest.Claims(time.Now())); err != nil {
				t.Errorf("after KMS recovered: %v", err)
			}
		})
	}
}

// TestDoneContextSendsNothing: a canceled context fails before any request.
func TestDoneContextSendsNothing(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKMS(t)
	f.addKey(t, keyA, testKey(t, 0))
	s := New(newClient(srv), keyA)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := signer.Mint(ctx, s, signertest.Claims(time.Now())); err == nil {
		t.Error("Mint with a canceled context succeeded")
	}
	if _, err := s.PublicKeys(ctx); err == nil {
		t.Error("PublicKeys with a canceled context succeeded")
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("requests sent with a canceled context: %q", got)
	}
	// A context that ends while KMS answers slowly ends the call.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs first: Close waits for the handler
	ctx, stop := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer stop()
	start := time.Now()
	if _, err := New(newClient(slow), keyA).Current(ctx); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Current against a stalled KMS: %v after %v", err, time.Since(start))
	}
}

func TestValidateKeyRefs(t *testing.T) {
	t.Parallel()
	for _, ok := range [][]string{{keyA}, {"alias/convrs-signing"}, {"arn:aws:kms:eu-west-1:123456789012:key/" + keyA, keyB},
		{"arn:aws:kms:eu-west-1:123456789012:alias/convrs_signing-2"}} {
		if err := ValidateKeyRefs(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range [][]string{nil, {""}, {"a b"}, {keyA, keyA}, {"alias/x\n"}, {strings.Repeat("a", MaxKeyRefLen+1)},
		{"1", "2", "3", "4", "5", "6", "7", "8", "9"}, {"alias/é"}} {
		if err := ValidateKeyRefs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
		s := New(nil, "", bad...) // a nil client: no request may be sent
		if _, err := s.Current(t.Context()); err == nil {
			t.Errorf("%q: Current succeeded", bad)
		}
	}
}

func TestKeyIDFromARN(t *testing.T) {
	t.Parallel()
	for arn, want := range map[string]string{
		"arn:aws:kms:eu-west-1:123456789012:key/" + keyA:        keyA,
		"arn:aws-cn:kms:cn-north-1:123456789012:key/" + keyB:    keyB,
		"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/k-1": "k-1",
	} {
		if got, err := KeyIDFromARN(arn); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", arn, got, err, want)
		}
	}
	for _, bad := range []string{"", keyA, "alias/x", "arn:aws:kms:eu-west-1:123456789012:alias/x", "arn:aws:s3:eu-west-1:1:key/x",
		"arn:aws:kms:eu-west-1:123456789012:key/", "arn:aws:kms::123456789012:key/x", "arn:aws:kms:eu-west-1:123456789012:key/a/b",
		"arn:aws:kms:eu-west-1:123456789012:key/" + strings.Repeat("a", 65), "ARN:aws:kms:eu-west-1:123456789012:key/x"} {
		if got, err := KeyIDFromARN(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

// FuzzParsePublicKey: ParsePublicKey never panics and accepts only RSA keys within bounds,
// which marshal back to the same DER.
func FuzzParsePublicKey(f *testing.F) {
	der, _ := x509.MarshalPKIXPublicKey(&testKey(f, 0).PublicKey)
	f.Add(der)
	f.Add(der[:len(der)-1])
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ParsePublicKey(data)
		if err != nil {
			return
		}
		if err := signer.ValidateKey(signer.Key{ID: "k", Public: pub}); err != nil {
			t.Fatalf("accepted an invalid key: %v", err)
		}
		back, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("accepted DER that does not round-trip: %v", err)
		}
	})
}

// FuzzKeyIDFromARN: KeyIDFromARN never panics, and what it returns is a valid kid that
// ends the ARN.
func FuzzKeyIDFromARN(f *testing.F) {
	f.Add("arn:aws:kms:eu-west-1:123456789012:key/" + keyA)
	f.Add("arn:aws:kms:eu-west-1:123456789012:alias/x")
	f.Fuzz(func(t *testing.T, arn string) {
		id, err := KeyIDFromARN(arn)
		if err != nil {
			return
		}
		if !strings.HasSuffix(arn, ":key/"+id) {
			t.Fatalf("%q from %q", id, arn)
		}
		if err := signer.ValidateKey(signer.Key{ID: id, Public: &testKey(t, 0).PublicKey}); err != nil {
			t.Fatalf("%q from %q is not a valid kid: %v", id, arn, err)
		}
	})
}
