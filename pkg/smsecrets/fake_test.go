package smsecrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/secrets"
)

// fakeSM speaks enough of the Secrets Manager JSON protocol (awsJson1_1) for Store:
// GetSecretValue, PutSecretValue and CreateSecret. It keeps versions and their staging
// labels as the service does, and fails the test on any request Store should not send: a
// wrong target, content type or signature, a secret id outside the prefix, a Put or
// Create without a ClientRequestToken, a Get without VersionStage AWSCURRENT.
type fakeSM struct {
	t      *testing.T
	prefix string

	mu       sync.Mutex
	secrets  map[string]*fakeSecret // by name (the full secret id)
	requests []string               // "Target SecretId" of every request
	// fail, when set, answers the requests whose target it names ("" for every one)
	// with this failure instead of doing them.
	fail map[string]failure
	// beforeCreate, when set, runs (unlocked) before a CreateSecret is done: a
	// concurrent writer.
	beforeCreate func(id string)
	// getBody, when set, replaces the body of successful GetSecretValue responses.
	getBody func(valid []byte) []byte
}

type fakeSecret struct {
	versions map[string]fakeVersion // by version id (the ClientRequestToken)
	stages   map[string]string      // staging label -> version id
}

type fakeVersion struct {
	binary []byte
	str    *string
}

// failure is an error response: HTTP status and error code.
type failure struct {
	status int
	code   string
}

// request is every member of the three operations' inputs Store may send.
type request struct {
	SecretId           *string
	Name               *string
	Description        *string
	ClientRequestToken *string
	VersionStage       *string
	SecretBinary       []byte
	SecretString       *string
}

var (
	requestToken = regexp.MustCompile(`^[A-Za-z0-9-]{32,64}$`)
)

