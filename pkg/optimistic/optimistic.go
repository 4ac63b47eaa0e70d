// Package optimistic holds what the stores of versioned records (business units, tags,
// tag groups, custom roles) share for optimistic concurrency: the strong ETag of a
// version, the If-Match comparison of RFC 9110, and the bounded retry of a write that
// lost a race. Settings areas follow the same rules (package settings keeps its own copy).
package optimistic

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ETag is the strong entity tag of a version: the number in double quotes.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// Matches implements the strong comparison of If-Match (RFC 9110 13.1.1): header is the
// request's list of entity tags (every If-Match field line joined with commas); "*"
// matches any current version.
func Matches(header string, version int64) bool {
	etag := ETag(version)
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// ErrContended is found (errors.Is) in the error of a store write that collided with a
// concurrent transaction on the same items: nothing was written, and the same write may
// be tried again.
var ErrContended = errors.New("the write collided with a concurrent transaction")

// Retries of a write that lost a race, as for settings: at most MaxAttempts tries within
// Budget of waiting and retrying, with a random wait (full jitter, so that the losers of
// one race do not collide again) between 0 and min(base*2^n, cap) before try n+1. The
// budget stays far inside a function's timeout (10 s) and API Gateway's (30 s); the
// request's own deadline or cancellation ends the retries sooner.
const (
	MaxAttempts = 25
	Budget      = 4 * time.Second
	backoffBase = 2 * time.Millisecond
	backoffCap  = 250 * time.Millisecond
)

// Retry counts the tries of one write. The zero Retry is ready: the first call of Again
// starts the budget.
type Retry struct {
	start time.Time
	tries int
}

// Again records a failed try and reports whether to try again: false once the tries or
// the budget are spent. It waits before answering true, and returns the context's error
// when ctx ends first.
func (r *Retry) Again(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if r.tries == 0 {
		r.start = time.Now()
	}
	r.tries++
	if r.tries >= MaxAttempts || time.Since(r.start) >= Budget {
		return false, nil
	}
	d := backoffBase << min(r.tries, 16)
	if d > backoffCap || d <= 0 {
		d = backoffCap
	}
	t := time.NewTimer(rand.N(d) + time.Microsecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return true, nil
	}
}
