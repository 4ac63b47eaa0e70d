package s3blob

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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/blob/blobtest"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
)

const bucket = "convrs-test-blobs"

type object struct {
	contentType  string
	cacheControl string
	data         []byte
}

// fakeS3 speaks enough of the S3 REST protocol (path-style addressing) for Store.
type fakeS3 struct {
	t *testing.T

	mu       sync.Mutex
	objects  map[string]object
	fail     *failure // answer every request with this error
	requests int
	methods  []string // of every request
}

func newFakeS3(t *testing.T) (*fakeS3, *httptest.Server) {
	f := &fakeS3{t: t, objects: map[string]object{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>fake-request</RequestId></Error>`, code, message)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	f.methods = append(f.methods, r.Method)
	fail := f.fail
	f.mu.Unlock()

	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		writeError(w, http.StatusForbidden, "AccessDenied", "missing or unexpected signature")
		return
	}
	if fail != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		writeError(w, fail.status, fail.code, "message from S3: "+fail.code)
		return
	}
	b, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if b != bucket {
		writeError(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if key == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "bucket operations are not supported")
		return
	}
	switch r.Method {
	case http.MethodPut:
		// The client under test does not use aws-chunked uploads with checksum
		// trailers; refuse them so that a change in the SDK default cannot go unnoticed.
		if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") || r.Header.Get("X-Amz-Trailer") != "" {
			writeError(w, http.StatusBadRequest, "NotImplemented", "aws-chunked encoding is not supported")
			return
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return
		}
		if r.ContentLength != int64(len(data)) {
			writeError(w, http.StatusBadRequest, "IncompleteBody", "length mismatch")
			return
		}
		f.mu.Lock()
		f.objects[key] = object{
			contentType:  r.Header.Get("Content-Type"),
			cacheControl: r.Header.Get("Cache-Control"),
			data:         data,
		}
		f.mu.Unlock()
		w.Header().Set("ETag", `"fake"`)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		f.mu.Lock()
		obj, ok := f.objects[key]
		f.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Header().Set("Content-Type", obj.contentType)
		w.Header().Set("Cache-Control", obj.cacheControl)
		w.Header().Set("Content-Length", fmt.Sprint(len(obj.data)))
		w.Header().Set("ETag", `"fake"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(obj.data)
	case http.MethodDelete:
		f.mu.Lock()
		delete(f.objects, key)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed")
	}
}

func (f *fakeS3) object(key string) (object, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.objects[key]
	return obj, ok
}

func newClient(srv *httptest.Server, optFns ...func(*s3.Options)) *s3.Client {
	opts := s3.Options{
		Region:       awsfake.Region,
		Credentials:  awsfake.Credentials,
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		HTTPClient:   srv.Client(),
		// Send plain bodies with Content-Length rather than aws-chunked with checksum
		// trailers, which the fake server does not decode.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.New(opts, optFns...)
}

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		_, srv := newFakeS3(t)
		return New(newClient(srv), bucket)
	})
}

func TestPutMetadata(t *testing.T) {
	f, srv := newFakeS3(t)
	s := New(newClient(srv), bucket)
	data := []byte("\x89PNG\r\n\x1a\n\x00\xff exact bytes")
	if err := s.Put(t.Context(), "orgs/demo/logo", "image/png", data); err != nil {
		t.Fatal(err)
	}
	obj, ok := f.object("orgs/demo/logo")
	if !ok {
		t.Fatal("object not stored under its key")
	}
	if string(obj.data) != string(data) {
		t.Errorf("stored bytes = %q, want %q", obj.data, data)
	}
	if obj.contentType != "image/png" || obj.cacheControl != "no-cache" {
		t.Errorf("stored Content-Type %q, Cache-Control %q; want image/png, no-cache", obj.contentType, obj.cacheControl)
	}
}

// failure is an S3 error response: status and code.
type failure struct {
	status int
	code   string
}