func newFakeSM(t *testing.T, prefix string) (*fakeSM, *httptest.Server) {
	f := &fakeSM{t: t, prefix: prefix, secrets: map[string]*fakeSecret{}, fail: map[string]failure{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// protocolError fails the test and answers 400 ValidationException, so that the
// failure also shows in what Store returns.
func (f *fakeSM) protocolError(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.t.Errorf("fake Secrets Manager: %s", msg)
	awsfake.WriteError(w, http.StatusBadRequest, "ValidationException", msg)
}

func (f *fakeSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.protocolError(w, "read body: %v", err)
		return
	}
	var in request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	decodeErr := dec.Decode(&in)

	id := in.SecretId
	if target == "CreateSecret" {
		id = in.Name
	}
	f.mu.Lock()
	f.requests = append(f.requests, target+" "+deref(id))
	fail, failAll := f.fail[target]
	if !failAll {
		fail, failAll = f.fail[""]
	}
	f.mu.Unlock()

	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		f.protocolError(w, "%s %s, want POST /", r.Method, r.URL.Path)
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		f.protocolError(w, "Content-Type %q", r.Header.Get("Content-Type"))
		return
	case !awsfake.Signed(r, "secretsmanager"):
		f.protocolError(w, "missing or unexpected SigV4 signature: %q", r.Header.Get("Authorization"))
		return
	case decodeErr != nil:
		f.protocolError(w, "decode body: %v", decodeErr)
		return
	case target != "GetSecretValue" && target != "PutSecretValue" && target != "CreateSecret":
		f.protocolError(w, "unexpected X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
		return
	case id == nil || !strings.HasPrefix(*id, f.prefix) || secrets.ValidateName(strings.TrimPrefix(*id, f.prefix)) != nil:
		f.protocolError(w, "%s: secret id %q is not the prefix %q and a valid name", target, deref(id), f.prefix)
		return
	}
	if failAll {
		awsfake.WriteError(w, fail.status, fail.code, "message from Secrets Manager: "+fail.code)
		return
	}
	switch target {
	case "GetSecretValue":
		f.get(w, *id, in)
	case "PutSecretValue":
		f.put(w, *id, in)
	case "CreateSecret":
		f.create(w, *id, in)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func arn(id string) string {
	return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + id + "-AbCdEf"
}

// checkValue checks the token and value members of a Put or Create.
func (f *fakeSM) checkValue(w http.ResponseWriter, target string, in request) bool {
	switch {
	case in.ClientRequestToken == nil || !requestToken.MatchString(*in.ClientRequestToken):
		f.protocolError(w, "%s without a valid ClientRequestToken: %q", target, deref(in.ClientRequestToken))
		return false
	case (in.SecretBinary == nil) == (in.SecretString == nil):
		f.protocolError(w, "%s: want exactly one of SecretBinary and SecretString", target)
		return false
	case in.SecretString != nil:
		f.protocolError(w, "%s: Store writes SecretBinary, not SecretString", target)
		return false
	case len(in.SecretBinary) == 0 || len(in.SecretBinary) > 65536:
		f.protocolError(w, "%s: SecretBinary of %d bytes, want 1-65536", target, len(in.SecretBinary))
		return false
	case in.VersionStage != nil:
		f.protocolError(w, "%s: unexpected VersionStage", target)
		return false
	}
	return true
}

func (f *fakeSM) get(w http.ResponseWriter, id string, in request) {
	if in.VersionStage == nil || *in.VersionStage != "AWSCURRENT" {
		f.protocolError(w, "GetSecretValue: VersionStage %q, want AWSCURRENT", deref(in.VersionStage))
		return
	}
	f.mu.Lock()
	sec, ok := f.secrets[id]
	var v fakeVersion
	var vid string
	if ok {
		vid = sec.stages["AWSCURRENT"]
		v = sec.versions[vid]
	}
	getBody := f.getBody
	f.mu.Unlock()
	if !ok {
		awsfake.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]any{
		"ARN": arn(id), "Name": id, "VersionId": vid, "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1.7e9,
	}
	if v.str != nil {
		out["SecretString"] = *v.str
	} else {
		out["SecretBinary"] = v.binary // base64, as encoding/json writes []byte
	}
	if getBody != nil {
		valid, _ := json.Marshal(out)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(getBody(valid))
		return
	}
	awsfake.WriteJSON(w, out)
}

// addVersion adds a version to sec as PutSecretValue does: a repeated token with the
// same value is a no-op, with another value an error; otherwise AWSCURRENT moves to the
// new version and AWSPREVIOUS to the one it left. It reports false for a token reused
// with another value. f.mu is held.
func addVersion(sec *fakeSecret, token string, value []byte) bool {
	if old, ok := sec.versions[token]; ok {
		return bytes.Equal(old.binary, value) && old.str == nil
	}
	sec.versions[token] = fakeVersion{binary: bytes.Clone(value)}
	if cur, ok := sec.stages["AWSCURRENT"]; ok {
		sec.stages["AWSPREVIOUS"] = cur
	}
	sec.stages["AWSCURRENT"] = token
	return true
}

func (f *fakeSM) put(w http.ResponseWriter, id string, in request) {
	if !f.checkValue(w, "PutSecretValue", in) {
		return
	}
	f.mu.Lock()
	sec, ok := f.secrets[id]
	added := ok && addVersion(sec, *in.ClientRequestToken, in.SecretBinary)
	f.mu.Unlock()
	switch {
	case !ok:
		awsfake.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	case !added:
		awsfake.WriteError(w, http.StatusBadRequest, "ResourceExistsException", "A resource with the ID you requested already exists.")
	default:
		awsfake.WriteJSON(w, map[string]any{"ARN": arn(id), "Name": id, "VersionId": *in.ClientRequestToken, "VersionStages": []string{"AWSCURRENT"}})
	}
}

func (f *fakeSM) create(w http.ResponseWriter, id string, in request) {
	if !f.checkValue(w, "CreateSecret", in) {
		return
	}
	f.mu.Lock()
	before := f.beforeCreate
	f.mu.Unlock()
	if before != nil {
		before(id)
	}
	f.mu.Lock()
	_, exists := f.secrets[id]
	if !exists {
		sec := &fakeSecret{versions: map[string]fakeVersion{}, stages: map[string]string{}}
		addVersion(sec, *in.ClientRequestToken, in.SecretBinary)
		f.secrets[id] = sec
	}
	f.mu.Unlock()
	if exists {
		awsfake.WriteError(w, http.StatusBadRequest, "ResourceExistsException", "The operation failed because the secret "+id+" already exists.")
		return
	}
	awsfake.WriteJSON(w, map[string]any{"ARN": arn(id), "Name": id, "VersionId": *in.ClientRequestToken})
}

// seed stores a secret directly, as an operator would.
func (f *fakeSM) seed(id string, v fakeVersion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[id] = &fakeSecret{
		versions: map[string]fakeVersion{"seeded-version-00000000000000000000": v},
		stages:   map[string]string{"AWSCURRENT": "seeded-version-00000000000000000000"},
	}
}

// stage returns the value under a staging label of secret id.
func (f *fakeSM) stage(id, label string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sec, ok := f.secrets[id]
	if !ok {
		return nil, false
	}
	vid, ok := sec.stages[label]
	if !ok {
		return nil, false
	}
	return sec.versions[vid].binary, true
}

// setFail answers requests for target ("" for all) with fail, or stops when fail is the
// zero failure.
func (f *fakeSM) setFail(target string, fail failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fail == (failure{}) {
		delete(f.fail, target)
		return
	}
	f.fail[target] = fail
}

// takeRequests returns and forgets the requests received so far.
func (f *fakeSM) takeRequests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}
