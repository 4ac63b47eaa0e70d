// Package ebbus is the Amazon EventBridge bus.Publisher adapter, built on
// aws-sdk-go-v2: Publish sends the events with PutEvents to one event bus (named by
// EVENT_BUS_NAME), each entry with source bus.Source, the event's detail-type, its
// detail (the JSON, as given) and its time.
//
// Limits of PutEvents it keeps: at most bus.MaxBatch (10) entries per request, and
// entries whose sizes add up to less than MaxRequestSize (256 KiB), a size counted as
// EventBridge counts it ("Calculating PutEvents event entry size": 14 bytes for the time,
// and the UTF-8 bytes of the source, the detail-type and the detail). Publish therefore
// splits the events by count and by size, in order, and sends the requests one after
// the other. Every event passes bus.Validate first (a detail of at most
// bus.MaxDetailSize, a detail-type of at most 128 bytes), so any one event fits in a
// request.
//
// Failures. A failed request (the SDK has already retried it with its standard
// retryer) is classified through awserr: throttling and transient failures become
// problem.Unavailable with RetryAfter, anything else a plain error. A request
// EventBridge took only in part (FailedEntryCount > 0) is retried with the failed
// entries only, up to MaxAttempts requests in all, after a jittered backoff that doubles
// from BaseBackoff, and only while every failed entry failed for a reason a retry can
// cure (ThrottlingException, InternalFailure, ...: awserr.ClassifyCode). Then Publish
// returns an error wrapping bus.ErrPartial that says how many events failed and the
// first error code; when every failure was a throttling or transient one, that error is
// a problem.Unavailable too. Publish sends no request after a failed one, and none once
// its context has ended: it returns an error wrapping ctx.Err(), even in the middle of
// a backoff.
//
// The retried entries arrive after the rest of their batch, and an event whose request
// failed may have arrived anyway (EventBridge may fail a request it has acted on): every
// event carries an ID for consumers to drop repeats.
//
// The package logs nothing, and errors never carry a detail (only counts, the bus name
// and EventBridge's error codes).
//
// The function's role needs events:PutEvents on the bus's ARN
// (arn:aws:events:<region>:<account>:event-bus/<name>).
package ebbus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/lambdafn"
)

