package webchatfn

import (
	"context"
	"sync"
	"time"

	"github.com/convrs/admin/pkg/orgs"
)

// liveFor is how long the identify function trusts what it read of an organisation's
// record: a deleted organisation's widget is refused within a second, as a rotated or
// revoked key is (webchat.Freshness), at one read per organisation per second at most.
const liveFor = time.Second

// maxLive bounds the organisations remembered (about 100 bytes each); when full, the
// memory starts again.
const maxLive = 10000

// liveOrgs answers whether an organisation is live (not deleted) through the tree, each
// answer remembered for liveFor. A nil *liveOrgs (no tree) says every organisation is.
type liveOrgs struct {
	lookup orgs.Lookup
	now    func() time.Time
	mu     sync.Mutex
	seen   map[string]liveEntry
}

type liveEntry struct {
	deleted bool
	at      time.Time
}

func newLiveOrgs(l orgs.Lookup, now func() time.Time) *liveOrgs {
	if l == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &liveOrgs{lookup: l, now: now, seen: map[string]liveEntry{}}
}

// deleted reports whether org was deleted (a root, which has no record, never is).
func (l *liveOrgs) deleted(ctx context.Context, org string) (bool, error) {
	if l == nil {
		return false, nil
	}
	now := l.now()
	l.mu.Lock()
	e, ok := l.seen[org]
	l.mu.Unlock()
	if ok && now.Sub(e.at) < liveFor && !now.Before(e.at) {
		return e.deleted, nil
	}
	o, found, err := l.lookup.Org(ctx, org)
	if err != nil {
		return false, err
	}
	e = liveEntry{deleted: found && o.Deleted(), at: now}
	l.mu.Lock()
	if len(l.seen) >= maxLive {
		clear(l.seen)
	}
	l.seen[org] = e
	l.mu.Unlock()
	return e.deleted, nil
}
