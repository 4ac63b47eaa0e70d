package logo

import (
	"container/list"
	"context"
	"sync"
)

// budget is a weighted semaphore: a process-wide allowance of decoder memory, in
// bytes, shared by concurrent decodes. It is first come, first served: a request for
// more than is free waits, and so do all requests that arrive after it, so that a
// stream of small logos cannot starve a large one. It is written with the standard
// library only, after the design of golang.org/x/sync/semaphore.
type budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	peak    int64     // the most ever held at once, for tests
	waiters list.List // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the waiter holds its n bytes
}

func newBudget(size int64) *budget { return &budget{size: size} }

// acquire takes n bytes of the budget, waiting until they are free. It returns
// ctx.Err(), holding nothing, when ctx is done first. n must be at most the size of the
// budget: callers refuse larger requests before they get here.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	if n > b.size {
		b.mu.Unlock()
		panic("logo: budget request larger than the budget")
	}
	if b.size-b.used >= n && b.waiters.Len() == 0 {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted while ctx was ending: give the bytes back so that the caller,
			// whose work is abandoned, holds nothing.
			b.used -= n
		default:
			b.waiters.Remove(elem)
		}
		// Either way the head of the queue may have changed, or bytes were freed.
		b.grant()
		b.mu.Unlock()
		return ctx.Err()
	}
}

// release gives back n bytes taken by acquire.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic("logo: budget released more than was held")
	}
	b.grant()
	b.mu.Unlock()
}

// take records n more bytes in use; b.mu is held.
func (b *budget) take(n int64) {
	b.used += n
	if b.used > b.peak {
		b.peak = b.used
	}
}

// grant hands free bytes to waiters in arrival order, stopping at the first that does
// not fit; b.mu is held.
func (b *budget) grant() {
	for {
		front := b.waiters.Front()
		if front == nil {
			return
		}
		w := front.Value.(*budgetWaiter)
		if b.size-b.used < w.n {
			return
		}
		b.take(w.n)
		b.waiters.Remove(front)
		close(w.ready)
	}
}

// state returns the bytes in use, the high-water mark and the number of waiters.
func (b *budget) state() (used, peak int64, waiting int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak, b.waiters.Len()
}
