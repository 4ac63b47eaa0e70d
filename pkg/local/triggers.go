package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/membus"
	"github.com/convrs/admin/pkg/outbox"
	"github.com/convrs/admin/pkg/problem"
)

// Limits of POST /local/events, EventBridge PutEvents' own: at most 10 entries and
// 256 KiB per request.
const (
	maxEntries     = 10
	maxEventsBody  = 256 << 10
	sweepTimeout   = 5 * time.Minute // the template's Timeout of the sweep functions
	recentEvents   = 100
	sweepPathStart = "/local/sweeps/"
)

// Triggers runs the event and sweep functions of Functions in-process, as EventBridge
// and EventBridge Scheduler run them in AWS: POST /local/events takes a PutEvents-shaped
// body and hands each entry to every function whose rule would match it; POST
// /local/sweeps/{auto-close|queue-move} runs a sweep now; RunSchedules runs the sweeps on
// their schedules; GET /local/events lists the events the functions published (when the
// bus keeps them).
type Triggers struct {
	log       *slog.Logger
	consumers []consumer
	sweeps    map[string]*sweep
	bus       bus.Publisher
	mail      mail.Mailer
}

type consumer struct {
	f      app.Function
	handle app.EventHandler
}

type sweep struct {
	f     app.Function
	run   func(context.Context) (app.SweepResult, error)
	every time.Duration
	mu    sync.Mutex // one run at a time, as the schedule's retries and a manual run could overlap
}

// NewTriggers builds the event and sweep functions on d.
func NewTriggers(d app.Deps, log *slog.Logger) (*Triggers, error) {
	tr := &Triggers{log: log, sweeps: map[string]*sweep{}, bus: d.Bus, mail: d.Mail}
	for _, f := range Functions {
		switch f.Kind() {
		case app.KindEvent:
			tr.consumers = append(tr.consumers, consumer{f, f.Events.Handler(d)})
		case app.KindSweep:
			every, err := ParseRate(f.Sweep.Schedule)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			tr.sweeps[strings.TrimSuffix(f.Name, "-sweep")] = &sweep{f: f, run: f.Sweep.Run(d), every: every}
		}
	}
	return tr, nil
}

var rateExpr = regexp.MustCompile(`^rate\(([1-9][0-9]{0,4}) (minute|minutes|hour|hours|day|days)\)$`)

// ParseRate reads a Scheduler rate expression ("rate(15 minutes)").
func ParseRate(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q is not a rate expression such as rate(15 minutes)", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	if (n == 1) != !strings.HasSuffix(m[2], "s") {
		return 0, fmt.Errorf("schedule %q: write rate(1 minute) or rate(N minutes)", expr)
	}
	return time.Duration(n) * unit, nil
}

// RunSchedules runs every sweep on its schedule until ctx ends.
func (tr *Triggers) RunSchedules(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range tr.sweeps {
		wg.Go(func() {
			tick := time.NewTicker(s.every)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					_, _ = tr.runSweep(ctx, s)
				}
			}
		})
	}
	wg.Wait()
}

func (tr *Triggers) runSweep(ctx context.Context, s *sweep) (app.SweepResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	return lambdafn.RunSweep(ctx, s.f, s.run, tr.log)
}

// putEntry is one entry of a PutEvents request, with PutEvents' field names.
type putEntry struct {
	Source       string    `json:"Source"`
	DetailType   string    `json:"DetailType"`
	Detail       string    `json:"Detail"`
	EventBusName string    `json:"EventBusName,omitempty"`
	Resources    []string  `json:"Resources,omitempty"`
	Time         time.Time `json:"Time,omitzero"`
	TraceHeader  string    `json:"TraceHeader,omitempty"`
}

// EntryResult is the outcome of one entry: PutEvents' EventId or ErrorCode and
// ErrorMessage, and (local only) what each function that consumes it did with it.
type EntryResult struct {
	EventID      string           `json:"EventId,omitempty"`
	ErrorCode    string           `json:"ErrorCode,omitempty"`
	ErrorMessage string           `json:"ErrorMessage,omitempty"`
	Handled      []ConsumerResult `json:"Handled"`
}