// TestThrottled drives Store with the real S3 client (path-style, two attempts without
// waiting) against an endpoint that throttles or fails: every throttling or transient
// failure is Unavailable with RetryAfter 1s after the SDK's own retries, which the HTTP
// layer answers 503 with Retry-After; anything else stays a plain error (500, no text).
func TestThrottled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fail     failure
		want     problem.Code
		attempts int // requests per operation
	}{
		{failure{http.StatusServiceUnavailable, "SlowDown"}, problem.Unavailable, 2},
		{failure{http.StatusServiceUnavailable, "ServiceUnavailable"}, problem.Unavailable, 2},
		{failure{http.StatusInternalServerError, "InternalError"}, problem.Unavailable, 2},
		{failure{http.StatusTooManyRequests, "TooManyRequestsException"}, problem.Unavailable, 2},
		{failure{http.StatusBadRequest, "ValidationException"}, problem.Internal, 1},
		{failure{http.StatusForbidden, "AccessDenied"}, problem.Internal, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.fail.status, tt.fail.code), func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeS3(t)
			s := New(newClient(srv, func(o *s3.Options) {
				o.Retryer = awsfake.Retryer(2)
			}), bucket)
			f.mu.Lock()
			f.fail = &tt.fail
			f.mu.Unlock()

			check := func(op string, err error) {
				t.Helper()
				var pe *problem.Error
				switch {
				case tt.want == problem.Unavailable:
					if !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter != time.Second {
						t.Errorf("%s: got %#v, want Unavailable with RetryAfter 1s", op, err)
						return
					}
					if pe.Err == nil || !strings.Contains(pe.Err.Error(), "s3blob: "+op) || !strings.Contains(pe.Err.Error(), tt.fail.code) {
						t.Errorf("%s: cause %v does not name the operation and keep the S3 error", op, pe.Err)
					}
					if strings.Contains(pe.Message, tt.fail.code) || strings.Contains(pe.Message, "S3") {
						t.Errorf("%s: client message %q leaks the S3 error", op, pe.Message)
					}
				case err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "s3blob: "+op):
					t.Errorf("%s: got %#v, want a plain error naming the operation", op, err)
				}
				rec := httptest.NewRecorder()
				httpx.WriteError(rec, httptest.NewRequest(http.MethodGet, "/v1/orgs/acme/logo", nil), err)
				wantStatus, wantRetry := http.StatusInternalServerError, ""
				if tt.want == problem.Unavailable {
					wantStatus, wantRetry = http.StatusServiceUnavailable, "1"
				}
				if rec.Code != wantStatus || rec.Header().Get("Retry-After") != wantRetry || strings.Contains(rec.Body.String(), tt.fail.code) {
					t.Errorf("%s over HTTP: got %d, Retry-After %q, body %s; want %d, %q, no S3 error text", op, rec.Code, rec.Header().Get("Retry-After"), rec.Body, wantStatus, wantRetry)
				}
			}
			check("put", s.Put(t.Context(), "k", "text/plain", []byte("x")))
			_, err := s.Get(t.Context(), "k")
			check("get", err)
			check("delete", s.Delete(t.Context(), "k"))

			f.mu.Lock()
			defer f.mu.Unlock()
			var want []string
			for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
				for range tt.attempts {
					want = append(want, m)
				}
			}
			if !slices.Equal(f.methods, want) {
				t.Errorf("requests: got %v, want %v", f.methods, want)
			}
		})
	}
}

func TestMissingBucketIsInternal(t *testing.T) {
	_, srv := newFakeS3(t)
	s := New(newClient(srv), "no-such-bucket")
	_, err := s.Get(t.Context(), "k")
	if err == nil || problem.CodeOf(err) != problem.Internal || !strings.Contains(err.Error(), "s3blob: get") {
		t.Errorf("Get from missing bucket = %v, want internal error naming the operation", err)
	}
	if err := s.Put(t.Context(), "k", "", nil); err == nil || problem.CodeOf(err) != problem.Internal {
		t.Errorf("Put to missing bucket = %v, want internal error", err)
	}
}

func TestInvalidKeySendsNoRequest(t *testing.T) {
	f, srv := newFakeS3(t)
	s := New(newClient(srv), bucket)
	_ = s.Put(t.Context(), "../x", "text/plain", nil)
	_, _ = s.Get(t.Context(), "/x")
	_ = s.Delete(t.Context(), "a b")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.requests != 0 {
		t.Errorf("%d requests sent for invalid keys", f.requests)
	}
}

// fakeAPI returns a fixed error from every call.
type fakeAPI struct{ err error }

func (a fakeAPI) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return nil, a.err
}

func (a fakeAPI) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, a.err
}

func (a fakeAPI) DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return nil, a.err
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		get, rest problem.Code // Get's code; Put's and Delete's code ("" for success)
	}{
		{"typed NoSuchKey", &types.NoSuchKey{}, problem.NotFound, ""},
		{"generic NotFound", &smithy.GenericAPIError{Code: "NotFound"}, problem.NotFound, ""},
		{"NoSuchBucket", &smithy.GenericAPIError{Code: "NoSuchBucket"}, problem.Internal, problem.Internal},
		{"SlowDown", &smithy.GenericAPIError{Code: "SlowDown"}, problem.Unavailable, problem.Unavailable},
		{"AccessDenied", &smithy.GenericAPIError{Code: "AccessDenied"}, problem.Internal, problem.Internal},
		{"InternalError", &smithy.GenericAPIError{Code: "InternalError"}, problem.Unavailable, problem.Unavailable},
		{"connection reset", errors.New("read: connection reset by peer"), problem.Unavailable, problem.Unavailable},
		{"plain", errors.New("boom"), problem.Internal, problem.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(fakeAPI{err: tt.err}, bucket)
			_, err := s.Get(t.Context(), "k")
			if problem.CodeOf(err) != tt.get || err == nil {
				t.Errorf("Get = %v, want %s", err, tt.get)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("Get error %v does not wrap the cause", err)
			}
			err = s.Delete(t.Context(), "k")
			if tt.rest == "" {
				if err != nil {
					t.Errorf("Delete = %v, want nil", err)
				}
			} else if problem.CodeOf(err) != tt.rest {
				t.Errorf("Delete = %v, want %s", err, tt.rest)
			}
			if err := s.Put(t.Context(), "k", "text/plain", nil); err == nil {
				t.Error("Put succeeded")
			} else if want := tt.rest; want != "" && problem.CodeOf(err) != want {
				t.Errorf("Put = %v, want %s", err, want)
			}
		})
	}
}
