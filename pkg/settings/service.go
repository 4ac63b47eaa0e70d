package settings

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
)

// Service reads and changes one area's documents through a Store.
type Service[T Doc] struct {
	area  Area[T]
	store Store
	now   func() time.Time
	reps  repCache
}

// NewService returns the service of area on store; now may be nil for time.Now.
func NewService[T Doc](area Area[T], store Store, now func() time.Time) *Service[T] {
	if now == nil {
		now = time.Now
	}
	return &Service[T]{area: area, store: store, now: now}
}

// Load returns the stored document of orgID with a strongly consistent read, or the
// defaults (version 0) when the area was never saved. Errors are the store's.
func (s *Service[T]) Load(ctx context.Context, orgID string) (Current[T], error) {
	return s.Read(ctx, orgID, Strong)
}

// Read is Load with the given read consistency.
func (s *Service[T]) Read(ctx context.Context, orgID string, c Consistency) (Current[T], error) {
	rec, err := s.store.Get(ctx, orgID, s.area.Name, c)
	if problem.Is(err, problem.NotFound) {
		return Current[T]{Doc: s.area.Defaults()}, nil
	}
	if err != nil {
		return Current[T]{}, err
	}
	return s.decode(rec)
}

// decode turns a stored record into the current document, defaults filling what the
// record lacks. The zero Record (an area never saved) is the defaults at version 0.
func (s *Service[T]) decode(rec Record) (Current[T], error) {
	if rec.Version == 0 && rec.Data == nil {
		return Current[T]{Doc: s.area.Defaults()}, nil
	}
	doc := s.area.Defaults()
	if err := json.Unmarshal(rec.Data, &doc); err != nil {
		return Current[T]{}, problem.Wrap(problem.Internal, err, "stored settings are unreadable")
	}
	return Current[T]{Doc: doc, Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy}, nil
}

// Mutation turns the current document into the next one. Its errors are returned as is.
type Mutation[T Doc] func(cur T) (T, error)

// Update applies mutate to the current document, validates the result and saves it with
// an audit entry in one transaction. ifMatch is the request's If-Match header ("" for
// none): a mismatch is problem.PreconditionFailed. An update that changes nothing saves
// nothing. Without If-Match a concurrent change is retried; with it, it is a 412.
func (s *Service[T]) Update(ctx context.Context, orgID, ifMatch, action string, mutate Mutation[T]) (Current[T], error) {
	return s.update(ctx, orgID, ifMatch, action, mutate, true)
}

// UpdateOwned is Update for changes of server-owned fields only (such as the logo): the
// client-set fields are not revalidated, so an organisation that never saved the area
// can still upload a logo.
func (s *Service[T]) UpdateOwned(ctx context.Context, orgID, ifMatch, action string, mutate Mutation[T]) (Current[T], error) {
	return s.update(ctx, orgID, ifMatch, action, mutate, false)
}

// Retries of a write that lost a race to a concurrent change. A write without If-Match
// means "whatever is stored now, apply my change", so it is retried until it lands, within
// a bound: at most maxAttempts tries and retryBudget of waiting and retrying, with a random
// wait (full jitter, so that the losers of one race do not collide again) between 0 and
// min(backoffBase*2^n, backoffCap) before try n+1. The budget stays far inside a
// function's timeout (10 s) and API Gateway's (30 s); the request's own deadline or
// cancellation ends the retries sooner. BENCHMARKS.md records the 409 rate of 50
// concurrent writers on both stores.
const (
	maxAttempts = 25
	retryBudget = 4 * time.Second
	backoffBase = 2 * time.Millisecond
	backoffCap  = 250 * time.Millisecond
)

// backoff waits before try n+1 (n >= 1), or returns the context's error.
func backoff(ctx context.Context, n int) error {
	d := backoffBase << min(n, 16)
	if d > backoffCap || d <= 0 {
		d = backoffCap
	}
	t := time.NewTimer(rand.N(d) + time.Microsecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Service[T]) update(ctx context.Context, orgID, ifMatch, action string, mutate Mutation[T], validate bool) (Current[T], error) {
	p, _ := auth.FromContext(ctx)
	start := time.Now()
	for attempt := 1; ; attempt++ {
		cur, err := s.Load(ctx, orgID)
		if err != nil {
			return Current[T]{}, err
		}
		if ifMatch != "" && !ETagMatches(ifMatch, cur.ETag()) {
			return Current[T]{}, problem.New(problem.PreconditionFailed, "If-Match %s does not match the current version %s", ifMatch, cur.ETag())
		}
		next, err := mutate(cur.Doc)
		if err != nil {
			return Current[T]{}, err
		}
		if validate {
			if s.area.Prepare != nil {
				s.area.Prepare(cur.Doc, &next)
			}
			if err := next.Validate(); err != nil {
				return Current[T]{}, err
			}
		}
		before, err := json.Marshal(cur.Doc)
		if err != nil {
			return Current[T]{}, err
		}
		after, err := json.Marshal(next)
		if err != nil {
			return Current[T]{}, err
		}
		changes, err := audit.Diff(before, after, s.area.Secret...)
		if err != nil {
			return Current[T]{}, err
		}
		if len(changes) == 0 {
			return cur, nil
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		rec := Record{OrgID: orgID, Area: s.area.Name, Version: cur.Version + 1, UpdatedAt: now, UpdatedBy: p.Subject, Data: after}
		entry := audit.Entry{ID: audit.NewID(now), OrgID: orgID, At: now, Actor: p.Subject, Area: s.area.Name,
			Action: action, Changes: changes, RequestID: httpx.RequestID(ctx)}
		err = s.store.Save(ctx, rec, entry)
		retry := errors.Is(err, ErrContended) // nothing was written; the version check decides next time
		if errors.Is(err, ErrVersionConflict) {
			if ifMatch != "" {
				return Current[T]{}, problem.New(problem.PreconditionFailed, "the settings changed after If-Match %s was read", ifMatch)
			}
			retry = true
		}
		if retry && attempt < maxAttempts && time.Since(start) < retryBudget {
			if err := backoff(ctx, attempt); err != nil {
				return Current[T]{}, err
			}
			continue
		}
		if err != nil {
			return Current[T]{}, err
		}
		return Current[T]{Doc: next, Version: rec.Version, UpdatedAt: now, UpdatedBy: p.Subject}, nil
	}
}

// ETagMatches implements the strong comparison of RFC 9110 If-Match: header is the list
// of entity tags (all the request's If-Match field lines joined with commas).
func ETagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
