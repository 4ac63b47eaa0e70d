package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// The tests in this file drive Store with the real SDK client (signing, the JSON 1.0
// protocol, error deserialization and the SDK's retries) against an httptest server that
// speaks the DynamoDB protocol and fails the way DynamoDB does.

const (
	targetGet      = "DynamoDB_20120810.GetItem"
	targetTransact = "DynamoDB_20120810.TransactWriteItems"
	targetQuery    = "DynamoDB_20120810.Query"
)

// reply is one answer of the fake endpoint. A zero status drops the connection without
// answering; block waits until the client gives up.
type reply struct {
	status int
	body   string
	block  bool
}

func ok(body string) reply { return reply{status: http.StatusOK, body: body} }

// awsError is a DynamoDB error response: its __type (namespace#Name) is also sent, without
// the namespace, as the X-Amzn-ErrorType header.
func awsError(status int, typ, message string) reply {
	return reply{status: status, body: fmt.Sprintf(`{"__type":%q,"message":%q}`, typ, message)}
}

func dynamoError(status int, name string) reply {
	return awsError(status, "com.amazonaws.dynamodb.v20120810#"+name, "message from DynamoDB: "+name)
}

// cancelled is a TransactionCanceledException with one cancellation reason per item.
func cancelled(reasons ...string) reply {
	var rs []string
	for _, r := range reasons {
		rs = append(rs, fmt.Sprintf(`{"Code":%q,"Message":"reason %s"}`, r, r))
	}
	return reply{status: http.StatusBadRequest, body: fmt.Sprintf(
		`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [%s]","CancellationReasons":[%s]}`,
		strings.Join(reasons, ", "), strings.Join(rs, ","))}
}

// fakeDynamo answers each request with answer(target, n), n counting the calls of that
// target from 1, and records every X-Amz-Target it sees.
type fakeDynamo struct {
	answer func(target string, n int) reply

	mu      sync.Mutex
	targets []string
	bad     []string // requests that were not what the SDK sends
}

func newFakeDynamo(t *testing.T, answer func(target string, n int) reply) (*fakeDynamo, *httptest.Server) {
	t.Helper()
	f := &fakeDynamo{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, b := range f.bad {
			t.Errorf("fake DynamoDB: %s", b)
		}
	})
	return f, srv
}

func (f *fakeDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.targets = append(f.targets, target)
	n := 0
	for _, t := range f.targets {
		if t == target {
			n++
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		f.bad = append(f.bad, fmt.Sprintf("unexpected request %s %s (Content-Type %q, Authorization %q)",
			r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization")))
	}
	f.mu.Unlock()

	// Read the request first: the server notices a client that went away (and cancels
	// r.Context()) only once the body has been read.
	_, _ = io.Copy(io.Discard, r.Body)
	rp := f.answer(target, n)
	switch {
	case rp.block:
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	case rp.status == 0:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", "FAKEREQUESTID")
	if rp.status >= 300 {
		typ := rp.body[strings.Index(rp.body, `"__type":"`)+len(`"__type":"`):]
		typ = typ[:strings.Index(typ, `"`)]
		if _, name, found := strings.Cut(typ, "#"); found {
			typ = name
		}
		w.Header().Set("X-Amzn-ErrorType", typ)
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write([]byte(rp.body))
}

// calls returns the targets seen so far.
func (f *fakeDynamo) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.targets)
}

// fakeClient is a real DynamoDB client on srv that tries twice without waiting, so that
// the SDK's retries are exercised and the tests stay fast.
func fakeClient(srv *httptest.Server, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       awsfake.Region,
		Credentials:  awsfake.Credentials,
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer:      awsfake.Retryer(2),
	}, optFns...)
}

func repeat(target string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = target
	}
	return out
}

// noItem is the GetItem answer for a document never saved.
const noItem = `{}`

