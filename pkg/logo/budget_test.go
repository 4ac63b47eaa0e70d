package logo

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// acquireAsync starts acquire in a goroutine; the channel receives its result.
func acquireAsync(b *budget, ctx context.Context, n int64) <-chan error {
	done := make(chan error, 1)
	go func() { done <- b.acquire(ctx, n) }()
	return done
}

// waitFor waits until the budget has the given number of waiters.
func waitFor(t *testing.T, b *budget, waiting int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, _, w := b.state(); w == waiting {
			return
		}
	}
	_, _, w := b.state()
	t.Fatalf("got %d waiters, want %d", w, waiting)
}

func wantPending(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("acquire returned %v, want it still waiting", err)
	case <-time.After(10 * time.Millisecond):
	}
}

func wantDone(t *testing.T, done <-chan error, want error) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, want) {
			t.Fatalf("acquire: got %v, want %v", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("acquire still waiting, want it done")
	}
}

func wantUsed(t *testing.T, b *budget, want int64) {
	t.Helper()
	if used, _, _ := b.state(); used != want {
		t.Fatalf("got %d in use, want %d", used, want)
	}
}

// TestBudgetFirstComeFirstServed checks that a small request does not overtake a
// large one that is waiting, and that releases serve waiters in order.
func TestBudgetFirstComeFirstServed(t *testing.T) {
	b := newBudget(10)
	ctx := context.Background()
	if err := b.acquire(ctx, 6); err != nil {
		t.Fatal(err)
	}
	large := acquireAsync(b, ctx, 6)
	waitFor(t, b, 1)
	small := acquireAsync(b, ctx, 1) // 4 are free, but the large request came first
	waitFor(t, b, 2)
	wantPending(t, small)
	b.release(6)
	wantDone(t, large, nil)
	wantDone(t, small, nil)
	wantUsed(t, b, 7)
	b.release(6)
	b.release(1)
	wantUsed(t, b, 0)
}

// TestBudgetAbandon checks that a waiter whose context ends leaves the queue, holding
// nothing, and that those behind it move up.
func TestBudgetAbandon(t *testing.T) {
	b := newBudget(10)
	if err := b.acquire(context.Background(), 8); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	head := acquireAsync(b, ctx, 5)
	waitFor(t, b, 1)
	behind := acquireAsync(b, context.Background(), 2)
	waitFor(t, b, 2)
	wantPending(t, behind)
	cancel()
	wantDone(t, head, context.Canceled)
	wantDone(t, behind, nil) // 2 were free all along; only the head was in the way
	wantUsed(t, b, 10)
	if _, _, w := b.state(); w != 0 {
		t.Fatalf("got %d waiters, want 0", w)
	}

	// A context that is already done gets nothing, even when the budget is free.
	b.release(10)
	done, cancelled := context.WithCancel(context.Background())
	cancelled()
	if err := b.acquire(done, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire: got %v, want context.Canceled", err)
	}
	wantUsed(t, b, 0)

	// A deadline works the same.
	if err := b.acquire(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer stop()
	if err := b.acquire(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire: got %v, want context.DeadlineExceeded", err)
	}
	b.release(10)
	wantUsed(t, b, 0)
}

// TestBudgetStress runs many goroutines that acquire, sometimes give up, and release,
// and checks that the budget is never exceeded and ends empty. Run it with -race.
func TestBudgetStress(t *testing.T) {
	const size = 100
	b := newBudget(size)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				n := 1 + r.Int64N(size)
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(200))*time.Microsecond)
				if err := b.acquire(ctx, n); err == nil {
					if used, _, _ := b.state(); used > size {
						t.Errorf("got %d in use, want at most %d", used, size)
					}
					b.release(n)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	used, peak, waiting := b.state()
	if used != 0 || waiting != 0 || peak > size {
		t.Fatalf("got used %d, peak %d, waiting %d; want 0, at most %d, 0", used, peak, waiting, size)
	}
}