// ConsumerResult is what one function did with an event: handled, rejected (malformed:
// in AWS it would be logged and dropped) or failed (in AWS it would be delivered again;
// locally, send it again).
type ConsumerResult struct {
	Function string `json:"function"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
}

// PutResult is the answer of POST /local/events.
type PutResult struct {
	FailedEntryCount int           `json:"FailedEntryCount"`
	Entries          []EntryResult `json:"Entries"`
}

// Routes mounts the local trigger routes on mux.
func (tr *Triggers) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /local/events", tr.putEvents)
	mux.HandleFunc("GET /local/events", tr.published)
	mux.HandleFunc("GET /local/outbox", tr.outbox)
	mux.HandleFunc("GET /local/outbox/latest", tr.outbox)
	mux.HandleFunc("POST "+sweepPathStart+"{name}", func(w http.ResponseWriter, r *http.Request) {
		s, ok := tr.sweeps[r.PathValue("name")]
		if !ok {
			names := make([]string, 0, len(tr.sweeps))
			for n := range tr.sweeps {
				names = append(names, n)
			}
			httpx.WriteError(w, r, problem.New(problem.NotFound, "no sweep %q; the sweeps are %s", r.PathValue("name"), strings.Join(names, ", ")))
			return
		}
		res, err := tr.runSweep(r.Context(), s)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, res)
	})
}

// putEvents hands each entry of a PutEvents-shaped body to the functions whose rule
// matches it, in order, and answers what happened to each.
func (tr *Triggers) putEvents(w http.ResponseWriter, r *http.Request) {
	// A JSON media type is required: a browser page sends one only after a CORS
	// preflight, which the local server grants to the origins it allows (-allow-origin)
	// and no other, so another site open in the browser cannot post events.
	err := httpx.RequireMediaType(r, httpx.MediaJSON, "application/x-amz-json-1.1")
	var data []byte
	if err == nil {
		data, err = httpx.ReadBody(r, maxEventsBody, problem.TooLarge)
	}
	var req struct {
		Entries []putEntry `json:"Entries"`
	}
	if err == nil {
		err = httpx.Unmarshal(data, &req)
	}
	if err == nil && (len(req.Entries) == 0 || len(req.Entries) > maxEntries) {
		err = &problem.Error{Code: problem.Invalid, Message: "invalid request",
			Fields: []problem.FieldError{{Field: "Entries", Message: "must hold 1 to 10 entries"}}}
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	out := PutResult{Entries: make([]EntryResult, len(req.Entries))}
	for i, e := range req.Entries {
		res := &out.Entries[i]
		res.Handled = []ConsumerResult{}
		switch {
		case e.Source == "" || e.DetailType == "" || e.Detail == "":
			res.ErrorCode, res.ErrorMessage = "InvalidArgument", "Source, DetailType and Detail are required"
		case !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{"):
			res.ErrorCode, res.ErrorMessage = "MalformedDetail", "Detail must be a JSON object, as a string"
		}
		if res.ErrorCode != "" {
			out.FailedEntryCount++
			continue
		}
		res.EventID = newEventID()
		at := e.Time
		if at.IsZero() {
			at = time.Now().UTC()
		}
		ev := app.Event{ID: res.EventID, Source: e.Source, DetailType: e.DetailType, Time: at, Detail: json.RawMessage(e.Detail)}
		for _, c := range tr.consumers {
			if !c.f.Events.Consumes(e.Source, e.DetailType) {
				continue
			}
			res.Handled = append(res.Handled, tr.deliver(r.Context(), c, ev))
		}
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}

// deliver runs one consumer on one event as its Lambda would, and says what happened.
func (tr *Triggers) deliver(ctx context.Context, c consumer, ev app.Event) ConsumerResult {
	res := ConsumerResult{Function: c.f.Name, Outcome: "handled"}
	var rejected error
	handle := func(ctx context.Context, ev app.Event) error {
		err := c.handle(ctx, ev)
		if errors.Is(err, app.ErrMalformed) {
			rejected = err
		}
		return err
	}
	if err := lambdafn.HandleEvent(ctx, c.f, handle, tr.log, ev); err != nil {
		res.Outcome, res.Reason = "failed", err.Error()+" (in AWS the event would be delivered again; send it again)"
	} else if rejected != nil {
		res.Outcome, res.Reason = "rejected", rejected.Error()
	}
	return res
}

// published lists the events the functions published (the in-process bus keeps the
// last ones), oldest first.
func (tr *Triggers) published(w http.ResponseWriter, r *http.Request) {
	mb, ok := tr.bus.(*membus.Bus)
	if !ok {
		httpx.WriteError(w, r, problem.New(problem.NotFound, "this bus keeps no events"))
		return
	}
	recs := mb.Events()
	if len(recs) > recentEvents {
		recs = recs[len(recs)-recentEvents:]
	}
	evs := make([]bus.Event, 0, len(recs))
	for _, rec := range recs {
		evs = append(evs, rec.Event)
	}
	httpx.WriteJSON(w, r, http.StatusOK, struct {
		Source string      `json:"source"`
		Events []bus.Event `json:"events"`
	}{bus.Source, evs})
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// OutboxItem is one email of GET /local/outbox, decoded (the .eml files in the outbox
// folder are MIME, quoted-printable).
type OutboxItem struct {
	ID      string    `json:"id"`
	Date    time.Time `json:"date"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	// SetPasswordToken is, for an invitation, the token of its set-password link (what
	// POST /v1/auth/set-password takes), so that a script can accept it.
	SetPasswordToken string `json:"setPasswordToken,omitempty"`
}

