package kmssigner

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/convrs/admin/internal/awsfake"
)

// fakeKMS speaks enough of the KMS JSON protocol (awsJson1_1, X-Amz-Target
// TrentService.<Operation>) for Signer: Sign and GetPublicKey. It fails the test on any
// request Signer should not send: another operation, a wrong content type or signature,
// an unknown member, a Sign that is not of a 32-byte digest (MessageType DIGEST) with
// RSASSA_PKCS1_V1_5_SHA_256 on a key ARN (never an alias: the key that signs must be the
// one resolved).
type fakeKMS struct {
	t *testing.T

	mu      sync.Mutex
	keys    map[string]*fakeKey // by ARN
	aliases map[string]string   // alias name -> ARN
	bodies  [][]byte            // every request body
	targets []string            // "Target KeyId" of every request
	fail    map[string]failure  // by target ("" for every one)
	// signAs, when set, names the ARN a Sign answer claims and signWith the key that
	// signs (a misbehaving KMS).
	signAs   string
	signWith *rsa.PrivateKey
}

type fakeKey struct {
	arn       string
	private   *rsa.PrivateKey
	publicDER []byte
	spec      string
	usage     string
	algs      []string
}

type failure struct {
	status int
	code   string
}

type kmsRequest struct {
	KeyId            *string
	Message          []byte
	MessageType      *string
	SigningAlgorithm *string
	GrantTokens      []string
}

func newFakeKMS(t *testing.T) (*fakeKMS, *httptest.Server) {
	f := &fakeKMS{t: t, keys: map[string]*fakeKey{}, aliases: map[string]string{}, fail: map[string]failure{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// addKey adds an RSA signing key with id and returns its ARN.
func (f *fakeKMS) addKey(t *testing.T, id string, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:kms:us-east-1:123456789012:key/" + id
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[arn] = &fakeKey{arn: arn, private: k, publicDER: der, spec: fmt.Sprintf("RSA_%d", k.N.BitLen()), usage: "SIGN_VERIFY",
		algs: []string{"RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512"}}
	return arn
}

func (f *fakeKMS) lookup(ref string) *fakeKey {
	if a, ok := strings.CutPrefix(ref, "arn:aws:kms:us-east-1:123456789012:alias/"); ok {
		ref = "alias/" + a
	}
	if arn, ok := f.aliases[ref]; ok {
		ref = arn
	}
	if k, ok := f.keys[ref]; ok {
		return k
	}
	return f.keys["arn:aws:kms:us-east-1:123456789012:key/"+ref]
}

func (f *fakeKMS) protocolError(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.t.Errorf("fake KMS: %s", msg)
	awsfake.WriteError(w, http.StatusBadRequest, "ValidationException", msg)
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.protocolError(w, "read body: %v", err)
		return
	}
	var in kmsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	decodeErr := dec.Decode(&in)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.targets = append(f.targets, target+" "+deref(in.KeyId))
	fail, failing := f.fail[target]
	if !failing {
		fail, failing = f.fail[""]
	}
	f.mu.Unlock()
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		f.protocolError(w, "%s %s, want POST /", r.Method, r.URL.Path)
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		f.protocolError(w, "Content-Type %q", r.Header.Get("Content-Type"))
		return
	case !awsfake.Signed(r, "kms"):
		f.protocolError(w, "missing or unexpected SigV4 signature: %q", r.Header.Get("Authorization"))
		return
	case !ok || (target != "Sign" && target != "GetPublicKey"):
		f.protocolError(w, "unexpected X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
		return
	case decodeErr != nil:
		f.protocolError(w, "decode body: %v", decodeErr)
		return
	case in.KeyId == nil || *in.KeyId == "":
		f.protocolError(w, "%s without a KeyId", target)
		return
	case len(in.GrantTokens) > 0:
		f.protocolError(w, "%s with grant tokens", target)
		return
	}
	if failing {
		awsfake.WriteError(w, fail.status, fail.code, "message from KMS: "+fail.code)
		return
	}
	f.mu.Lock()
	k := f.lookup(*in.KeyId)
	f.mu.Unlock()
	if k == nil {
		awsfake.WriteError(w, http.StatusBadRequest, "NotFoundException", "Key '"+*in.KeyId+"' does not exist")
		return
	}
	switch target {
	case "GetPublicKey":
		if in.Message != nil || in.MessageType != nil || in.SigningAlgorithm != nil {
			f.protocolError(w, "GetPublicKey with Sign's members")
			return
		}
		awsfake.WriteJSON(w, map[string]any{
			"KeyId": k.arn, "PublicKey": k.publicDER, "KeySpec": k.spec, "CustomerMasterKeySpec": k.spec,
			"KeyUsage": k.usage, "SigningAlgorithms": k.algs,
		})
	case "Sign":
		f.sign(w, k, in)
	}
}

func (f *fakeKMS) sign(w http.ResponseWriter, k *fakeKey, in kmsRequest) {
	switch {
	case *in.KeyId != k.arn:
		f.protocolError(w, "Sign with %q: Signer must name the key ARN GetPublicKey resolved (%s)", *in.KeyId, k.arn)
		return
	case deref(in.MessageType) != "DIGEST":
		f.protocolError(w, "Sign with MessageType %q, want DIGEST (KMS must never see the token)", deref(in.MessageType))
		return
	case deref(in.SigningAlgorithm) != "RSASSA_PKCS1_V1_5_SHA_256":
		f.protocolError(w, "Sign with SigningAlgorithm %q", deref(in.SigningAlgorithm))
		return
	case len(in.Message) != 32:
		f.protocolError(w, "Sign of a %d-byte message, want a 32-byte SHA-256 digest", len(in.Message))
		return
	}
	f.mu.Lock()
	signAs, signWith := f.signAs, f.signWith
	f.mu.Unlock()
	key, arn := k.private, k.arn
	if signWith != nil {
		key = signWith
	}
	if signAs != "" {
		arn = signAs
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, in.Message)
	if err != nil {
		f.protocolError(w, "sign: %v", err)
		return
	}
	awsfake.WriteJSON(w, map[string]any{"KeyId": arn, "Signature": sig, "SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256"})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// requests returns the "Target KeyId" of every request so far.
func (f *fakeKMS) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.targets...)
}

// requestBodies returns every request body so far.
func (f *fakeKMS) requestBodies() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...)
}
