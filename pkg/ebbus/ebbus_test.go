package ebbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/bus/bustest"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
)

const busName = "convrs-admin-test"

// newClient returns the real SDK client pointed at srv, with static credentials, two
// attempts per request and no waiting between them.
func newClient(srv *httptest.Server) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region:       awsfake.Region,
		Credentials:  awsfake.Credentials,
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer:      awsfake.Retryer(2),
	})
}

// newPublisher returns a fake bus and a Publisher on it that does not wait between
// retries of failed entries.
func newPublisher(t *testing.T, name string) (*fakeEB, *Publisher) {
	f, srv := newFakeEB(t, name)
	p := New(newClient(srv), name)
	p.backoff = func(int) time.Duration { return 0 }
	return f, p
}

func TestContract(t *testing.T) {
	t.Parallel()
	bustest.Run(t, func(t *testing.T) bustest.Bus {
		f, p := newPublisher(t, busName)
		return bustest.Bus{
			Publisher: p,
			Received:  f.Received,
			AfterCall: func(fn func()) { f.set(func(f *fakeEB) { f.afterCall = fn }) },
		}
	})
}

var at = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func event(i int) bus.Event {
	return bus.Event{
		ID: fmt.Sprintf("e/%d", i), DetailType: "Chat Auto Closed", Time: at,
		Detail: json.RawMessage(fmt.Sprintf(`{"eventId":"e/%d","n":%d}`, i, i)),
	}
}

func events(from, n int) []bus.Event {
	var out []bus.Event
	for i := range n {
		out = append(out, event(from+i))
	}
	return out
}

// numbers returns the "n" of each received event's detail.
func numbers(t *testing.T, rs []bustest.Received) []int {
	t.Helper()
	var out []int
	for _, r := range rs {
		var d struct{ N int }
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			t.Fatalf("detail %s: %v", r.Detail, err)
		}
		out = append(out, d.N)
	}
	return out
}

func seq(from, n int) []int {
	var out []int
	for i := range n {
		out = append(out, from+i)
	}
	return out
}

func TestBusNameOrARN(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"default", "convrs-admin", "a", "aws.partner/example.com/123/x", strings.Repeat("b", 256),
		"arn:aws:events:eu-west-1:123456789012:event-bus/convrs-admin",
		"arn:aws-cn:events:cn-north-1:123456789012:event-bus/default",
		"arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/x",
	} {
		if err := ValidateBusName(name); err != nil {
			t.Errorf("ValidateBusName(%q) = %v, want nil", name, err)
			continue
		}
		f, p := newPublisher(t, name)
		if err := p.Publish(t.Context(), events(0, 1)); err != nil {
			t.Errorf("bus %q: Publish = %v", name, err)
		}
		if got := f.Received(); len(got) != 1 {
			t.Errorf("bus %q: received %d events, want 1", name, len(got))
		}
	}
}

func TestInvalidBusName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"", " ", "with space", "bus\n", "bus*", "ü", strings.Repeat("b", 257),
		"arn:aws:events:eu-west-1:123:event-bus/x", "arn:aws:sqs:eu-west-1:123456789012:queue",
		"arn:aws:events:eu-west-1:123456789012:rule/x", "arn:aws:events:eu-west-1:123456789012:event-bus/",
	} {
		err := ValidateBusName(name)
		if err == nil || problem.CodeOf(err) != problem.Internal {
			t.Errorf("ValidateBusName(%q) = %v, want a plain error", name, err)
		}
		f, srv := newFakeEB(t, name)
		p := New(newClient(srv), name)
		if err := p.Publish(t.Context(), events(0, 1)); err == nil || errors.Is(err, bus.ErrPartial) {
			t.Errorf("Publish on bus %q = %v, want a plain error", name, err)
		}
		if err := p.Publish(t.Context(), nil); err != nil {
			t.Errorf("Publish of nothing on bus %q = %v, want nil", name, err)
		}
		if got := f.takeSizes(); len(got) != 0 {
			t.Errorf("bus %q: requests sent: %v", name, got)
		}
	}
	if err := ValidateBusName(strings.Repeat("x", 5000)); len(err.Error()) > 500 {
		t.Errorf("error for a long name is %d bytes: it should not echo all of it", len(err.Error()))
	}
}

func TestRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f, p := newPublisher(t, busName)
	bad := event(3)
	bad.Detail = json.RawMessage(`["not an object"]`)
	if err := p.Publish(t.Context(), append(events(0, 25), bad)); !errors.Is(err, bus.ErrInvalid) {
		t.Errorf("Publish with an invalid event = %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Publish(ctx, events(0, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a cancelled context = %v", err)
	}
	if got := f.takeSizes(); len(got) != 0 {
		t.Errorf("requests sent for refused calls: %v", got)
	}
}

// sized returns an event whose entry EventBridge counts as n bytes.
func sized(n int) bus.Event {
	pad := n - timeSize - len(bus.Source) - len("T") - len(`{"p":""}`)
	return bus.Event{ID: "x", DetailType: "T", Time: at, Detail: json.RawMessage(`{"p":"` + strings.Repeat("a", pad) + `"}`)}
}

func TestBatchLen(t *testing.T) {
	t.Parallel()
	if got := entrySize(sized(1000)); got != 1000 {
		t.Fatalf("entrySize(sized(1000)) = %d", got)
	}
	third := MaxRequestSize / 3
	tests := []struct {
		name  string
		sizes []int
		want  int
	}{
		{"one", []int{100}, 1},
		{"ten small", slices.Repeat([]int{100}, 10), 10},
		{"eleven small", slices.Repeat([]int{100}, 11), 10},
		{"just under", []int{third, third, MaxRequestSize - 2*third - 1}, 3},
		{"exactly the limit", []int{third, third, MaxRequestSize - 2*third}, 2},
		{"over", []int{third, third, third + 1}, 2},
		{"largest events", slices.Repeat([]int{entrySize(sized(bus.MaxDetailSize + 52))}, 10), 3},
	}
	for _, tt := range tests {
		var evs []bus.Event
		for _, n := range tt.sizes {
			evs = append(evs, sized(n))
		}
		if got := batchLen(evs); got != tt.want {
			t.Errorf("%s: batchLen = %d, want %d", tt.name, got, tt.want)
		}
	}
	// The largest valid event: its detail is bus.MaxDetailSize bytes.
	largest := sized(bus.MaxDetailSize + timeSize + len(bus.Source) + 1)
	if err := largest.Validate(); err != nil || len(largest.Detail) != bus.MaxDetailSize {
		t.Fatalf("largest event: %d bytes, %v", len(largest.Detail), err)
	}
	if n := (MaxRequestSize - 1) / entrySize(largest); n != 3 {
		t.Errorf("%d of the largest events fit in a request, want 3", n)
	}
}

