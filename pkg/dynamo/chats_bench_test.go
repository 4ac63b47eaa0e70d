package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/chats/chatstest"
	"github.com/convrs/admin/pkg/dynamo"
)

// BenchmarkIdle reads the auto-close candidates of 10 organisations holding 100,000
// chats, 1,000 of them idle (and 20,000 live but recent), by pages of 100, on DynamoDB
// Local: the read side of an auto-close sweep. The metrics are per idle chat returned:
// the items DynamoDB read (ScannedCount), the read capacity it reports, the time; and per
// pass: the Query and Scan calls. Loading the chats (BatchWriteItem, once) takes about a
// minute and is not timed.
func BenchmarkIdle(b *testing.B) {
	needLocal(b)
	ctx := context.Background()
	table, err := createTable(ctx, localClient, "chats-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := deleteTable(localClient, table); err != nil {
			b.Log(err)
		}
	})
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	start := time.Now()
	if err := dynamo.NewChats(localClient, table).LoadForBenchmark(ctx, chatstest.Population(10, 10000, 100, now, 72*time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded 100,000 chats in %v", time.Since(start).Round(time.Millisecond))

	meter := &dynamo.Meter{}
	s := dynamo.NewChats(meteredClient(b, meter), table)
	idleSince := now.Add(-72 * time.Hour)
	read := 0
	for b.Loop() {
		read += sweepIdle(b, s, idleSince)
	}
	u := meter.Usage()
	passes := float64(read) / 1000
	b.ReportMetric(float64(u.ItemsRead)/float64(read), "items/chat")
	b.ReportMetric(u.ReadUnits/float64(read), "RCU/chat")
	b.ReportMetric(float64(u.Calls["Query"])/passes, "queries/pass")
	b.ReportMetric(float64(u.Calls["Scan"])/passes, "scans/pass")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(read), "ns/chat")
	if u.Calls["Scan"] != 0 || len(u.Calls) != 1 {
		b.Errorf("calls %v: want Query only", u.Calls)
	}
}

// sweepIdle pages through the idle chats of the population's 10 organisations, checking
// it finds the 100 of each.
func sweepIdle(tb testing.TB, s *dynamo.Chats, idleSince time.Time) int {
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
