package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/lambdafn"
)

// replayTriggers is ReplayEvents for event and sweep functions: each sample goes through
// the function's real Lambda entry point (aws-lambda-go's handler over the raw JSON), in
// table order on the same adapters.
func replayTriggers(t *testing.T, f app.Function, deps app.Deps, dir string, cases []EventCase) {
	t.Helper()
	var h lambda.Handler
	switch f.Kind() {
	case app.KindEvent:
		h = lambda.NewHandler(lambdafn.EventEntryPoint(f, deps, discardLogger()))
	default:
		h = lambda.NewHandler(lambdafn.SweepEntryPoint(f, deps, discardLogger()))
	}
	saved := map[string][]byte{}
	for _, c := range cases {
		ok := t.Run(strings.TrimSuffix(c.File, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			run := &EventRun{Deps: deps, Saved: saved}
			if f.Kind() == app.KindEvent {
				run.Event = CheckTriggerSample(t, f, raw)
			} else {
				CheckTriggerSample(t, f, raw)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := h.Invoke(ctx, raw)
			run.Err = err
			if (err != nil) != c.Fails {
				t.Fatalf("entry point error: %v, want an error: %v", err, c.Fails)
			}
			if f.Kind() == app.KindSweep && err == nil {
				if err := json.Unmarshal(out, &run.Result); err != nil {
					t.Fatalf("the sweep's result is not a SweepResult: %v\n%s", err, out)
				}
			}
			if c.Check != nil {
				c.Check(t, run)
			}
		})
		if !ok {
			t.Fatalf("stopping after %s failed", c.File)
		}
	}
}

// CheckTriggerSample checks a sample of an event or sweep function: for an event
// function, a well-formed EventBridge event (every field EventBridge sends, nothing else)
// of a source and detail-type the function consumes, with a JSON object as detail; for a
// sweep, the input its schedule sends ({"sweep": <name>, "scheduledTime": <RFC 3339>}).
func CheckTriggerSample(t *testing.T, f app.Function, raw []byte) events.CloudWatchEvent {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if f.Kind() == app.KindSweep {
		var in SweepInput
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("not the input of the %s schedule: %v", f.Name, err)
		}
		if in.Sweep != f.Name || in.ScheduledTime.IsZero() {
			t.Errorf("input %+v, want sweep %q and a scheduledTime", in, f.Name)
		}
		return events.CloudWatchEvent{}
	}
	var ev events.CloudWatchEvent
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("not an EventBridge event: %v", err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	for _, k := range []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("field %q is missing (EventBridge always sends it)", k)
		}
	}
	if ev.Version != "0" || ev.ID == "" || ev.AccountID == "" || ev.Region == "" || ev.Time.IsZero() {
		t.Errorf("version %q, id %q, account %q, region %q, time %v: want version 0 and the rest set", ev.Version, ev.ID, ev.AccountID, ev.Region, ev.Time)
	}
	if !f.Events.Consumes(ev.Source, ev.DetailType) {
		t.Errorf("source %q, detail-type %q: not what %s consumes (%s, %v)", ev.Source, ev.DetailType, f.Name, f.Events.Source, f.Events.DetailTypes)
	}
	if d := bytes.TrimSpace(ev.Detail); len(d) == 0 || d[0] != '{' || !json.Valid(d) {
		t.Errorf("detail is not a JSON object: %s", ev.Detail)
	}
	if slices.Contains([]string{"", "null"}, string(fields["resources"])) {
		t.Errorf("resources must be a list ([] when none)")
	}
	return ev
}

// SweepInput is what a sweep's schedule sends (the template's Input; Scheduler fills in
// the scheduled time). The sweep itself reads nothing from it.
type SweepInput struct {
	Sweep         string    `json:"sweep"`
	ScheduledTime time.Time `json:"scheduledTime"`
}
