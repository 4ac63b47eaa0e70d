package ratelimit

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for tests; safe for concurrent use.
type clock struct{ ns atomic.Int64 }

var epoch = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func (c *clock) now() time.Time       { return epoch.Add(time.Duration(c.ns.Load())) }
func (c *clock) step(d time.Duration) { c.ns.Add(int64(d)) }
func newLimiter(t testing.TB, c Config) (*Limiter, *clock) {
	t.Helper()
	clk := &clock{}
	return New(c, clk.now), clk
}

// mustAllow calls Allow and fails unless it answers ok and retryAfter.
func mustAllow(t *testing.T, l *Limiter, key string, wantOK bool, wantRetry time.Duration) {
	t.Helper()
	ok, retry := l.Allow(key)
	if ok != wantOK || retry != wantRetry {
		t.Fatalf("Allow(%.20q) = %v, %v; want %v, %v", key, ok, retry, wantOK, wantRetry)
	}
}

// check verifies the limiter's internal structure: the index, the recency list and the
// wheel agree, every tracked key is on exactly one slot list or the full list, each where
// its tat says, and no more than MaxKeys keys are tracked.
func (l *Limiter) check(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.index) > l.maxKeys || len(l.nodes)-firstNode > l.maxKeys {
		t.Fatalf("tracking %d keys in %d nodes, MaxKeys %d", len(l.index), len(l.nodes)-firstNode, l.maxKeys)
	}
	seen := make(map[int32]bool)
	count := 0
	for i := l.nodes[recency].next; i != recency; i = l.nodes[i].next {
		if l.nodes[l.nodes[i].next].prev != i {
			t.Fatalf("recency list broken at node %d", i)
		}
		if j, ok := l.index[l.nodes[i].key]; !ok || j != i {
			t.Fatalf("node %d (%q) on the recency list is not indexed", i, l.nodes[i].key)
		}
		if len(l.nodes[i].key) > 1+MaxKeyLen {
			t.Fatalf("node %d holds a key of %d bytes", i, len(l.nodes[i].key))
		}
		count++
		if count > len(l.index) {
			t.Fatal("recency list longer than the index")
		}
	}
	if count != len(l.index) {
		t.Fatalf("recency list holds %d keys, index %d", count, len(l.index))
	}
	walk := func(s int32, want func(n node) error) {
		for i := l.nodes[s].snext; i != s; i = l.nodes[i].snext {
			if i < firstNode {
				t.Fatalf("list %d runs into sentinel %d", s, i)
			}
			if l.nodes[l.nodes[i].snext].sprev != i {
				t.Fatalf("list %d broken at node %d", s, i)
			}
			if seen[i] {
				t.Fatalf("node %d on two lists", i)
			}
			seen[i] = true
			if err := want(l.nodes[i]); err != nil {
				t.Fatalf("node %d on list %d: %v", i, s, err)
			}
		}
	}
	walk(fullList, func(n node) error {
		if n.tat > l.now {
			return fmt.Errorf("on the full list with tat %d > now %d", n.tat, l.now)
		}
		return nil
	})
	for s := l.sweep; s < l.sweep+wheelSlots; s++ {
		walk(slot(s), func(n node) error {
			if got := n.tat / l.width; got != s {
				return fmt.Errorf("tat %d is slot %d, filed in %d (sweep %d)", n.tat, got, s, l.sweep)
			}
			return nil
		})
	}
	if len(seen) != len(l.index) {
		t.Fatalf("%d keys filed on the wheel, %d tracked", len(seen), len(l.index))
	}
}

// tracked reports whether key has a bucket.
func (l *Limiter) tracked(key string) bool {
	var buf [1 + MaxKeyLen]byte
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.index[string(mapKey(&buf, key))]
	return ok
}

func (l *Limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.index)
}

func TestBurstThenRefusal(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t, Config{Rate: 2, Burst: 3, MaxKeys: 10})
	for range 3 {
		mustAllow(t, l, "203.0.113.7", true, 0)
	}
	mustAllow(t, l, "203.0.113.7", false, 500*time.Millisecond)
	clk.step(499 * time.Millisecond)
	mustAllow(t, l, "203.0.113.7", false, time.Millisecond)
	clk.step(time.Millisecond)
	mustAllow(t, l, "203.0.113.7", true, 0)
	mustAllow(t, l, "203.0.113.7", false, 500*time.Millisecond)
	l.check(t)
}