// TestSplitBySize sends events whose sizes force requests of fewer than ten entries;
// the fake checks every request's size.
func TestSplitBySize(t *testing.T) {
	t.Parallel()
	f, p := newPublisher(t, busName)
	var evs []bus.Event
	for i := range 12 {
		// Big entries of a quarter of the limit and a little more; every fourth small.
		size := MaxRequestSize/4 + 10
		if i%4 == 3 {
			size = 100
		}
		e := sized(size)
		e.Detail = json.RawMessage(fmt.Sprintf(`{"n":%d,"p":"%s"}`, i, e.Detail[len(`{"p":"`)+len(fmt.Sprintf(`"n":%d,`, i)):len(e.Detail)-2]))
		if entrySize(e) != size {
			t.Fatalf("event %d: size %d, want %d", i, entrySize(e), size)
		}
		evs = append(evs, e)
	}
	if err := p.Publish(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	// 3 big + 1 small fit (about 192 KiB); a fourth big one would not.
	if got, want := f.takeSizes(), []int{4, 4, 4}; !slices.Equal(got, want) {
		t.Errorf("requests carried %v entries, want %v", got, want)
	}
	if got := numbers(t, f.Received()); !slices.Equal(got, seq(0, 12)) {
		t.Errorf("received %v, want 0..11 in order", got)
	}
}

// TestPartialRetry: entries that fail for throttling or an internal failure are sent
// again, alone, and the Publish succeeds.
func TestPartialRetry(t *testing.T) {
	t.Parallel()
	f, p := newPublisher(t, busName)
	f.set(func(f *fakeEB) {
		f.failEntry = func(call int, e entry) string {
			switch {
			case call == 1 && strings.Contains(*e.Detail, `"n":2}`):
				return "ThrottlingException"
			case call <= 2 && strings.Contains(*e.Detail, `"n":5}`):
				return "InternalFailure"
			}
			return ""
		}
	})
	if err := p.Publish(t.Context(), events(0, 13)); err != nil {
		t.Fatalf("Publish = %v, want nil after the retries", err)
	}
	// Request 1: the first ten (2 and 5 fail); 2: events 2 and 5 (5 fails); 3: event 5;
	// 4: the last three.
	if got, want := f.takeSizes(), []int{10, 2, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("requests carried %v entries, want %v", got, want)
	}
	want := []int{0, 1, 3, 4, 6, 7, 8, 9, 2, 5, 10, 11, 12}
	if got := numbers(t, f.Received()); !slices.Equal(got, want) {
		t.Errorf("received %v, want %v (retried entries after the rest of their batch)", got, want)
	}
}

// TestPartialPermanent: an entry refused for a reason a retry cannot cure is not
// retried; the Publish fails with ErrPartial, a plain error, and sends nothing after.
func TestPartialPermanent(t *testing.T) {
	t.Parallel()
	for _, codes := range [][]string{
		{"AccessDeniedException"},
		{"NotAuthorizedForSourceException", "ThrottlingException"},
		{"ThrottlingException", "NotAuthorizedForDetailTypeException"},
		{"InvalidArgument"},
		{"MalformedDetail"},
		{"SomeFutureCode"},
	} {
		t.Run(strings.Join(codes, "+"), func(t *testing.T) {
			t.Parallel()
			f, p := newPublisher(t, busName)
			f.set(func(f *fakeEB) {
				f.failEntry = func(_ int, e entry) string {
					for i, c := range codes {
						if strings.Contains(*e.Detail, fmt.Sprintf(`"n":%d}`, 3+i)) {
							return c
						}
					}
					return ""
				}
			})
			err := p.Publish(t.Context(), events(0, 25))
			if !errors.Is(err, bus.ErrPartial) || problem.CodeOf(err) != problem.Internal {
				t.Fatalf("Publish = %v, want a plain error wrapping ErrPartial", err)
			}
			for _, want := range []string{fmt.Sprintf("%d of 10 events failed", len(codes)), "first error code " + codes[0], "after 1 attempt", "the 15 events after them were not sent", busName} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if got := f.takeSizes(); !slices.Equal(got, []int{10}) {
				t.Errorf("requests carried %v entries, want one request of 10", got)
			}
		})
	}
}

// TestPartialExhausted: entries that keep failing for throttling are retried
// MaxAttempts-1 times; then the Publish fails with ErrPartial, Unavailable.
func TestPartialExhausted(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"ThrottlingException", "InternalFailure", "InternalException"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			f, p := newPublisher(t, busName)
			f.set(func(f *fakeEB) {
				f.failEntry = func(_ int, e entry) string {
					if strings.Contains(*e.Detail, `"n":1}`) || strings.Contains(*e.Detail, `"n":12}`) {
						return code
					}
					return ""
				}
			})
			err := p.Publish(t.Context(), events(0, 15))
			var pe *problem.Error
			if !errors.Is(err, bus.ErrPartial) || !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter != time.Second {
				t.Fatalf("Publish = %#v, want Unavailable (RetryAfter 1s) wrapping ErrPartial", err)
			}
			for _, want := range []string{"1 of 10 events failed", "first error code " + code, fmt.Sprintf("after %d attempt", MaxAttempts), "the 5 events after them"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(pe.Message, code) {
				t.Errorf("client message %q names the AWS code", pe.Message)
			}
			if got, want := f.takeSizes(), []int{10, 1, 1, 1}; !slices.Equal(got, want) {
				t.Errorf("requests carried %v entries, want %v", got, want)
			}
			if got := numbers(t, f.Received()); !slices.Equal(got, []int{0, 2, 3, 4, 5, 6, 7, 8, 9}) {
				t.Errorf("received %v", got)
			}
		})
	}
}

