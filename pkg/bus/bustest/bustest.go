// Package bustest is the contract suite every bus.Publisher adapter must pass. An
// adapter's test calls Run with a constructor that returns, for each subtest, a fresh
// publisher together with a way to read back what its bus accepted.
//
// What the suite holds an adapter to: order kept; batches (calls) of at most
// bus.MaxBatch events, no more calls than needed for small events, every event exactly
// once; no events is a no-op; the source is bus.Source; the detail-type and the detail's
// bytes arrive exactly as given; Time is kept to the millisecond (EventBridge's JSON
// protocol carries milliseconds); an invalid event publishes nothing; a context that
// ended publishes nothing further and returns the context's error; the caller's slices
// are not kept; concurrent Publish calls lose nothing.
package bustest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/bus"
)

// Received is one event as the bus accepted it.
type Received struct {
	// Call numbers the call (PutEvents request, in-process batch) that carried the
	// event, from 1, in the order the bus accepted them. Events of one call share it.
	Call       int
	Source     string
	DetailType string
	Detail     json.RawMessage
	Time       time.Time
}

// Bus is a publisher under test with its read-back.
type Bus struct {
	Publisher bus.Publisher
	// Received returns every event the bus has accepted so far, in the order accepted.
	Received func() []Received
	// AfterCall makes the bus call f after it accepts each call and before that call
	// returns to the publisher, so that f runs before Publish can make its next call
	// (nil stops it). f may run more than once per call; the suite uses it to end a
	// context in the middle of a Publish.
	AfterCall func(f func())
}

// Run runs the bus.Publisher contract against buses made by newBus, which is called once
// per subtest and must return a new bus that has accepted nothing.
func Run(t *testing.T, newBus func(t *testing.T) Bus) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b Bus)
	}{
		{"Empty", testEmpty},
		{"OneEvent", testOneEvent},
		{"OrderKept", testOrderKept},
		{"Batches", testBatches},
		{"LargeEvents", testLargeEvents},
		{"DetailBytesExact", testDetailBytesExact},
		{"TimeKept", testTimeKept},
		{"RepeatsPublished", testRepeatsPublished},
		{"InvalidPublishesNothing", testInvalidPublishesNothing},
		{"ContextDoneBefore", testContextDoneBefore},
		{"ContextDoneBetweenCalls", testContextDoneBetweenCalls},
		{"NoAliasing", testNoAliasing},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newBus(t))
		})
	}
}

var base = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// event returns the i-th test event: a detail that names i, at base plus i seconds.
func event(i int) bus.Event {
	return bus.Event{
		ID:         fmt.Sprintf("test/%d", i),
		DetailType: fmt.Sprintf("Test Event %d", i%3),
		Detail:     json.RawMessage(fmt.Sprintf(`{"eventId":"test/%d","n":%d}`, i, i)),
		Time:       base.Add(time.Duration(i) * time.Second),
	}
}

func events(from, n int) []bus.Event {
	out := make([]bus.Event, n)
	for i := range out {
		out[i] = event(from + i)
	}
	return out
}

func mustPublish(t *testing.T, b Bus, evs []bus.Event) {
	t.Helper()
	if err := b.Publisher.Publish(t.Context(), evs); err != nil {
		t.Fatalf("Publish of %d events: %v", len(evs), err)
	}
}

// show describes a received event for a failure message.
func show(r Received) string {
	d := string(r.Detail)
	if len(d) > 80 {
		d = fmt.Sprintf("%.60s... (%d bytes)", d, len(d))
	}
	return fmt.Sprintf("call %d %s %q %s at %s", r.Call, r.Source, r.DetailType, d, r.Time.Format(time.RFC3339Nano))
}

// timeKept reports whether got is want kept to the millisecond: want itself, or want
// with its sub-millisecond part dropped.
func timeKept(got, want time.Time) bool {
	return !got.Before(want.Truncate(time.Millisecond)) && !got.After(want)
}

