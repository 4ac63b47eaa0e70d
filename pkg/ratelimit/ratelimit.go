// Package ratelimit is a bounded, in-memory, keyed rate limiter: a token bucket per key
// (a source address, an account's email), refilled at Config.Rate tokens a second up to
// Config.Burst, with at most Config.MaxKeys keys tracked at once. It has no HTTP code and
// no I/O; the caller chooses the keys and turns a refusal into a 429 with Retry-After.
//
// # The two limiters of the sign-in routes
//
// The public sign-in routes (POST /v1/auth/login, refresh, logout, set-password) hold one
// Limiter per source address and one per account, in each process:
//
//   - per source address: one client may not try passwords fast across many accounts
//     (credential stuffing, spraying), nor make the function burn CPU on password hashes
//     (an argon2id verification costs ~60 ms of a full core, far more in a small Lambda);
//   - per account (the email as the caller normalises it): many addresses together may not
//     guess one account's password fast. It slows guessing before the agents store's
//     failure counter and suspension (durable, shared by every container) stop it for good;
//     it also lets anyone slow one account's sign-in down, so its limit should be generous
//     next to what a person types.
//
// Check the address first and the account second, both before any password is verified.
//
// # Where it is enough, and what AWS does in front
//
// The local server (cmd/local) is one process: its limiters see every request, and the
// limits are exact. In Lambda each container has its own limiters and handles one request
// at a time; N warm containers of the sign-in function together accept up to N times the
// configured rate from one address or for one account. In-memory limiting there is a
// per-container speed bump that costs no I/O, not a global guarantee. In front of it:
//
//   - API Gateway throttles each stage's routes (template.yaml, DefaultRouteSettings or
//     per-route RouteSettings: ThrottlingRateLimit and ThrottlingBurstLimit, a token
//     bucket too). That limit is shared by all clients of the route, not per client: it
//     protects the backend and the bill, and one client can use it all.
//   - A per-address limit across containers needs AWS WAF: a rate-based rule aggregating
//     on the source IP (or a forwarded-IP header), scoped down to the /v1/auth/ paths,
//     limit at least 10 requests in an evaluation window of 60, 120, 300 or 600 seconds,
//     action Block (or a CAPTCHA challenge). WAF cannot be associated with an API Gateway
//     HTTP API (only REST APIs, CloudFront, ALB and a few others), so this design needs a
//     CloudFront distribution with the web ACL in front of the HTTP API, and the
//     execute-api endpoint closed to everyone else (disableExecuteApiEndpoint with a
//     custom domain, plus a secret header that CloudFront adds and the function checks).
//   - A per-account limit across containers cannot be WAF's (the email is in the JSON
//     body; rate-based rules aggregate on IP, headers, cookies, query, path, method and
//     labels): it needs a shared counter, e.g. in the DynamoDB table: one item per key and
//     window, pk=RATE#<kind>#<sha256 of the key> sk=<window start>, bumped by UpdateItem
//     ADD n :1 with ConditionExpression "attribute_not_exists(n) OR n < :limit" and a TTL
//     attribute a window later; a failed condition is the refusal. That is one write per
//     attempt (latency and cost on every sign-in) and is not built: the store's failure
//     counter and suspension already bound guessing per account across containers.
//
// # The algorithm
//
// Each bucket is kept as one number, its theoretical arrival time (the generic cell rate
// algorithm, equivalent to a token bucket): the instant at which the bucket will be full
// again. A request at time now is allowed when that instant is at most now + (Burst-1)/Rate,
// and then moves it 1/Rate later; otherwise it is refused with retryAfter = the wait until
// the condition holds. Times are integer nanoseconds; 1/Rate is rounded up to a whole
// nanosecond, so the limiter never allows more than Burst + Rate×elapsed.
//
// # Memory and eviction
//
// At most MaxKeys keys are tracked. A key of more than MaxKeyLen bytes is replaced by its
// SHA-256 digest (distinct keys still get distinct buckets; the digest costs time in the
// key's length, so the caller bounds its input), so a tracked key costs at most about
// 400 bytes with its map entry: 10,000 keys, about 4 MB.
//
// When MaxKeys keys are tracked and a new key arrives, the limiter first forgets a key
// whose bucket is full again (it carries no state: forgetting it changes nothing), and
// only when there is none evicts the least recently used key. Evicting a bucket that is
// not full forgives its debt: the key starts again with a full bucket. So an attacker who
// sends requests from more than MaxKeys addresses within the fill time of a bucket
// (Burst/Rate) can reset another key's bucket. The alternative, refusing new keys while
// the table is full of live buckets, would let the same attacker lock every new client
// out, so the limiter prefers to forget. Fresh buckets of a flood are full again after
// 1/Rate, so the attacker needs MaxKeys distinct keys within about 1/Rate (plus the
// granularity below) to evict a key in debt; size MaxKeys for that.
//
// Both steps are O(1). Buckets are filed by the time they will be full in a ring of
// timing-wheel slots covering Burst/Rate (each slot 1/62 of it); a slot whose time has
// passed is moved whole onto a list of full buckets, so a bucket is known to be full at
// most one slot width (Burst/Rate/62) after it is. Keys are also on a recency list for
// the least-recently-used choice. Nothing scans the keys.
//
// A Limiter is safe for concurrent use: one mutex, held for a map lookup and a few list
// moves (BENCHMARKS.md: 0.3-0.4 µs a call on a loaded 2-core VM, no collapse when
// goroutines contend; a key is copied or hashed before the lock is taken). Its clock
// is read on each Allow; a reading earlier than one already seen counts as that one (the
// limiter's time never goes back).
package ratelimit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// MaxKeyLen is the longest key kept as it is; longer keys are replaced by their SHA-256
// digest.
const MaxKeyLen = 256