// TestBackoffStopsWithContext: a context that ends while Publish waits to retry ends
// the wait at once.
func TestBackoffStopsWithContext(t *testing.T) {
	t.Parallel()
	f, p := newPublisher(t, busName)
	p.backoff = func(int) time.Duration { return time.Hour }
	f.set(func(f *fakeEB) { f.failEntry = func(int, entry) string { return "ThrottlingException" } })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Publish(ctx, events(0, 3))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, bus.ErrPartial) {
		t.Errorf("Publish = %v, want DeadlineExceeded and ErrPartial", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Publish took %v after its context ended", d)
	}
	if got := f.takeSizes(); !slices.Equal(got, []int{3}) {
		t.Errorf("requests carried %v entries, want one request of 3", got)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for n := range 12 {
		bound := MaxBackoff
		if n >= 1 && n <= 10 {
			bound = min(BaseBackoff<<(n-1), MaxBackoff)
		}
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(n)
			if d < bound/2 || d > bound {
				t.Fatalf("backoff(%d) = %v, want between %v and %v", n, d, bound/2, bound)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff(%d) drew only %d distinct waits in 200: no jitter", n, len(seen))
		}
	}
	if backoff(1) > BaseBackoff || backoff(MaxAttempts-1) > MaxBackoff {
		t.Error("backoff exceeds its bounds")
	}
	// The worst case wait of one batch's retries.
	total := time.Duration(0)
	for n := 1; n < MaxAttempts; n++ {
		total += min(BaseBackoff<<(n-1), MaxBackoff)
	}
	if total > 2*time.Second {
		t.Errorf("retries of one batch may wait %v in all", total)
	}
}

// TestErrors drives Publisher with the real client (two attempts per request) against
// an endpoint that fails whole requests: throttling and transient failures are
// Unavailable with RetryAfter 1s (503 with Retry-After over HTTP); anything else stays
// a plain error (500 without its text). Nothing is sent after the failed request.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fail     failCall
		want     problem.Code
		attempts int // requests for the failed batch
	}{
		{failCall{http.StatusBadRequest, "ThrottlingException"}, problem.Unavailable, 2},
		{failCall{http.StatusTooManyRequests, "TooManyRequestsException"}, problem.Unavailable, 2},
		{failCall{http.StatusBadRequest, "LimitExceededException"}, problem.Unavailable, 2},
		{failCall{http.StatusInternalServerError, "InternalException"}, problem.Unavailable, 2},
		{failCall{http.StatusInternalServerError, "InternalFailure"}, problem.Unavailable, 2},
		{failCall{http.StatusServiceUnavailable, "ServiceUnavailable"}, problem.Unavailable, 2},
		{failCall{http.StatusBadGateway, "BadGateway"}, problem.Unavailable, 2},
		{failCall{http.StatusBadRequest, "AccessDeniedException"}, problem.Internal, 1},
		{failCall{http.StatusBadRequest, "ResourceNotFoundException"}, problem.Internal, 1}, // no such bus
		{failCall{http.StatusBadRequest, "ValidationException"}, problem.Internal, 1},
		{failCall{http.StatusBadRequest, "UnrecognizedClientException"}, problem.Internal, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.fail.status, tt.fail.code), func(t *testing.T) {
			t.Parallel()
			f, p := newPublisher(t, busName)
			// The first batch goes through; the second fails.
			f.set(func(f *fakeEB) { f.failEntry = nil })
			f.set(func(f *fakeEB) {
				f.afterCall = func() {
					f.set(func(f *fakeEB) { f.failAll = &tt.fail; f.afterCall = nil })
				}
			})
			err := p.Publish(t.Context(), events(0, 25))
			if errors.Is(err, bus.ErrPartial) {
				t.Errorf("a failed request is not a partial failure: %v", err)
			}
			var pe *problem.Error
			switch {
			case tt.want == problem.Unavailable:
				if !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter != time.Second {
					t.Fatalf("got %#v, want Unavailable with RetryAfter 1s", err)
				}
				if pe.Err == nil || !strings.Contains(pe.Err.Error(), "ebbus: put events 11-20 of 25 on "+busName) || !strings.Contains(pe.Err.Error(), tt.fail.code) {
					t.Errorf("cause %v does not name the operation and keep the AWS error", pe.Err)
				}
				if strings.Contains(pe.Message, tt.fail.code) || strings.Contains(pe.Message, "EventBridge") {
					t.Errorf("client message %q leaks the AWS error", pe.Message)
				}
			case err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "ebbus: put events 11-20 of 25 on "+busName):
				t.Errorf("got %#v, want a plain error naming the operation", err)
			}
			rec := httptest.NewRecorder()
			httpx.WriteError(rec, httptest.NewRequest(http.MethodPost, "/v1/orgs/acme/chats/c1/close", nil), err)
			wantStatus, wantRetry := http.StatusInternalServerError, ""
			if tt.want == problem.Unavailable {
				wantStatus, wantRetry = http.StatusServiceUnavailable, "1"
			}
			if rec.Code != wantStatus || rec.Header().Get("Retry-After") != wantRetry || strings.Contains(rec.Body.String(), tt.fail.code) {
				t.Errorf("over HTTP: got %d, Retry-After %q, body %s; want %d, %q, no AWS error text", rec.Code, rec.Header().Get("Retry-After"), rec.Body, wantStatus, wantRetry)
			}
			want := []int{10}
			for range tt.attempts {
				want = append(want, 10)
			}
			if got := f.takeSizes(); !slices.Equal(got, want) {
				t.Errorf("requests carried %v entries, want %v", got, want)
			}
			if got := numbers(t, f.Received()); !slices.Equal(got, seq(0, 10)) {
				t.Errorf("received %v, want the first batch only", got)
			}
		})
	}
}

