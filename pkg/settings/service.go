package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// Service reads and changes one area's documents through a Store.
type Service[T Doc] struct {
	area  Area[T]
	store Store
	now   func() time.Time
	reps  repCache
	orgs  orgs.Lookup

	fieldsOnce sync.Once
	fieldNames map[string]bool
}

// NewService returns the service of area on store; now may be nil for time.Now.
func NewService[T Doc](area Area[T], store Store, now func() time.Time) *Service[T] {
	if now == nil {
		now = time.Now
	}
	return &Service[T]{area: area, store: store, now: now}
}

// UseOrgs makes the service find the path of an organisation through l when the request
// context does not carry it (code that runs outside an HTTP request: the sweeps, the
// chat events); without it such an organisation is read as a root. It returns s.
func (s *Service[T]) UseOrgs(l orgs.Lookup) *Service[T] {
	s.orgs = l
	return s
}

// Load returns the document in effect for orgID with strongly consistent reads (the
// defaults, version 0, for an organisation whose path never saved the area). Errors are
// the store's.
func (s *Service[T]) Load(ctx context.Context, orgID string) (Current[T], error) {
	return s.Read(ctx, orgID, Strong)
}

// Read is Load with the given read consistency: one read of the organisation's record
// for a root, one batched read of the path's records for a sub-organisation.
func (s *Service[T]) Read(ctx context.Context, orgID string, c Consistency) (Current[T], error) {
	recs, err := s.records(ctx, orgID, c)
	if err != nil {
		return Current[T]{}, err
	}
	return s.current(recs)
}

// records reads the records of orgID's path, root first.
func (s *Service[T]) records(ctx context.Context, orgID string, c Consistency) ([]Record, error) {
	path, err := orgs.PathOf(ctx, s.orgs, orgID)
	if err != nil {
		return nil, err
	}
	if len(path) > 1 {
		return s.store.GetPath(ctx, path, s.area.Name, c)
	}
	rec, err := s.store.Get(ctx, orgID, s.area.Name, c)
	if problem.Is(err, problem.NotFound) && CheckKeys(orgID, "") == nil {
		return []Record{{OrgID: orgID, Area: s.area.Name}}, nil
	}
	if err != nil {
		return nil, err
	}
	return []Record{rec}, nil
}

// fields returns the area's top-level field names.
func (s *Service[T]) fields() map[string]bool {
	s.fieldsOnce.Do(func() { s.fieldNames = jsonFields(reflect.TypeFor[T]()) })
	return s.fieldNames
}

// defaultFields is the area's default document as top-level fields.
func (s *Service[T]) defaultFields() (map[string]json.RawMessage, error) {
	data, err := json.Marshal(s.area.Defaults())
	if err != nil {
		return nil, err
	}
	return fieldsOf(data)
}

// current computes the document in effect from the path's records (root first).
func (s *Service[T]) current(recs []Record) (Current[T], error) {
	defs, err := s.defaultFields()
	if err != nil {
		return Current[T]{}, err
	}
	r, err := resolve(defs, s.fields(), recs)
	if err != nil {
		return Current[T]{}, err
	}
	data, err := json.Marshal(r.doc)
	if err != nil {
		return Current[T]{}, err
	}
	doc := s.area.Defaults()
	if err := json.Unmarshal(data, &doc); err != nil {
		return Current[T]{}, problem.Wrap(problem.Internal, err, "stored settings are unreadable")
	}
	own := recs[len(recs)-1]
	path := make([]Guard, len(recs))
	for i, rec := range recs {
		path[i] = Guard{OrgID: rec.OrgID, Version: rec.Version}
	}
	return Current[T]{Doc: doc, Version: own.Version, UpdatedAt: own.UpdatedAt, UpdatedBy: own.UpdatedBy,
		Sources: r.sources, Locked: r.locked, LockedBy: r.lockedBy, Path: path, own: r.own, recs: recs}, nil
}

// Mutation turns the current document into the next one. Its errors are returned as is.
// The fields whose values it changes become the organisation's own (overridden).
type Mutation[T Doc] func(cur T) (T, error)

// edit is a change of an organisation's document: the next values and which fields it
// overrides or returns to inheriting.
type edit[T Doc] struct {
	doc T
	// set lists the fields the change overrides with doc's values; nil: those whose value
	// differs from the current document's.
	set map[string]bool
	// unset lists the fields returned to inheriting (for a root: to the default).
	unset map[string]bool
	// locked, when setLocked, is the organisation's new list of locked fields.
	locked    []string
	setLocked bool
}