// MaxMaxKeys is the largest Config.MaxKeys.
const MaxMaxKeys = 1 << 30

// maxFill is the longest fill time (Burst/Rate) and the latest time, since New, the
// limiter's clock reaches (about 146 years): it keeps every sum of times within int64.
const maxFill = 1 << 62

// Config sets a Limiter's buckets.
type Config struct {
	Rate    float64 // tokens added per second (> 0)
	Burst   int     // bucket size (>= 1): the requests allowed at once after a quiet time
	MaxKeys int     // most keys tracked at once (1 to MaxMaxKeys): memory is bounded by this
}

// Validate returns an error naming the first invalid field: Rate not a positive finite
// number, Burst less than 1, MaxKeys outside 1..MaxMaxKeys, or a fill time (Burst/Rate)
// beyond a century.
func (c Config) Validate() error {
	_, err := c.interval()
	return err
}

// interval is 1/Rate in nanoseconds, rounded up.
func (c Config) interval() (int64, error) {
	switch {
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate <= 0:
		return 0, fmt.Errorf("ratelimit: Rate %v is not a positive finite number", c.Rate)
	case c.Burst < 1:
		return 0, fmt.Errorf("ratelimit: Burst %d is less than 1", c.Burst)
	case c.MaxKeys < 1 || c.MaxKeys > MaxMaxKeys:
		return 0, fmt.Errorf("ratelimit: MaxKeys %d is outside 1..%d", c.MaxKeys, MaxMaxKeys)
	}
	t := math.Ceil(float64(time.Second) / c.Rate)
	if t > maxFill || float64(c.Burst)*t > maxFill/2 {
		return 0, errors.New("ratelimit: the fill time Burst/Rate is too long")
	}
	return max(int64(t), 1), nil
}

// The timing wheel: ring slots of width fill/wheelSpan each; a bucket's slot is at most
// wheelSpan+1 slots after the current one, so wheelSpan+2 slots never alias.
const (
	wheelSpan  = 62
	wheelSlots = wheelSpan + 2
)

// Sentinel nodes of the circular lists, at the start of Limiter.nodes.
const (
	recency   = 0              // the recency list: most recently used first
	fullList  = wheelSlots + 1 // buckets known to be full again
	firstNode = wheelSlots + 2 // nodes 1..wheelSlots are the ring's slot lists
)

// node is a tracked key (or, below firstNode, a list sentinel). prev/next link the
// recency list, sprev/snext a slot list or the full list; an unlinked node points at
// itself.
type node struct {
	key          string
	tat          int64 // when the bucket is full again, ns since base
	prev, next   int32
	sprev, snext int32
}

// Limiter is a set of token buckets, one per key; see the package comment.
type Limiter struct {
	clock     func() time.Time
	base      time.Time
	interval  int64 // 1/Rate, ns
	tolerance int64 // (Burst-1)/Rate, ns
	width     int64 // a wheel slot, ns
	maxKeys   int

	mu    sync.Mutex
	now   int64 // latest clock reading, ns since base
	sweep int64 // the wheel's current slot number: slots before it are on fullList
	index map[string]int32
	nodes []node
}

// New returns a Limiter with the given buckets that reads time from now (time.Now when
// nil). It panics when c is invalid (see Config.Validate): limits are constants of the
// program, so an invalid one is a programming error.
func New(c Config, now func() time.Time) *Limiter {
	interval, err := c.interval()
	if err != nil {
		panic(err)
	}
	if now == nil {
		now = time.Now
	}
	fill := interval * int64(c.Burst)
	l := &Limiter{
		clock:     now,
		base:      now(),
		interval:  interval,
		tolerance: interval * int64(c.Burst-1),
		width:     max((fill+wheelSpan-1)/wheelSpan, 1),
		maxKeys:   c.MaxKeys,
		index:     make(map[string]int32, min(c.MaxKeys, 1024)),
		nodes:     make([]node, firstNode, firstNode+min(c.MaxKeys, 1024)),
	}
	for i := range int32(firstNode) {
		l.nodes[i] = node{prev: i, next: i, sprev: i, snext: i}
	}
	return l
}

