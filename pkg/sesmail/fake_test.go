package sesmail

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/convrs/admin/internal/awsfake"
	"github.com/convrs/admin/pkg/mail/mailtest"
)

// fakeSES speaks enough of the SES v2 REST-JSON protocol for Mailer: SendEmail (POST
// /v2/email/outbound-emails) with Simple content. It keeps the messages it accepts and
// fails the test on any request Mailer should not send: another operation, a wrong
// content type or signature, an unknown member, Raw or Template content, Cc or Bcc, a
// charset other than UTF-8, a missing part.
type fakeSES struct {
	t *testing.T

	mu       sync.Mutex
	sent     []mailtest.Sent
	requests int
	// fail, when set, answers every request with this failure instead.
	fail *failure
}

// failure is an error response: HTTP status and error code.
type failure struct {
	status int
	code   string
}

type content struct {
	Data    *string
	Charset *string
}

// sendEmailRequest is every member of SendEmailInput that Mailer may send.
type sendEmailRequest struct {
	FromEmailAddress *string
	Destination      *struct{ ToAddresses []string }
	Content          *struct {
		Simple *struct {
			Subject *content
			Body    *struct{ Text, Html *content }
		}
	}
}

func newFakeSES(t *testing.T) (*fakeSES, *httptest.Server) {
	f := &fakeSES{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// protocolError fails the test and answers 400 BadRequestException.
func (f *fakeSES) protocolError(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.t.Errorf("fake SES: %s", msg)
	writeError(w, http.StatusBadRequest, "BadRequestException", msg)
}

func utf8Content(c *content) (string, bool) {
	if c == nil || c.Data == nil || c.Charset == nil || *c.Charset != Charset {
		return "", false
	}
	return *c.Data, true
}

func (f *fakeSES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	fail := f.fail
	f.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.protocolError(w, "read body: %v", err)
		return
	}
	var in sendEmailRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	decodeErr := dec.Decode(&in)
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails":
		f.protocolError(w, "%s %s, want POST /v2/email/outbound-emails", r.Method, r.URL.Path)
		return
	case r.Header.Get("Content-Type") != "application/json":
		f.protocolError(w, "Content-Type %q", r.Header.Get("Content-Type"))
		return
	case !awsfake.Signed(r, "ses"):
		f.protocolError(w, "missing or unexpected SigV4 signature: %q", r.Header.Get("Authorization"))
		return
	case decodeErr != nil:
		f.protocolError(w, "decode body: %v", decodeErr)
		return
	}
	if fail != nil {
		writeError(w, fail.status, fail.code, "message from SES: "+fail.code)
		return
	}
	if in.FromEmailAddress == nil || in.Destination == nil || len(in.Destination.ToAddresses) == 0 ||
		in.Content == nil || in.Content.Simple == nil || in.Content.Simple.Body == nil {
		f.protocolError(w, "SendEmail without From, To or Simple content")
		return
	}
	subject, ok1 := utf8Content(in.Content.Simple.Subject)
	text, ok2 := utf8Content(in.Content.Simple.Body.Text)
	html, ok3 := utf8Content(in.Content.Simple.Body.Html)
	if !ok1 || !ok2 || !ok3 {
		f.protocolError(w, "SendEmail: the subject and both parts need Data and the charset %s", Charset)
		return
	}
	id := "0100019a-fake-" + rand.Text()
	f.mu.Lock()
	f.sent = append(f.sent, mailtest.Sent{ID: id, From: *in.FromEmailAddress, To: in.Destination.ToAddresses, Subject: subject, Text: text, HTML: html})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": id})
}

func (f *fakeSES) setFail(fail *failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// takeRequests returns and forgets the number of requests received so far.
func (f *fakeSES) takeRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.requests
	f.requests = 0
	return n
}

func (f *fakeSES) delivered() []mailtest.Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mailtest.Sent(nil), f.sent...)
}
