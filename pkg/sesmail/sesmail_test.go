package sesmail

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/mail/mailtest"
	"github.com/convrs/admin/pkg/problem"
)

// localEndpoint is aws-ses-v2-local's URL, set by TestMain from AWS_ENDPOINT_URL_SESV2
// once the endpoint proved to be aws-ses-v2-local (it answers GET /store).
var localEndpoint string

const notRunning = "aws-ses-v2-local not running (AWS_ENDPOINT_URL_SESV2 is not set): use make test"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	endpoint := strings.TrimSuffix(os.Getenv("AWS_ENDPOINT_URL_SESV2"), "/")
	if endpoint == "" {
		if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
			fmt.Fprintln(os.Stderr, "pkg/sesmail: AWS_ENDPOINT_URL_SESV2 is not set, and with CI=true the SES suite must run: use make test (scripts/test.sh starts aws-ses-v2-local)")
			return 1
		}
		return m.Run()
	}
	// Never send to an endpoint that is not the local emulator: only it serves GET /store.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := readStore(ctx, endpoint, time.Now().Unix()); err != nil {
		fmt.Fprintf(os.Stderr, "pkg/sesmail: AWS_ENDPOINT_URL_SESV2=%s is not aws-ses-v2-local: %v\n", endpoint, err)
		return 1
	}
	localEndpoint = endpoint
	return m.Run()
}

// storedEmail is an email in aws-ses-v2-local's GET /store.
type storedEmail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To, Cc, Bcc []string
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	Attachments []json.RawMessage `json:"attachments"`
}

