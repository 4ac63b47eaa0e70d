// Package problem is the one error vocabulary of Convrs Admin: a code, a message that is
// safe to show a client, and, for validation failures, every failing field. The HTTP layer
// (package httpx) translates these into RFC 9457 problem+json; anything that is not a
// *Error is treated as internal and never shown.
package problem

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Code classifies an error; each code maps to exactly one HTTP status.
type Code string

// The codes of the vocabulary.
const (
	BadRequest         Code = "bad_request"         // 400: malformed, unknown field, wrong type
	Unauthenticated    Code = "unauthenticated"     // 401
	Forbidden          Code = "forbidden"           // 403
	NotFound           Code = "not_found"           // 404
	MethodNotAllowed   Code = "method_not_allowed"  // 405
	Conflict           Code = "conflict"            // 409
	PreconditionFailed Code = "precondition_failed" // 412
	TooLarge           Code = "too_large"           // 413
	UnsupportedMedia   Code = "unsupported_media"   // 415
	Invalid            Code = "invalid"             // 422
	Locked             Code = "locked"              // 423: an account suspended after failed sign-ins
	Throttled          Code = "throttled"           // 429
	Unavailable        Code = "unavailable"         // 503
	Internal           Code = "internal"            // 500
)

// FieldError names one failing field (dotted JSON path) and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error with a client-safe message.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// RetryAfter, when set, is sent as the Retry-After header (429/503).
	RetryAfter time.Duration
	// Extensions are RFC 9457 extension members sent beside the standard ones, such as
	// "reason" (why a token was refused), "chats" and "stickyUsers" (what blocks a
	// change) or "warnings". Their names must not be a standard member's (type, title,
	// status, detail, instance, requestId, errors); such names are dropped. Values must
	// be safe to show the client.
	Extensions map[string]any
	// Err is the underlying cause; it is logged, never sent.
	Err error
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Message
	for _, f := range e.Fields {
		msg += "; " + f.Field + ": " + f.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given code and message that keeps cause for the logs.
func Wrap(code Code, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// With returns e with the extension member name set to value (e is changed and returned).
func (e *Error) With(name string, value any) *Error {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions[name] = value
	return e
}

// CodeOf returns the code of err, or Internal when err is not a *Error.
func CodeOf(err error) Code {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Fields collects field errors so that validation can report every failure at once.
type Fields struct {
	list []FieldError
}

// Add records that field fails with the given message.
func (f *Fields) Add(field, format string, args ...any) {
	f.list = append(f.list, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Len is the number of failures recorded so far.
func (f *Fields) Len() int { return len(f.list) }

// Err returns nil when nothing failed, else an Invalid error listing every field, sorted
// by field name so that responses are stable.
func (f *Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	list := append([]FieldError(nil), f.list...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Field < list[j].Field })
	return &Error{Code: Invalid, Message: "one or more fields are invalid", Fields: list}
}