// Update applies mutate to the current document, validates the result and saves it with
// an audit entry in one transaction. ifMatch is the request's If-Match header ("" for
// none): a mismatch is problem.PreconditionFailed. An update that changes nothing saves
// nothing. Without If-Match a concurrent change is retried; with it, it is a 412.
func (s *Service[T]) Update(ctx context.Context, orgID, ifMatch, action string, mutate Mutation[T]) (Current[T], error) {
	return s.update(ctx, orgID, ifMatch, action, mutation(mutate), true)
}

// UpdateOwned is Update for changes of server-owned fields only (such as the logo): the
// client-set fields are not revalidated, so an organisation that never saved the area
// can still upload a logo.
func (s *Service[T]) UpdateOwned(ctx context.Context, orgID, ifMatch, action string, mutate Mutation[T]) (Current[T], error) {
	return s.update(ctx, orgID, ifMatch, action, mutation(mutate), false)
}

func mutation[T Doc](mutate Mutation[T]) func(Current[T]) (edit[T], error) {
	return func(cur Current[T]) (edit[T], error) {
		next, err := mutate(cur.Doc)
		return edit[T]{doc: next}, err
	}
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

func (s *Service[T]) update(ctx context.Context, orgID, ifMatch, action string, change func(Current[T]) (edit[T], error), validate bool) (Current[T], error) {
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
		e, err := change(cur)
		if err != nil {
			return Current[T]{}, err
		}
		next, rec, changes, err := s.apply(ctx, cur, e, validate)
		if err != nil {
			return Current[T]{}, err
		}
		if len(changes) == 0 {
			return cur, nil
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		rec.Version, rec.UpdatedAt, rec.UpdatedBy = cur.Version+1, now, p.Subject
		entry := audit.Entry{ID: audit.NewID(now), OrgID: orgID, At: now, Actor: p.Subject, Area: s.area.Name,
			Action: action, Changes: changes, RequestID: httpx.RequestID(ctx)}
		err = s.store.Save(ctx, rec, entry, cur.Path[:len(cur.Path)-1]...)
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
		next.Version, next.UpdatedAt, next.UpdatedBy = rec.Version, now, p.Subject
		next.Path[len(next.Path)-1].Version = rec.Version
		next.recs[len(next.recs)-1] = rec
		return next, nil
	}
}

// descendantLister is the part of the organisation tree (orgs.Store) that lists an
// organisation's descendants.
type descendantLister interface {
	Descendants(ctx context.Context, id, after string, limit int) (orgs.Page, error)
}

// maxChecked bounds the descendants a write checks (see checkDescendants): two pages of
// orgs.MaxLimit, at one batched read each, a few hundred milliseconds.
const maxChecked = 200

// brokenOrg is a descendant whose document in effect a change would make invalid.
type brokenOrg struct {
	OrgID  string               `json:"orgId"`
	Errors []problem.FieldError `json:"errors"`
}

// checkDescendants refuses a change of rec's organisation that would make the document in
// effect of a descendant that inherits it break the area's rules (a cross-field rule
// between an inherited field and one the descendant overrides): a 422 listing them in the
// "organisations" extension member. It reads the descendants (the tree's index) and the
// records of each one's path (one batched read each), at most maxChecked of them: a tree
// larger than that under the organisation is checked in part (the descendants in id
// order), and a write of the rest is refused later with the rule's message.
func (s *Service[T]) checkDescendants(ctx context.Context, rec Record) error {
	tree, ok := s.orgs.(descendantLister)
	if !ok {
		return nil
	}
	var broken []brokenOrg
	checked, after := 0, ""
	for checked < maxChecked {
		page, err := tree.Descendants(ctx, rec.OrgID, after, min(orgs.MaxLimit, maxChecked-checked))
		if err != nil {
			return err
		}
		for _, d := range page.Orgs {
			checked++
			i := slices.Index(d.Path, rec.OrgID)
			if i < 0 {
				continue
			}
			recs, err := s.store.GetPath(ctx, d.Path, s.area.Name, Strong)
			if err != nil {
				return err
			}
			recs[i] = rec
			c, err := s.current(recs)
			if err != nil {
				return err
			}
			if s.area.Prepare != nil {
				s.area.Prepare(c.Doc, &c.Doc)
			}
			if err := c.Doc.Validate(); err != nil {
				b := brokenOrg{OrgID: d.ID}
				var pe *problem.Error
				if errors.As(err, &pe) {
					b.Errors = pe.Fields
				}
				broken = append(broken, b)
			}
		}
		if page.Next == "" || len(page.Orgs) == 0 {
			break
		}
		after = page.Next
	}
	if len(broken) == 0 {
		return nil
	}
	return problem.New(problem.Invalid, "the change would break the rules of %d sub-organisation(s) that inherit it; change their values first", len(broken)).
		With("organisations", broken)
}

// apply computes what e makes of cur: the document then in effect, the organisation's
// record to store (without its version and metadata) and the audit changes (none: nothing
// to save). Overriding a field an ancestor locks is a 422 naming the locking organisation,
// unless the value sent is the one in effect (a document read and sent back whole).
func (s *Service[T]) apply(ctx context.Context, cur Current[T], e edit[T], validate bool) (Current[T], Record, []audit.Change, error) {
	next := e.doc
	if validate && s.area.Prepare != nil {
		s.area.Prepare(cur.Doc, &next)
	}
	before, err := json.Marshal(cur.Doc)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	beforeFields, err := fieldsOf(before)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	nextJSON, err := json.Marshal(next)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	nextFields, err := fieldsOf(nextJSON)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	set := e.set
	if set == nil {
		set = map[string]bool{}
		for k, v := range nextFields {
			if !bytes.Equal(compact(v), compact(beforeFields[k])) {
				set[k] = true
			}
		}
	}
	own := maps.Clone(cur.own)
	for k := range e.unset {
		delete(own, k)
	}
	var f problem.Fields
	for _, k := range slices.Sorted(maps.Keys(set)) {
		v, field := nextFields[k]
		if !field {
			continue
		}
		if by, locked := cur.LockedBy[k]; locked {
			if bytes.Equal(compact(v), compact(beforeFields[k])) {
				delete(own, k) // the value in effect, sent back: it stays inherited
				continue
			}
			f.Add(k, "is locked by organisation %s: it cannot be overridden here", by)
			continue
		}
		own[k] = v
	}
	if err := f.Err(); err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	locked := cur.Locked
	if e.setLocked {
		if err := checkLocked(e.locked, s.fields(), s.area.ReadOnly); err != nil {
			return Current[T]{}, Record{}, nil, err
		}
		locked = e.locked
	}
	data, err := json.Marshal(own)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	last := cur.recs[len(cur.recs)-1]
	rec := Record{OrgID: last.OrgID, Area: s.area.Name, Data: data, Locked: slices.Clip(locked)}
	recs := slices.Clone(cur.recs)
	recs[len(recs)-1] = rec
	after, err := s.current(recs)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	if validate {
		// The document in effect is rebuilt from JSON: Prepare gives it back what it keeps
		// outside its fields (an area's clock, say), as it did to next.
		if s.area.Prepare != nil {
			s.area.Prepare(cur.Doc, &after.Doc)
		}
		if err := after.Doc.Validate(); err != nil {
			return Current[T]{}, Record{}, nil, err
		}
	}
	if sameFields(cur.own, own) && slices.Equal(cur.Locked, locked) {
		return cur, Record{}, nil, nil
	}
	if validate {
		if err := s.checkDescendants(ctx, rec); err != nil {
			return Current[T]{}, Record{}, nil, err
		}
	}
	afterJSON, err := json.Marshal(after.Doc)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	changes, err := audit.Diff(before, afterJSON, s.area.Secret...)
	if err != nil {
		return Current[T]{}, Record{}, nil, err
	}
	if len(cur.Path) > 1 {
		afterFields, err := fieldsOf(afterJSON)
		if err != nil {
			return Current[T]{}, Record{}, nil, err
		}
		changes = inheritanceChanges(changes, cur.own, own, beforeFields, afterFields, s.area.Secret)
	}
	if !slices.Equal(cur.Locked, locked) {
		from, _ := json.Marshal(append([]string{}, cur.Locked...))
		to, _ := json.Marshal(append([]string{}, locked...))
		changes = append(changes, audit.Change{Field: "locked", From: from, To: to})
	}
	return after, rec, changes, nil
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
