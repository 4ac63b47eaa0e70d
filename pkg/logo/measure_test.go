package logo

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// usage is what one call cost.
type usage struct {
	alloc    uint64        // bytes allocated on the heap (MemStats.TotalAlloc)
	peakHeap uint64        // highest sampled live-and-garbage heap above the start
	cpu      time.Duration // process CPU time, user and system
	wall     time.Duration
}

func (u usage) allocMiB() float64 { return float64(u.alloc) / mib }
func (u usage) peakMiB() float64  { return float64(u.peakHeap) / mib }

// measure runs f after a collection and reports what it cost. The heap is sampled
// every 100 µs through runtime/metrics, which allocates nothing, so peakHeap may miss
// a short-lived spike but alloc, the total, cannot.
func measure(f func()) usage {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(s); return s[0].Value.Uint64() }
	base := heap()
	var (
		wg   sync.WaitGroup
		stop = make(chan struct{})
		peak uint64
	)
	wg.Go(func() {
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			if h := heap(); h > peak {
				peak = h
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0, w0 := cpuTime(), time.Now()
	f()
	u := usage{cpu: cpuTime() - c0, wall: time.Since(w0)}
	runtime.ReadMemStats(&m1)
	close(stop)
	wg.Wait()
	u.alloc = m1.TotalAlloc - m0.TotalAlloc
	if peak > base {
		u.peakHeap = peak - base
	}
	return u
}
