package ebbus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/bus/bustest"
)

// fakeEB speaks enough of the EventBridge JSON protocol (awsJson1_1) for Publisher:
// PutEvents. It fails the test on any request Publisher should not send: a wrong target,
// content type or signature, no entries or more than bus.MaxBatch, entries whose sizes
// (counted as EventBridge counts them) reach MaxRequestSize, an entry for another bus,
// with another source, without a time, a detail-type or a detail that is a JSON object,
// or with members Publisher never sets. It can fail whole requests and chosen entries.
type fakeEB struct {
	t       *testing.T
	busName string

	mu       sync.Mutex
	calls    int                // PutEvents requests received
	sizes    []int              // entries of each request, in order
	received []bustest.Received // entries accepted, in order
	// failCalls, when set, answers the next requests (one element each, then the rest
	// are done) with a whole-request failure.
	failCalls []failCall
	// failAll, when set, answers every request with this failure.
	failAll *failCall
	// failEntry, when set, returns the error code for an entry of request call (from 1),
	// "" to accept it. It runs with mu held.
	failEntry func(call int, e entry) string
	// afterCall, when set, runs (unlocked) after a request's entries are recorded and
	// before its response is written.
	afterCall func()
	// response, when set, replaces the body of a successful response.
	response func(valid []byte) []byte
}

// failCall is an error response: HTTP status and error code.
type failCall struct {
	status int
	code   string
}

// entry is every member of PutEventsRequestEntry, to catch any Publisher sends.
type entry struct {
	Source       *string
	DetailType   *string
	Detail       *string
	Time         *json.Number
	EventBusName *string
	Resources    []string
	TraceHeader  *string
}

type putEventsRequest struct {
	Entries    []entry
	EndpointId *string
}

func newFakeEB(t *testing.T, busName string) (*fakeEB, *httptest.Server) {
	f := &fakeEB{t: t, busName: busName}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// protocolError fails the test and answers 400 ValidationException, so that the
// failure also shows in what Publisher returns.
func (f *fakeEB) protocolError(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.t.Errorf("fake EventBridge: %s", msg)
	awsfake.WriteError(w, http.StatusBadRequest, "ValidationException", msg)
}

// parseTime reads an awsJson1_1 timestamp (epoch seconds, with milliseconds).
func parseTime(n json.Number) (time.Time, error) {
	s, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(int64(math.Round(s * 1000))).UTC(), nil
}

// checkEntry returns what is wrong with an entry ("" when nothing), and its time.
func (f *fakeEB) checkEntry(e entry) (string, time.Time) {
	switch {
	case e.EventBusName == nil || *e.EventBusName != f.busName:
		return fmt.Sprintf("EventBusName %q, want %q", deref(e.EventBusName), f.busName), time.Time{}
	case e.Source == nil || *e.Source != bus.Source:
		return fmt.Sprintf("Source %q, want %q", deref(e.Source), bus.Source), time.Time{}
	case e.DetailType == nil || *e.DetailType == "" || len(*e.DetailType) > 128:
		return fmt.Sprintf("DetailType %q, want 1-128 characters", deref(e.DetailType)), time.Time{}
	case e.Detail == nil || len(*e.Detail) == 0 || (*e.Detail)[0] != '{' || !json.Valid([]byte(*e.Detail)):
		return "Detail is not a JSON object", time.Time{}
	case e.Resources != nil || e.TraceHeader != nil:
		return "unexpected Resources or TraceHeader", time.Time{}
	case e.Time == nil:
		return "no Time", time.Time{}
	}
	at, err := parseTime(*e.Time)
	if err != nil {
		return fmt.Sprintf("Time %q: %v", *e.Time, err), time.Time{}
	}
	return "", at
}

func (f *fakeEB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.protocolError(w, "read body: %v", err)
		return
	}
	var in putEventsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	decodeErr := dec.Decode(&in)

	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		f.protocolError(w, "%s %s, want POST /", r.Method, r.URL.Path)
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		f.protocolError(w, "Content-Type %q", r.Header.Get("Content-Type"))
		return
	case r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents":
		f.protocolError(w, "unexpected X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
		return
	case !awsfake.Signed(r, "events"):
		f.protocolError(w, "missing or unexpected SigV4 signature: %q", r.Header.Get("Authorization"))
		return
	case decodeErr != nil:
		f.protocolError(w, "decode body: %v", decodeErr)
		return
	case in.EndpointId != nil:
		f.protocolError(w, "unexpected EndpointId")
		return
	case len(in.Entries) == 0 || len(in.Entries) > bus.MaxBatch:
		f.protocolError(w, "%d entries, want 1-%d", len(in.Entries), bus.MaxBatch)
		return
	}
	size := 0
	times := make([]time.Time, len(in.Entries))
	for i, e := range in.Entries {
		msg, at := f.checkEntry(e)
		if msg != "" {
			f.protocolError(w, "entry %d: %s", i, msg)
			return
		}
		times[i] = at
		size += 14 + len(*e.Source) + len(*e.DetailType) + len(*e.Detail)
	}
	if size >= MaxRequestSize {
		f.protocolError(w, "entries of %d bytes, want less than %d", size, MaxRequestSize)
		return
	}

	type result struct {
		EventId      string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		Entries          []result
		FailedEntryCount int
	}{}
	// One critical section numbers the request and records what it accepted, so that
	// concurrent requests never interleave in received. failEntry runs in it.
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.sizes = append(f.sizes, len(in.Entries))
	var fail *failCall
	if len(f.failCalls) > 0 {
		fail = &f.failCalls[0]
		f.failCalls = f.failCalls[1:]
	} else if f.failAll != nil {
		fail = f.failAll
	}
	afterCall, response := f.afterCall, f.response
	for i, e := range in.Entries {
		if fail != nil {
			break
		}
		if f.failEntry != nil {
			if code := f.failEntry(call, e); code != "" {
				out.Entries = append(out.Entries, result{ErrorCode: code, ErrorMessage: "entry refused: " + code})
				out.FailedEntryCount++
				continue
			}
		}
		out.Entries = append(out.Entries, result{EventId: fmt.Sprintf("%08d-0000-0000-0000-%012d", call, i)})
		f.received = append(f.received, bustest.Received{
			Call: call, Source: *e.Source, DetailType: *e.DetailType, Detail: json.RawMessage(*e.Detail), Time: times[i],
		})
	}
	f.mu.Unlock()
	if fail != nil {
		awsfake.WriteError(w, fail.status, fail.code, "message from EventBridge: "+fail.code)
		return
	}
	if afterCall != nil {
		afterCall()
	}
	valid, _ := json.Marshal(out)
	if response != nil {
		valid = response(valid)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	_, _ = w.Write(valid)
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Received returns the entries accepted so far (copies).
func (f *fakeEB) Received() []bustest.Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]bustest.Received, len(f.received))
	for i, r := range f.received {
		r.Detail = bytes.Clone(r.Detail)
		out[i] = r
	}
	return out
}

// takeSizes returns and forgets the number of entries of each request so far.
func (f *fakeEB) takeSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sizes
	f.sizes = nil
	return s
}

func (f *fakeEB) set(fn func(f *fakeEB)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
