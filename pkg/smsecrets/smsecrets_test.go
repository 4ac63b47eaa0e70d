package smsecrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/secrets"
	"github.com/convrs/admin/pkg/secrets/secretstest"
)

const prefix = "convrs/webchat/"

// newClient returns the real SDK client pointed at srv, with static credentials, two
// attempts per operation and no waiting between them.
func newClient(srv *httptest.Server, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	opts := secretsmanager.Options{
		Region:       awsfake.Region,
		Credentials:  awsfake.Credentials,
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer:      awsfake.Retryer(2),
	}
	return secretsmanager.New(opts, optFns...)
}

func TestContract(t *testing.T) {
	secretstest.Run(t, func(t *testing.T) secrets.Store {
		_, srv := newFakeSM(t, prefix)
		return New(newClient(srv), prefix)
	})
}

func TestPutCreatesThenAddsVersions(t *testing.T) {
	f, srv := newFakeSM(t, prefix)
	s := New(newClient(srv), prefix)
	id := prefix + "orgs/acme/webchat"

	if err := s.Put(t.Context(), "orgs/acme/webchat", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if got, want := f.takeRequests(), []string{"PutSecretValue " + id, "CreateSecret " + id}; !slices.Equal(got, want) {
		t.Errorf("first Put sent %q, want %q", got, want)
	}
	if err := s.Put(t.Context(), "orgs/acme/webchat", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, want := f.takeRequests(), []string{"PutSecretValue " + id}; !slices.Equal(got, want) {
		t.Errorf("second Put sent %q, want %q", got, want)
	}
	for label, want := range map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"} {
		if got, _ := f.stage(id, label); string(got) != want {
			t.Errorf("%s = %q, want %q", label, got, want)
		}
	}
	v, err := s.Get(t.Context(), "orgs/acme/webchat")
	if err != nil || string(v) != "v2" {
		t.Errorf("Get = %q, %v; want v2", v, err)
	}
	if got, want := f.takeRequests(), []string{"GetSecretValue " + id}; !slices.Equal(got, want) {
		t.Errorf("Get sent %q, want %q", got, want)
	}
}

// TestPutLosesCreateRace: another writer creates the secret between our PutSecretValue
// (not found) and our CreateSecret (already exists); Put adds its value as a version.
func TestPutLosesCreateRace(t *testing.T) {
	f, srv := newFakeSM(t, prefix)
	s := New(newClient(srv), prefix)
	id := prefix + "race"
	f.beforeCreate = func(string) { f.seed(id, fakeVersion{binary: []byte("theirs")}) }

	if err := s.Put(t.Context(), "race", []byte("ours")); err != nil {
		t.Fatal(err)
	}
	want := []string{"PutSecretValue " + id, "CreateSecret " + id, "PutSecretValue " + id}
	if got := f.takeRequests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if got, _ := f.stage(id, "AWSCURRENT"); string(got) != "ours" {
		t.Errorf("AWSCURRENT = %q, want ours", got)
	}
	if got, _ := f.stage(id, "AWSPREVIOUS"); string(got) != "theirs" {
		t.Errorf("AWSPREVIOUS = %q, want theirs", got)
	}
}

func TestGetSecretString(t *testing.T) {
	f, srv := newFakeSM(t, prefix)
	s := New(newClient(srv), prefix)
	str := `{"current":{"kid":"k1"}}`
	f.seed(prefix+"by-hand", fakeVersion{str: &str})
	v, err := s.Get(t.Context(), "by-hand")
	if err != nil || string(v) != str {
		t.Errorf("Get of a SecretString secret = %q, %v; want %q", v, err, str)
	}
	// A Put over it writes SecretBinary (the fake refuses SecretString).
	if err := s.Put(t.Context(), "by-hand", []byte("binary now")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(t.Context(), "by-hand"); err != nil || string(v) != "binary now" {
		t.Errorf("Get after Put = %q, %v", v, err)
	}
}

func TestRefusedBeforeAnyRequest(t *testing.T) {
	f, srv := newFakeSM(t, prefix)
	s := New(newClient(srv), prefix)
	_ = s.Put(t.Context(), "../x", []byte("v"))
	_ = s.Put(t.Context(), "/x", []byte("v"))
	_, _ = s.Get(t.Context(), "a b")
	_, _ = s.Get(t.Context(), "arn:aws:secretsmanager:us-east-1:123456789012:secret:x")
	_ = s.Put(t.Context(), "ok", nil)
	_ = s.Put(t.Context(), "ok", make([]byte, secrets.MaxValueLen+1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_ = s.Put(ctx, "ok", []byte("v"))
	_, _ = s.Get(ctx, "ok")
	if got := f.takeRequests(); len(got) != 0 {
		t.Errorf("requests sent for refused calls: %q", got)
	}
}

func TestPrefix(t *testing.T) {
	for _, p := range []string{"convrs/webchat/", "convrs-webchat-", "a", "prod/convrs/webchat/", "x=y+z@example.com/", strings.Repeat("p", MaxPrefixLen)} {
		if err := ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "/convrs/", "convrs/../x/", "convrs..", "with space/", "arn:aws:x", "ü/", strings.Repeat("p", MaxPrefixLen+1)} {
		err := ValidatePrefix(p)
		if err == nil || problem.CodeOf(err) != problem.Internal {
			t.Errorf("ValidatePrefix(%q) = %v, want a plain error", p, err)
		}
		f, srv := newFakeSM(t, prefix)
		s := New(newClient(srv), p)
		if err := s.Put(t.Context(), "ok", []byte("v")); err == nil || problem.CodeOf(err) != problem.Internal {
			t.Errorf("Put with prefix %q = %v, want a plain error", p, err)
		}
		if _, err := s.Get(t.Context(), "ok"); err == nil || problem.CodeOf(err) != problem.Internal {
			t.Errorf("Get with prefix %q = %v, want a plain error", p, err)
		}
		if got := f.takeRequests(); len(got) != 0 {
			t.Errorf("prefix %q: requests sent: %q", p, got)
		}
	}
}

func TestNewFromConfig(t *testing.T) {
	f, srv := newFakeSM(t, "convrs/test/")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // not used: the service's variable wins
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	s := NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key", ""),
	}, "convrs/test/")
	if err := s.Put(t.Context(), "org", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(t.Context(), "org"); err != nil || string(v) != "v" {
		t.Errorf("Get = %q, %v", v, err)
	}
	if got := f.takeRequests(); len(got) != 3 {
		t.Errorf("requests %q, want Put, Create, Get", got)
	}
	// The client logs nothing unless asked to: ClientLogMode's zero value logs nothing.
	if mode := s.client.(*secretsmanager.Client).Options().ClientLogMode; mode != 0 {
		t.Errorf("ClientLogMode = %v, want 0 (no logging)", mode)
	}
}

// TestErrors drives Store with the real client (two attempts per operation) against an
// endpoint that fails: throttling and transient failures are Unavailable with
// RetryAfter 1s, which the HTTP layer answers 503 with Retry-After; anything else stays
// a plain error (500 without its text).
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fail     failure
		want     problem.Code
		attempts int // requests per operation
	}{
		{failure{http.StatusBadRequest, "ThrottlingException"}, problem.Unavailable, 2},
		{failure{http.StatusTooManyRequests, "TooManyRequestsException"}, problem.Unavailable, 2},
		{failure{http.StatusBadRequest, "LimitExceededException"}, problem.Unavailable, 2},
		{failure{http.StatusInternalServerError, "InternalServiceError"}, problem.Unavailable, 2},
		{failure{http.StatusServiceUnavailable, "ServiceUnavailableException"}, problem.Unavailable, 2},
		{failure{http.StatusBadRequest, "AccessDeniedException"}, problem.Internal, 1},
		{failure{http.StatusBadRequest, "InvalidRequestException"}, problem.Internal, 1}, // e.g. scheduled for deletion
		{failure{http.StatusBadRequest, "DecryptionFailure"}, problem.Internal, 1},
		{failure{http.StatusBadRequest, "ValidationException"}, problem.Internal, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.fail.status, tt.fail.code), func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeSM(t, prefix)
			f.seed(prefix+"k", fakeVersion{binary: []byte("stored")})
			s := New(newClient(srv), prefix)
			f.setFail("", tt.fail)

			check := func(op string, err error) {
				t.Helper()
				var pe *problem.Error
				switch {
				case tt.want == problem.Unavailable:
					if !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter != time.Second {
						t.Errorf("%s: got %#v, want Unavailable with RetryAfter 1s", op, err)
						return
					}
					if pe.Err == nil || !strings.Contains(pe.Err.Error(), `smsecrets: `+op+` "k"`) || !strings.Contains(pe.Err.Error(), tt.fail.code) {
						t.Errorf("%s: cause %v does not name the operation and secret and keep the AWS error", op, pe.Err)
					}
					if strings.Contains(pe.Message, tt.fail.code) || strings.Contains(pe.Message, "Secrets Manager") {
						t.Errorf("%s: client message %q leaks the AWS error", op, pe.Message)
					}
				case err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), `smsecrets: `+op+` "k"`):
					t.Errorf("%s: got %#v, want a plain error naming the operation and secret", op, err)
				}
				rec := httptest.NewRecorder()
				httpx.WriteError(rec, httptest.NewRequest(http.MethodPost, "/v1/orgs/acme/webchat/rotate", nil), err)
				wantStatus, wantRetry := http.StatusInternalServerError, ""
				if tt.want == problem.Unavailable {
					wantStatus, wantRetry = http.StatusServiceUnavailable, "1"
				}
				if rec.Code != wantStatus || rec.Header().Get("Retry-After") != wantRetry || strings.Contains(rec.Body.String(), tt.fail.code) {
					t.Errorf("%s over HTTP: got %d, Retry-After %q, body %s; want %d, %q, no AWS error text", op, rec.Code, rec.Header().Get("Retry-After"), rec.Body, wantStatus, wantRetry)
				}
			}
			_, err := s.Get(t.Context(), "k")
			check("get", err)
			check("put", s.Put(t.Context(), "k", []byte("v")))

			var want []string
			for _, target := range []string{"GetSecretValue", "PutSecretValue"} {
				for range tt.attempts {
					want = append(want, target+" "+prefix+"k")
				}
			}
			if got := f.takeRequests(); !slices.Equal(got, want) {
				t.Errorf("requests: got %q, want %q", got, want)
			}
		})
	}
}

