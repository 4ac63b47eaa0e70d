package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/convrs/admin/pkg/app"
)

// EventEntry is the Lambda handler of an EventBridge consumer: a rule invokes it with one
// event at a time.
type EventEntry func(ctx context.Context, ev events.CloudWatchEvent) error

// EventEntryPoint wraps the function's event handler for an EventBridge rule. An event
// the function does not consume (another source or detail-type: the rule and the code
// disagree) or that the handler finds malformed (app.ErrMalformed) is logged, naming the
// event, and acknowledged: delivering it again would fail the same way. Any other error
// is returned, so that Lambda retries the event (and the rule's dead-letter queue keeps
// it after the last try).
func EventEntryPoint(f app.Function, d app.Deps, log *slog.Logger) EventEntry {
	handle := f.Events.Handler(d)
	return func(ctx context.Context, ev events.CloudWatchEvent) error {
		return HandleEvent(ctx, f, handle, log, app.Event{ID: ev.ID, Source: ev.Source, DetailType: ev.DetailType, Time: ev.Time, Detail: ev.Detail})
	}
}

// HandleEvent runs handle on one event as EventEntryPoint does (the local server's
// /local/events calls it for each entry), logs the outcome, and returns the error that
// should make the event be delivered again (nil when it was handled or dropped).
func HandleEvent(ctx context.Context, f app.Function, handle app.EventHandler, log *slog.Logger, ev app.Event) error {
	attrs := []any{"function", f.Name, "eventId", ev.ID, "source", ev.Source, "detailType", ev.DetailType}
	if !f.Events.Consumes(ev.Source, ev.DetailType) {
		log.WarnContext(ctx, "event rejected: not an event this function consumes", append(attrs, "consumes", f.Events.DetailTypes)...)
		return nil
	}
	start := time.Now()
	err := handle(ctx, ev)
	attrs = append(attrs, "ms", time.Since(start).Milliseconds())
	switch {
	case err == nil:
		log.InfoContext(ctx, "event handled", attrs...)
		return nil
	case errors.Is(err, app.ErrMalformed):
		log.WarnContext(ctx, "event rejected", append(attrs, "reason", err.Error())...)
		return nil
	}
	log.ErrorContext(ctx, "event failed; it will be delivered again", append(attrs, "error", err.Error())...)
	return err
}

// SweepEntry is the Lambda handler of a sweep: EventBridge Scheduler invokes it with the
// schedule's input (ignored: a sweep works from its saved position).
type SweepEntry func(ctx context.Context, input json.RawMessage) (app.SweepResult, error)

// SweepEntryPoint wraps the function's sweep for EventBridge Scheduler. The run's context
// carries the invocation's deadline; the sweep stops before it and saves its position. A
// failed run returns the error, so that Scheduler's retry policy runs it again (and its
// dead-letter queue records the failure after the last try).
func SweepEntryPoint(f app.Function, d app.Deps, log *slog.Logger) SweepEntry {
	run := f.Sweep.Run(d)
	return func(ctx context.Context, _ json.RawMessage) (app.SweepResult, error) {
		return RunSweep(ctx, f, run, log)
	}
}

// RunSweep runs one sweep and logs its result (the local server's scheduler and
// /local/sweeps call it too).
func RunSweep(ctx context.Context, f app.Function, run func(context.Context) (app.SweepResult, error), log *slog.Logger) (app.SweepResult, error) {
	start := time.Now()
	res, err := run(ctx)
	attrs := []any{"function", f.Name, "orgs", res.Orgs, "examined", res.Examined, "changed", res.Changed,
		"published", res.Published, "done", res.Done, "ms", time.Since(start).Milliseconds()}
	if err != nil {
		log.ErrorContext(ctx, "sweep failed", append(attrs, "error", err.Error())...)
		return res, err
	}
	log.InfoContext(ctx, "sweep ran", attrs...)
	return res, nil
}