// wantReceived checks that the bus accepted exactly want, in order, each once.
func wantReceived(t *testing.T, got []Received, want []bus.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("received %d events, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Source != bus.Source || g.DetailType != w.DetailType || string(g.Detail) != string(w.Detail) || !timeKept(g.Time, w.Time) {
			t.Errorf("received[%d] = %s, want source %q, %q %s at %s", i, show(g), bus.Source, w.DetailType, w.Detail, w.Time.Format(time.RFC3339Nano))
		}
	}
}

// calls returns the sizes of the calls that carried got, checking that call numbers
// never go back.
func calls(t *testing.T, got []Received) []int {
	t.Helper()
	var sizes []int
	last := 0
	for i, r := range got {
		switch {
		case r.Call < last || r.Call < 1:
			t.Errorf("received[%d] came in call %d, after call %d", i, r.Call, last)
		case r.Call > last:
			sizes = append(sizes, 0)
			last = r.Call
		}
		if len(sizes) > 0 {
			sizes[len(sizes)-1]++
		}
	}
	for i, n := range sizes {
		if n > bus.MaxBatch {
			t.Errorf("call %d carried %d events, more than %d", i+1, n, bus.MaxBatch)
		}
	}
	return sizes
}

func testEmpty(t *testing.T, b Bus) {
	for _, evs := range [][]bus.Event{nil, {}} {
		if err := b.Publisher.Publish(t.Context(), evs); err != nil {
			t.Errorf("Publish(%#v) = %v, want nil", evs, err)
		}
	}
	if got := b.Received(); len(got) != 0 {
		t.Errorf("received %d events after empty publishes, want none", len(got))
	}
}

func testOneEvent(t *testing.T, b Bus) {
	e, err := bus.New("chat-auto-closed/acme/c1/1741064767", "Chat Auto Closed", base, map[string]any{
		"eventId": "chat-auto-closed/acme/c1/1741064767", "orgId": "acme", "chatId": "c1", "afterDays": 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, []bus.Event{e})
	got := b.Received()
	wantReceived(t, got, []bus.Event{e})
	if len(got) == 1 && (got[0].Call != 1 || !got[0].Time.Equal(base)) {
		t.Errorf("received %s, want call 1 at %s exactly", show(got[0]), base.Format(time.RFC3339Nano))
	}
}

func testOrderKept(t *testing.T, b Bus) {
	want := events(0, 7)
	mustPublish(t, b, want)
	want2 := events(100, 3)
	mustPublish(t, b, want2)
	got := b.Received()
	wantReceived(t, got, append(want, want2...))
	if sizes := calls(t, got); len(sizes) != 2 || sizes[0] != 7 || sizes[1] != 3 {
		t.Errorf("calls carried %v events, want [7 3]", sizes)
	}
}

func testBatches(t *testing.T, b Bus) {
	var all []bus.Event
	from := 0
	for _, tt := range []struct {
		n    int
		want []int
	}{
		{1, []int{1}},
		{bus.MaxBatch, []int{bus.MaxBatch}},
		{bus.MaxBatch + 1, []int{bus.MaxBatch, 1}},
		{2*bus.MaxBatch + 5, []int{bus.MaxBatch, bus.MaxBatch, 5}},
		{3 * bus.MaxBatch, []int{bus.MaxBatch, bus.MaxBatch, bus.MaxBatch}},
	} {
		before := len(b.Received())
		evs := events(from, tt.n)
		from += tt.n
		mustPublish(t, b, evs)
		all = append(all, evs...)
		got := b.Received()
		if len(got) < before {
			t.Fatalf("the bus forgot events: %d received, then %d", before, len(got))
		}
		if sizes := calls(t, got[before:]); fmt.Sprint(sizes) != fmt.Sprint(tt.want) {
			t.Errorf("Publish of %d events: calls carried %v events, want %v", tt.n, sizes, tt.want)
		}
	}
	wantReceived(t, b.Received(), all)
}

func testLargeEvents(t *testing.T, b Bus) {
	// Ten events near bus.MaxDetailSize: 640 KiB in all, more than one PutEvents
	// request may carry, so an adapter with a size limit splits them.
	var want []bus.Event
	for i := range bus.MaxBatch {
		pad := strings.Repeat(string(rune('a'+i)), bus.MaxDetailSize-40)
		want = append(want, bus.Event{
			ID: fmt.Sprintf("large/%d", i), DetailType: "Large", Time: base,
			Detail: json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, pad)),
		})
	}
	mustPublish(t, b, want)
	got := b.Received()
	wantReceived(t, got, want)
	calls(t, got)
}