func TestRetryAfterRoundsTheIntervalUp(t *testing.T) {
	t.Parallel()
	// 1/3 s is 333,333,333.3 ns: the interval is 333,333,334 ns, never shorter, so
	// the limiter never allows more than Rate.
	l, clk := newLimiter(t, Config{Rate: 3, Burst: 1, MaxKeys: 1})
	mustAllow(t, l, "a", true, 0)
	mustAllow(t, l, "a", false, 333333334)
	clk.step(333333334)
	mustAllow(t, l, "a", true, 0)
}

func TestRefill(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t, Config{Rate: 0.1, Burst: 5, MaxKeys: 10}) // one token every 10 s
	for range 5 {
		mustAllow(t, l, "ana@example.com", true, 0)
	}
	mustAllow(t, l, "ana@example.com", false, 10*time.Second)
	clk.step(25 * time.Second) // two tokens and a half
	mustAllow(t, l, "ana@example.com", true, 0)
	mustAllow(t, l, "ana@example.com", true, 0)
	mustAllow(t, l, "ana@example.com", false, 5*time.Second)
	clk.step(time.Hour) // full again, and no fuller than Burst
	for range 5 {
		mustAllow(t, l, "ana@example.com", true, 0)
	}
	mustAllow(t, l, "ana@example.com", false, 10*time.Second)
	l.check(t)
}

func TestKeysAreIndependent(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t, Config{Rate: 1, Burst: 2, MaxKeys: 10})
	mustAllow(t, l, "a", true, 0)
	mustAllow(t, l, "a", true, 0)
	mustAllow(t, l, "a", false, time.Second)
	mustAllow(t, l, "b", true, 0)
	mustAllow(t, l, "b", true, 0)
	mustAllow(t, l, "b", false, time.Second)
	mustAllow(t, l, "A", true, 0) // keys are compared byte for byte: the caller normalises
	l.check(t)
}

func TestEvictsTheLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	// One token an hour: no bucket is full again during the test.
	l, clk := newLimiter(t, Config{Rate: 1.0 / 3600, Burst: 2, MaxKeys: 3})
	for _, k := range []string{"a", "b", "c"} {
		mustAllow(t, l, k, true, 0)
		clk.step(time.Second)
	}
	mustAllow(t, l, "a", true, 0) // a is now the most recent; b the least
	clk.step(time.Second)
	mustAllow(t, l, "d", true, 0)
	if l.tracked("b") {
		t.Fatal("b (least recently used) is still tracked after d arrived")
	}
	for _, k := range []string{"a", "c", "d"} {
		if !l.tracked(k) {
			t.Fatalf("%s was evicted; want b", k)
		}
	}
	// A refused request counts as a use: a is refused, then e evicts c, not a.
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a allowed a third time")
	}
	mustAllow(t, l, "e", true, 0)
	if l.tracked("c") || !l.tracked("a") {
		t.Fatalf("after e: c tracked %v, a tracked %v; want c evicted", l.tracked("c"), l.tracked("a"))
	}
	// b lost its debt with its bucket: it starts full again (the documented trade-off).
	mustAllow(t, l, "b", true, 0)
	mustAllow(t, l, "b", true, 0)
	l.check(t)
}

func TestForgetsFullBucketsFirst(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t, Config{Rate: 1, Burst: 5, MaxKeys: 3})
	for range 5 {
		mustAllow(t, l, "victim", true, 0) // full again at 5 s
	}
	clk.step(100 * time.Millisecond)
	mustAllow(t, l, "x", true, 0) // full again at 1.1 s
	mustAllow(t, l, "y", true, 0)
	clk.step(1900 * time.Millisecond) // 2 s: x and y full, victim least recently used and in debt
	mustAllow(t, l, "z", true, 0)
	if !l.tracked("victim") {
		t.Fatal("the victim's bucket (in debt) was evicted while full buckets were tracked")
	}
	if l.tracked("x") {
		t.Fatal("x (full again, first filed) is still tracked")
	}
	mustAllow(t, l, "w", true, 0) // y is full too: it goes next
	if l.tracked("y") || !l.tracked("victim") {
		t.Fatalf("after w: y tracked %v, victim tracked %v", l.tracked("y"), l.tracked("victim"))
	}
	// The victim keeps its debt: 3 tokens refilled in 2 s... minus what it had: 2 left.
	mustAllow(t, l, "victim", true, 0)
	mustAllow(t, l, "victim", true, 0)
	mustAllow(t, l, "victim", false, time.Second)
	l.check(t)

	// With no full bucket left, the least recently used goes: z (w and victim are newer).
	mustAllow(t, l, "v", true, 0)
	if l.tracked("z") {
		t.Fatal("z (least recently used, none full) still tracked")
	}
	l.check(t)
}

