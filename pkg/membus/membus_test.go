package membus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/bus/bustest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	bustest.Run(t, func(t *testing.T) bustest.Bus {
		b := New(0)
		var mu sync.Mutex
		var after func()
		b.Subscribe(func(bus.Event) {
			mu.Lock()
			f := after
			mu.Unlock()
			if f != nil {
				f()
			}
		})
		return bustest.Bus{
			Publisher: b,
			Received: func() []bustest.Received {
				var out []bustest.Received
				for _, r := range b.Events() {
					out = append(out, bustest.Received{
						Call: int(r.Batch), Source: r.Source, DetailType: r.Event.DetailType,
						Detail: r.Event.Detail, Time: r.Event.Time,
					})
				}
				return out
			},
			AfterCall: func(f func()) {
				mu.Lock()
				defer mu.Unlock()
				after = f
			},
		}
	})
}

var at = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func event(i int) bus.Event {
	return bus.Event{
		ID: fmt.Sprintf("e/%d", i), DetailType: "Test", Time: at.Add(time.Duration(i) * time.Second),
		Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
	}
}

func events(from, n int) []bus.Event {
	var out []bus.Event
	for i := range n {
		out = append(out, event(from+i))
	}
	return out
}

func seqs(rs []Record) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func TestRing(t *testing.T) {
	t.Parallel()
	b := New(5)
	if got := b.Events(); len(got) != 0 || b.Last() != 0 {
		t.Errorf("new bus: Events = %v, Last = %d; want none, 0", got, b.Last())
	}
	if err := b.Publish(t.Context(), events(1, 3)); err != nil {
		t.Fatal(err)
	}
	if got := seqs(b.Events()); fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("Events seqs = %v, want [1 2 3]", got)
	}
	if err := b.Publish(t.Context(), events(4, 9)); err != nil {
		t.Fatal(err)
	}
	got := b.Events()
	if fmt.Sprint(seqs(got)) != "[8 9 10 11 12]" || b.Last() != 12 {
		t.Fatalf("after 12 events in a ring of 5: seqs %v, Last %d; want [8 9 10 11 12], 12", seqs(got), b.Last())
	}
	for _, r := range got {
		want := event(int(r.Seq))
		if r.Event.ID != want.ID || string(r.Event.Detail) != string(want.Detail) || !r.Event.Time.Equal(want.Time) || r.Source != bus.Source {
			t.Errorf("record %d = %+v, want %+v", r.Seq, r.Event, want)
		}
	}
	// Events 4..12 came in one Publish of 9: one batch (number 2).
	if got[0].Batch != 2 || got[4].Batch != 2 {
		t.Errorf("batches %d..%d, want 2", got[0].Batch, got[4].Batch)
	}
	for _, tt := range []struct {
		after uint64
		want  string
	}{{0, "[8 9 10 11 12]"}, {3, "[8 9 10 11 12]"}, {8, "[9 10 11 12]"}, {11, "[12]"}, {12, "[]"}, {99, "[]"}} {
		if got := seqs(b.Since(tt.after)); fmt.Sprint(got) != tt.want {
			t.Errorf("Since(%d) = %v, want %s", tt.after, got, tt.want)
		}
	}
	// Wrapping more than once keeps the last five.
	if err := b.Publish(t.Context(), events(13, 23)); err != nil {
		t.Fatal(err)
	}
	if got := seqs(b.Events()); fmt.Sprint(got) != "[31 32 33 34 35]" {
		t.Errorf("after 35 events: seqs %v, want [31 32 33 34 35]", got)
	}
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want int }{{0, DefaultCapacity}, {-1, DefaultCapacity}, {1, 1}, {7, 7}, {MaxCapacity + 1, MaxCapacity}} {
		if got := New(tt.in).size; got != tt.want {
			t.Errorf("New(%d) keeps %d, want %d", tt.in, got, tt.want)
		}
	}
	b := New(0)
	for i := range (DefaultCapacity + 5) / bus.MaxBatch {
		if err := b.Publish(t.Context(), events(i*bus.MaxBatch, bus.MaxBatch)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(b.Events()); got != DefaultCapacity {
		t.Errorf("default ring holds %d events, want %d", got, DefaultCapacity)
	}
}

func TestSubscribers(t *testing.T) {
	t.Parallel()
	b := New(0)
	var mu sync.Mutex
	var first, second []string
	unsub1 := b.Subscribe(func(e bus.Event) {
		mu.Lock()
		defer mu.Unlock()
		first = append(first, e.ID)
		e.Detail[0] = 'X' // its own copy
	})
	b.Subscribe(func(e bus.Event) {
		// Called with no lock held: it may read the bus and publish.
		if len(b.Events()) == 0 {
			t.Error("subscriber called before the event was recorded")
		}
		if e.DetailType == "Test" && e.ID == "e/1" {
			if err := b.Publish(t.Context(), []bus.Event{{ID: "echo", DetailType: "Echo", Detail: json.RawMessage(`{}`), Time: at}}); err != nil {
				t.Error(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		second = append(second, e.ID)
		if string(e.Detail[:1]) != "{" {
			t.Errorf("subscriber got a detail another one changed: %s", e.Detail)
		}
	})
	if err := b.Publish(t.Context(), events(0, 12)); err != nil {
		t.Fatal(err)
	}
	unsub1()
	unsub1() // twice is harmless
	if err := b.Publish(t.Context(), events(100, 1)); err != nil {
		t.Fatal(err)
	}
	wantFirst := "[e/0 e/1 echo e/2 e/3 e/4 e/5 e/6 e/7 e/8 e/9 e/10 e/11]"
	wantSecond := "[e/0 echo e/1 e/2 e/3 e/4 e/5 e/6 e/7 e/8 e/9 e/10 e/11 e/100]"
	if fmt.Sprint(first) != wantFirst || fmt.Sprint(second) != wantSecond {
		t.Errorf("first saw %v, want %s; second saw %v, want %s", first, wantFirst, second, wantSecond)
	}
	for _, r := range b.Events() {
		if r.Event.Detail[0] != '{' {
			t.Errorf("record %d changed by a subscriber: %s", r.Seq, r.Event.Detail)
		}
	}
	// An invalid publish reaches no subscriber.
	if err := b.Publish(t.Context(), []bus.Event{event(200), {ID: "bad"}}); !errors.Is(err, bus.ErrInvalid) {
		t.Errorf("Publish of an invalid event = %v, want ErrInvalid", err)
	}
	if len(second) != 14 {
		t.Errorf("second subscriber saw %d events, want 14", len(second))
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLog(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	b := New(0)
	b.Subscribe(Log(slog.New(slog.NewJSONHandler(&out, nil))))
	secretish := `{"orgId":"acme","to":"owner@example.com","text":"DETAIL-MARKER"}`
	evs := []bus.Event{
		{ID: "missed-chat-report-sent/acme/c1", DetailType: "Missed Chat Report Sent", Detail: json.RawMessage(secretish), Time: at},
		{ID: "chat-auto-closed/acme/c2/1735787045", DetailType: "Chat Auto Closed", Detail: json.RawMessage(`{"n":1}`), Time: at.Add(time.Second)},
	}
	if err := b.Publish(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want one per event:\n%s", len(lines), out.String())
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, line)
		}
		want := map[string]any{
			"level": "INFO", "msg": "event published", "source": bus.Source,
			"detailType": evs[i].DetailType, "id": evs[i].ID, "time": evs[i].Time.Format(time.RFC3339),
		}
		delete(got, "time")
		delete(want, "time")
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("line %d = %v, want %v", i, got, want)
		}
	}
	for _, leak := range []string{"DETAIL-MARKER", "owner@example.com", "detail\""} {
		if strings.Contains(out.String(), leak) {
			t.Errorf("log holds %q: %s", leak, out.String())
		}
	}
}

// TestConcurrentUse publishes, reads and (un)subscribes from many goroutines at once;
// run it with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := New(50)
	var delivered atomic.Int64
	var wg sync.WaitGroup
	const publishers, rounds = 4, 20
	// Subscribed before anything is published, so it sees every event (it was subscribed
	// after the publishers started, and under load missed the first ones).
	keep := b.Subscribe(func(bus.Event) { delivered.Add(1) })
	defer keep()
	for p := range publishers {
		wg.Go(func() {
			for r := range rounds {
				if err := b.Publish(t.Context(), events(p*1000+r*3, 3)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			var last uint64
			for range rounds {
				for _, r := range b.Since(last) {
					if r.Seq <= last {
						t.Errorf("Since(%d) returned seq %d", last, r.Seq)
					}
					last = r.Seq
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			unsub := b.Subscribe(func(bus.Event) { delivered.Add(1) })
			unsub()
		}
	})
	wg.Wait()
	if b.Last() != publishers*rounds*3 {
		t.Errorf("Last = %d, want %d", b.Last(), publishers*rounds*3)
	}
	if got := seqs(b.Events()); len(got) != 50 || got[0] != publishers*rounds*3-49 {
		t.Errorf("ring holds seqs %v, want the last 50", got)
	}
	if delivered.Load() < publishers*rounds*3 {
		t.Errorf("subscribers saw %d events, want at least %d", delivered.Load(), publishers*rounds*3)
	}
}
