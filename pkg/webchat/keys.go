package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/convrs/admin/pkg/webchat/revision"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/secrets"
	"github.com/convrs/admin/pkg/webchat/token"
)

// Area is the audit area of key changes.
const Area = "webchat"

// Lease bounds a change: another change may take the claim over this long after a change
// claimed the revision (the holder crashed or hung). A change finishes well within it:
// one secret read, one secret write, one transaction.
const Lease = 30 * time.Second

// Freshness is how long a verifier trusts the key set it holds before it reads the
// revision item again: a rotation or revocation is honoured by every verifier within it.
const Freshness = time.Second

// maxCached bounds the verifiers' key-set cache (organisations per container).
const maxCached = 4096

// SecretName is the name of an organisation's key-set document in the secret store. It
// ends in a fixed segment: Secrets Manager appends a random suffix of "-" and six
// characters to a secret's ARN, and a name that itself ends like that is best avoided.
func SecretName(orgID string) string { return "orgs/" + orgID + "/webchat" }

// Keys generates, rotates and revokes organisations' WebChat signing keys, and gives
// verifiers the key set in effect. It is safe for concurrent use.
type Keys struct {
	revisions revision.Store
	secrets   secrets.Store
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cached
	// SecretReads counts reads of the secret store (for tests and benchmarks).
	secretReads int64
}

type cached struct {
	revision int64
	set      token.KeySet
	checked  time.Time
}

// NewKeys returns the keys of every organisation on revisions and secrets; now may be nil
// for time.Now.
func NewKeys(revisions revision.Store, store secrets.Store, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{revisions: revisions, secrets: store, now: now, cache: map[string]cached{}}
}