func TestFullBucketsAreKnownWithinOneSlot(t *testing.T) {
	t.Parallel()
	// A bucket is known to be full once the wheel slot of the time it became full has
	// passed. Slot width here: 62 s / 62 = 1 s; "new" is full again at 1 s, in slot [1 s, 2 s).
	setup := func() (*Limiter, *clock) {
		l, clk := newLimiter(t, Config{Rate: 1, Burst: 62, MaxKeys: 2})
		for range 10 {
			mustAllow(t, l, "old", true, 0) // full again at 10 s
		}
		mustAllow(t, l, "new", true, 0)
		return l, clk
	}

	// At 1.5 s "new" is full, but its slot has not passed: the least recently used
	// ("old", in debt) goes.
	l, clk := setup()
	clk.step(1500 * time.Millisecond)
	mustAllow(t, l, "third", true, 0)
	if l.tracked("old") || !l.tracked("new") {
		t.Fatalf("at 1.5 s: old tracked %v, new tracked %v; want old evicted", l.tracked("old"), l.tracked("new"))
	}
	l.check(t)

	// At 2 s the slot has passed: "new" is forgotten and "old" keeps its debt.
	l, clk = setup()
	clk.step(2 * time.Second)
	mustAllow(t, l, "third", true, 0)
	if !l.tracked("old") || l.tracked("new") {
		t.Fatalf("at 2 s: old tracked %v, new tracked %v; want new forgotten", l.tracked("old"), l.tracked("new"))
	}
	l.check(t)
}

func TestMaxKeysNeverExceeded(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t, Config{Rate: 1, Burst: 3, MaxKeys: 100})
	for i := range 20000 {
		key := fmt.Sprintf("198.51.100.%d:%d", i%256, i)
		if ok, _ := l.Allow(key); !ok {
			t.Fatalf("new key %s refused", key)
		}
		if i%3 == 0 {
			l.Allow("hot") // stays most recent
		}
		clk.step(time.Duration(i%7) * time.Millisecond)
		if n := l.size(); n > 100 {
			t.Fatalf("after %d keys: %d tracked", i+1, n)
		}
		if i%997 == 0 {
			l.check(t)
		}
	}
	if got := len(l.nodes) - firstNode; got != 100 {
		t.Fatalf("%d nodes allocated; want exactly MaxKeys (100)", got)
	}
	if !l.tracked("hot") {
		t.Fatal("the hot key was evicted")
	}
	l.check(t)
}

func TestMaxKeysOne(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t, Config{Rate: 1, Burst: 1, MaxKeys: 1})
	mustAllow(t, l, "a", true, 0)
	mustAllow(t, l, "a", false, time.Second)
	mustAllow(t, l, "b", true, 0) // evicts a
	mustAllow(t, l, "a", true, 0) // a starts again (evicts b)
	l.check(t)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1<<20)
	longest := strings.Repeat("y", MaxKeyLen)
	digest := sha256.Sum256([]byte(huge))
	keys := []string{
		"",
		"\x00",
		"\xff\xfe",              // not UTF-8
		"\xff\xff",              // not UTF-8, another
		"e\u0301",               // decomposed é: bytes differ from the composed one
		"\u00e9",                // composed é
		"\u200bana@example.com", // zero-width space
		"ana@example.com",
		longest,                  // the longest key kept as it is
		longest + "y",            // one byte longer: hashed
		huge,                     // hashed
		huge[:len(huge)-1] + "z", // differs in the last byte only
		string(digest[:]),        // a short key equal to huge's digest
		"h" + string(digest[:]),  // ... or to its tagged form
		"k",
	}
	l, _ := newLimiter(t, Config{Rate: 1, Burst: 1, MaxKeys: len(keys)})
	for _, k := range keys {
		mustAllow(t, l, k, true, 0)
	}
	for _, k := range keys { // each has its own, now empty, bucket
		mustAllow(t, l, k, false, time.Second)
	}
	if n := l.size(); n != len(keys) {
		t.Fatalf("%d keys tracked; want %d", n, len(keys))
	}
	for _, n := range l.nodes[firstNode:] {
		if len(n.key) > 1+MaxKeyLen {
			t.Fatalf("a key of %d bytes is stored", len(n.key))
		}
	}
	l.check(t)
}

