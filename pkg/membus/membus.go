// Package membus is the in-process bus.Publisher adapter, for the local development
// server (cmd/local) and tests. It keeps the last events published in a bounded ring,
// readable with Events and Since, and hands each event to the subscribers (such as Log,
// which writes one log line per event).
//
// Publish works as the EventBridge adapter does, so that what passes locally passes in
// AWS: it validates every event first (bus.ValidateAll), then takes them in batches of
// bus.MaxBatch, checking the context before each. A batch is recorded at once (readers
// never see part of it); then, with no lock held, every subscriber is called with each
// of its events, in order, before the next batch. Subscribers run on the publisher's
// goroutine: one that blocks holds up the publisher, and they are called concurrently
// when Publish is, so they must be safe for concurrent use. A subscriber may publish.
package membus

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/convrs/admin/pkg/bus"
)

// DefaultCapacity is the number of events a Bus keeps when New is given 0.
const DefaultCapacity = 1000

// MaxCapacity bounds the ring. Details are at most bus.MaxDetailSize, so a full ring
// holds at most 640 MiB of them at MaxCapacity, 64 MiB at DefaultCapacity, and in
// practice (events of a few hundred bytes) well under a megabyte.
const MaxCapacity = 10_000

// Record is one published event with its place on the bus.
type Record struct {
	// Seq numbers the events in the order the bus accepted them, from 1.
	Seq uint64
	// Batch numbers the batches, from 1: the events of one batch were accepted
	// together, as one PutEvents request would carry them.
	Batch uint64
	// Source is always bus.Source.
	Source string
	Event  bus.Event
}

// Bus is an in-process bus.Publisher. It is safe for concurrent use.
type Bus struct {
	mu    sync.Mutex
	ring  []Record // at most size records; ring[start] is the oldest once full
	start int
	size  int
	seq   uint64
	batch uint64
	subs  []subscriber // replaced, never changed in place, so a snapshot needs no copy
	subID int
}

type subscriber struct {
	id int
	fn func(bus.Event)
}

var _ bus.Publisher = (*Bus)(nil)

// New returns a Bus keeping the last capacity events (DefaultCapacity for 0 or less,
// at most MaxCapacity).
func New(capacity int) *Bus {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	capacity = min(capacity, MaxCapacity)
	return &Bus{size: capacity}
}

// Subscribe adds fn, which is called with every event published from now on (see the
// package comment), and returns the function that removes it. fn gets its own copy of
// each event.
func (b *Bus) Subscribe(fn func(bus.Event)) (unsubscribe func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subID++
	id := b.subID
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], subscriber{id: id, fn: fn})
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		kept := make([]subscriber, 0, len(b.subs))
		for _, s := range b.subs {
			if s.id != id {
				kept = append(kept, s)
			}
		}
		b.subs = kept
	}
}

// Publish records events and hands them to the subscribers, in batches of
// bus.MaxBatch. It returns an error wrapping bus.ErrInvalid (and records nothing) when
// an event is invalid, and one wrapping ctx.Err() when ctx ends before a batch (the
// batches before it stay recorded). No events is a no-op.
func (b *Bus) Publish(ctx context.Context, events []bus.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := bus.ValidateAll(events); err != nil {
		return fmt.Errorf("membus: publish: %w", err)
	}
	for start := 0; start < len(events); start += bus.MaxBatch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("membus: publish: %d of %d events published: %w", start, len(events), err)
		}
		batch := events[start:min(start+bus.MaxBatch, len(events))]
		copies := make([]bus.Event, len(batch))
		for i, e := range batch {
			copies[i] = clone(e)
		}
		b.mu.Lock()
		b.batch++
		for _, e := range copies {
			b.seq++
			b.add(Record{Seq: b.seq, Batch: b.batch, Source: bus.Source, Event: e})
		}
		subs := b.subs
		b.mu.Unlock()
		for _, e := range copies {
			for _, s := range subs {
				s.fn(clone(e))
			}
		}
	}
	return nil
}

// add puts r in the ring, dropping the oldest record when it is full. b.mu is held.
func (b *Bus) add(r Record) {
	if len(b.ring) < b.size {
		b.ring = append(b.ring, r)
		return
	}
	b.ring[b.start] = r
	b.start = (b.start + 1) % b.size
}

// Events returns the events the ring holds, oldest first: the last ones published, up
// to the capacity. The records are copies.
func (b *Bus) Events() []Record { return b.Since(0) }

// Since returns the records the ring holds whose Seq is greater than after, oldest
// first (copies). Records dropped from the ring are gone: a caller that reads too
// seldom sees a gap in Seq.
func (b *Bus) Since(after uint64) []Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Record
	for i := range b.ring {
		r := b.ring[(b.start+i)%len(b.ring)]
		if r.Seq > after {
			r.Event = clone(r.Event)
			out = append(out, r)
		}
	}
	return out
}

// Last returns the Seq of the last event published (0 before any).
func (b *Bus) Last() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

func clone(e bus.Event) bus.Event {
	e.Detail = bytes.Clone(e.Detail)
	return e
}

// Log returns a subscriber that logs each event as one line at level Info ("event
// published", with the source, detail-type, id and time). It never logs the detail: the
// local server's log shows what was published, and a developer reads the details with
// Events.
func Log(log *slog.Logger) func(bus.Event) {
	return func(e bus.Event) {
		log.LogAttrs(context.Background(), slog.LevelInfo, "event published",
			slog.String("source", bus.Source),
			slog.String("detailType", e.DetailType),
			slog.String("id", e.ID),
			slog.Time("time", e.Time))
	}
}