// TestCreateErrors: a failure of the CreateSecret (or the second PutSecretValue) that
// follows a not-found PutSecretValue is classified like any other.
func TestCreateErrors(t *testing.T) {
	f, srv := newFakeSM(t, prefix)
	s := New(newClient(srv), prefix)
	f.setFail("CreateSecret", failure{http.StatusBadRequest, "ThrottlingException"})
	if err := s.Put(t.Context(), "new", []byte("v")); !problem.Is(err, problem.Unavailable) {
		t.Errorf("Put with CreateSecret throttled = %v, want unavailable", err)
	}
	f.setFail("CreateSecret", failure{http.StatusBadRequest, "InvalidRequestException"})
	if err := s.Put(t.Context(), "new", []byte("v")); err == nil || problem.CodeOf(err) != problem.Internal {
		t.Errorf("Put with CreateSecret refused = %v, want a plain error", err)
	}
	f.setFail("CreateSecret", failure{})
	f.beforeCreate = func(id string) {
		f.seed(id, fakeVersion{binary: []byte("theirs")})
		f.setFail("PutSecretValue", failure{http.StatusBadRequest, "AccessDeniedException"})
	}
	if err := s.Put(t.Context(), "new", []byte("v")); err == nil || problem.CodeOf(err) != problem.Internal {
		t.Errorf("Put with the second PutSecretValue refused = %v, want a plain error", err)
	}
}

