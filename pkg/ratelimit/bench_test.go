package ratelimit

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The sign-in function's figures, as an example: 10 at once, then one every 6 s.
var benchConfig = Config{Rate: 1.0 / 6, Burst: 10, MaxKeys: 10000}

// addresses returns n distinct source addresses.
func addresses(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	return keys
}

// BenchmarkFloor is what any keyed limiter pays: a clock reading, a mutex and a map
// lookup of a short key.
func BenchmarkFloor(b *testing.B) {
	var mu sync.Mutex
	m := map[string]int64{"203.0.113.7": 1}
	var sink int64
	for b.Loop() {
		t := time.Now()
		mu.Lock()
		sink += m["203.0.113.7"] + t.UnixNano()
		mu.Unlock()
	}
	_ = sink
}

// BenchmarkAllowHot: one key, again and again (refused once its burst is spent), with
// time.Now as the clock.
// "injected-clock" reads a clock that stands still instead: the limiter's own cost.
func BenchmarkAllowHot(b *testing.B) {
	for _, c := range []struct {
		name string
		now  func() time.Time
	}{{"time.Now", nil}, {"injected-clock", (&clock{}).now}} {
		b.Run(c.name, func(b *testing.B) {
			l := New(benchConfig, c.now)
			for b.Loop() {
				l.Allow("203.0.113.7")
			}
		})
	}
}

// BenchmarkAllowLongKey: a key of 1 KiB, hashed on every call.
func BenchmarkAllowLongKey(b *testing.B) {
	l := New(benchConfig, nil)
	key := strings.Repeat("a", 1024)
	for b.Loop() {
		l.Allow(key)
	}
}

// BenchmarkAllowNewKeys: every call a key not tracked, with MaxKeys tracked: each one
// evicts. "lru": the clock stands still, no bucket is full, the least recently used goes.
// "full": the clock moves 1 ms a call, buckets are full again 6 s after their one request
// and are forgotten first.
func BenchmarkAllowNewKeys(b *testing.B) {
	keys := addresses(1 << 16) // cycled: each is evicted long before it comes back
	for _, c := range []struct {
		name string
		step time.Duration
	}{{"lru", 0}, {"full", time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			clk := &clock{}
			l := New(benchConfig, clk.now)
			for _, k := range keys[:benchConfig.MaxKeys] {
				l.Allow(k)
			}
			i := benchConfig.MaxKeys
			for b.Loop() {
				clk.step(c.step)
				l.Allow(keys[i&(len(keys)-1)])
				i++
			}
			if n := l.size(); n != benchConfig.MaxKeys {
				b.Fatalf("%d keys tracked", n)
			}
		})
	}
}

// BenchmarkAllowParallel: GOMAXPROCS goroutines on one Limiter, 1,000 addresses (no
// eviction), time.Now as the clock.
func BenchmarkAllowParallel(b *testing.B) {
	l := New(benchConfig, nil)
	keys := addresses(1000)
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(97))
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}
