package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/convrs/admin/pkg/problem"
)

// Media types accepted by the write routes.
const (
	MediaJSON       = "application/json"
	MediaMergePatch = "application/merge-patch+json"
)

// ReadBody reads the whole request body, refusing more than limit bytes. A body over the
// limit is tooBig (problem.BadRequest for JSON bodies, problem.TooLarge for uploads).
func ReadBody(r *http.Request, limit int64, tooBig problem.Code) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, problem.New(tooBig, "body is larger than %d bytes", limit)
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, problem.Wrap(problem.BadRequest, err, "could not read the request body")
	}
	if int64(len(data)) > limit {
		return nil, problem.New(tooBig, "body is larger than %d bytes", limit)
	}
	return data, nil
}

// RequireMediaType checks the request's Content-Type against the allowed media types
// (parameters such as charset are ignored) and returns problem.UnsupportedMedia otherwise.
func RequireMediaType(r *http.Request, allowed ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, a := range allowed {
			if strings.EqualFold(mt, a) {
				return nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	}
	return problem.New(problem.UnsupportedMedia, "content type %s is not accepted here; send %s", ct, strings.Join(allowed, " or "))
}

// ReadJSON checks the media type and reads a JSON body of at most MaxJSONBody bytes.
func ReadJSON(r *http.Request, mediaTypes ...string) ([]byte, error) {
	if err := RequireMediaType(r, mediaTypes...); err != nil {
		return nil, err
	}
	return ReadBody(r, MaxJSONBody, problem.BadRequest)
}

// Unmarshal decodes one JSON object strictly into dst: unknown fields, wrong types,
// malformed JSON and trailing data are problem.BadRequest errors naming the field.
func Unmarshal(data []byte, dst any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return problem.New(problem.BadRequest, "body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		return problem.New(problem.BadRequest, "body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.BadRequest, "body must hold exactly one JSON object")
	}
	return nil
}

func decodeProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return problem.New(problem.BadRequest, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.BadRequest, "malformed JSON: unexpected end of body")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &problem.Error{Code: problem.BadRequest, Message: "a field has the wrong type",
			Fields: []problem.FieldError{{Field: field, Message: "must be " + kindName(typ.Type) + ", not " + typ.Value}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &problem.Error{Code: problem.BadRequest, Message: "unknown field",
			Fields: []problem.FieldError{{Field: name, Message: "unknown field"}}}
	}
	return problem.Wrap(problem.BadRequest, err, "malformed JSON")
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return fmt.Sprintf("a %s", t.Kind())
}

// MergePatch applies an RFC 7396 JSON merge patch to doc and returns the result. The
// patch must be a JSON object (problem.BadRequest otherwise).
func MergePatch(doc, patch []byte) ([]byte, error) {
	var d, p any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("merge patch: stored document: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, problem.New(problem.BadRequest, "body must hold exactly one JSON object")
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, problem.New(problem.BadRequest, "a merge patch must be a JSON object")
	}
	return json.Marshal(mergeValue(d, p))
}

func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}
