package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by Validate, ValidateAll and Publish for an event that no
// adapter would publish as it is. Publish checks every event before it sends any, so an
// invalid event means nothing of the call was published. It is a programming error, not
// a client's: the HTTP layer answers it as a 500.
var ErrInvalid = errors.New("bus: invalid event")

// Bounds of an event's fields, checked by Validate.
const (
	// MaxIDLen bounds Event.ID, in bytes: an ID is built from ids (64 bytes at most) and
	// a time, and is the key of the pending copy.
	MaxIDLen = 512
	// MaxDetailTypeLen is EventBridge's limit on the detail-type (128 characters; here
	// bytes, which is never more lenient).
	MaxDetailTypeLen = 128
)

// Times outside these years are refused: EventBridge takes RFC 3339 times, sent as
// seconds since 1970.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate reports whether e can be published by every adapter, the same way: an ID of
// 1 to MaxIDLen bytes and a detail-type of 1 to MaxDetailTypeLen bytes, both valid UTF-8
// without control characters (they reach logs); a detail that is a JSON object (what
// EventBridge requires: anything else it fails as MalformedDetail) of at most
// MaxDetailSize bytes of valid UTF-8; and a Time set, from 1970 to 9999 (EventBridge
// would otherwise stamp the time of the call, and the pending copies are ordered by it).
// It returns an error wrapping ErrInvalid that names the field, never the detail's
// content.
func (e Event) Validate() error {
	var problems []string
	if msg := checkLabel(e.ID, MaxIDLen); msg != "" {
		problems = append(problems, "id "+msg)
	}
	if msg := checkLabel(e.DetailType, MaxDetailTypeLen); msg != "" {
		problems = append(problems, "detail-type "+msg)
	}
	switch d := bytes.TrimLeft(e.Detail, " \t\r\n"); {
	case len(e.Detail) > MaxDetailSize:
		problems = append(problems, fmt.Sprintf("detail is %d bytes, more than %d", len(e.Detail), MaxDetailSize))
	case len(d) == 0 || d[0] != '{' || !json.Valid(e.Detail):
		problems = append(problems, "detail is not a JSON object")
	case !utf8.Valid(e.Detail):
		problems = append(problems, "detail is not valid UTF-8")
	}
	if e.Time.Before(minTime) || !e.Time.Before(maxTime) {
		problems = append(problems, "time is not set (or not between 1970 and 9999)")
	}
	if len(problems) == 0 {
		return nil
	}
	dt := e.DetailType
	if checkLabel(dt, MaxDetailTypeLen) != "" {
		dt = "?"
	}
	return fmt.Errorf("%w %q: %s", ErrInvalid, dt, strings.Join(problems, "; "))
}

// ValidateAll validates every event, returning the first error (naming the event's
// index) or nil.
func ValidateAll(events []Event) error {
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("event %d of %d: %w", i, len(events), err)
		}
	}
	return nil
}

// checkLabel returns what is wrong with an ID or detail-type ("" when nothing).
func checkLabel(s string, limit int) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > limit:
		return fmt.Sprintf("is %d bytes, more than %d", len(s), limit)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "holds a control character"
		}
	}
	return ""
}
