package awserr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
)

// opErr wraps err the way every SDK operation returns its errors.
func opErr(err error) error {
	return &smithy.OperationError{ServiceID: "Test", OperationName: "Op", Err: err}
}

// apiErr is a service error as the SDK returns it: the API error inside the HTTP response
// error inside the operation error.
func apiErr(status int, code string) error {
	return opErr(respErr(status, &smithy.GenericAPIError{Code: code, Message: "message from AWS: " + code}))
}

func respErr(status int, err error) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      err,
		},
		RequestID: "req-1",
	}
}

// modeledErr is a modeled (typed) service error, like types.ThrottlingException.
type modeledErr struct{ code string }

func (e *modeledErr) Error() string                 { return e.code + ": modeled" }
func (e *modeledErr) ErrorCode() string             { return e.code }
func (e *modeledErr) ErrorMessage() string          { return "modeled" }
func (e *modeledErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// gaveUp is the error the SDK returns after its retries.
func gaveUp(err error) error {
	return opErr(&retry.MaxAttemptsError{Attempt: 3, Err: err})
}

func sendErr(err error) error {
	return opErr(&smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://dynamodb.us-east-1.amazonaws.com/", Err: err}})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want awserr.Class
	}{
		{"nil", nil, awserr.None},

		// Throttling, by code (the SDK's list) or by status.
		{"DynamoDB ProvisionedThroughputExceededException", apiErr(400, "ProvisionedThroughputExceededException"), awserr.Throttled},
		{"DynamoDB RequestLimitExceeded", apiErr(400, "RequestLimitExceeded"), awserr.Throttled},
		{"DynamoDB ThrottlingException", apiErr(400, "ThrottlingException"), awserr.Throttled},
		{"DynamoDB TransactionInProgressException", apiErr(400, "TransactionInProgressException"), awserr.Throttled},
		{"S3 SlowDown 503", apiErr(503, "SlowDown"), awserr.Throttled},
		{"TooManyRequestsException", apiErr(429, "TooManyRequestsException"), awserr.Throttled},
		{"query Throttling", apiErr(400, "Throttling"), awserr.Throttled},
		{"modeled throttling error", opErr(respErr(400, &modeledErr{"ThrottlingException"})), awserr.Throttled},
		{"unmodeled 429", apiErr(429, "SomethingNew"), awserr.Throttled},
		{"modeled 429", opErr(respErr(429, &modeledErr{"SomethingNew"})), awserr.Throttled},
		{"429 without API error", opErr(respErr(429, errors.New("no body"))), awserr.Throttled},
		{"throttled after the SDK's retries", gaveUp(respErr(400, &smithy.GenericAPIError{Code: "ThrottlingException"})), awserr.Throttled},
		{"throttled, retry quota spent", opErr(errors.Join(respErr(400, &smithy.GenericAPIError{Code: "SlowDown"}),
			fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Available: 1, Requested: 5}))), awserr.Throttled},
		{"throttle code without response", &smithy.GenericAPIError{Code: "ThrottlingException"}, awserr.Throttled},

		// Transient: 5xx, the SDK's retryable codes, our contention and server codes.
		{"500 InternalServerError", apiErr(500, "InternalServerError"), awserr.Transient},
		{"500 unknown code", apiErr(500, "UnknownError"), awserr.Transient},
		{"502", opErr(respErr(502, errors.New("bad gateway"))), awserr.Transient},
		{"503 ServiceUnavailable", apiErr(503, "ServiceUnavailable"), awserr.Transient},
		{"504", opErr(respErr(504, errors.New("gateway timeout"))), awserr.Transient},
		{"503 after the SDK's retries", gaveUp(respErr(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"})), awserr.Transient},
		{"RequestTimeout", apiErr(400, "RequestTimeout"), awserr.Transient},
		{"RequestTimeoutException", apiErr(400, "RequestTimeoutException"), awserr.Transient},
		{"TransactionConflictException", apiErr(400, "TransactionConflictException"), awserr.Transient},
		{"InternalServerError without response", &smithy.GenericAPIError{Code: "InternalServerError"}, awserr.Transient},
		{"KMS DependencyTimeoutException", &smithy.GenericAPIError{Code: "DependencyTimeoutException"}, awserr.Transient},
		{"Secrets Manager InternalServiceError", &smithy.GenericAPIError{Code: "InternalServiceError"}, awserr.Transient},

		// Transient: the transport failed.
		{"connection reset", sendErr(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), awserr.Transient},
		{"connection refused", sendErr(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), awserr.Transient},
		{"connection reset after the SDK's retries", opErr(&retry.MaxAttemptsError{Attempt: 3,
			Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://x/", Err: io.ErrUnexpectedEOF}}}), awserr.Transient},
		{"bare connection reset", errors.New("read tcp 10.0.0.1:1234->10.0.0.2:443: read: connection reset by peer"), awserr.Transient},
		{"response body read timeout", opErr(&awshttp.ResponseTimeoutError{TimeoutDur: time.Second}), awserr.Transient},
		{"temporary DNS failure", sendErr(&net.DNSError{Err: "server misbehaving", Name: "dynamodb", IsTemporary: true}), awserr.Transient},

		// None: the request is wrong, we are misconfigured, or this is a bug.
		{"400 ValidationException", apiErr(400, "ValidationException"), awserr.None},
		{"400 ConditionalCheckFailedException", apiErr(400, "ConditionalCheckFailedException"), awserr.None},
		{"400 TransactionCanceledException", apiErr(400, "TransactionCanceledException"), awserr.None},
		{"403 AccessDenied", apiErr(403, "AccessDenied"), awserr.None},
		{"404 ResourceNotFoundException", apiErr(404, "ResourceNotFoundException"), awserr.None},
		{"404 NoSuchBucket", apiErr(404, "NoSuchBucket"), awserr.None},
		{"501 NotImplemented", apiErr(501, "NotImplemented"), awserr.None},
		{"deserialization", opErr(&smithy.DeserializationError{Err: errors.New("bad json")}), awserr.None},
		{"unknown host", sendErr(&net.DNSError{Err: "no such host", Name: "dynamodb.nowhere", IsNotFound: true}), awserr.None},
		{"plain error", errors.New("boom"), awserr.None},

		// None: the caller's context ended; that is not the dependency's fault.
		{"context.Canceled", context.Canceled, awserr.None},
		{"context.DeadlineExceeded", context.DeadlineExceeded, awserr.None},
		{"wrapped deadline", fmt.Errorf("dynamo: get: %w", context.DeadlineExceeded), awserr.None},
		{"SDK canceled (smithy)", opErr(&smithy.CanceledError{Err: context.DeadlineExceeded}), awserr.None},
		{"SDK canceled during backoff", opErr(&aws.RequestCanceledError{Err: context.Canceled}), awserr.None},
		{"transport saw the canceled context", sendErr(context.Canceled), awserr.None},
		{"transport saw the context deadline", sendErr(context.DeadlineExceeded), awserr.None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := awserr.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v): got %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// Every code the SDK retries as throttling is Throttled, and every code it retries as
// retryable is at least Transient: the classification follows the SDK's own lists.
func TestClassifyFollowsSDKLists(t *testing.T) {
	t.Parallel()
	for code := range retry.DefaultThrottleErrorCodes {
		if got := awserr.Classify(apiErr(400, code)); got != awserr.Throttled {
			t.Errorf("SDK throttle code %s: got %v, want %v", code, got, awserr.Throttled)
		}
		if got := awserr.ClassifyCode(code); got != awserr.Throttled {
			t.Errorf("ClassifyCode(%s): got %v, want %v", code, got, awserr.Throttled)
		}
	}
	for code := range retry.DefaultRetryableErrorCodes {
		if got := awserr.Classify(apiErr(400, code)); got != awserr.Transient {
			t.Errorf("SDK retryable code %s: got %v, want %v", code, got, awserr.Transient)
		}
	}
	for status := range retry.DefaultRetryableHTTPStatusCodes {
		if got := awserr.Classify(apiErr(status, "UnknownError")); got != awserr.Transient {
			t.Errorf("SDK retryable status %d: got %v, want %v", status, got, awserr.Transient)
		}
	}
}

func TestClassifyCode(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]awserr.Class{
		// DynamoDB transaction cancellation reasons.
		"ThrottlingError":                 awserr.Throttled,
		"ProvisionedThroughputExceeded":   awserr.Throttled,
		"TransactionConflict":             awserr.Transient,
		"ConditionalCheckFailed":          awserr.None,
		"ItemCollectionSizeLimitExceeded": awserr.None,
		"ValidationError":                 awserr.None,
		"None":                            awserr.None,
		"":                                awserr.None,
		// API error codes of the services we use.
		"ProvisionedThroughputExceededException": awserr.Throttled,
		"RequestLimitExceeded":                   awserr.Throttled,
		"SlowDown":                               awserr.Throttled,
		"ThrottlingException":                    awserr.Throttled,
		"TooManyRequestsException":               awserr.Throttled,
		"TransactionConflictException":           awserr.Transient,
		"InternalError":                          awserr.Transient,
		"KMSInternalException":                   awserr.Transient,
		"AccessDeniedException":                  awserr.None,
	} {
		if got := awserr.ClassifyCode(code); got != want {
			t.Errorf("ClassifyCode(%q): got %v, want %v", code, got, want)
		}
	}
}

// A timeout of the transport (here net/http's response header timeout) matches
// context.DeadlineExceeded with errors.Is, yet it is the dependency that did not answer:
// Transient. Only the context's own deadline is the caller giving up.
func TestTransportTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 20 * time.Millisecond}}
	t.Cleanup(client.CloseIdleConnections)

	resp, err := client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded, want a response header timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("transport timeout %v does not match context.DeadlineExceeded; the premise of this test changed", err)
	}
	if got := awserr.Classify(sendErr(err)); got != awserr.Transient {
		t.Errorf("Classify(transport timeout %v): got %v, want %v", err, got, awserr.Transient)
	}
	if got := awserr.Classify(err); got != awserr.Transient {
		t.Errorf("Classify(bare transport timeout %v): got %v, want %v", err, got, awserr.Transient)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err = http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded, want the context's deadline")
	}
	if got := awserr.Classify(sendErr(err)); got != awserr.None {
		t.Errorf("Classify(context deadline %v): got %v, want %v", err, got, awserr.None)
	}
}

func TestClassString(t *testing.T) {
	t.Parallel()
	for c, want := range map[awserr.Class]string{awserr.None: "none", awserr.Transient: "transient", awserr.Throttled: "throttled", 7: "awserr.Class(7)"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String(): got %q, want %q", int(c), got, want)
		}
	}
	if !(awserr.None < awserr.Transient && awserr.Transient < awserr.Throttled) {
		t.Error("classes are not ordered None < Transient < Throttled")
	}
}

// serve answers err through the real HTTP error translator.
func serve(err error) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	httpx.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
	return rec
}

