// Package awserr is the one classification of AWS SDK errors that every adapter uses, so
// that a throttled or failing dependency is answered the same way whichever service it
// is.
//
// Classify puts an error returned by an SDK client (after the SDK's own retries) in one
// of three classes:
//
//   - Throttled: the service asks us to slow down. The codes are the SDK's own list
//     (retry.DefaultThrottleErrorCodes: Throttling, ThrottlingException, SlowDown,
//     ProvisionedThroughputExceededException, RequestLimitExceeded,
//     TooManyRequestsException, TransactionInProgressException, LimitExceededException,
//     ...), any HTTP 429, and the spellings the SDK does not list because they arrive
//     outside an API error: DynamoDB's transaction cancellation reasons
//     ProvisionedThroughputExceeded and ThrottlingError.
//   - Transient: a failure a later attempt is likely not to meet: what the SDK's default
//     retryer retries (retry.DefaultRetryables: HTTP 500, 502, 503 and 504,
//     retry.DefaultRetryableErrorCodes, connection errors such as resets, refusals and
//     transport timeouts), plus the server-failure and contention codes of the services
//     we use, which also classify codes reported without an HTTP response (DynamoDB's
//     TransactionConflict and TransactionConflictException, InternalServerError,
//     InternalFailure, InternalError, ServiceUnavailable, KMS's KMSInternalException and
//     DependencyTimeoutException, Secrets Manager's InternalServiceError, EventBridge's
//     InternalException).
//   - None: anything else, which is not a dependency problem we can name: a bug, a
//     misconfiguration (access denied, missing table or bucket, validation), or the
//     caller's own context ending. A context that was canceled or whose deadline passed
//     is never a dependency failure: the SDK marks it (smithy.CanceledError,
//     aws.RequestCanceledError) or it is context.Canceled / context.DeadlineExceeded
//     itself. Transport timeouts, which Go makes match context.DeadlineExceeded with
//     errors.Is, are still Transient: only the context's own sentinel counts.
//
// Problem turns a failed call into the project's error vocabulary: Throttled and
// Transient become a problem.Unavailable (HTTP 503) with RetryAfter (one second) and the
// caller's client-safe message, keeping the SDK error as the cause for the logs; None
// becomes a plain error naming the operation, which the HTTP layer answers as a 500
// without its text (or logs as abandoned, for a canceled context).
//
// Why 503 and not 429 for throttling: 429 Too Many Requests tells the client that it sent
// too many requests (RFC 6585), and clients are right to read it as their own rate limit.
// When DynamoDB or S3 throttles us, the client may have sent one request; the limit is
// our dependency's, shared by every caller, so the truthful answer is 503 Service
// Unavailable with Retry-After (RFC 9110 15.6.4), which API.md allows ("429/503 with
// Retry-After when a dependency throttles"). problem.Throttled (429) stays for limits we
// enforce on a caller ourselves. Throttling is never a 500.
//
// The package depends only on the SDK core (aws/retry, and through it aws and smithy-go),
// never on a service client (aws-sdk-go-v2/service/...), so that every adapter can share
// it (pkg/conformance checks this). Service-specific unwrapping, such as DynamoDB's
// transaction cancellation reasons, stays in the adapter, which classifies each code it
// finds with ClassifyCode.
package awserr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/convrs/admin/pkg/problem"
)

// Class is what an SDK error says about the dependency. Classes are ordered by how much
// they tell (None < Transient < Throttled), so that the class of several codes (the
// reasons of one cancelled transaction, say) is the max of theirs.
type Class int

// The classes.
const (
	// None: not a dependency problem we can name (see the package comment).
	None Class = iota
	// Transient: the dependency failed in a way a later attempt is likely not to meet.
	Transient
	// Throttled: the dependency asks us to slow down.
	Throttled
)

func (c Class) String() string {
	switch c {
	case None:
		return "none"
	case Transient:
		return "transient"
	case Throttled:
		return "throttled"
	}
	return fmt.Sprintf("awserr.Class(%d)", int(c))
}

// RetryAfter is the delay suggested to clients (the Retry-After header) when a dependency
// throttles or fails transiently.
const RetryAfter = time.Second

// DefaultMessage is the client message of Problem when the adapter gives none.
const DefaultMessage = "a service we depend on is busy, please retry"

// throttleCodes are the throttling codes the SDK does not list in
// retry.DefaultThrottleErrorCodes, because they are not API error codes.
var throttleCodes = map[string]struct{}{
	// DynamoDB transaction cancellation reasons (TransactionCanceledException).
	"ProvisionedThroughputExceeded": {},
	"ThrottlingError":               {},
}