func testDetailBytesExact(t *testing.T, b Bus) {
	details := []string{
		`{}`,
		`{ "spaced" : [ 1, 2 ,3 ] ,"nested":{"a":{"b":null}} }`,
		`{"unicode":"ünïcödé ✓ 日本語 😀","escaped":"\u00fc\n\t\"\\\/","html":"<a href='x'>&amp;</a>"}`,
		`{"big":12345678901234567890123,"float":1.50,"exp":1e-7,"neg":-0}`,
		`{"dup":1,"dup":2}`,
		"{\n  \"indented\": true\n}\n",
		`{"emptyKey":"","":""}`,
	}
	var want []bus.Event
	for i, d := range details {
		want = append(want, bus.Event{ID: fmt.Sprintf("exact/%d", i), DetailType: "Exact Bytes", Detail: json.RawMessage(d), Time: base})
	}
	types := []string{"A", "Chat Auto Closed", "Ünïcödé Type ✓", "with.dots-and_underscores/and:colons", strings.Repeat("t", bus.MaxDetailTypeLen)}
	for i, dt := range types {
		want = append(want, bus.Event{ID: fmt.Sprintf("type/%d", i), DetailType: dt, Detail: json.RawMessage(`{}`), Time: base})
	}
	mustPublish(t, b, want)
	wantReceived(t, b.Received(), want)
}

func testTimeKept(t *testing.T, b Bus) {
	times := []time.Time{
		base,
		time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2025, 1, 2, 3, 4, 5, 1_000_000, time.UTC),
		time.Date(2025, 1, 2, 3, 4, 5, 999_000_000, time.UTC),
		time.Date(2025, 6, 7, 8, 9, 10, 123_456_789, time.UTC), // sub-millisecond part may be dropped
		time.Date(2025, 1, 2, 3, 4, 5, 250_000_000, time.FixedZone("UTC+5:30", 5*3600+1800)),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
	}
	var want []bus.Event
	for i, at := range times {
		want = append(want, bus.Event{ID: fmt.Sprintf("time/%d", i), DetailType: "Time", Detail: json.RawMessage(`{}`), Time: at})
	}
	mustPublish(t, b, want)
	wantReceived(t, b.Received(), want)
}

func testRepeatsPublished(t *testing.T, b Bus) {
	// The bus does not drop repeats: consumers do, by ID.
	e := event(1)
	mustPublish(t, b, []bus.Event{e, e})
	mustPublish(t, b, []bus.Event{e})
	wantReceived(t, b.Received(), []bus.Event{e, e, e})
}

