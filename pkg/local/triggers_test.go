package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/mail"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/membus"
	"github.com/convrs/admin/pkg/outbox"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/officehours"
)

// triggersEnv is the local triggers on embedded adapters with a settable clock.
type triggersEnv struct {
	t    testing.TB
	deps app.Deps
	tr   *Triggers
	mux  *http.ServeMux
	now  time.Time
}

func newTriggersEnv(t testing.TB) *triggersEnv {
	t.Helper()
	deps, store, err := Embedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &triggersEnv{t: t, now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	deps.Now = func() time.Time { return e.now }
	e.deps = deps
	e.tr, err = NewTriggers(deps, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e.mux = http.NewServeMux()
	e.tr.Routes(e.mux)
	return e
}

func (e *triggersEnv) do(method, path, contentType, body string) (int, []byte) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// entry is one PutEvents entry of source convrs.chat with detail d.
func entry(dt string, d map[string]any) map[string]any {
	b, _ := json.Marshal(d)
	return map[string]any{"Source": "convrs.chat", "DetailType": dt, "Detail": string(b)}
}

func (e *triggersEnv) put(entries ...map[string]any) PutResult {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"Entries": entries})
	code, body := e.do(http.MethodPost, "/local/events", "application/json", string(b))
	if code != http.StatusOK {
		e.t.Fatalf("POST /local/events: %d %s", code, body)
	}
	var res PutResult
	if err := json.Unmarshal(body, &res); err != nil {
		e.t.Fatal(err)
	}
	return res
}

var demoAdmin = auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin@demo", OrgID: "demo", Role: auth.RoleAdmin})

// Entries go to every function whose rule matches, in order; each answer says what each
// function did: handled, rejected (malformed: dropped, as in AWS) or failed.
func TestPutEventsDelivers(t *testing.T) {
	t.Parallel()
	e := newTriggersEnv(t)
	if _, err := settings.NewService(officehours.Area, e.deps.Settings, e.deps.Now).Update(demoAdmin, "demo", "", "patch",
		func(s officehours.Settings) (officehours.Settings, error) {
			s.MissedChatReport = officehours.MissedChatReport{Enabled: true, Email: "boss@example.com"}
			return s, nil
		}); err != nil {
		t.Fatal(err)
	}
	at := e.now.Add(-time.Hour).Format(time.RFC3339)
	res := e.put(
		entry(chats.ChatStarted, map[string]any{"orgId": "demo", "chatId": "c1", "startedAt": at, "channel": "web", "user": map[string]any{"id": "u1"}}),
		entry(chats.ChatMissed, map[string]any{"orgId": "demo", "chatId": "c1", "at": at}),
		entry(chats.ChatMessage, map[string]any{"orgId": "demo", "chatId": "c1", "messageId": "m1", "sender": "user", "Text": "hi", "sentAt": at}),
		map[string]any{"Source": "convrs.chat", "DetailType": chats.ChatStarted, "Detail": "[1]"},
		map[string]any{"Source": "convrs.chat", "DetailType": chats.ChatStarted},
		entry("Something Else", map[string]any{}),
	)
	want := [][]ConsumerResult{
		{{Function: "chat-events", Outcome: "handled"}},
		{{Function: "chat-events", Outcome: "handled"}, {Function: "missed-chat-report", Outcome: "handled"}},
		{{Function: "chat-events", Outcome: "rejected"}},
		nil, nil,
		{},
	}
	if res.FailedEntryCount != 2 || len(res.Entries) != len(want) {
		t.Fatalf("result %+v", res)
	}
	for i, w := range want {
		got := res.Entries[i]
		if w == nil {
			if got.ErrorCode == "" || got.EventID != "" {
				t.Errorf("entry %d: %+v, want an error code and no event id", i, got)
			}
			continue
		}
		if got.EventID == "" || got.ErrorCode != "" || len(got.Handled) != len(w) {
			t.Errorf("entry %d: %+v, want %+v", i, got, w)
			continue
		}
		for j := range w {
			if got.Handled[j].Function != w[j].Function || got.Handled[j].Outcome != w[j].Outcome {
				t.Errorf("entry %d: %+v, want %+v", i, got.Handled, w)
			}
		}
	}
	if !strings.Contains(res.Entries[2].Handled[0].Reason, "Text") {
		t.Errorf("the rejection does not name the wrongly cased field: %q", res.Entries[2].Handled[0].Reason)
	}
	if c, found, _ := e.deps.Chats.Chat(context.Background(), "demo", "c1"); !found || c.Status != chats.StatusMissed {
		t.Errorf("chat c1: %+v (found %v), want missed", c, found)
	}
	if msgs, err := outbox.List(e.deps.Mail.(*outbox.Outbox).Dir()); err != nil || len(msgs) != 1 {
		t.Errorf("outbox: %d messages, %v; want the report", len(msgs), err)
	}
	code, body := e.do(http.MethodGet, "/local/events", "", "")
	if code != http.StatusOK || !bytes.Contains(body, []byte(`"detailType":"Missed Chat Report Sent"`)) {
		t.Errorf("GET /local/events: %d %s", code, body)
	}
}

