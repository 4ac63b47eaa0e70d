package bolt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chats/chatstest"
)

// BenchmarkIdle reads the auto-close candidates of 10 organisations holding 100,000
// chats, 1,000 of them idle (and 20,000 live but recent), by pages of 100: the read side
// of an auto-close sweep. reads/chat counts the index keys and records read per idle chat
// returned (the extra key that tells a page is the last included).
func BenchmarkIdle(b *testing.B) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := openChats(b, bolt.Options{NoSync: true})
	ctx := context.Background()
	if err := s.LoadForBenchmark(ctx, chatstest.Population(10, 10000, 100, now, 72*time.Hour)); err != nil {
		b.Fatal(err)
	}
	idleSince := now.Add(-72 * time.Hour)
	read, reads := 0, s.Reads()
	for b.Loop() {
		read += sweepIdle(b, s, idleSince)
	}
	b.ReportMetric(float64(s.Reads()-reads)/float64(read), "reads/chat")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(read), "ns/chat")
}

// sweepIdle pages through the idle chats of the population's 10 organisations, checking
// it finds the 100 of each.
func sweepIdle(tb testing.TB, s chats.Store, idleSince time.Time) int {
	n := 0
	for o := range 10 {
		org := fmt.Sprintf("bench-org-%02d", o)
		got, after := 0, ""
		for {
			cs, next, err := s.Idle(context.Background(), org, idleSince, after, 100)
			if err != nil {
				tb.Fatal(err)
			}
			got += len(cs)
			if next == "" {
				break
			}
			after = next
		}
		if got != 100 {
			tb.Fatalf("Idle of %s: %d chats, want 100", org, got)
		}
		n += got
	}
	return n
}