func TestStoredValueOutOfBounds(t *testing.T) {
	f, srv := newFakeSM(t, prefix)
	s := New(newClient(srv), prefix)
	empty := ""
	f.seed(prefix+"empty", fakeVersion{str: &empty})
	f.seed(prefix+"huge", fakeVersion{binary: make([]byte, secrets.MaxValueLen+1)})
	for _, n := range []string{"empty", "huge"} {
		v, err := s.Get(t.Context(), n)
		if err == nil || problem.CodeOf(err) != problem.Internal || v != nil {
			t.Errorf("Get(%q) = %d bytes, %v; want a plain error", n, len(v), err)
		}
	}
}

// fakeAPI answers every call with err (and Get with out).
type fakeAPI struct {
	err error
	out *secretsmanager.GetSecretValueOutput
}

func (a fakeAPI) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return a.out, a.err
}

func (a fakeAPI) PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return nil, a.err
}

func (a fakeAPI) CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return nil, a.err
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		get, put problem.Code
	}{
		{"typed ResourceNotFoundException", &types.ResourceNotFoundException{}, problem.NotFound, problem.Internal},
		{"generic ResourceNotFoundException", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, problem.NotFound, problem.Internal},
		{"ThrottlingException", &smithy.GenericAPIError{Code: "ThrottlingException"}, problem.Unavailable, problem.Unavailable},
		{"typed InternalServiceError", &types.InternalServiceError{}, problem.Unavailable, problem.Unavailable},
		{"AccessDeniedException", &smithy.GenericAPIError{Code: "AccessDeniedException"}, problem.Internal, problem.Internal},
		{"connection reset", errors.New("read: connection reset by peer"), problem.Unavailable, problem.Unavailable},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), problem.Internal, problem.Internal},
		{"plain", errors.New("boom"), problem.Internal, problem.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(fakeAPI{err: tt.err}, prefix)
			_, err := s.Get(t.Context(), "k")
			if err == nil || problem.CodeOf(err) != tt.get || !errors.Is(err, tt.err) {
				t.Errorf("Get = %v, want %s wrapping the cause", err, tt.get)
			}
			// Put meets the error at every step (a not-found Put is followed by a
			// Create that fails the same way, which is not "not found").
			err = s.Put(t.Context(), "k", []byte("v"))
			if err == nil || problem.CodeOf(err) != tt.put || !errors.Is(err, tt.err) {
				t.Errorf("Put = %v, want %s wrapping the cause", err, tt.put)
			}
		})
	}
	// A response with neither SecretBinary nor SecretString.
	s := New(fakeAPI{out: &secretsmanager.GetSecretValueOutput{}}, prefix)
	if v, err := s.Get(t.Context(), "k"); err == nil || problem.CodeOf(err) != problem.Internal || v != nil {
		t.Errorf("Get of a version without a value = %q, %v; want a plain error", v, err)
	}
}