func TestProblem(t *testing.T) {
	t.Parallel()
	const op, msg = "dynamo: get acme/general", "the settings store is busy, please retry"
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"throttled", apiErr(400, "ProvisionedThroughputExceededException")},
		{"transient", gaveUp(respErr(500, &smithy.GenericAPIError{Code: "InternalServerError", Message: "message from AWS"}))},
		{"S3 SlowDown", apiErr(503, "SlowDown")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := awserr.Problem(op, tt.err, msg)
			var pe *problem.Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *problem.Error", err, err)
			}
			if pe.Code != problem.Unavailable || pe.RetryAfter != awserr.RetryAfter || pe.Message != msg {
				t.Errorf("got code %s, RetryAfter %v, message %q; want %s, %v, %q", pe.Code, pe.RetryAfter, pe.Message, problem.Unavailable, awserr.RetryAfter, msg)
			}
			if !errors.Is(err, tt.err) || pe.Err == nil || !strings.HasPrefix(pe.Err.Error(), op+": ") {
				t.Errorf("cause %v: want %q followed by the SDK error, kept for the logs", pe.Err, op)
			}

			rec := serve(err)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
				t.Errorf("HTTP: got status %d, Retry-After %q; want 503, 1", rec.Code, rec.Header().Get("Retry-After"))
			}
			var body httpx.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Detail != msg || strings.Contains(rec.Body.String(), "AWS") || strings.Contains(rec.Body.String(), "acme") {
				t.Errorf("HTTP body %s: want detail %q and no AWS error text", rec.Body, msg)
			}
		})
	}
}

