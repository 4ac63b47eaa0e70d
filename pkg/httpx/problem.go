// Package httpx is the HTTP plumbing every area shares: request ids, JSON access logs,
// authentication, the translation of problem errors into RFC 9457 problem+json, strict
// JSON decoding with body limits, and JSON merge patch.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/problem"
)

// MaxJSONBody is the largest JSON request body accepted (64 KiB).
const MaxJSONBody = 64 << 10

var statusOf = map[problem.Code]int{
	problem.BadRequest:         http.StatusBadRequest,
	problem.Unauthenticated:    http.StatusUnauthorized,
	problem.Forbidden:          http.StatusForbidden,
	problem.NotFound:           http.StatusNotFound,
	problem.MethodNotAllowed:   http.StatusMethodNotAllowed,
	problem.Conflict:           http.StatusConflict,
	problem.PreconditionFailed: http.StatusPreconditionFailed,
	problem.TooLarge:           http.StatusRequestEntityTooLarge,
	problem.UnsupportedMedia:   http.StatusUnsupportedMediaType,
	problem.Invalid:            http.StatusUnprocessableEntity,
	problem.Throttled:          http.StatusTooManyRequests,
	problem.Locked:             http.StatusLocked,
	problem.Unavailable:        http.StatusServiceUnavailable,
	problem.Internal:           http.StatusInternalServerError,
}

// Status returns the HTTP status for a problem code.
func Status(code problem.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// titles are the reason phrases of RFC 9110 (net/http still uses some older ones, such as
// "Unprocessable Entity" and "Request Entity Too Large").
var titles = map[int]string{
	http.StatusBadRequest:            "Bad Request",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "Not Found",
	http.StatusMethodNotAllowed:      "Method Not Allowed",
	http.StatusConflict:              "Conflict",
	http.StatusPreconditionFailed:    "Precondition Failed",
	http.StatusRequestEntityTooLarge: "Content Too Large",
	http.StatusUnsupportedMediaType:  "Unsupported Media Type",
	http.StatusUnprocessableEntity:   "Unprocessable Content",
	http.StatusTooManyRequests:       "Too Many Requests",
	http.StatusLocked:                "Locked",
	http.StatusInternalServerError:   "Internal Server Error",
	http.StatusServiceUnavailable:    "Service Unavailable",
}

// Title returns the RFC 9110 reason phrase of status.
func Title(status int) string {
	if t, ok := titles[status]; ok {
		return t
	}
	return http.StatusText(status)
}

// Problem is the RFC 9457 body. Extensions are extension members, sent at the top level
// beside the standard ones.
type Problem struct {
	Type       string               `json:"type"`
	Title      string               `json:"title"`
	Status     int                  `json:"status"`
	Detail     string               `json:"detail"`
	RequestID  string               `json:"requestId"`
	Errors     []problem.FieldError `json:"errors,omitempty"`
	Extensions map[string]any       `json:"-"`
}

// standardMembers may not be overridden by an extension.
var standardMembers = map[string]bool{"type": true, "title": true, "status": true, "detail": true,
	"instance": true, "requestId": true, "errors": true}

// MarshalJSON writes the standard members, then the extension members in name order.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	head, err := json.Marshal(plain(p))
	if err != nil || len(p.Extensions) == 0 {
		return head, err
	}
	names := make([]string, 0, len(p.Extensions))
	for k := range p.Extensions {
		if !standardMembers[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	out := head[:len(head)-1]
	for _, k := range names {
		v, err := json.Marshal(p.Extensions[k])
		if err != nil {
			return nil, fmt.Errorf("problem extension %s: %w", k, err)
		}
		key, _ := json.Marshal(k)
		out = append(append(append(append(out, ','), key...), ':'), v...)
	}
	return append(out, '}'), nil
}

// UnmarshalJSON reads a problem, keeping every non-standard member in Extensions.
func (p *Problem) UnmarshalJSON(data []byte) error {
	type plain Problem
	var std plain
	if err := json.Unmarshal(data, &std); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*p = Problem(std)
	for k, v := range all {
		if standardMembers[k] {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		if p.Extensions == nil {
			p.Extensions = map[string]any{}
		}
		p.Extensions[k] = x
	}
	return nil
}

// WriteError writes err as problem+json. A *problem.Error shows its safe message; any
// other error becomes a 500 that carries only the request id, and the full error is
// logged.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	rid := RequestID(r.Context())
	var pe *problem.Error
	if !errors.As(err, &pe) {
		pe = &problem.Error{Code: problem.Internal, Err: err}
	}
	if pe.Code == problem.Internal && errors.Is(err, context.DeadlineExceeded) {
		// The request's deadline (a Lambda's remaining time) ran out before a dependency
		// answered: a retry may well succeed, and the cause is time, not a bug.
		pe = &problem.Error{Code: problem.Unavailable, Message: "the request ran out of time; please retry", RetryAfter: time.Second, Err: err}
	}
	status := Status(pe.Code)
	detail := pe.Message
	switch {
	case errors.Is(err, context.Canceled):
		// The client went away: nobody reads this answer and nothing is wrong here.
		slog.InfoContext(r.Context(), "request abandoned", "requestId", rid, "status", status, "error", err.Error())
		if pe.Code == problem.Internal || detail == "" {
			detail = "the request was abandoned"
		}
	case status >= 500:
		if pe.Code == problem.Internal || detail == "" {
			detail = "internal error; quote the request id when reporting it"
		}
		slog.ErrorContext(r.Context(), "request failed", "requestId", rid, "status", status, "error", err.Error())
	case pe.Err != nil:
		slog.InfoContext(r.Context(), "request rejected", "requestId", rid, "status", status, "error", pe.Err.Error())
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="convrs-admin"`)
	}
	if pe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(pe.RetryAfter.Seconds()+0.999)))
	}
	body := Problem{
		Type:       "https://docs.convrs.com/problems/" + string(pe.Code),
		Title:      Title(status),
		Status:     status,
		Detail:     detail,
		RequestID:  rid,
		Errors:     pe.Fields,
		Extensions: pe.Extensions,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteRawJSON(w, status, data)
}

// Header values set on every JSON response, made once. They are assigned to header maps
// as they are: each has len == cap, so a later Add appends to a copy, and nothing writes
// into a header value slice in place.
var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
)

// WriteRawJSON writes an already encoded JSON body.
func WriteRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// LogError logs err at error level with the request id of ctx, for failures that do not
// change the response.
func LogError(ctx context.Context, msg string, err error) {
	slog.ErrorContext(ctx, msg, "requestId", RequestID(ctx), "error", err.Error())
}
