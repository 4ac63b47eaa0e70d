// Package awsfake holds what the tests' fake AWS services (httptest servers speaking a
// service's protocol: KMS, Secrets Manager, EventBridge, SES v2) and the clients that
// talk to them share: the clients' credentials and retryer, the check that a request is
// signed as the SDK signs, and the JSON 1.1 answers. Only tests import it.
package awsfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region the fakes' clients use.
const Region = "us-east-1"

// Credentials are the static credentials the fakes' clients sign with (access key
// AKIDTEST, which Signed checks).
var Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key", "")

// Retryer is the SDK's standard retryer with at most attempts attempts, no backoff and no
// retry quota, so that a test of retries neither waits nor runs out of tokens.
func Retryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = attempts
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		so.RateLimiter = ratelimit.None
	})
}

var sigV4 = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKIDTEST/\d{8}/` + Region + `/([a-z0-9-]+)/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`)

// Signed reports whether r carries a SigV4 signature with Credentials for service (its
// signing name: kms, secretsmanager, events, ses) in Region, and its X-Amz-Date.
func Signed(r *http.Request, service string) bool {
	m := sigV4.FindStringSubmatch(r.Header.Get("Authorization"))
	return m != nil && m[1] == service && r.Header.Get("X-Amz-Date") != ""
}

// JSON11 is the media type of the AWS JSON 1.1 protocol.
const JSON11 = "application/x-amz-json-1.1"

// WriteJSON answers v as a JSON 1.1 success.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", JSON11)
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers a JSON 1.1 error: the code in X-Amzn-ErrorType and __type, the
// message in message.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", JSON11)
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