// TestMalformedResponse: a response that does not account for every entry is a plain
// error, never a success.
func TestMalformedResponse(t *testing.T) {
	t.Parallel()
	for name, rewrite := range map[string]func([]byte) []byte{
		"too few entries": func([]byte) []byte { return []byte(`{"Entries":[{"EventId":"a"}],"FailedEntryCount":0}`) },
		"no entries":      func([]byte) []byte { return []byte(`{"FailedEntryCount":0}`) },
		"count disagrees": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"FailedEntryCount":0`, `"FailedEntryCount":1`, 1))
		},
		"entry without id": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"EventId":"00000001-0000-0000-0000-000000000001"`, `"X":1`, 1))
		},
		"not JSON": func([]byte) []byte { return []byte(`<html>`) },
		"too many entries": func(b []byte) []byte {
			return []byte(`{"Entries":[{"EventId":"a"},{"EventId":"b"},{"EventId":"c"},{"EventId":"d"}],"FailedEntryCount":0}`)
		},
		"long code entries": func([]byte) []byte {
			return []byte(`{"Entries":[{"ErrorCode":"` + strings.Repeat("Z", 10000) + `"},{"EventId":"b"},{"EventId":"c"}],"FailedEntryCount":1}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, p := newPublisher(t, busName)
			f.set(func(f *fakeEB) { f.response = rewrite })
			err := p.Publish(t.Context(), events(0, 3))
			if err == nil || problem.CodeOf(err) != problem.Internal {
				t.Fatalf("Publish = %v, want a plain error", err)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
			if got := f.takeSizes(); len(got) != 1 {
				t.Errorf("requests carried %v entries, want one request", got)
			}
		})
	}
}

// stubAPI answers PutEvents with out and err, recording the inputs.
type stubAPI struct {
	out *eventbridge.PutEventsOutput
	err error
	ins []*eventbridge.PutEventsInput
}

func (s *stubAPI) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	s.ins = append(s.ins, in)
	return s.out, s.err
}

func TestEntries(t *testing.T) {
	t.Parallel()
	s := &stubAPI{out: &eventbridge.PutEventsOutput{Entries: []types.PutEventsResultEntry{{EventId: aws.String("a")}, {EventId: aws.String("b")}}}}
	arn := "arn:aws:events:eu-west-1:123456789012:event-bus/convrs"
	p := New(s, arn)
	e0, e1 := event(0), event(1)
	e1.Time = time.Date(2025, 6, 1, 12, 0, 0, 0, time.FixedZone("X", 7200))
	if err := p.Publish(t.Context(), []bus.Event{e0, e1}); err != nil {
		t.Fatal(err)
	}
	if len(s.ins) != 1 || len(s.ins[0].Entries) != 2 || s.ins[0].EndpointId != nil {
		t.Fatalf("inputs %+v", s.ins)
	}
	for i, e := range []bus.Event{e0, e1} {
		got := s.ins[0].Entries[i]
		if aws.ToString(got.EventBusName) != arn || aws.ToString(got.Source) != bus.Source || aws.ToString(got.DetailType) != e.DetailType ||
			aws.ToString(got.Detail) != string(e.Detail) || got.Time == nil || !got.Time.Equal(e.Time) || got.Resources != nil || got.TraceHeader != nil {
			t.Errorf("entry %d = %+v, want %+v on %s", i, got, e, arn)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want problem.Code
	}{
		{"ThrottlingException", &smithy.GenericAPIError{Code: "ThrottlingException"}, problem.Unavailable},
		{"typed InternalException", &types.InternalException{}, problem.Unavailable},
		{"connection reset", errors.New("read: connection reset by peer"), problem.Unavailable},
		{"AccessDeniedException", &smithy.GenericAPIError{Code: "AccessDeniedException"}, problem.Internal},
		{"typed ResourceNotFoundException", &types.ResourceNotFoundException{}, problem.Internal},
		{"plain", errors.New("boom"), problem.Internal},
	}
	for _, tt := range tests {
		p := New(&stubAPI{err: tt.err}, busName)
		err := p.Publish(t.Context(), events(0, 1))
		if err == nil || problem.CodeOf(err) != tt.want || !errors.Is(err, tt.err) || errors.Is(err, bus.ErrPartial) {
			t.Errorf("%s: Publish = %v, want %s wrapping the cause", tt.name, err, tt.want)
		}
	}
	// A nil output with no error.
	p := New(&stubAPI{}, busName)
	if err := p.Publish(t.Context(), events(0, 1)); err == nil || problem.CodeOf(err) != problem.Internal {
		t.Errorf("Publish with a nil output = %v, want a plain error", err)
	}
	// The SDK reports a cancelled call: the error wraps the context's.
	ctx, cancel := context.WithCancel(t.Context())
	s := &stubAPI{err: &smithy.CanceledError{Err: context.Canceled}}
	p = New(cancelling{s, cancel}, busName)
	if err := p.Publish(ctx, events(0, 1)); !errors.Is(err, context.Canceled) || problem.CodeOf(err) != problem.Internal {
		t.Errorf("Publish cancelled during the call = %v, want context.Canceled", err)
	}
}

// cancelling cancels the context during the call.
type cancelling struct {
	*stubAPI
	cancel func()
}

func (c cancelling) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, o ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	c.cancel()
	return c.stubAPI.PutEvents(ctx, in, o...)
}

// TestEventsAdapter: the lambdafn adapter validates EVENT_BUS_NAME, sets Deps.Bus, and
// its client honours AWS_ENDPOINT_URL_EVENTBRIDGE over AWS_ENDPOINT_URL. It changes the
// environment, so it does not run in parallel.
func TestEventsAdapter(t *testing.T) {
	f, srv := newFakeEB(t, busName)
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // not used: the service's variable wins
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", srv.URL)
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key", "")}

	var d app.Deps
	if err := Events(ac, config.Config{EventBusName: "bad name"}, &d); err == nil || !strings.Contains(err.Error(), config.EnvEventBusName) || d.Bus != nil {
		t.Errorf("Events with an invalid bus name = %v (Bus %v), want an error naming %s", err, d.Bus, config.EnvEventBusName)
	}
	if err := Events(ac, config.Config{}, &d); err == nil || d.Bus != nil {
		t.Errorf("Events with no bus name = %v, want an error", err)
	}
	if err := Events(ac, config.Config{EventBusName: busName}, &d); err != nil {
		t.Fatal(err)
	}
	if err := d.Bus.Publish(t.Context(), events(0, 12)); err != nil {
		t.Fatal(err)
	}
	if got := f.takeSizes(); !slices.Equal(got, []int{10, 2}) {
		t.Errorf("requests carried %v entries, want [10 2]", got)
	}
	client := d.Bus.(*Publisher).client.(*eventbridge.Client)
	if mode := client.Options().ClientLogMode; mode != 0 {
		t.Errorf("ClientLogMode = %v, want 0 (no logging)", mode)
	}
	if p := d.Bus.(*Publisher); p.backoff == nil {
		t.Error("no backoff")
	}
}
