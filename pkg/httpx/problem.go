// Package httpx is the HTTP plumbing every area shares: request ids, JSON access logs,
// authentication, the translation of problem errors into RFC 9457 problem+json, strict
// JSON decoding with body limits, and JSON merge patch.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

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

// Problem is the RFC 9457 body.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail"`
	RequestID string               `json:"requestId"`
	Errors    []problem.FieldError `json:"errors,omitempty"`
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
		Type:      "https://docs.convrs.com/problems/" + string(pe.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		RequestID: rid,
		Errors:    pe.Fields,
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

// WriteRawJSON writes an already encoded JSON body.
func WriteRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// LogError logs err at error level with the request id of ctx, for failures that do not
// change the response.
func LogError(ctx context.Context, msg string, err error) {
	slog.ErrorContext(ctx, msg, "requestId", RequestID(ctx), "error", err.Error())
}