// KeyInfo describes a key without its secret.
type KeyInfo struct {
	KID       string     `json:"kid"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Status is what GET .../webchat/secret shows: the keys in effect, never a secret.
type Status struct {
	Current  *KeyInfo `json:"current"`
	Previous *KeyInfo `json:"previous"`
}

// Issued is a new key as generate and rotate return it, shown this once.
type Issued struct {
	KID       string    `json:"kid"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"createdAt"`
	// Previous is the key a rotation demoted, valid until its ExpiresAt.
	Previous *KeyInfo `json:"previous,omitempty"`
}

// committed reads the revision and the document, and returns the set in effect.
func (k *Keys) committed(ctx context.Context, orgID string) (revision.Revision, Set, error) {
	rev, err := k.revisions.Revision(ctx, orgID)
	if err != nil || rev.Committed == 0 {
		return rev, Set{}, err
	}
	doc, err := k.document(ctx, orgID)
	if err != nil {
		return rev, Set{}, err
	}
	set, ok := doc.At(rev.Committed)
	if !ok {
		// The secret store has not caught up with the revision yet (Secrets Manager is
		// eventually consistent), or lost a write: retrying soon is the answer.
		return rev, Set{}, &problem.Error{Code: problem.Unavailable, RetryAfter: time.Second,
			Message: "the WebChat keys are being updated; please retry",
			Err:     errors.New("webchat: the key-set document does not hold the committed revision")}
	}
	return rev, set, nil
}

func (k *Keys) document(ctx context.Context, orgID string) (Document, error) {
	k.mu.Lock()
	k.secretReads++
	k.mu.Unlock()
	data, err := k.secrets.Get(ctx, SecretName(orgID))
	if problem.Is(err, problem.NotFound) {
		return Document{}, nil
	}
	if err != nil {
		return Document{}, err
	}
	return ParseDocument(data)
}

// SecretReads returns how many times the secret store has been read.
func (k *Keys) SecretReads() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.secretReads
}

// Status returns the keys in effect for orgID. A previous key whose grace period has
// ended is not shown: it is no longer accepted.
func (k *Keys) Status(ctx context.Context, orgID string) (Status, error) {
	_, set, err := k.committed(ctx, orgID)
	if err != nil {
		return Status{}, err
	}
	return set.status(k.now()), nil
}

func (s Set) status(now time.Time) Status {
	var st Status
	if s.Current != nil {
		st.Current = &KeyInfo{KID: s.Current.KID, CreatedAt: s.Current.CreatedAt}
	}
	if p := s.Previous; p != nil && p.NotAfter != nil && now.Before(*p.NotAfter) {
		st.Previous = &KeyInfo{KID: p.KID, CreatedAt: p.CreatedAt, ExpiresAt: p.NotAfter}
	}
	return st
}

// Generate makes the organisation's first key. It returns a problem.Conflict error when
// the organisation has a key already (rotate instead) or another change is in progress.
func (k *Keys) Generate(ctx context.Context, orgID string) (Issued, error) {
	var issued Issued
	err := k.change(ctx, orgID, "generate", func(cur Set, now time.Time) (Set, error) {
		if cur.Current != nil {
			return Set{}, problem.New(problem.Conflict, "a signing secret exists already; rotate it to get a new one")
		}
		key := newStoredKey(now)
		issued = Issued{KID: key.KID, Secret: string(key.Secret), CreatedAt: now}
		return Set{Current: key}, nil
	})
	return issued, err
}

// Rotate makes a new current key and demotes the current one to previous, valid for the
// GracePeriod (a previous key still in its grace period is dropped). It returns a
// problem.Conflict error when the organisation has no key yet or another change is in
// progress.
func (k *Keys) Rotate(ctx context.Context, orgID string) (Issued, error) {
	var issued Issued
	err := k.change(ctx, orgID, "rotate", func(cur Set, now time.Time) (Set, error) {
		if cur.Current == nil {
			return Set{}, problem.New(problem.Conflict, "there is no signing secret yet; generate one first")
		}
		key := newStoredKey(now)
		notAfter := now.Add(GracePeriod)
		prev := *cur.Current
		prev.NotAfter = &notAfter
		issued = Issued{KID: key.KID, Secret: string(key.Secret), CreatedAt: now,
			Previous: &KeyInfo{KID: prev.KID, CreatedAt: prev.CreatedAt, ExpiresAt: &notAfter}}
		return Set{Current: key, Previous: &prev}, nil
	})
	return issued, err
}

// RevokePrevious drops the previous key at once. It returns a problem.NotFound error when
// there is no previous key in its grace period, and a problem.Conflict error when another
// change is in progress.
func (k *Keys) RevokePrevious(ctx context.Context, orgID string) error {
	return k.change(ctx, orgID, "revoke", func(cur Set, now time.Time) (Set, error) {
		if p := cur.Previous; p == nil || p.NotAfter == nil || !now.Before(*p.NotAfter) {
			return Set{}, problem.New(problem.NotFound, "there is no previous signing secret to revoke")
		}
		return Set{Current: cur.Current}, nil
	})
}

var errInProgress = problem.New(problem.Conflict, "another change to the WebChat signing secret is in progress; retry in a few seconds")

// change claims the next revision, writes the new document, and commits the revision
// with the change's audit entry: concurrent changes serialise on the claim (the loser is
// told 409), and verifiers see the new set only once it is committed. mutate runs once on
// the committed set before the claim, so that a refused change (rotate before generate,
// nothing to revoke) takes no claim, and again under the claim on the set read then (the
// same, since nobody else can commit meanwhile). Once the claim is taken the change runs
// to its end even if the request is abandoned, and its writes must start within half the
// lease, so that a change never writes after another may have taken its claim over.
func (k *Keys) change(ctx context.Context, orgID, action string, mutate func(cur Set, now time.Time) (Set, error)) error {
	now := k.now().UTC().Truncate(time.Millisecond)
	rev, cur, err := k.committed(ctx, orgID)
	if err != nil {
		return err
	}
	if rev.InProgress(now) {
		return errInProgress
	}
	if _, err := mutate(cur, now); err != nil {
		return err
	}
	claimed, err := k.revisions.Claim(ctx, orgID, rev, now, now.Add(Lease))
	if errors.Is(err, revision.ErrChanged) {
		return errInProgress
	}
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Lease/2)
	defer cancel()
	doc, err := k.document(wctx, orgID)
	if err != nil {
		return err
	}
	cur, ok := doc.At(rev.Committed)
	if !ok {
		return &problem.Error{Code: problem.Unavailable, RetryAfter: time.Second, Message: "the WebChat keys are being updated; please retry",
			Err: errors.New("webchat: the key-set document does not hold the committed revision")}
	}
	next, err := mutate(cur, now)
	if err != nil {
		return err // nothing written; the claim ends with its lease
	}
	newDoc, err := doc.Next(rev.Committed, next)
	if err != nil {
		return err
	}
	data, err := json.Marshal(newDoc)
	if err != nil {
		return err
	}
	if err := k.secrets.Put(wctx, SecretName(orgID), data); err != nil {
		return err
	}
	before, _ := json.Marshal(cur.status(now))
	after, _ := json.Marshal(next.status(now))
	changes, err := audit.Diff(before, after)
	if err != nil {
		return err
	}
	p, _ := auth.FromContext(ctx)
	entry := audit.Entry{ID: audit.NewID(now), OrgID: orgID, At: now, Actor: p.Subject, Area: Area, Action: action,
		Changes: changes, RequestID: httpx.RequestID(ctx)}
	if err := k.revisions.Commit(wctx, orgID, claimed, entry); err != nil {
		if errors.Is(err, revision.ErrChanged) {
			return errInProgress
		}
		return err
	}
	k.forget(orgID)
	return nil
}

// forget drops the cached set of orgID, so that this container's verifiers see a change
// it made at once.
func (k *Keys) forget(orgID string) {
	k.mu.Lock()
	delete(k.cache, orgID)
	k.mu.Unlock()
}

// KeySet returns the key set verifiers use for orgID. It is cached per container and
// trusted for Freshness; after that one read of the revision item tells whether it
// changed, and the secret store is read only when it did.
func (k *Keys) KeySet(ctx context.Context, orgID string) (token.KeySet, error) {
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[orgID]
	k.mu.Unlock()
	if ok && now.Sub(c.checked) < Freshness && !now.Before(c.checked) {
		return c.set, nil
	}
	rev, err := k.revisions.Revision(ctx, orgID)
	if err != nil {
		return token.KeySet{}, err
	}
	if !ok || c.revision != rev.Committed {
		var set Set
		if rev.Committed > 0 {
			doc, err := k.document(ctx, orgID)
			if err != nil {
				return token.KeySet{}, err
			}
			var held bool
			if set, held = doc.At(rev.Committed); !held {
				if ok {
					return c.set, nil // the store lags the revision: keep what we had, look again next time
				}
				return token.KeySet{}, &problem.Error{Code: problem.Unavailable, RetryAfter: time.Second,
					Message: "the WebChat keys are being updated; please retry",
					Err:     errors.New("webchat: the key-set document does not hold the committed revision")}
			}
		}
		c = cached{revision: rev.Committed, set: set.keySet()}
	}
	c.checked = now
	k.mu.Lock()
	if len(k.cache) >= maxCached {
		n := 0
		for org := range k.cache {
			delete(k.cache, org)
			if n++; n >= maxCached/4 {
				break
			}
		}
	}
	k.cache[orgID] = c
	k.mu.Unlock()
	return c.set, nil
}

func (s Set) keySet() token.KeySet {
	var ks token.KeySet
	if s.Current != nil {
		ks.Current = &token.Key{KID: s.Current.KID, Secret: s.Current.Secret}
	}
	if p := s.Previous; p != nil && p.NotAfter != nil {
		ks.Previous = &token.Key{KID: p.KID, Secret: p.Secret}
		ks.PreviousNotAfter = *p.NotAfter
	}
	return ks
}

// Verify checks a widget token against the organisation's keys in effect.
func (k *Keys) Verify(ctx context.Context, orgID, tok string) (token.Result, error) {
	ks, err := k.KeySet(ctx, orgID)
	if err != nil {
		return token.Result{}, err
	}
	return token.Verify(tok, ks, k.now()), nil
}