// syncBuffer is a bytes.Buffer safe for the SDK's and slog's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// leaks returns the forms of value found in text: the value itself, its base64 (as it
// travels in SecretBinary), a stretch of that base64, and the random key inside it.
func leaks(text string, value []byte, key string) []string {
	b64 := base64.StdEncoding.EncodeToString(value)
	var found []string
	for form, s := range map[string]string{
		"value": string(value), "base64": b64, "base64 stretch": b64[len(b64)/2 : len(b64)/2+16],
		"key": key, "base64 of key": base64.StdEncoding.EncodeToString([]byte(key)),
	} {
		if strings.Contains(text, s) {
			found = append(found, form)
		}
	}
	return found
}

// TestNeverLogsValue captures every log (the SDK client's logger with every log mode
// on, including request and response bodies, and slog's default logger, which the
// standard log package also writes to) while Put and Get succeed and fail, and checks
// that the value (raw, base64, or the key inside it) appears in no log and no error.
// This test changes slog's default logger, so it does not run in parallel.
func TestNeverLogsValue(t *testing.T) {
	key := rand.Text()
	value := fmt.Appendf(nil, `{"current":{"kid":"k1","secret":%q,"createdAt":"2025-01-02T03:04:05Z"}}`, key)

	var sdkLog, appLog syncBuffer
	logger := logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		fmt.Fprintf(&sdkLog, "%s "+format+"\n", append([]any{c}, v...)...)
	})
	allModes := aws.LogSigning | aws.LogRetries | aws.LogRequest | aws.LogRequestWithBody |
		aws.LogResponse | aws.LogResponseWithBody | aws.LogDeprecatedUsage
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&appLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })

	f, srv := newFakeSM(t, prefix)
	client := newClient(srv, func(o *secretsmanager.Options) {
		o.Logger = logger
		o.ClientLogMode = allModes
	})
	s := New(client, prefix)

	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
			slog.Error("secret store call failed", "err", err)
		}
	}
	// Success: create, replace, read.
	if err := s.Put(t.Context(), "orgs/acme/webchat", value); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "orgs/acme/webchat", value); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), "orgs/acme/webchat")
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	_, err = s.Get(t.Context(), "orgs/other/webchat")
	record(err)
	// Failures: throttling, a 500, access denied, a refused value, each for Get and Put.
	for _, fail := range []failure{
		{http.StatusBadRequest, "ThrottlingException"},
		{http.StatusInternalServerError, "InternalServiceError"},
		{http.StatusBadRequest, "AccessDeniedException"},
	} {
		f.setFail("", fail)
		_, err := s.Get(t.Context(), "orgs/acme/webchat")
		record(err)
		record(s.Put(t.Context(), "orgs/acme/webchat", value))
		record(s.Put(t.Context(), "orgs/new/webchat", value))
	}
	f.setFail("", failure{})
	record(s.Put(t.Context(), "orgs/acme/webchat", append(bytes.Repeat(value, secrets.MaxValueLen/len(value)), value...)))
	// A response body cut short in the middle of the value.
	f.getBody = func(valid []byte) []byte { return valid[:bytes.Index(valid, []byte(`"SecretBinary"`))+40] }
	_, err = s.Get(t.Context(), "orgs/acme/webchat")
	if err == nil {
		t.Error("Get of a truncated response succeeded")
	}
	record(err)

	if len(errs) < 10 {
		t.Fatalf("only %d errors recorded", len(errs))
	}
	var texts []string
	for _, err := range errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		rec := httptest.NewRecorder()
		httpx.WriteError(rec, httptest.NewRequest(http.MethodGet, "/v1/orgs/acme/webchat", nil), err)
		texts = append(texts, rec.Body.String())
	}
	for name, text := range map[string]string{"SDK log": sdkLog.String(), "slog": appLog.String(), "errors": strings.Join(texts, "\n")} {
		if found := leaks(text, value, key); len(found) > 0 {
			t.Errorf("%s holds the secret (%v)", name, found)
		}
	}
	// The capture works: the SDK logged requests, responses and retries, and slog the errors.
	for _, want := range []string{"Request\nPOST / HTTP/1.1", "Response\nHTTP/1.1 200 OK", "X-Amz-Target: secretsmanager.PutSecretValue", "retrying request"} {
		if !strings.Contains(sdkLog.String(), want) {
			t.Errorf("SDK log lacks %q; the capture is broken:\n%.2000s", want, sdkLog.String())
		}
	}
	if !strings.Contains(appLog.String(), "ThrottlingException") {
		t.Errorf("slog capture lacks the logged errors:\n%.2000s", appLog.String())
	}

	// Control: the same client called directly, with body logging on, does log the value
	// in base64, so the per-call option is what keeps it out.
	_, err = client.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(prefix + "orgs/acme/webchat"), SecretBinary: value,
	})
	if err != nil {
		t.Fatal(err)
	}
	if found := leaks(sdkLog.String(), value, key); !slices.Contains(found, "base64") {
		t.Errorf("a direct call with body logging on did not log the value (found %v): the test cannot see a leak", found)
	}
}