// setPasswordToken finds the token of a set-password link in text ("" when none).
func setPasswordToken(text string) string {
	const marker = agents.SetPasswordPath + "?token="
	_, after, ok := strings.Cut(text, marker)
	if !ok || len(after) < agents.TokenLen {
		return ""
	}
	if tok := after[:agents.TokenLen]; func() bool { _, err := agents.ParseToken(tok); return err == nil }() {
		return tok
	}
	return ""
}

// maxOutbox bounds GET /local/outbox.
const maxOutbox = 20

// outbox answers the newest emails the local server sent (at most maxOutbox, oldest
// first; ?to= keeps those to one address), decoded: what the invitation links and
// missed-chat reports say, without a mail client. GET /local/outbox/latest answers the
// newest one alone (404 when there is none).
func (tr *Triggers) outbox(w http.ResponseWriter, r *http.Request) {
	o, ok := tr.mail.(*outbox.Outbox)
	if !ok {
		httpx.WriteError(w, r, problem.New(problem.NotFound, "this server sends no email to an outbox folder"))
		return
	}
	to := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("to")))
	all, err := outbox.ReadLatest(o.Dir(), 200) // the newest 200 files, then filtered
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	items := []OutboxItem{}
	for _, e := range all {
		it := OutboxItem{ID: e.ID, Date: e.Date, Subject: e.Subject, Text: e.Text, To: []string{}, SetPasswordToken: setPasswordToken(e.Text)}
		if e.From != nil {
			it.From = e.From.String()
		}
		match := to == ""
		for _, a := range e.To {
			it.To = append(it.To, a.Address)
			match = match || strings.EqualFold(a.Address, to)
		}
		if match {
			items = append(items, it)
		}
	}
	items = items[len(items)-min(len(items), maxOutbox):]
	if strings.HasSuffix(r.URL.Path, "/latest") {
		if len(items) == 0 {
			httpx.WriteError(w, r, problem.New(problem.NotFound, "no email sent to %q", to))
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, items[len(items)-1])
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, map[string]any{"items": items})
}