// TestThrottlingEndpoint drives the settings routes through the HTTP handler, the service,
// Store and the real SDK client against an endpoint that throttles or fails: every
// throttling or transient failure is a 503 with Retry-After 1 and no AWS text, after the
// SDK's own retries; any other failure is a 500 without text.
func TestThrottlingEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method      string
		answer      func(target string, n int) reply
		wantStatus  int
		wantTargets []string
	}{
		{
			name:        "GetItem ProvisionedThroughputExceededException",
			method:      http.MethodGet,
			answer:      func(string, int) reply { return dynamoError(400, "ProvisionedThroughputExceededException") },
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: repeat(targetGet, 2),
		},
		{
			name:   "GetItem ThrottlingException",
			method: http.MethodGet,
			answer: func(string, int) reply {
				return awsError(400, "com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput.")
			},
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: repeat(targetGet, 2),
		},
		{
			name:        "GetItem RequestLimitExceeded",
			method:      http.MethodGet,
			answer:      func(string, int) reply { return dynamoError(400, "RequestLimitExceeded") },
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: repeat(targetGet, 2),
		},
		{
			name:        "GetItem 500 InternalServerError",
			method:      http.MethodGet,
			answer:      func(string, int) reply { return dynamoError(500, "InternalServerError") },
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: repeat(targetGet, 2),
		},
		{
			name:   "GetItem 503",
			method: http.MethodGet,
			answer: func(string, int) reply {
				return awsError(503, "com.amazon.coral.service#ServiceUnavailableException", "Service unavailable")
			},
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: repeat(targetGet, 2),
		},
		{
			name:        "GetItem connection dropped",
			method:      http.MethodGet,
			answer:      func(string, int) reply { return reply{} },
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: repeat(targetGet, 2),
		},
		{
			name:        "GetItem ValidationException",
			method:      http.MethodGet,
			answer:      func(string, int) reply { return dynamoError(400, "ValidationException") },
			wantStatus:  http.StatusInternalServerError,
			wantTargets: []string{targetGet}, // not retried
		},
		{
			name:        "GetItem ResourceNotFoundException",
			method:      http.MethodGet,
			answer:      func(string, int) reply { return dynamoError(400, "ResourceNotFoundException") },
			wantStatus:  http.StatusInternalServerError,
			wantTargets: []string{targetGet},
		},
		{
			name:   "TransactWriteItems ProvisionedThroughputExceededException",
			method: http.MethodPut,
			answer: func(target string, _ int) reply {
				if target == targetGet {
					return ok(noItem)
				}
				return dynamoError(400, "ProvisionedThroughputExceededException")
			},
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: []string{targetGet, targetTransact, targetTransact},
		},
		{
			name:   "TransactWriteItems cancelled: an index is throttled",
			method: http.MethodPut,
			answer: func(target string, _ int) reply {
				if target == targetGet {
					return ok(noItem)
				}
				return cancelled("None", "ThrottlingError")
			},
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: []string{targetGet, targetTransact}, // the SDK does not retry a cancellation
		},
		{
			name:   "TransactWriteItems 500",
			method: http.MethodPut,
			answer: func(target string, _ int) reply {
				if target == targetGet {
					return ok(noItem)
				}
				return dynamoError(500, "InternalServerError")
			},
			wantStatus:  http.StatusServiceUnavailable,
			wantTargets: []string{targetGet, targetTransact, targetTransact},
		},
		{
			name:   "TransactWriteItems ValidationException",
			method: http.MethodPut,
			answer: func(target string, _ int) reply {
				if target == targetGet {
					return ok(noItem)
				}
				return dynamoError(400, "ValidationException")
			},
			wantStatus:  http.StatusInternalServerError,
			wantTargets: []string{targetGet, targetTransact},
		},
		{
			// A collision with a concurrent transaction is ErrContended: the service
			// reads again and retries, and the second write lands.
			name:   "TransactWriteItems cancelled: TransactionConflict, then success",
			method: http.MethodPut,
			answer: func(target string, n int) reply {
				switch {
				case target == targetGet:
					return ok(noItem)
				case n == 1:
					return cancelled("TransactionConflict", "None")
				}
				return ok(`{}`)
			},
			wantStatus:  http.StatusOK,
			wantTargets: []string{targetGet, targetTransact, targetGet, targetTransact},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeDynamo(t, tt.answer)
			h := newHandler(dynamo.New(fakeClient(srv), "settings"))
			body := ""
			if tt.method == http.MethodPut {
				body = `{"max":4}`
			}
			code, problemBody, hdr := serve(t, h, tt.method, body)
			if code != tt.wantStatus {
				t.Errorf("%s: got status %d (%v), want %d", tt.method, code, problemBody, tt.wantStatus)
			}
			if got := f.calls(); !slices.Equal(got, tt.wantTargets) {
				t.Errorf("X-Amz-Target seen: got %v, want %v", got, tt.wantTargets)
			}
			detail, _ := problemBody["detail"].(string)
			switch tt.wantStatus {
			case http.StatusServiceUnavailable:
				if hdr.Get("Retry-After") != "1" || detail != "the settings store is busy, please retry" {
					t.Errorf("got Retry-After %q, detail %q; want 1, the store's busy message", hdr.Get("Retry-After"), detail)
				}
			case http.StatusInternalServerError:
				if hdr.Get("Retry-After") != "" || !strings.HasPrefix(detail, "internal error") {
					t.Errorf("got Retry-After %q, detail %q; want none, an internal error without its text", hdr.Get("Retry-After"), detail)
				}
			}
			for _, leak := range []string{"Exception", "message from DynamoDB", "Throttl", "Rate of requests", "reason"} {
				if v := fmt.Sprint(problemBody); code != http.StatusOK && strings.Contains(v, leak) {
					t.Errorf("response %v leaks %q", v, leak)
				}
			}
		})
	}
}