// The request is PutEvents' shape and limits: 1 to 10 entries, 256 KiB, a JSON media
// type, exact field names.
func TestPutEventsRefuses(t *testing.T) {
	t.Parallel()
	e := newTriggersEnv(t)
	eleven := make([]map[string]any, 11)
	for i := range eleven {
		eleven[i] = entry(chats.ChatMissed, map[string]any{"orgId": "demo", "chatId": fmt.Sprint("c", i), "at": "2026-11-20T11:00:00Z"})
	}
	many, _ := json.Marshal(map[string]any{"Entries": eleven})
	big, _ := json.Marshal(map[string]any{"Entries": []map[string]any{{"Source": "convrs.chat", "DetailType": "Chat Missed", "Detail": `{"x":"` + strings.Repeat("a", maxEventsBody) + `"}`}}})
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"NoEntries", "application/json", `{"Entries":[]}`, http.StatusUnprocessableEntity},
		{"ElevenEntries", "application/json", string(many), http.StatusUnprocessableEntity},
		{"TooLarge", "application/json", string(big), http.StatusRequestEntityTooLarge},
		{"TextPlain", "text/plain", `{"Entries":[]}`, http.StatusUnsupportedMediaType},
		{"FormPost", "application/x-www-form-urlencoded", `Entries=1`, http.StatusUnsupportedMediaType},
		{"WrongCase", "application/json", `{"entries":[{"Source":"convrs.chat","DetailType":"Chat Missed","Detail":"{}"}]}`, http.StatusBadRequest},
		{"DuplicateKey", "application/json", `{"Entries":[],"Entries":[]}`, http.StatusBadRequest},
		{"NotJSON", "application/json", `Entries`, http.StatusBadRequest},
		{"DetailObject", "application/json", `{"Entries":[{"Source":"convrs.chat","DetailType":"Chat Missed","Detail":{}}]}`, http.StatusBadRequest},
	} {
		if code, body := e.do(http.MethodPost, "/local/events", tc.contentType, tc.body); code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.status)
		}
	}
	if n := len(e.deps.Bus.(*membus.Bus).Events()); n != 0 {
		t.Errorf("%d events published by refused requests", n)
	}
}

// POST /local/sweeps/{name} runs the sweep now and answers its result; an unknown sweep
// is a 404 naming the sweeps.
func TestSweepRoute(t *testing.T) {
	t.Parallel()
	e := newTriggersEnv(t)
	if _, err := settings.NewService(chathandling.Area, e.deps.Settings, e.deps.Now).Update(demoAdmin, "demo", "", "replace",
		func(chathandling.Settings) (chathandling.Settings, error) {
			return chathandling.Settings{MaxChatsPerAgent: 3, AutoCloseAfterDays: 2}, nil
		}); err != nil {
		t.Fatal(err)
	}
	old := e.now.Add(-3 * chats.Day).Format(time.RFC3339)
	e.put(entry(chats.ChatStarted, map[string]any{"orgId": "demo", "chatId": "c1", "startedAt": old, "channel": "web", "user": map[string]any{"id": "u1"}}))
	code, body := e.do(http.MethodPost, "/local/sweeps/auto-close", "", "")
	var res app.SweepResult
	_ = json.Unmarshal(body, &res)
	if code != http.StatusOK || res.Changed != 1 || !res.Done {
		t.Fatalf("auto-close: %d %s", code, body)
	}
	if code, body := e.do(http.MethodPost, "/local/sweeps/auto-close", "", ""); code != http.StatusOK || !bytes.Contains(body, []byte(`"changed":0`)) {
		t.Errorf("second run: %d %s", code, body)
	}
	if code, body := e.do(http.MethodPost, "/local/sweeps/queue-move", "", ""); code != http.StatusOK {
		t.Errorf("queue-move: %d %s", code, body)
	}
	code, body = e.do(http.MethodPost, "/local/sweeps/everything", "", "")
	if code != http.StatusNotFound || !bytes.Contains(body, []byte("auto-close")) || !bytes.Contains(body, []byte("queue-move")) {
		t.Errorf("unknown sweep: %d %s", code, body)
	}
}