func testInvalidPublishesNothing(t *testing.T, b Bus) {
	invalid := []bus.Event{
		{ID: "", DetailType: "T", Detail: json.RawMessage(`{}`), Time: base},
		{ID: "x", DetailType: "", Detail: json.RawMessage(`{}`), Time: base},
		{ID: "x", DetailType: strings.Repeat("t", bus.MaxDetailTypeLen+1), Detail: json.RawMessage(`{}`), Time: base},
		{ID: "x", DetailType: "T", Detail: nil, Time: base},
		{ID: "x", DetailType: "T", Detail: json.RawMessage(`[]`), Time: base},
		{ID: "x", DetailType: "T", Detail: json.RawMessage(`{"a":`), Time: base},
		{ID: "x", DetailType: "T", Detail: json.RawMessage(`{"x":"` + strings.Repeat("a", bus.MaxDetailSize) + `"}`), Time: base},
		{ID: "x", DetailType: "T", Detail: json.RawMessage(`{}`)},
		{ID: "x\n", DetailType: "T", Detail: json.RawMessage(`{}`), Time: base},
	}
	for i, bad := range invalid {
		// The invalid event comes after a full batch of valid ones: nothing is sent.
		evs := append(events(0, bus.MaxBatch+2), bad)
		if err := b.Publisher.Publish(t.Context(), evs); !errors.Is(err, bus.ErrInvalid) {
			t.Errorf("invalid %d: Publish = %v, want an error wrapping bus.ErrInvalid", i, err)
		}
	}
	if got := b.Received(); len(got) != 0 {
		t.Errorf("received %d events from publishes with an invalid event, want none: first %s", len(got), show(got[0]))
	}
}

func testContextDoneBefore(t *testing.T, b Bus) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		for _, n := range []int{1, 2*bus.MaxBatch + 1} {
			if err := b.Publisher.Publish(c.ctx, events(0, n)); !errors.Is(err, c.want) {
				t.Errorf("Publish of %d events with a done context = %v, want %v", n, err, c.want)
			}
		}
	}
	if got := b.Received(); len(got) != 0 {
		t.Errorf("received %d events with a done context, want none", len(got))
	}
	// The bus still works.
	mustPublish(t, b, events(0, 1))
	wantReceived(t, b.Received(), events(0, 1))
}

func testContextDoneBetweenCalls(t *testing.T, b Bus) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b.AfterCall(cancel)
	err := b.Publisher.Publish(ctx, events(0, 3*bus.MaxBatch))
	b.AfterCall(nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Publish cancelled after its first call = %v, want context.Canceled", err)
	}
	got := b.Received()
	wantReceived(t, got, events(0, bus.MaxBatch))
	if sizes := calls(t, got); len(sizes) != 1 {
		t.Errorf("calls carried %v events, want only the first call", sizes)
	}
}

func testNoAliasing(t *testing.T, b Bus) {
	evs := []bus.Event{{ID: "alias", DetailType: "Alias", Detail: json.RawMessage(`{"v":"original"}`), Time: base}}
	want := []bus.Event{{ID: "alias", DetailType: "Alias", Detail: json.RawMessage(`{"v":"original"}`), Time: base}}
	mustPublish(t, b, evs)
	copy(evs[0].Detail, `{"v":"MUTATED!"}`)
	evs[0].DetailType = "Changed"
	wantReceived(t, b.Received(), want)

	got := b.Received()
	if len(got) == 1 && len(got[0].Detail) > 0 {
		got[0].Detail[0] = 'X'
	}
	wantReceived(t, b.Received(), want)
}

func testConcurrent(t *testing.T, b Bus) {
	const publishers, each = 6, 2*bus.MaxBatch + 3
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Go(func() {
			if err := b.Publisher.Publish(t.Context(), events(p*1000, each)); err != nil {
				errs <- fmt.Errorf("publisher %d: %w", p, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := b.Received()
	if len(got) != publishers*each {
		t.Errorf("received %d events, want %d", len(got), publishers*each)
	}
	// Each publisher's events arrive once each, in its order.
	next := map[int]int{}
	for _, r := range got {
		var d struct{ N int }
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			t.Fatalf("received %s: %v", show(r), err)
		}
		p, i := d.N/1000, d.N%1000
		if i != next[p] {
			t.Errorf("publisher %d: received event %d, want %d", p, i, next[p])
		}
		next[p] = i + 1
	}
	calls(t, got)
}