func TestClockNeverGoesBack(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t, Config{Rate: 1, Burst: 1, MaxKeys: 4})
	clk.step(time.Hour)
	mustAllow(t, l, "a", true, 0)
	clk.step(-time.Hour) // a clock reading earlier than one already seen counts as that one
	mustAllow(t, l, "a", false, time.Second)
	clk.step(-time.Hour) // before New
	mustAllow(t, l, "b", true, 0)
	mustAllow(t, l, "b", false, time.Second)
	clk.step(2*time.Hour + time.Second)
	mustAllow(t, l, "a", true, 0)
	l.check(t)
}

func TestClockFarAhead(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t, Config{Rate: 1, Burst: 2, MaxKeys: 2})
	mustAllow(t, l, "a", true, 0)
	mustAllow(t, l, "b", true, 0)
	clk.step(math.MaxInt64 / 2)
	clk.step(math.MaxInt64 / 2) // about 292 years after epoch: the limiter's time stops at maxFill
	mustAllow(t, l, "c", true, 0)
	mustAllow(t, l, "c", true, 0)
	mustAllow(t, l, "c", false, time.Second)
	if l.now != maxFill {
		t.Fatalf("now = %d; want %d", l.now, int64(maxFill))
	}
	l.check(t)
}

func TestNilClockIsTimeNow(t *testing.T) {
	t.Parallel()
	l := New(Config{Rate: 1000, Burst: 1, MaxKeys: 1}, nil)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("first request refused")
	}
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > time.Millisecond {
		t.Fatalf("second request: %v, %v; want refused within 1 ms", ok, retry)
	}
}

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{
		{Rate: 0, Burst: 1, MaxKeys: 1},
		{Rate: -1, Burst: 1, MaxKeys: 1},
		{Rate: math.NaN(), Burst: 1, MaxKeys: 1},
		{Rate: math.Inf(1), Burst: 1, MaxKeys: 1},
		{Rate: 1e-20, Burst: 1, MaxKeys: 1},      // fill time beyond int64 nanoseconds
		{Rate: 1e-9, Burst: 1 << 20, MaxKeys: 1}, // fill time too long
		{Rate: 1, Burst: 0, MaxKeys: 1},
		{Rate: 1, Burst: -3, MaxKeys: 1},
		{Rate: 1, Burst: 1, MaxKeys: 0},
		{Rate: 1, Burst: 1, MaxKeys: MaxMaxKeys + 1},
	} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil; want an error", c)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", c)
				}
			}()
			New(c, nil)
		}()
	}
	for _, c := range []Config{
		{Rate: 1e12, Burst: 1, MaxKeys: 1}, // faster than 1/ns: the interval is 1 ns
		{Rate: 1.0 / 86400, Burst: 1000, MaxKeys: MaxMaxKeys},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v; want nil", c, err)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	// A frozen clock: each key allows exactly Burst requests in all, however the
	// goroutines interleave, as long as no key is evicted (MaxKeys covers them all).
	const keys, burst, workers, per = 50, 7, 8, 2000
	l, _ := newLimiter(t, Config{Rate: 1e-3, Burst: burst, MaxKeys: keys})
	var allowed [keys]atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				k := (i*7 + w) % keys
				if ok, _ := l.Allow(fmt.Sprint("key", k)); ok {
					allowed[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if got := allowed[k].Load(); got != burst {
			t.Errorf("key%d: %d allowed; want %d", k, got, burst)
		}
	}
	l.check(t)

	// And with eviction and a moving clock: the structure stays sound.
	l2, clk := newLimiter(t, Config{Rate: 100, Burst: 3, MaxKeys: 16})
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				l2.Allow(fmt.Sprint(w, ":", i%40))
				clk.step(time.Duration(i%5) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	l2.check(t)
}