// transientCodes are server-failure and contention codes of the services we use that the
// SDK does not list in retry.DefaultRetryableErrorCodes. Most arrive with a 5xx status,
// which is transient anyway; the codes also classify errors reported without a response.
var transientCodes = map[string]struct{}{
	// DynamoDB: a write collided with a concurrent transaction (API error, cancellation
	// reason, and its multi-Region strong consistency form), and its 500.
	"TransactionConflictException":     {},
	"TransactionConflict":              {},
	"ReplicatedWriteConflictException": {},
	"InternalServerError":              {},
	// Generic AWS (JSON and query protocols) and S3 (REST-XML) server failures.
	"InternalFailure":             {},
	"InternalError":               {},
	"ServiceUnavailable":          {},
	"ServiceUnavailableException": {},
	// KMS.
	"KMSInternalException":       {},
	"DependencyTimeoutException": {},
	// Secrets Manager.
	"InternalServiceError": {},
	// EventBridge.
	"InternalException": {},
}

// sdkThrottles and sdkRetryables are the checks of the SDK's standard retryer.
var (
	sdkThrottles  = retry.IsErrorThrottles(retry.DefaultThrottles)
	sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)
)

// ClassifyCode returns the class of an AWS error code, for codes that arrive outside an
// API error: DynamoDB transaction cancellation reasons, failed entries of batch calls.
func ClassifyCode(code string) Class {
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return Throttled
	}
	if _, ok := throttleCodes[code]; ok {
		return Throttled
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok {
		return Transient
	}
	if _, ok := transientCodes[code]; ok {
		return Transient
	}
	return None
}

// Classify returns the class of err, an error returned by an AWS SDK client (or wrapping
// one). The rules, in order:
//
//  1. nil, or the caller's context ended (canceled, or its deadline passed): None.
//  2. The API error code is a throttling code, or the HTTP status is 429: Throttled.
//  3. The SDK's retryer would retry it (HTTP 500/502/503/504, connection errors,
//     transport timeouts, its retryable codes), or its code is one of our transient
//     codes: Transient.
//  4. Anything else: None.
func Classify(err error) Class {
	if err == nil || CallerGaveUp(err) {
		return None
	}
	code := errorCode(err)
	if sdkThrottles.IsErrorThrottle(err).Bool() || httpStatus(err) == http.StatusTooManyRequests {
		return Throttled
	}
	if c := ClassifyCode(code); c != None {
		return c
	}
	if sdkRetryables.IsErrorRetryable(err).Bool() {
		return Transient
	}
	return None
}

// CallerGaveUp reports whether err says the caller's context ended: the SDK marked the
// call canceled (smithy.CanceledError, aws.RequestCanceledError), or err is or wraps
// context.Canceled or context.DeadlineExceeded itself. Timeouts of the transport, which
// only claim to match context.DeadlineExceeded (errors.Is), do not count.
func CallerGaveUp(err error) bool {
	var c interface{ CanceledError() bool }
	if errors.As(err, &c) && c.CanceledError() {
		return true
	}
	return wraps(err, context.Canceled) || wraps(err, context.DeadlineExceeded)
}

// wraps reports whether target itself is in err's tree. Unlike errors.Is it ignores Is
// methods, which net and net/http timeouts use to match context.DeadlineExceeded.
func wraps(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if wraps(e, target) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

func errorCode(err error) string {
	var v interface{ ErrorCode() string }
	if errors.As(err, &v) {
		return v.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var v interface{ HTTPStatusCode() int }
	if errors.As(err, &v) {
		return v.HTTPStatusCode()
	}
	return 0
}

// Problem returns the error an adapter returns for err, the failure of the operation op
// (for the logs, e.g. `dynamo: get acme/general`): for a Throttled or Transient err, a
// *problem.Error with code problem.Unavailable (503), RetryAfter, the client-safe message
// (DefaultMessage when empty; never put AWS error text in it) and the cause; otherwise a
// plain error "op: err" wrapping err, which clients see as a 500 without its text. It
// returns nil for a nil err.
func Problem(op string, err error, message string) error {
	return Classify(err).Problem(op, err, message)
}

// Problem is the package's Problem for an err whose class the adapter determined itself
// (from codes it unwrapped with ClassifyCode, say). A context that ended is never
// Unavailable, whatever c says.
func (c Class) Problem(op string, err error, message string) error {
	if err == nil {
		return nil
	}
	cause := fmt.Errorf("%s: %w", op, err)
	if c == None || CallerGaveUp(err) {
		return cause
	}
	if message == "" {
		message = DefaultMessage
	}
	return &problem.Error{
		Code:       problem.Unavailable,
		Message:    message,
		RetryAfter: RetryAfter,
		Err:        cause,
	}
}