// API is the subset of *eventbridge.Client that Publisher uses.
type API interface {
	PutEvents(ctx context.Context, params *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ API = (*eventbridge.Client)(nil)

const (
	// MaxRequestSize bounds the entries of one PutEvents request, counted as EventBridge
	// counts them: their total must be less than this.
	MaxRequestSize = 256 << 10
	// timeSize is what EventBridge counts for an entry's time.
	timeSize = 14
	// MaxAttempts bounds the requests for one batch when entries fail: the first and
	// three retries of the failed entries.
	MaxAttempts = 4
	// BaseBackoff is the longest wait before the first retry of failed entries; the
	// bound doubles for each retry, up to MaxBackoff. Each wait is drawn between half
	// the bound and the bound.
	BaseBackoff = 100 * time.Millisecond
	// MaxBackoff bounds any one wait.
	MaxBackoff = time.Second
	// maxCodeLen bounds an error code quoted in an error.
	maxCodeLen = 64
)

// busy is the client-safe message of an Unavailable error.
const busy = "the event bus is busy, please retry"

// Publisher is a bus.Publisher sending to one EventBridge event bus. It is safe for
// concurrent use.
type Publisher struct {
	client  API
	busName string
	busErr  error
	// backoff returns the wait before retry n (1 for the first retry).
	backoff func(n int) time.Duration
}

var _ bus.Publisher = (*Publisher)(nil)

// New returns a Publisher sending to the event bus busName (a name or an ARN) through
// client. An invalid busName (see ValidateBusName) makes every Publish of events fail
// with a plain error, before any request; call ValidateBusName first to fail at start-up.
func New(client API, busName string) *Publisher {
	return &Publisher{client: client, busName: busName, busErr: ValidateBusName(busName), backoff: backoff}
}

// NewFromConfig returns a Publisher on an EventBridge client built from ac, with the
// endpoint overridden by AWS_ENDPOINT_URL_EVENTBRIDGE or AWS_ENDPOINT_URL when set (the
// SDK's standard variables; the service id is "EventBridge"), sending to busName. See New
// for an invalid busName.
func NewFromConfig(ac aws.Config, busName string) *Publisher {
	client := eventbridge.NewFromConfig(ac, func(o *eventbridge.Options) {
		o.BaseEndpoint = lambdafn.Endpoint(nil, "EVENTBRIDGE")
	})
	return New(client, busName)
}

var (
	busNamePattern = regexp.MustCompile(`^[/.\-_A-Za-z0-9]{1,256}$`)
	busARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]{1,32}:[0-9]{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}$`)
)

// ValidateBusName checks the bus given to New: an event bus name (1 to 256 of
// A-Z a-z 0-9 . - _ /) or an event bus ARN. It returns a plain error (a configuration
// mistake) or nil.
func ValidateBusName(name string) error {
	if busNamePattern.MatchString(name) || busARNPattern.MatchString(name) {
		return nil
	}
	if name == "" {
		return errors.New("ebbus: the event bus name must not be empty")
	}
	return fmt.Errorf("ebbus: invalid event bus %q: want a name of 1-256 letters, digits and . - _ / or an event bus ARN", truncate(name, 300))
}

// Publish sends events to the bus (see the package comment). It returns nil when every
// event was accepted, and otherwise: an error wrapping bus.ErrInvalid, before any
// request, for an invalid event; a plain error, before any request, for an invalid bus
// name; an error wrapping ctx.Err() once ctx has ended; an error wrapping bus.ErrPartial
// when entries failed (a problem.Unavailable when only for throttling or transient
// reasons); a problem.Unavailable (RetryAfter 1s) when EventBridge throttles a request
// or fails transiently; and a plain error, wrapping the SDK's, for any other failure
// (access denied, no such bus, a malformed response). No events is a no-op.
func (p *Publisher) Publish(ctx context.Context, events []bus.Event) error {
	if len(events) == 0 {
		return nil
	}
	if p.busErr != nil {
		return p.busErr
	}
	if err := bus.ValidateAll(events); err != nil {
		return fmt.Errorf("ebbus: publish: %w", err)
	}
	for start := 0; start < len(events); {
		n := batchLen(events[start:])
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ebbus: publish to %s: %d of %d events sent: %w", p.busName, start, len(events), err)
		}
		if err := p.putBatch(ctx, events[start:start+n], start, len(events)); err != nil {
			return err
		}
		start += n
	}
	return nil
}

// entrySize is the size EventBridge counts for e's entry.
func entrySize(e bus.Event) int {
	return timeSize + len(bus.Source) + len(e.DetailType) + len(e.Detail)
}

// batchLen returns how many of the first events go in one request: at least one, at
// most bus.MaxBatch, with sizes adding up to less than MaxRequestSize.
func batchLen(events []bus.Event) int {
	size := 0
	for i, e := range events {
		size += entrySize(e)
		if i == bus.MaxBatch || (i > 0 && size >= MaxRequestSize) {
			return i
		}
	}
	return len(events)
}

// failure is an entry that failed in a request.
type failure struct {
	index int // in the batch
	code  string
}

// putBatch sends one batch, retrying failed entries (see the package comment): the
// events from start of the total a Publish sends.
func (p *Publisher) putBatch(ctx context.Context, batch []bus.Event, start, total int) error {
	entries := make([]types.PutEventsRequestEntry, len(batch))
	for i, e := range batch {
		entries[i] = types.PutEventsRequestEntry{
			EventBusName: aws.String(p.busName),
			Source:       aws.String(bus.Source),
			DetailType:   aws.String(e.DetailType),
			Detail:       aws.String(string(e.Detail)),
			Time:         aws.Time(e.Time),
		}
	}
	pending := make([]int, len(batch)) // indexes in batch of the entries to send
	for i := range pending {
		pending[i] = i
	}
	op := fmt.Sprintf("ebbus: put events %d-%d of %d on %s", start+1, start+len(batch), total, p.busName)
	after := total - start - len(batch)
	for attempt := 1; ; attempt++ {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(pending))}
		for i, j := range pending {
			in.Entries[i] = entries[j]
		}
		out, err := p.client.PutEvents(ctx, in)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("%s: %w (%w)", op, ctxErr, err)
			}
			return awserr.Problem(op, err, busy)
		}
		failed, err := failures(out, pending)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if len(failed) == 0 {
			return nil
		}
		class, retry := failureClass(failed)
		if !retry || attempt == MaxAttempts {
			return class.Problem(op, partial(failed, len(batch), attempt, after), busy)
		}
		if err := sleep(ctx, p.backoff(attempt)); err != nil {
			return fmt.Errorf("%s: %w (%w)", op, err, partial(failed, len(batch), attempt, after))
		}
		pending = pending[:0]
		for _, f := range failed {
			pending = append(pending, f.index)
		}
	}
}

// failures returns the entries of out that failed, by their index in the batch
// (pending maps the request's entries to it). An entry failed when it has an error code
// or no event id. A response that does not answer every entry is an error: what
// EventBridge did is unknown.
func failures(out *eventbridge.PutEventsOutput, pending []int) ([]failure, error) {
	if out == nil || len(out.Entries) != len(pending) {
		n := 0
		if out != nil {
			n = len(out.Entries)
		}
		return nil, fmt.Errorf("malformed PutEvents response: %d result entries for %d events", n, len(pending))
	}
	var failed []failure
	for i, r := range out.Entries {
		code := aws.ToString(r.ErrorCode)
		if code != "" || aws.ToString(r.EventId) == "" {
			failed = append(failed, failure{index: pending[i], code: code})
		}
	}
	if int(out.FailedEntryCount) != len(failed) {
		return nil, fmt.Errorf("malformed PutEvents response: FailedEntryCount %d, but %d entries failed", out.FailedEntryCount, len(failed))
	}
	return failed, nil
}

// failureClass returns the class of the failures (the highest of their codes') and
// whether retrying them may help: only when every one is throttled or transient.
func failureClass(failed []failure) (awserr.Class, bool) {
	class := awserr.None
	for i, f := range failed {
		c := awserr.ClassifyCode(f.code)
		if c == awserr.None {
			return awserr.None, false
		}
		if i == 0 || c > class {
			class = c
		}
	}
	return class, true
}

// partial is the error for failed entries of a batch of n after attempts requests,
// with after events not sent after the batch.
func partial(failed []failure, n, attempts, after int) error {
	code := failed[0].code
	if code == "" {
		code = "none (no event id)"
	}
	more := ""
	if after > 0 {
		more = fmt.Sprintf("; the %d events after them were not sent", after)
	}
	return fmt.Errorf("%w: %d of %d events failed (first error code %s) after %d attempt(s)%s",
		bus.ErrPartial, len(failed), n, truncate(code, maxCodeLen), attempts, more)
}

// truncate cuts s to at most n bytes of valid UTF-8, quoting nothing.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// backoff returns the wait before retry n (from 1): drawn between half and all of
// BaseBackoff·2^(n-1), at most MaxBackoff.
func backoff(n int) time.Duration {
	d := MaxBackoff
	if n >= 1 && n <= 10 {
		d = min(BaseBackoff<<(n-1), MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or until ctx ends (returning ctx.Err()).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var _ lambdafn.Adapter = Events

// Events is the lambdafn.Adapter of the event bus: an EventBridge client on the
// function's AWS configuration (endpoint from AWS_ENDPOINT_URL_EVENTBRIDGE or
// AWS_ENDPOINT_URL) publishing to EVENT_BUS_NAME. Only the functions whose main passes
// it link the EventBridge client.
func Events(ac aws.Config, cfg config.Config, d *app.Deps) error {
	if err := ValidateBusName(cfg.EventBusName); err != nil {
		return fmt.Errorf("%s: %w", config.EnvEventBusName, err)
	}
	d.Bus = NewFromConfig(ac, cfg.EventBusName)
	return nil
}
