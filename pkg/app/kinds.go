package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ChatSource is the EventBridge source of the chat platform's events (API.md "Chats,
// events and sweeps").
const ChatSource = "convrs.chat"

// Event is one EventBridge event as a consumer sees it.
type Event struct {
	ID         string
	Source     string
	DetailType string
	Time       time.Time
	Detail     json.RawMessage
}

// ErrMalformed is wrapped by an event handler's error when the event itself is unusable
// (missing ids, wrong types, an id that breaks the id rules): the event is logged, naming
// it, and dropped; retrying it would fail the same way. Any other error is transient and
// the event is delivered again.
var ErrMalformed = errors.New("malformed event")

// EventHandler handles one event. It is idempotent: the same event twice changes nothing
// the second time.
type EventHandler func(ctx context.Context, ev Event) error

// Consumer makes a function an EventBridge consumer: a rule on Source matching
// DetailTypes invokes it with one event at a time.
type Consumer struct {
	Source      string
	DetailTypes []string
	// Handler builds the handler on the function's ports.
	Handler func(d Deps) EventHandler
}

// Consumes reports whether the consumer takes events of source and detail-type dt.
func (c *Consumer) Consumes(source, dt string) bool {
	if c == nil || source != c.Source {
		return false
	}
	for _, t := range c.DetailTypes {
		if t == dt {
			return true
		}
	}
	return false
}

// SweepResult is what one run of a sweep did.
type SweepResult struct {
	// Orgs and Examined count the organisations and the candidates looked at; Changed the
	// records changed (chats closed or moved); Published the events published (including
	// pending ones from earlier runs).
	Orgs      int `json:"orgs"`
	Examined  int `json:"examined"`
	Changed   int `json:"changed"`
	Published int `json:"published"`
	// Done is false when the run stopped before its deadline with work left: the next
	// run resumes from the saved position.
	Done bool `json:"done"`
}

// Sweep makes a function a scheduled sweep: EventBridge Scheduler invokes it on Schedule.
type Sweep struct {
	// Schedule is the Scheduler expression, "rate(N minutes)" (the local server runs the
	// sweep on the same schedule).
	Schedule string
	// Run builds the sweep on the function's ports. A run stops before ctx's deadline
	// (leaving a margin to save its position) and resumes on the next run.
	Run func(d Deps) func(ctx context.Context) (SweepResult, error)
}

// Kinds of function.
const (
	KindHTTP  = "http"
	KindEvent = "event"
	KindSweep = "sweep"
)

// Kind says what invokes the function: API Gateway (http), an EventBridge rule (event)
// or EventBridge Scheduler (sweep).
func (f Function) Kind() string {
	switch {
	case f.Events != nil:
		return KindEvent
	case f.Sweep != nil:
		return KindSweep
	}
	return KindHTTP
}
