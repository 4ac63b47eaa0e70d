package ratelimit

import (
	"math"
	"strings"
	"testing"
	"time"
)

// FuzzLimiter runs sequences of requests and clock steps against a Limiter and checks,
// after every request, that it did not panic, tracks at most MaxKeys keys in a sound
// structure, and decided as an unbounded reference token bucket (float tokens) decides,
// except that a key it no longer tracks starts again with a full bucket; and that no key
// was ever allowed more than Burst + Rate×elapsed since its bucket was last created.
//
// Input: three bytes of configuration (MaxKeys, Burst, Rate), then two bytes per step
// (the key; the clock step before the request), at most 256 steps.
func FuzzLimiter(f *testing.F) {
	f.Add([]byte{2, 2, 1, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 0, 5})
	f.Add([]byte{0, 0, 0, 1, 0, 1, 0, 1, 0, 2, 4, 2, 4})
	f.Add([]byte{7, 4, 3, 10, 2, 11, 2, 12, 2, 13, 2, 14, 9, 15, 6, 0, 7, 1, 8})
	f.Add([]byte{3, 9, 5, 0, 3, 1, 3, 2, 3, 3, 3, 4, 3, 0, 1, 1, 1})
	keys := []string{
		"", "a", "b", "c", "d", "e", "\xff", "\xfe\xff", "e\u0301", "\u00e9",
		strings.Repeat("x", MaxKeyLen), strings.Repeat("x", MaxKeyLen+1),
		strings.Repeat("x", MaxKeyLen+2), strings.Repeat("z", 4096), "203.0.113.9", "ana@example.com",
	}
	rates := []float64{1, 3, 0.5, 1.0 / 7, 10, 1000, 1e9, 2.5}
	steps := []time.Duration{
		0, 0, 1, time.Millisecond, 99 * time.Millisecond, 333333333, 500 * time.Millisecond,
		time.Second, 1500 * time.Millisecond, 7 * time.Second, time.Minute, time.Hour,
		-time.Second, 3, 250 * time.Millisecond, 0,
	}
	const maxSteps = 256 // longer inputs are cut: they cost time, not coverage
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		c := Config{MaxKeys: 1 + int(data[0]%8), Burst: 1 + int(data[1]%10), Rate: rates[data[2]%8]}
		data = data[3:min(len(data), 3+2*maxSteps)]
		clk := &clock{}
		l := New(c, clk.now)
		interval := float64(l.interval)
		burst := float64(c.Burst)

		type model struct {
			tokens float64 // the reference bucket
			at     int64   // when tokens was computed, ns
			start  int64   // when the limiter's bucket was last created
			count  int     // requests allowed since start
		}
		ref := map[string]*model{}
		var now int64 // the limiter's time: the clock's, never back
		for len(data) >= 2 {
			key := keys[data[0]%16]
			clk.step(steps[data[1]%16])
			data = data[2:]
			now = max(now, clk.ns.Load())

			m := ref[key]
			if m == nil {
				m = &model{tokens: burst, at: now, start: now}
				ref[key] = m
			}
			m.tokens = min(burst, m.tokens+float64(now-m.at)/interval)
			m.at = now
			if !l.tracked(key) {
				// Forgotten (full) or evicted (its debt forgiven): the bucket starts full.
				m.tokens, m.start, m.count = burst, now, 0
			}

			ok, retry := l.Allow(key)
			const eps = 1e-6
			switch {
			case ok && m.tokens < 1-eps:
				t.Fatalf("%q allowed with %v tokens in the reference", key, m.tokens)
			case !ok && m.tokens >= 1+eps:
				t.Fatalf("%q refused with %v tokens in the reference", key, m.tokens)
			case ok && retry != 0:
				t.Fatalf("%q allowed with retryAfter %v", key, retry)
			case !ok && retry <= 0:
				t.Fatalf("%q refused with retryAfter %v", key, retry)
			case !ok && math.Abs(float64(retry)-(1-m.tokens)*interval) > 2+(1-m.tokens)*interval*1e-9:
				t.Fatalf("%q refused with retryAfter %v; the reference says %v", key, retry, (1-m.tokens)*interval)
			}
			if ok {
				m.tokens--
				m.count++
				if limit := burst + c.Rate*float64(now-m.start)/1e9; float64(m.count) > limit+eps {
					t.Fatalf("%q allowed %d times in %v; at most %v", key, m.count, time.Duration(now-m.start), limit)
				}
			}
			if ok && !l.tracked(key) {
				t.Fatalf("%q allowed but not tracked", key)
			}
			l.check(t)
		}
	})
}