// RunSchedules runs each sweep on its schedule and returns when its context ends.
func TestRunSchedules(t *testing.T) {
	t.Parallel()
	e := newTriggersEnv(t)
	runs := make(chan string, 16)
	for name, s := range e.tr.sweeps {
		s.every = 5 * time.Millisecond
		s.run = func(context.Context) (app.SweepResult, error) {
			runs <- name
			return app.SweepResult{Done: true}, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.tr.RunSchedules(ctx); close(done) }()
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case n := <-runs:
			seen[n] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("sweeps run: %v", seen)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunSchedules did not return after its context ended")
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]time.Duration{
		"rate(15 minutes)": 15 * time.Minute, "rate(1 minute)": time.Minute, "rate(2 hours)": 2 * time.Hour,
		"rate(1 day)": 24 * time.Hour, "rate(99999 days)": 99999 * 24 * time.Hour,
	} {
		if got, err := ParseRate(expr); err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, bad := range []string{"", "rate(0 minutes)", "rate(1 minutes)", "rate(2 minute)", "rate(15 seconds)", "cron(0 * * * ? *)",
		"rate(100000 days)", "rate(-1 days)", "rate(15  minutes)", " rate(15 minutes)", "RATE(15 MINUTES)", "rate(015 minutes)"} {
		if got, err := ParseRate(bad); err == nil {
			t.Errorf("%q: %v, want an error", bad, got)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"rate(15 minutes)", "rate(1 day)", "rate(0 hours)", "cron(* * * * ? *)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRate(s)
		if err == nil && (d < time.Minute || d > 99999*24*time.Hour) {
			t.Errorf("%q: %v accepted", s, d)
		}
	})
}

// FuzzPutEvents sends arbitrary bodies to POST /local/events: never a 5xx, and an entry
// is delivered only when the body was well formed (200).
func FuzzPutEvents(f *testing.F) {
	f.Add(`{"Entries":[{"Source":"convrs.chat","DetailType":"Chat Missed","Detail":"{\"orgId\":\"demo\",\"chatId\":\"c1\",\"at\":\"2026-11-20T11:00:00Z\"}"}]}`)
	f.Add(`{"Entries":[{"Source":"convrs.chat","DetailType":"Chat Started","Detail":"{\"orgId\":\"demo\",\"chatId\":\"c1\",\"startedAt\":\"2026-11-20T11:00:00Z\",\"channel\":\"web\",\"user\":{\"id\":\"u\"}}","Time":"2026-11-20T11:00:00Z"}]}`)
	f.Add(`{"Entries":[{"Source":"x","DetailType":"y","Detail":"{}","Resources":["a"],"EventBusName":"default"}]}`)
	f.Add(`{"Entries":[{"Source":"convrs.chat","DetailType":"Chat Message","Detail":"{\"orgId\":\"demo\",\"chatId\":\"c1\",\"messageId\":\"\u0000\",\"sender\":\"user\",\"text\":\"\u202e\",\"sentAt\":\"9999-12-31T23:59:59Z\"}"}]}`)
	e := newTriggersEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		code, resp := e.do(http.MethodPost, "/local/events", "application/json", body)
		if code >= 500 {
			t.Fatalf("%d %s", code, resp)
		}
		if code == http.StatusOK && !json.Valid(resp) {
			t.Fatalf("200 with invalid JSON %s", resp)
		}
	})
}

// GET /local/outbox answers the emails sent, decoded (a long link that quoted-printable
// wraps in the file comes back whole), filtered by ?to=, the newest 20 at most.
func TestOutboxRoute(t *testing.T) {
	t.Parallel()
	e := newTriggersEnv(t)
	link := "http://127.0.0.1:3000/set-password?token=" + strings.Repeat("Ab-_", 10) + "xyz"
	for i, to := range []string{"ana@example.com", "bo@example.com", "ana@example.com"} {
		m := mail.Message{From: "Convrs <noreply@convrs.test>", To: []string{to}, Subject: "n" + strconv.Itoa(i), Text: "Open " + link + "\n", HTML: "<p>x</p>"}
		if _, err := e.deps.Mail.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	code, body := e.do(http.MethodGet, "/local/outbox?to=ANA@example.com", "", "")
	var got struct{ Items []OutboxItem }
	if err := json.Unmarshal(body, &got); code != http.StatusOK || err != nil || len(got.Items) != 2 {
		t.Fatalf("GET /local/outbox?to=: %d %s", code, body)
	}
	if it := got.Items[1]; it.Subject != "n2" || !strings.Contains(it.Text, link) || it.To[0] != "ana@example.com" {
		t.Errorf("newest email to ana: %+v", it)
	}
	for range maxOutbox {
		if _, err := e.deps.Mail.Send(t.Context(), mail.Message{From: "noreply@convrs.test", To: []string{"cy@example.com"}, Subject: "s", Text: "t", HTML: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	tok := strings.Repeat("A", 42) + "E" // 32 bytes of base64url, as invitations make them
	if _, err := e.deps.Mail.Send(t.Context(), mail.Message{From: "noreply@convrs.test", To: []string{"dee@example.com"}, Subject: "Set your password",
		Text: "Open http://127.0.0.1:3000/set-password?token=" + tok + "\n", HTML: "h"}); err != nil {
		t.Fatal(err)
	}
	code, body = e.do(http.MethodGet, "/local/outbox/latest?to=dee@example.com", "", "")
	var latest OutboxItem
	if err := json.Unmarshal(body, &latest); code != http.StatusOK || err != nil || latest.SetPasswordToken != tok {
		t.Errorf("GET /local/outbox/latest: %d %s", code, body)
	}
	if code, _ := e.do(http.MethodGet, "/local/outbox/latest?to=nobody@example.com", "", ""); code != http.StatusNotFound {
		t.Errorf("latest email to nobody: %d, want 404", code)
	}
	if _, body := e.do(http.MethodGet, "/local/outbox", "", ""); strings.Count(string(body), `"subject"`) != maxOutbox {
		t.Errorf("GET /local/outbox answers more than %d emails: %s", maxOutbox, body)
	}
}
