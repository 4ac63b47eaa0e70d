// Package bus is the event publisher port: the events the product emits (source
// convrs.admin, API.md "Chats, events and sweeps") go out through a Publisher. In AWS the
// adapter is EventBridge PutEvents (package ebbus); locally an in-process bus (package
// membus) that records them and hands them to the local server. Both pass the contract
// suite in package bustest.
//
// Events are published at least once: a function that emits an event for a change keeps
// it as pending beside the change (in the same write) and deletes it once published, so a
// crash between the two republishes it. Every event carries a deterministic ID, derived
// from the change it reports, so consumers can drop a repeat.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Source is the EventBridge source of every event the product emits.
const Source = "convrs.admin"

// Limits of PutEvents (EventBridge): at most 10 entries per call and 256 KiB per call.
const (
	MaxBatch      = 10
	MaxDetailSize = 64 << 10 // ours: no event we emit comes near it
)

// Event is one event to publish.
type Event struct {
	// ID identifies the change the event reports (such as "chat-auto-closed/<org>/<chat>/<closedAt>"):
	// the same change always has the same ID. It is in the detail as "eventId" too, for
	// consumers, and is the key of the pending copy.
	ID         string          `json:"id"`
	DetailType string          `json:"detailType"`
	Detail     json.RawMessage `json:"detail"`
	Time       time.Time       `json:"time"`
}

// New returns the event of detail-type dt with detail v (marshalled to JSON) at t. It
// returns an error when v does not marshal, and one wrapping ErrInvalid when the event
// would not pass Validate (v must marshal to a JSON object).
func New(id, dt string, t time.Time, v any) (Event, error) {
	d, err := json.Marshal(v)
	if err != nil {
		return Event{}, fmt.Errorf("bus: event %s: %w", dt, err)
	}
	e := Event{ID: id, DetailType: dt, Detail: d, Time: t.UTC()}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// ErrPartial is wrapped by Publish when some events of a batch were refused: the
// error names how many, and the caller may retry the whole batch (events carry IDs).
var ErrPartial = errors.New("bus: some events were not published")

// Publisher publishes events (source Source). Publish sends events in order, in
// batches of at most MaxBatch, and returns nil only when every event was accepted; it
// stops when ctx ends.
//
// In detail: no events is a no-op (nil). Publish checks every event first
// (ValidateAll) and sends nothing when one is invalid (an error wrapping ErrInvalid). It
// sends the batches one after the other and stops at the first that fails, sending
// none after it. When ctx ends it sends nothing further and returns an error wrapping
// ctx.Err(). An event may arrive more than once (consumers drop repeats by ID), and an
// event an adapter retried after a partial failure arrives after the rest of its batch.
// Implementations are safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, events []Event) error
}