// readStore returns the emails aws-ses-v2-local holds that it stored at or after since
// (Unix seconds), oldest first: as emails are stored in order, each list for one since
// is the one before it followed by what was stored since then.
func readStore(ctx context.Context, endpoint string, since int64) ([]storedEmail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/store?since=%d", endpoint, since), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /store: %s", resp.Status)
	}
	var store struct {
		Emails *[]storedEmail `json:"emails"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&store); err != nil {
		return nil, fmt.Errorf("GET /store: %w", err)
	}
	if store.Emails == nil {
		return nil, errors.New("GET /store: no emails member")
	}
	return *store.Emails, nil
}

// localClient is an SES v2 client for aws-ses-v2-local, with dummy credentials whatever
// the environment holds.
func localClient() *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(localEndpoint),
	})
}

// TestContractLocal runs the contract against aws-ses-v2-local, reading back through
// GET /store: the emails stored after the mailer was opened are its own (the subtests run
// one after the other, and no other test of this package sends there). Reading only
// those stored since a moment before keeps the reads small on a long-running emulator.
func TestContractLocal(t *testing.T) {
	if localEndpoint == "" {
		t.Skip(notRunning)
	}
	mailtest.Run(t, func(t *testing.T) (mail.Mailer, func(t *testing.T) []mailtest.Sent) {
		since := time.Now().Unix() - 2
		before, err := readStore(t.Context(), localEndpoint, since)
		if err != nil {
			t.Fatal(err)
		}
		return New(localClient()), func(t *testing.T) []mailtest.Sent {
			t.Helper()
			all, err := readStore(t.Context(), localEndpoint, since)
			if err != nil {
				t.Fatal(err)
			}
			var out []mailtest.Sent
			for _, e := range all[len(before):] {
				if len(e.Destination.Cc) > 0 || len(e.Destination.Bcc) > 0 || len(e.Attachments) > 0 {
					t.Errorf("email %s has Cc %q, Bcc %q or %d attachments", e.MessageID, e.Destination.Cc, e.Destination.Bcc, len(e.Attachments))
				}
				out = append(out, mailtest.Sent{ID: e.MessageID, From: e.From, To: e.Destination.To, Subject: e.Subject, Text: e.Body.Text, HTML: e.Body.HTML})
			}
			return out
		}
	})
}

// newClient returns the real SDK client pointed at srv, with static credentials, two
// attempts per operation and no waiting between them.
func newClient(srv *httptest.Server, optFns ...func(*sesv2.Options)) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       awsfake.Region,
		Credentials:  awsfake.Credentials,
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer:      awsfake.Retryer(2),
	}, optFns...)
}

// TestContractFake runs the contract against the SES v2 protocol fake, so that it runs
// without aws-ses-v2-local too.
func TestContractFake(t *testing.T) {
	t.Parallel()
	mailtest.Run(t, func(t *testing.T) (mail.Mailer, func(t *testing.T) []mailtest.Sent) {
		f, srv := newFakeSES(t)
		return New(newClient(srv)), func(*testing.T) []mailtest.Sent { return f.delivered() }
	})
}

// TestRequest checks what goes to SES: the From formatted by net/mail (a non-ASCII name
// in encoded-words), bare recipients, the subject and parts as they are.
func TestRequest(t *testing.T) {
	t.Parallel()
	f, srv := newFakeSES(t)
	s := New(newClient(srv))
	for _, tt := range []struct{ from, to, wantFrom, wantTo string }{
		{"reports@example.com", "admin@example.com", "reports@example.com", "admin@example.com"},
		{"<reports@example.com>", "<admin@example.com>", "reports@example.com", "admin@example.com"},
		{"Convrs Reports <reports@example.com>", `"a b"@example.com`, `"Convrs Reports" <reports@example.com>`, `"a b"@example.com`},
		{"Zoë <reports@example.com>", "admin@example.com", "=?utf-8?q?Zo=C3=AB?= <reports@example.com>", "admin@example.com"},
	} {
		id, err := s.Send(t.Context(), mail.Message{From: tt.from, To: []string{tt.to}, Subject: "Subject ☕", Text: "text\r\n", HTML: "<p>&amp;</p>"})
		if err != nil {
			t.Fatal(err)
		}
		got := f.delivered()
		last := got[len(got)-1]
		if last.ID != id || last.From != tt.wantFrom || len(last.To) != 1 || last.To[0] != tt.wantTo || last.Subject != "Subject ☕" || last.Text != "text\r\n" || last.HTML != "<p>&amp;</p>" {
			t.Errorf("From %q To %q: SES got %+v, want From %q To %q", tt.from, tt.to, last, tt.wantFrom, tt.wantTo)
		}
	}
}

func TestRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f, srv := newFakeSES(t)
	s := New(newClient(srv))
	for name, msg := range mailtest.Rejects() {
		if _, err := s.Send(t.Context(), msg); !errors.Is(err, mail.ErrRejected) {
			t.Errorf("%s: Send = %v, want ErrRejected", name, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Send(ctx, mailtest.Example()); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a canceled context = %v", err)
	}
	if n := f.takeRequests(); n != 0 {
		t.Errorf("%d requests sent for refused messages", n)
	}
}

// TestErrors drives Mailer with the real client (two attempts per operation) against an
// endpoint that fails: refusals wrap mail.ErrRejected and are not retried; throttling is
// retried, then Unavailable with RetryAfter 1s (503 over HTTP) wrapping mail.ErrNotSent;
// 5xx answers are Unavailable at once, whether the message went out unknown; anything
// else is a plain error (500 without its text) wrapping mail.ErrNotSent.
func TestErrors(t *testing.T) {
	t.Parallel()
	const (
		rejected    = "rejected"
		unavailable = "unavailable"
		plain       = "plain"
	)
	// Only throttling is retried (the request was not taken); a 5xx may come after SES
	// accepted the message, so it is not retried and does not say ErrNotSent.
	tests := []struct {
		fail     failure
		want     string
		attempts int
		notSent  bool
	}{
		{failure{http.StatusBadRequest, "MessageRejected"}, rejected, 1, false},
		{failure{http.StatusBadRequest, "MailFromDomainNotVerifiedException"}, rejected, 1, false},
		{failure{http.StatusBadRequest, "AccountSuspendedException"}, rejected, 1, false},
		{failure{http.StatusBadRequest, "SendingPausedException"}, rejected, 1, false},
		{failure{http.StatusBadRequest, "BadRequestException"}, rejected, 1, false},
		{failure{http.StatusTooManyRequests, "TooManyRequestsException"}, unavailable, 2, true},
		{failure{http.StatusBadRequest, "LimitExceededException"}, unavailable, 2, true},
		{failure{http.StatusBadRequest, "ThrottlingException"}, unavailable, 2, true},
		{failure{http.StatusInternalServerError, "InternalServiceErrorException"}, unavailable, 1, false},
		{failure{http.StatusServiceUnavailable, "ServiceUnavailable"}, unavailable, 1, false},
		{failure{http.StatusBadGateway, "BadGateway"}, unavailable, 1, false},
		{failure{http.StatusNotFound, "NotFoundException"}, plain, 1, true},
		{failure{http.StatusForbidden, "AccessDeniedException"}, plain, 1, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.fail.status, tt.fail.code), func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeSES(t)
			s := New(newClient(srv))
			f.setFail(&tt.fail)
			id, err := s.Send(t.Context(), mailtest.Example())
			if id != "" {
				t.Errorf("Send returned the id %q with an error", id)
			}
			if !strings.Contains(fmt.Sprint(err), "sesmail: send") || !strings.Contains(fmt.Sprint(err), tt.fail.code) {
				t.Errorf("error %v does not name the operation and keep the SES error", err)
			}
			var pe *problem.Error
			isProblem := errors.As(err, &pe)
			switch tt.want {
			case rejected:
				if !errors.Is(err, mail.ErrRejected) || isProblem {
					t.Errorf("got %#v, want an error wrapping mail.ErrRejected", err)
				}
			case unavailable:
				if errors.Is(err, mail.ErrRejected) || !isProblem || pe.Code != problem.Unavailable || pe.RetryAfter != time.Second {
					t.Errorf("got %#v, want Unavailable with RetryAfter 1s", err)
				} else if strings.Contains(pe.Message, tt.fail.code) || strings.Contains(pe.Message, "SES") {
					t.Errorf("client message %q leaks the AWS error", pe.Message)
				}
			case plain:
				if errors.Is(err, mail.ErrRejected) || isProblem || err == nil {
					t.Errorf("got %#v, want a plain error", err)
				}
			}
			if tt.want != rejected {
				rec := httptest.NewRecorder()
				httpx.WriteError(rec, httptest.NewRequest(http.MethodPost, "/", nil), err)
				wantStatus, wantRetry := http.StatusInternalServerError, ""
				if tt.want == unavailable {
					wantStatus, wantRetry = http.StatusServiceUnavailable, "1"
				}
				if rec.Code != wantStatus || rec.Header().Get("Retry-After") != wantRetry || strings.Contains(rec.Body.String(), tt.fail.code) {
					t.Errorf("over HTTP: %d, Retry-After %q, body %s; want %d, %q, no AWS error text", rec.Code, rec.Header().Get("Retry-After"), rec.Body, wantStatus, wantRetry)
				}
			}
			if errors.Is(err, mail.ErrNotSent) != tt.notSent {
				t.Errorf("wraps mail.ErrNotSent: %v, want %v", errors.Is(err, mail.ErrNotSent), tt.notSent)
			}
			if n := f.takeRequests(); n != tt.attempts {
				t.Errorf("%d requests, want %d", n, tt.attempts)
			}
		})
	}
}

// fakeAPI answers every call with out, err.
type fakeAPI struct {
	out *sesv2.SendEmailOutput
	err error
}

func (a fakeAPI) SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return a.out, a.err
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		rejected bool
		code     problem.Code
	}{
		{"typed MessageRejected", &types.MessageRejected{}, true, problem.Internal},
		{"typed MailFromDomainNotVerified", &types.MailFromDomainNotVerifiedException{}, true, problem.Internal},
		{"typed AccountSuspended", &types.AccountSuspendedException{}, true, problem.Internal},
		{"typed SendingPaused", &types.SendingPausedException{}, true, problem.Internal},
		{"typed BadRequest", &types.BadRequestException{}, true, problem.Internal},
		{"parameter validation", &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: smithy.InvalidParamsError{Context: "SendEmailInput"}}, true, problem.Internal},
		{"typed TooManyRequests", &types.TooManyRequestsException{}, false, problem.Unavailable},
		{"typed LimitExceeded", &types.LimitExceededException{}, false, problem.Unavailable},
		{"generic Throttling", &smithy.GenericAPIError{Code: "Throttling"}, false, problem.Unavailable},
		{"connection reset", errors.New("read: connection reset by peer"), false, problem.Unavailable},
		{"typed NotFound", &types.NotFoundException{}, false, problem.Internal},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), false, problem.Internal},
		{"plain", errors.New("boom"), false, problem.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(fakeAPI{err: tt.err}).Send(t.Context(), mailtest.Example())
			if errors.Is(err, mail.ErrRejected) != tt.rejected || problem.CodeOf(err) != tt.code || !errors.Is(err, tt.err) {
				t.Errorf("Send = %v; want rejected %v, code %s, wrapping the cause", err, tt.rejected, tt.code)
			}
		})
	}
	for _, out := range []*sesv2.SendEmailOutput{{}, {MessageId: aws.String("")}} {
		id, err := New(fakeAPI{out: out}).Send(t.Context(), mailtest.Example())
		if err == nil || errors.Is(err, mail.ErrRejected) || id != "" {
			t.Errorf("Send answered without a message id = %q, %v; want a plain error", id, err)
		}
	}
}

func TestNewFromConfig(t *testing.T) {
	f, srv := newFakeSES(t)
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // not used: the service's variable wins
	t.Setenv("AWS_ENDPOINT_URL_SESV2", srv.URL)
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key", "")}
	s := NewFromConfig(ac)
	if _, err := s.Send(t.Context(), mailtest.Example()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.delivered()); n != 1 {
		t.Errorf("%d messages reached the endpoint of AWS_ENDPOINT_URL_SESV2, want 1", n)
	}
	if mode := s.client.(*sesv2.Client).Options().ClientLogMode; mode != 0 {
		t.Errorf("ClientLogMode = %v, want 0 (no logging)", mode)
	}

	// The adapter of lambdafn: the mailer and the sender.
	var adapter lambdafn.Adapter = Mail
	var d app.Deps
	if err := adapter(ac, config.Config{MailFrom: "Convrs <reports@example.com>"}, &d); err != nil {
		t.Fatal(err)
	}
	if d.MailFrom != "Convrs <reports@example.com>" || d.Mail == nil {
		t.Errorf("Mail set MailFrom %q, Mail %T", d.MailFrom, d.Mail)
	}
	if _, err := d.Mail.Send(t.Context(), mailtest.Example()); err != nil || len(f.delivered()) != 2 {
		t.Errorf("the adapter's mailer: %v, %d delivered", err, len(f.delivered()))
	}
	if err := Mail(ac, config.Config{}, &app.Deps{}); err == nil || !strings.Contains(err.Error(), config.EnvMailFrom) {
		t.Errorf("Mail without a sender = %v, want an error naming %s", err, config.EnvMailFrom)
	}
}

// syncBuffer is a bytes.Buffer safe for the SDK's and slog's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNeverLogsMessage captures every log (the SDK client's logger with every log mode
// on, request and response bodies included, and slog's default logger) while Send
// succeeds and fails, and checks that no part of the message (the subject, the text, the
// HTML) appears in a log or an error. This test changes slog's default logger, so it does
// not run in parallel.
func TestNeverLogsMessage(t *testing.T) {
	subject, text, html := "subject-"+rand.Text(), "text-"+rand.Text(), "html-"+rand.Text()
	msg := mail.Message{From: "reports@example.com", To: []string{"admin@example.com"}, Subject: "Missed chat " + subject,
		Text: "Transcript:\n" + text + "\n", HTML: "<p>" + html + "</p>"}

	var sdkLog, appLog syncBuffer
	logger := logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		fmt.Fprintf(&sdkLog, "%s "+format+"\n", append([]any{c}, v...)...)
	})
	allModes := aws.LogSigning | aws.LogRetries | aws.LogRequest | aws.LogRequestWithBody |
		aws.LogResponse | aws.LogResponseWithBody | aws.LogDeprecatedUsage
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&appLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })

	f, srv := newFakeSES(t)
	client := newClient(srv, func(o *sesv2.Options) {
		o.Logger = logger
		o.ClientLogMode = allModes
	})
	s := New(client)
	var errs []error
	if _, err := s.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	for _, fail := range []failure{
		{http.StatusBadRequest, "MessageRejected"},
		{http.StatusTooManyRequests, "TooManyRequestsException"},
		{http.StatusInternalServerError, "InternalServiceErrorException"},
		{http.StatusForbidden, "AccessDeniedException"},
	} {
		f.setFail(&fail)
		_, err := s.Send(t.Context(), msg)
		if err == nil {
			t.Fatalf("%s: Send succeeded", fail.code)
		}
		errs = append(errs, err)
		slog.Error("send failed", "err", err)
	}
	f.setFail(nil)
	bad := msg
	bad.To = []string{"not an address"}
	_, err := s.Send(t.Context(), bad)
	errs = append(errs, err)
	slog.Error("send refused", "err", err)

	var texts []string
	for _, err := range errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		rec := httptest.NewRecorder()
		httpx.WriteError(rec, httptest.NewRequest(http.MethodPost, "/", nil), err)
		texts = append(texts, rec.Body.String())
	}
	for name, logged := range map[string]string{"SDK log": sdkLog.String(), "slog": appLog.String(), "errors": strings.Join(texts, "\n")} {
		for part, secret := range map[string]string{"subject": subject, "text": text, "HTML": html} {
			if strings.Contains(logged, secret) {
				t.Errorf("%s holds the %s of the message", name, part)
			}
		}
	}
	// The capture works: the SDK logged requests, responses and retries, and slog the errors.
	for _, want := range []string{"Request\nPOST /v2/email/outbound-emails HTTP/1.1", "Response\nHTTP/1.1 200 OK", "retrying request"} {
		if !strings.Contains(sdkLog.String(), want) {
			t.Errorf("SDK log lacks %q; the capture is broken:\n%.2000s", want, sdkLog.String())
		}
	}
	if !strings.Contains(appLog.String(), "TooManyRequestsException") {
		t.Errorf("slog capture lacks the logged errors:\n%.2000s", appLog.String())
	}
	// Control: the same client called directly, with body logging on, logs the message,
	// so the per-call option is what keeps it out.
	_, err = client.SendEmail(t.Context(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("reports@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"admin@example.com"}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String(Charset)},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(text), Charset: aws.String(Charset)}, Html: &types.Content{Data: aws.String(html), Charset: aws.String(Charset)}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sdkLog.String(), text) {
		t.Error("the control call's body was not logged: the capture does not show bodies")
	}
}