// Allow takes one token from key's bucket and reports true; when none is left it
// reports false and how long until one is (always > 0). Any string is a key, the empty
// one included.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	var buf [1 + MaxKeyLen]byte
	k := mapKey(&buf, key)
	t := l.clock()

	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.advance(t)
	i, found := l.index[string(k)]
	if found {
		l.unlink(i)
		l.pushFront(i)
	} else {
		i = l.add(string(k), now)
	}
	n := &l.nodes[i]
	tat := max(n.tat, now)
	if tat-now > l.tolerance {
		return false, time.Duration(tat - l.tolerance - now)
	}
	n.tat = tat + l.interval
	l.file(i)
	return true, 0
}

// mapKey is the index's key for key: "k" and the key, or "h" and the SHA-256 digest of a
// key longer than MaxKeyLen. The tag keeps a digest from ever equalling a short key.
func mapKey(buf *[1 + MaxKeyLen]byte, key string) []byte {
	if len(key) <= MaxKeyLen {
		buf[0] = 'k'
		return buf[:1+copy(buf[1:], key)]
	}
	// Hashed through buf a piece at a time: a huge key is not copied whole.
	h := sha256.New()
	for len(key) > 0 {
		n := copy(buf[:], key)
		h.Write(buf[:n])
		key = key[n:]
	}
	buf[0] = 'h'
	return h.Sum(buf[:1])
}

// advance moves the limiter's time to the clock reading t (never back) and the wheel with
// it: each slot whose time has passed goes onto the full list. At most wheelSlots lists
// are spliced, whatever the time elapsed.
func (l *Limiter) advance(t time.Time) int64 {
	d := min(int64(t.Sub(l.base)), maxFill)
	if d > l.now {
		l.now = d
	}
	cur := l.now / l.width
	if l.sweep < cur {
		n := min(cur-l.sweep, wheelSlots)
		for s := l.sweep; s < l.sweep+n; s++ {
			l.spliceFull(slot(s))
		}
		l.sweep = cur
	}
	return l.now
}

// slot is the sentinel of wheel slot number s.
func slot(s int64) int32 { return int32(1 + s%wheelSlots) }

// add tracks a new key with a full bucket, forgetting a full bucket's key or else the
// least recently used key when MaxKeys are tracked, and returns its node.
func (l *Limiter) add(key string, now int64) int32 {
	var i int32
	if len(l.index) < l.maxKeys {
		l.nodes = append(l.nodes, node{})
		i = int32(len(l.nodes) - 1)
	} else {
		i = l.nodes[fullList].snext
		if i == fullList {
			i = l.nodes[recency].prev
		}
		delete(l.index, l.nodes[i].key)
		l.unlink(i)
		l.unfile(i)
	}
	l.nodes[i] = node{key: key, tat: now, sprev: i, snext: i}
	l.pushFront(i)
	l.index[key] = i
	return i
}

// pushFront puts node i first on the recency list.
func (l *Limiter) pushFront(i int32) {
	first := l.nodes[recency].next
	l.nodes[i].prev, l.nodes[i].next = recency, first
	l.nodes[first].prev = i
	l.nodes[recency].next = i
}

// unlink takes node i off the recency list.
func (l *Limiter) unlink(i int32) {
	n := &l.nodes[i]
	l.nodes[n.prev].next = n.next
	l.nodes[n.next].prev = n.prev
	n.prev, n.next = i, i
}

// file puts node i on the slot list of its tat (after its current one, if any). Its slot
// is never before the wheel's current one: tat > now.
func (l *Limiter) file(i int32) {
	l.unfile(i)
	s := slot(l.nodes[i].tat / l.width)
	last := l.nodes[s].sprev
	l.nodes[i].sprev, l.nodes[i].snext = last, s
	l.nodes[last].snext = i
	l.nodes[s].sprev = i
}

// unfile takes node i off its slot list or the full list.
func (l *Limiter) unfile(i int32) {
	n := &l.nodes[i]
	l.nodes[n.sprev].snext = n.snext
	l.nodes[n.snext].sprev = n.sprev
	n.sprev, n.snext = i, i
}

// spliceFull moves every node of slot list s to the end of the full list.
func (l *Limiter) spliceFull(s int32) {
	first, last := l.nodes[s].snext, l.nodes[s].sprev
	if first == s {
		return
	}
	l.nodes[s].sprev, l.nodes[s].snext = s, s
	tail := l.nodes[fullList].sprev
	l.nodes[tail].snext, l.nodes[first].sprev = first, tail
	l.nodes[last].snext, l.nodes[fullList].sprev = fullList, last
}