func TestProblemPlain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"validation", apiErr(400, "ValidationException")},
		{"access denied", apiErr(403, "AccessDeniedException")},
		{"canceled", opErr(&smithy.CanceledError{Err: context.Canceled})},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := awserr.Problem("s3blob: get \"k\"", tt.err, "storage is busy, please retry")
			var pe *problem.Error
			if err == nil || errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a plain error", err, err)
			}
			if !errors.Is(err, tt.err) || !strings.HasPrefix(err.Error(), `s3blob: get "k": `) {
				t.Errorf("got %q, want the operation followed by the wrapped cause", err)
			}
			rec := serve(err)
			// httpx answers a request whose deadline ran out with a 503 and Retry-After
			// (time, not a bug); the cancelled one and the rest are 500s.
			wantStatus, wantRetry := http.StatusInternalServerError, ""
			if tt.name == "deadline" {
				wantStatus, wantRetry = http.StatusServiceUnavailable, "1"
			}
			if rec.Code != wantStatus || rec.Header().Get("Retry-After") != wantRetry || strings.Contains(rec.Body.String(), "message from AWS") {
				t.Errorf("HTTP: got status %d, Retry-After %q, body %s; want %d, Retry-After %q, without the error text", rec.Code, rec.Header().Get("Retry-After"), rec.Body, wantStatus, wantRetry)
			}
		})
	}
}

func TestClassProblem(t *testing.T) {
	t.Parallel()
	if err := awserr.Problem("op", nil, "m"); err != nil {
		t.Errorf("Problem of nil: got %v, want nil", err)
	}
	if err := awserr.Throttled.Problem("op", nil, "m"); err != nil {
		t.Errorf("Throttled.Problem of nil: got %v, want nil", err)
	}
	// The adapter's own classification decides, with the default message when it has none.
	cause := errors.New("TransactionCanceledException: reasons [ThrottlingError]")
	var pe *problem.Error
	if err := awserr.Throttled.Problem("op", cause, ""); !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.Message != awserr.DefaultMessage || !errors.Is(err, cause) {
		t.Errorf("Throttled.Problem: got %v, want Unavailable with the default message wrapping the cause", err)
	}
	// A context that ended is never Unavailable, whatever the adapter says.
	if err := awserr.Transient.Problem("op", context.Canceled, ""); errors.As(err, &pe) || !errors.Is(err, context.Canceled) {
		t.Errorf("Transient.Problem(context.Canceled): got %v, want the plain wrapped context error", err)
	}
}