// TestEndpointStoreErrors checks the errors Store itself returns for what the real SDK
// client deserializes: ErrContended and ErrVersionConflict keep their meaning, queries
// are classified like reads, and the cause is kept for the logs.
func TestEndpointStoreErrors(t *testing.T) {
	t.Parallel()
	rec, entry := sampleSave()

	t.Run("TransactionConflict is ErrContended and Unavailable", func(t *testing.T) {
		t.Parallel()
		f, srv := newFakeDynamo(t, func(string, int) reply { return cancelled("TransactionConflict", "None") })
		err := dynamo.New(fakeClient(srv), "settings").Save(t.Context(), rec, entry)
		if !errors.Is(err, settings.ErrContended) {
			t.Errorf("got %v, want ErrContended", err)
		}
		assertUnavailable(t, err)
		if got := f.calls(); !slices.Equal(got, []string{targetTransact}) {
			t.Errorf("X-Amz-Target seen: got %v, want [%s]", got, targetTransact)
		}
	})
	t.Run("TransactionConflictException is ErrContended and Unavailable", func(t *testing.T) {
		t.Parallel()
		_, srv := newFakeDynamo(t, func(string, int) reply { return dynamoError(400, "TransactionConflictException") })
		err := dynamo.New(fakeClient(srv), "settings").Save(t.Context(), rec, entry)
		if !errors.Is(err, settings.ErrContended) {
			t.Errorf("got %v, want ErrContended", err)
		}
		assertUnavailable(t, err)
	})
	t.Run("ConditionalCheckFailed on the document is ErrVersionConflict", func(t *testing.T) {
		t.Parallel()
		_, srv := newFakeDynamo(t, func(string, int) reply { return cancelled("ConditionalCheckFailed", "None") })
		err := dynamo.New(fakeClient(srv), "settings").Save(t.Context(), rec, entry)
		if !errors.Is(err, settings.ErrVersionConflict) || errors.Is(err, settings.ErrContended) {
			t.Errorf("got %v, want ErrVersionConflict only", err)
		}
	})
	t.Run("ConditionalCheckFailed on the audit entry is internal", func(t *testing.T) {
		t.Parallel()
		_, srv := newFakeDynamo(t, func(string, int) reply { return cancelled("None", "ConditionalCheckFailed") })
		err := dynamo.New(fakeClient(srv), "settings").Save(t.Context(), rec, entry)
		if err == nil || problem.CodeOf(err) != problem.Internal || errors.Is(err, settings.ErrVersionConflict) || errors.Is(err, settings.ErrContended) {
			t.Errorf("got %v, want an internal error", err)
		}
	})
	t.Run("Query throttled", func(t *testing.T) {
		t.Parallel()
		f, srv := newFakeDynamo(t, func(string, int) reply { return dynamoError(400, "ProvisionedThroughputExceededException") })
		_, err := dynamo.New(fakeClient(srv), "settings").ListAudit(t.Context(), "acme", audit.Query{Area: "general"})
		assertUnavailable(t, err)
		if !strings.Contains(err.Error(), "dynamo: list audit of acme") {
			t.Errorf("got %q, want the cause to name the operation", err)
		}
		if got := f.calls(); !slices.Equal(got, repeat(targetQuery, 2)) {
			t.Errorf("X-Amz-Target seen: got %v, want %v", got, repeat(targetQuery, 2))
		}
	})
}

// A deadline of the caller is not a dependency failure: the error is the wrapped context
// error (500 or abandoned, never 503). A timeout of the transport is the dependency not
// answering: Unavailable.
func TestEndpointTimeouts(t *testing.T) {
	t.Parallel()
	block := func(string, int) reply { return reply{block: true} }

	t.Run("caller deadline", func(t *testing.T) {
		t.Parallel()
		_, srv := newFakeDynamo(t, block)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := dynamo.New(fakeClient(srv), "settings").Get(ctx, "acme", "general", settings.Strong)
		var pe *problem.Error
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &pe) {
			t.Errorf("got %v, want a plain error wrapping context.DeadlineExceeded", err)
		}
	})
	t.Run("caller canceled", func(t *testing.T) {
		t.Parallel()
		_, srv := newFakeDynamo(t, block)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := dynamo.New(fakeClient(srv), "settings").Get(ctx, "acme", "general", settings.Strong)
		var pe *problem.Error
		if !errors.Is(err, context.Canceled) || errors.As(err, &pe) {
			t.Errorf("got %v, want a plain error wrapping context.Canceled", err)
		}
	})
	t.Run("transport timeout", func(t *testing.T) {
		t.Parallel()
		f, srv := newFakeDynamo(t, block)
		hc := srv.Client()
		tr := hc.Transport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 30 * time.Millisecond
		client := fakeClient(srv, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: tr} })
		_, err := dynamo.New(client, "settings").Get(t.Context(), "acme", "general", settings.Strong)
		assertUnavailable(t, err)
		if got := f.calls(); !slices.Equal(got, repeat(targetGet, 2)) {
			t.Errorf("X-Amz-Target seen: got %v, want %v", got, repeat(targetGet, 2))
		}
		tr.CloseIdleConnections()
	})
}
