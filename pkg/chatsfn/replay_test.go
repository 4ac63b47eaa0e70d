package chatsfn_test

// Replays of events/<function>/ for the five chats functions: each sample goes through
// the function's real Lambda entry point (apitest.ReplayEvents) on fresh embedded
// adapters, the in-process bus (membus) and the outbox mailer, with the replay clock
// starting at apitest.EventEpoch (2026-03-08T07:30:00Z). Seeds feed the chat platform's
// events through the chat-events handler, as production builds the records.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	netmail "net/mail"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/membus"
	"github.com/convrs/admin/pkg/outbox"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/officehours"
)

// at parses an RFC 3339 time of a sample or seed.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// orgAdmin is the context of org's admin, who changes its settings in seeds.
func orgAdmin(org string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: org + "-admin", OrgID: org, Role: auth.RoleAdmin})
}

// seedRules saves org's chat-handling settings.
func seedRules(t *testing.T, d app.Deps, org string, s chathandling.Settings) {
	t.Helper()
	svc := settings.NewService(chathandling.Area, d.Settings, d.Now)
	if _, err := svc.Update(orgAdmin(org), org, "", "replace", func(chathandling.Settings) (chathandling.Settings, error) { return s, nil }); err != nil {
		t.Fatalf("chat handling of %s: %v", org, err)
	}
}

// seedReport sets org's time zone and missed-chat report.
func seedReport(t *testing.T, d app.Deps, org, zone string, enabled bool, email string) {
	t.Helper()
	svc := settings.NewService(officehours.Area, d.Settings, d.Now)
	if _, err := svc.Update(orgAdmin(org), org, "", "patch", func(s officehours.Settings) (officehours.Settings, error) {
		s.TimeZone = zone
		s.MissedChatReport = officehours.MissedChatReport{Enabled: enabled, Email: email}
		return s, nil
	}); err != nil {
		t.Fatalf("office hours of %s: %v", org, err)
	}
}

// deliver hands one chat platform event to the chat-events handler, as EventBridge does.
func deliver(t *testing.T, d app.Deps, dt string, detail map[string]any) {
	t.Helper()
	raw, err := json.Marshal(detail)
	if err != nil {
		t.Fatal(err)
	}
	h := chatsfn.EventsFunction.Events.Handler(d)
	if err := h(context.Background(), app.Event{ID: "seed", Source: app.ChatSource, DetailType: dt, Time: d.Now(), Detail: raw}); err != nil {
		t.Fatalf("seed %s %v: %v", dt, detail, err)
	}
}

// startChat delivers "Chat Started" and, when agent is set, "Chat Allocated" a few
// seconds later.
func startChat(t *testing.T, d app.Deps, org, chat, startedAt, channel string, user map[string]any, agent string) {
	t.Helper()
	deliver(t, d, chats.ChatStarted, map[string]any{"orgId": org, "chatId": chat, "startedAt": startedAt, "channel": channel, "user": user})
	if agent != "" {
		alloc := at(t, startedAt).Add(20 * time.Second).Format(time.RFC3339Nano)
		deliver(t, d, chats.ChatAllocated, map[string]any{"orgId": org, "chatId": chat, "agentId": agent, "at": alloc})
	}
}

// say delivers a message of the user ("" agent) or of agent.
func say(t *testing.T, d app.Deps, org, chat, msgID, agent, text, sentAt string) {
	t.Helper()
	m := map[string]any{"orgId": org, "chatId": chat, "messageId": msgID, "sender": chats.SenderUser, "text": text, "sentAt": sentAt}
	if agent != "" {
		m["sender"], m["agentId"] = chats.SenderAgent, agent
	}
	deliver(t, d, chats.ChatMessage, m)
}

// published returns the events on the in-process bus, oldest first.
func published(t *testing.T, d app.Deps) []membus.Record {
	t.Helper()
	b, ok := d.Bus.(*membus.Bus)
	if !ok {
		t.Fatalf("the replay's bus is a %T, want *membus.Bus", d.Bus)
	}
	return b.Events()
}

// publishedOf returns the details of the published events of detail-type dt, oldest
// first.
func publishedOf(t *testing.T, d app.Deps, dt string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range published(t, d) {
		if r.Event.DetailType != dt {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(r.Event.Detail, &m); err != nil {
			t.Fatalf("event %s: %v", r.Event.ID, err)
		}
		out = append(out, m)
	}
	return out
}

// sent returns the emails in the outbox, oldest first.
func sent(t *testing.T, d app.Deps) []outbox.Email {
	t.Helper()
	o, ok := d.Mail.(*outbox.Outbox)
	if !ok {
		t.Fatalf("the replay's mailer is a %T, want *outbox.Outbox", d.Mail)
	}
	names, err := outbox.List(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]outbox.Email, 0, len(names))
	for _, n := range names {
		e, err := outbox.Read(o.Dir(), n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// storedChat returns a stored chat, failing the test when it is not stored.
func storedChat(t *testing.T, d app.Deps, org, id string) chats.Chat {
	t.Helper()
	c, found, err := d.Chats.Chat(context.Background(), org, id)
	if err != nil || !found {
		t.Fatalf("chat %s/%s: found %v, error %v", org, id, found, err)
	}
	return c
}

func storedAgent(t *testing.T, d app.Deps, org, id string) chats.Agent {
	t.Helper()
	a, found, err := d.Chats.Agent(context.Background(), org, id)
	if err != nil || !found {
		t.Fatalf("agent %s/%s: found %v, error %v", org, id, found, err)
	}
	return a
}

// transcriptIDs returns the message ids of a chat's transcript, in order.
func transcriptIDs(t *testing.T, d app.Deps, org, id string) []string {
	t.Helper()
	msgs, _, err := d.Chats.Transcript(context.Background(), org, id, chats.MaxTranscript)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.MessageID)
	}
	return out
}

// listed returns the ids of org's chats of status, in the list's order.
func listed(t *testing.T, d app.Deps, org, status string) []string {
	t.Helper()
	page, err := d.Chats.List(context.Background(), org, chats.ListQuery{Status: status, Limit: chats.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range page.Chats {
		out = append(out, c.ChatID)
	}
	return out
}

func wantTime(t *testing.T, what string, got time.Time, want string) {
	t.Helper()
	if w := at(t, want); !got.Equal(w) {
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want)
	}
}

func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// events/chat-events/: one chat's life in org demo (started, agent logs in and comes
// online, allocation, a user message delivered twice, the agent's reply, close), another
// chat missed, and an event with a wrong-case field name that is dropped.
func TestChatEventsSamples(t *testing.T) {
	t.Parallel()
	const (
		org    = "demo"
		chat   = "ch_01KK6M2Q9X7T4N8R5B2C6DWA"
		missed = "ch_01KK6KZ3J5R8W2E6Y9T1P4QHNM"
		agent  = "agt-priya-shah"
		userM  = "msg_01KK6M3B4F0Q2W7E9R1T3Y5V8K"
		agentM = "msg_01KK6M4N7H2J5K8M0Z3X6C9V1B"
	)
	seed := func(t *testing.T, d app.Deps) {
		// One chat at a time per agent: the allocation makes Priya busy, the close frees her.
		seedRules(t, d, org, chathandling.Settings{MaxChatsPerAgent: 1, MoveToQueueWhenAgentOffline: true})
		// A WhatsApp chat waiting in the queue since 07:04; nobody takes it (09-chat-missed).
		startChat(t, d, org, missed, "2026-03-08T07:04:51.230Z", "whatsapp", map[string]any{"id": "wa_447700900456"}, "")
	}
	// What the case before a repeat or a malformed event left: neither may change it.
	var version int64
	var events int
	keep := func(t *testing.T, r *apitest.EventRun) {
		version, events = storedChat(t, r.Deps, org, chat).Version, len(published(t, r.Deps))
	}
	unchanged := func(t *testing.T, r *apitest.EventRun) {
		t.Helper()
		if v := storedChat(t, r.Deps, org, chat).Version; v != version {
			t.Errorf("chat version %d -> %d: the event changed the chat", version, v)
		}
		if n := len(published(t, r.Deps)); n != events {
			t.Errorf("%d events published, want none", n-events)
		}
	}
	apitest.ReplayEvents(t, chatsfn.EventsFunction, seed,
		apitest.EventCase{File: "01-chat-started.json", Check: func(t *testing.T, r *apitest.EventRun) {
			c := storedChat(t, r.Deps, org, chat)
			if c.Status != chats.StatusQueued || c.AgentID != "" || c.Channel != "web" || c.BusinessUnitID != "bu-billing" || c.Messages != 0 {
				t.Errorf("chat = %+v, want queued without an agent, channel web, business unit bu-billing, no messages", c)
			}
			want := chats.User{ID: "vis_8d3f0a7c2e", Name: "Maria González", Email: "maria.gonzalez@example.com", Phone: "+44 7700 900123"}
			if c.User != want {
				t.Errorf("user = %+v, want %+v", c.User, want)
			}
			wantTime(t, "startedAt", c.StartedAt, "2026-03-08T07:12:03.412Z")
			wantTime(t, "statusAt", c.StatusAt, "2026-03-08T07:12:03.412Z")
			wantTime(t, "lastActivityAt", c.LastActivityAt, "2026-03-08T07:12:03.412Z")
			wantIDs(t, "queue, oldest first", listed(t, r.Deps, org, chats.StatusQueued), missed, chat)
		}},
		apitest.EventCase{File: "02-agent-logged-in.json", Check: func(t *testing.T, r *apitest.EventRun) {
			a := storedAgent(t, r.Deps, org, agent)
			wantTime(t, "lastLoginAt", a.LastLoginAt, "2026-03-08T07:12:09.880Z")
			if a.Status != "" || a.Busy {
				t.Errorf("agent = %+v, want no status yet and not busy", a)
			}
		}},
		apitest.EventCase{File: "03-agent-online.json", Check: func(t *testing.T, r *apitest.EventRun) {
			a := storedAgent(t, r.Deps, org, agent)
			if a.Status != chats.AgentOnline {
				t.Errorf("agent status = %q, want online", a.Status)
			}
			wantTime(t, "statusAt", a.StatusAt, "2026-03-08T07:12:10.115Z")
			wantTime(t, "lastLoginAt (kept)", a.LastLoginAt, "2026-03-08T07:12:09.880Z")
		}},
		apitest.EventCase{File: "04-chat-allocated.json", Check: func(t *testing.T, r *apitest.EventRun) {
			c := storedChat(t, r.Deps, org, chat)
			if c.Status != chats.StatusOpen || c.AgentID != agent {
				t.Errorf("chat status %q, agent %q; want open with %s", c.Status, c.AgentID, agent)
			}
			wantTime(t, "agentAt", c.AgentAt, "2026-03-08T07:12:11.402Z")
			wantTime(t, "statusAt", c.StatusAt, "2026-03-08T07:12:11.402Z")
			wantIDs(t, "queue", listed(t, r.Deps, org, chats.StatusQueued), missed)
			wantIDs(t, "open chats", listed(t, r.Deps, org, chats.StatusOpen), chat)
			if !storedAgent(t, r.Deps, org, agent).Busy {
				t.Error("agent not busy with 1 chat of maxChatsPerAgent 1")
			}
			busy := publishedOf(t, r.Deps, chats.AgentBusyChanged)
			if len(busy) != 1 {
				t.Fatalf("Agent Busy Changed published %d times, want once: %v", len(busy), busy)
			}
			apitest.WantFields(t, busy[0], map[string]any{"orgId": org, "agentId": agent, "busy": true, "activeChats": 1, "maxChats": 1})
		}},
		apitest.EventCase{File: "05-user-message.json", Check: func(t *testing.T, r *apitest.EventRun) {
			c := storedChat(t, r.Deps, org, chat)
			if c.Messages != 1 || !c.Awaiting() {
				t.Errorf("chat has %d messages, awaiting %v; want 1, awaiting an answer", c.Messages, c.Awaiting())
			}
			// Priya is online: moveToQueueWhenAgentOffline leaves the chat with her.
			if c.Status != chats.StatusOpen || c.AgentID != agent {
				t.Errorf("chat status %q, agent %q; want still open with %s", c.Status, c.AgentID, agent)
			}
			wantTime(t, "lastUserMessageAt", c.LastUserMessageAt, "2026-03-08T07:12:38.951Z")
			wantTime(t, "lastActivityAt", c.LastActivityAt, "2026-03-08T07:12:38.951Z")
			wantIDs(t, "transcript", transcriptIDs(t, r.Deps, org, chat), userM)
			if n := len(published(t, r.Deps)); n != 1 {
				t.Errorf("%d events published in all, want only the busy one", n)
			}
			keep(t, r)
		}},
		apitest.EventCase{File: "06-user-message-redelivered.json", Check: func(t *testing.T, r *apitest.EventRun) {
			unchanged(t, r)
			if c := storedChat(t, r.Deps, org, chat); c.Messages != 1 {
				t.Errorf("chat counts %d messages after a repeat delivery, want 1", c.Messages)
			}
			wantIDs(t, "transcript", transcriptIDs(t, r.Deps, org, chat), userM)
		}},
		apitest.EventCase{File: "07-agent-reply.json", Check: func(t *testing.T, r *apitest.EventRun) {
			c := storedChat(t, r.Deps, org, chat)
			if c.Messages != 2 || c.Awaiting() {
				t.Errorf("chat has %d messages, awaiting %v; want 2, answered", c.Messages, c.Awaiting())
			}
			wantTime(t, "lastAgentMessageAt", c.LastAgentMessageAt, "2026-03-08T07:13:22.307Z")
			wantTime(t, "lastActivityAt", c.LastActivityAt, "2026-03-08T07:13:22.307Z")
			msgs, more, err := r.Deps.Chats.Transcript(context.Background(), org, chat, chats.MaxTranscript)
			if err != nil || more || len(msgs) != 2 {
				t.Fatalf("transcript: %d messages, more %v, %v; want 2", len(msgs), more, err)
			}
			if m := msgs[1]; m.MessageID != agentM || m.Sender != chats.SenderAgent || m.AgentID != agent || !strings.HasPrefix(m.Text, "Hi Maria, sorry about that!") {
				t.Errorf("second message = %+v, want Priya's reply", m)
			}
			if m := msgs[0]; m.MessageID != userM || m.Sender != chats.SenderUser || m.Text != "Hi, I was charged twice for my March invoice (INV-20417). Can you help?" {
				t.Errorf("first message = %+v, want Maria's question", m)
			}
		}},
		apitest.EventCase{File: "08-chat-closed.json", Check: func(t *testing.T, r *apitest.EventRun) {
			c := storedChat(t, r.Deps, org, chat)
			if c.Status != chats.StatusClosed || c.CloseReason != "resolved_by_agent" || c.AgentID != agent || c.Messages != 2 {
				t.Errorf("chat = %+v, want closed (resolved_by_agent), keeping agent %s and its 2 messages", c, agent)
			}
			wantTime(t, "closedAt", c.ClosedAt, "2026-03-08T07:16:45Z")
			wantIDs(t, "open chats", listed(t, r.Deps, org, chats.StatusOpen))
			wantIDs(t, "closed chats", listed(t, r.Deps, org, chats.StatusClosed), chat)
			if storedAgent(t, r.Deps, org, agent).Busy {
				t.Error("agent still busy with no open chat")
			}
			busy := publishedOf(t, r.Deps, chats.AgentBusyChanged)
			if len(busy) != 2 {
				t.Fatalf("Agent Busy Changed published %d times, want twice (busy, then free): %v", len(busy), busy)
			}
			apitest.WantFields(t, busy[1], map[string]any{"orgId": org, "agentId": agent, "busy": false, "activeChats": 0, "maxChats": 1})
		}},
		apitest.EventCase{File: "09-chat-missed.json", Check: func(t *testing.T, r *apitest.EventRun) {
			c := storedChat(t, r.Deps, org, missed)
			if c.Status != chats.StatusMissed || c.Channel != "whatsapp" || c.User.ID != "wa_447700900456" {
				t.Errorf("missed chat = %+v, want missed, keeping its channel and user", c)
			}
			wantTime(t, "statusAt", c.StatusAt, "2026-03-08T07:19:51Z")
			wantIDs(t, "queue", listed(t, r.Deps, org, chats.StatusQueued))
			wantIDs(t, "missed chats", listed(t, r.Deps, org, chats.StatusMissed), missed)
			keep(t, r)
		}},
		apitest.EventCase{File: "10-malformed-field-case.json", Check: func(t *testing.T, r *apitest.EventRun) {
			// "chatID" is not "chatId": the event is dropped (the entry point returned nil,
			// so it is not retried) and the chat it names gets no third message.
			unchanged(t, r)
			wantIDs(t, "transcript", transcriptIDs(t, r.Deps, org, chat), userM, agentM)
		}},
		apitest.EventCase{File: "11-user-sticky.json", Check: func(t *testing.T, r *apitest.EventRun) {
			// The user is now kept with the agent: the disable rule reads this list.
			users, err := r.Deps.Sticky.Users(context.Background(), org, agent, 10)
			if err != nil || !slices.Equal(users, []string{"usr_tomas_ferreira"}) {
				t.Errorf("sticky users of %s: %v, %v", agent, users, err)
			}
		}},
	)
}

// events/missed-chat-report/: a report sent once for a missed chat delivered twice, none
// for an organisation that turned the report off, and a retry asked for when the chat's
// own events are not stored yet.
func TestMissedChatReportSamples(t *testing.T) {
	t.Parallel()
	const (
		to     = "support-leads@demo.example.com"
		chat   = "ch_01KK6K4T8Y2V6J0N3P7A1S5D9F"
		offOrg = "acme-retail"
		off    = "ch_01KK6MA2S4D6F8G0H1J3K5M7ZX"
		early  = "ch_01KK6NC7V9B1N3M5Q7W9E2R4TY"
	)
	seed := func(t *testing.T, d app.Deps) {
		seedReport(t, d, "demo", "Europe/London", true, to)
		seedReport(t, d, offOrg, "Europe/Berlin", false, "ops@acme-retail.example")
		startChat(t, d, "demo", chat, "2026-03-08T07:01:12.604Z", "web",
			map[string]any{"id": "vis_2b9c4e7f1a", "name": "Tomás Ferreira", "email": "tomas.ferreira@example.net", "phone": "+351 912 345 678"}, "")
		say(t, d, "demo", chat, "msg_01KK6K4W0B2C4D6E8F0G2H4J6K", "", "Olá! Is anyone there? I need to change my delivery address.", "2026-03-08T07:01:20.118Z")
		deliver(t, d, chats.ChatMessage, map[string]any{"orgId": "demo", "chatId": chat, "messageId": "msg_01KK6K4W1M3N5P7Q9R1S3T5V7W",
			"sender": chats.SenderBot, "text": "Thanks for your message - an agent will be with you shortly.", "sentAt": "2026-03-08T07:01:21.002Z"})
		startChat(t, d, offOrg, off, "2026-03-08T07:09:40Z", "web", map[string]any{"id": "vis_77f0c3d9", "name": "Jonas Weber"}, "")
	}
	reportsOf := func(t *testing.T, r *apitest.EventRun, chatID string) []map[string]any {
		var out []map[string]any
		for _, e := range publishedOf(t, r.Deps, chats.MissedChatReportSent) {
			if e["chatId"] == chatID {
				out = append(out, e)
			}
		}
		return out
	}
	apitest.ReplayEvents(t, chatsfn.ReportFunction, seed,
		apitest.EventCase{File: "report-sent.json", Check: func(t *testing.T, r *apitest.EventRun) {
			mails := sent(t, r.Deps)
			if len(mails) != 1 {
				t.Fatalf("%d emails, want 1", len(mails))
			}
			m := mails[0]
			from, err := netmail.ParseAddress(local.MailFrom)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.To) != 1 || m.To[0].Address != to || m.From == nil || *m.From != *from {
				t.Errorf("from %v to %v, want from %s to %s", m.From, m.To, local.MailFrom, to)
			}
			if want := "Missed chat from Tomás Ferreira (web)"; m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			for _, part := range []struct{ name, body string }{{"text", m.Text}, {"HTML (as shown)", html.UnescapeString(m.HTML)}} {
				// Times in the organisation's zone (London is on GMT until 29 March).
				for _, want := range []string{"Tomás Ferreira", "tomas.ferreira@example.net", "+351 912 345 678", "vis_2b9c4e7f1a", chat,
					"Olá! Is anyone there? I need to change my delivery address.", "Thanks for your message - an agent will be with you shortly.",
					"2026-03-08 07:11:12 GMT", "2026-03-08 07:01:20 GMT", "2 messages"} {
					if !strings.Contains(part.body, want) {
						t.Errorf("the %s part lacks %q:\n%s", part.name, want, part.body)
					}
				}
			}
			reports := reportsOf(t, r, chat)
			if len(reports) != 1 {
				t.Fatalf("Missed Chat Report Sent published %d times, want once", len(reports))
			}
			apitest.WantFields(t, reports[0], map[string]any{"orgId": "demo", "chatId": chat, "to": to, "messageId": m.ID})
		}},
		apitest.EventCase{File: "report-sent-redelivered.json", Check: func(t *testing.T, r *apitest.EventRun) {
			if n := len(sent(t, r.Deps)); n != 1 {
				t.Errorf("%d emails after the same event again, want still 1", n)
			}
			if n := len(reportsOf(t, r, chat)); n != 1 {
				t.Errorf("Missed Chat Report Sent published %d times, want still once", n)
			}
		}},
		apitest.EventCase{File: "report-off.json", Check: func(t *testing.T, r *apitest.EventRun) {
			if n := len(sent(t, r.Deps)); n != 1 {
				t.Errorf("%d emails, want still 1: %s has the report off", n, offOrg)
			}
			if n := len(reportsOf(t, r, off)); n != 0 {
				t.Errorf("Missed Chat Report Sent published for %s's chat", offOrg)
			}
		}},
		apitest.EventCase{File: "chat-not-stored-yet.json", Fails: true, Check: func(t *testing.T, r *apitest.EventRun) {
			// Missed 4 minutes ago, the chat's events not in yet: Lambda is asked to retry.
			if !strings.Contains(r.Err.Error(), "not stored yet") {
				t.Errorf("error %q, want the report to wait for the chat's events", r.Err)
			}
			if n := len(sent(t, r.Deps)); n != 1 {
				t.Fatalf("%d emails, want still 1: the report waits for the chat's events", n)
			}
			if n := len(reportsOf(t, r, early)); n != 0 {
				t.Fatalf("Missed Chat Report Sent published for a report not sent")
			}
			// The chat's own events arrive; Lambda's retry of the same event sends the
			// report, with the user's details.
			startChat(t, r.Deps, "demo", early, "2026-03-08T07:24:58Z", "web", map[string]any{"id": "vis_c1d2e3f4", "name": "Aiko Tanaka"}, "")
			say(t, r.Deps, "demo", early, "msg_01KK6NC8A0B2C4D6E8F0G2H4J6", "", "Hello? Do you ship to Japan?", "2026-03-08T07:25:10Z")
			ev := r.Event
			retry := chatsfn.ReportFunction.Events.Handler(r.Deps)
			if err := retry(context.Background(), app.Event{ID: ev.ID, Source: ev.Source, DetailType: ev.DetailType, Time: ev.Time, Detail: ev.Detail}); err != nil {
				t.Fatalf("retry once the chat is stored: %v", err)
			}
			mails := sent(t, r.Deps)
			if len(mails) != 2 || mails[1].Subject != "Missed chat from Aiko Tanaka (web)" || !strings.Contains(mails[1].Text, "Do you ship to Japan?") {
				t.Fatalf("after the retry: %d emails, last %q; want a second, Aiko Tanaka's", len(mails), mails[len(mails)-1].Subject)
			}
			if n := len(reportsOf(t, r, early)); n != 1 {
				t.Errorf("Missed Chat Report Sent published %d times after the retry, want once", n)
			}
		}},
	)
}

// events/auto-close-sweep/: the first run closes the chats idle for 7 days (an open one
// and a queued one) and frees their agent; chats with recent activity, closed chats and
// an organisation with the rule off are left alone; the second run changes nothing.
func TestAutoCloseSweepSamples(t *testing.T) {
	t.Parallel()
	const (
		org        = "demo"
		tom        = "agt-tom-okafor"
		idleOpen   = "ch_01KJZ2A4C6E8G0J2M4P6R8T0VX"
		idleQueued = "ch_01KK2B5D7F9H1K3N5Q7S9V1X3Z"
		talking    = "ch_01KHV9W1Y3A5C7E9G1J3M5P7R9"
		sixDays    = "ch_01KK3C6E8G0J2M4P6R8T0V2X4Z"
		closedOld  = "ch_01KH4D7F9H1K3N5Q7S9V1X3Z5B"
		otherOrg   = "northwind"
		otherChat  = "ch_01KEXB3D5F7H9K1N3Q5S7V9X1Z"
	)
	seed := func(t *testing.T, d app.Deps) {
		seedRules(t, d, org, chathandling.Settings{MaxChatsPerAgent: 2, AutoCloseAfterDays: 7})
		seedRules(t, d, otherOrg, chathandling.Settings{MaxChatsPerAgent: 3})
		user := func(id string) map[string]any { return map[string]any{"id": id} }
		// Idle since 26 February (10 days): closed.
		startChat(t, d, org, idleOpen, "2026-02-26T14:03:00Z", "web", user("vis_a1"), tom)
		say(t, d, org, idleOpen, "msg_01KJZ2A5A", "", "Is my parcel lost?", "2026-02-26T14:04:00Z")
		say(t, d, org, idleOpen, "msg_01KJZ2A5B", tom, "Checking with the courier, one moment.", "2026-02-26T14:06:10Z")
		// Queued since 28 February, idle 7 days and 13 hours: closed.
		startChat(t, d, org, idleQueued, "2026-02-28T18:22:05Z", "web", user("vis_a2"), "")
		say(t, d, org, idleQueued, "msg_01KK2B5E1", "", "hello?", "2026-02-28T18:22:30Z")
		// Started in February but the user wrote on 6 March: stays open.
		startChat(t, d, org, talking, "2026-02-20T09:00:00Z", "email", user("vis_a3"), tom)
		say(t, d, org, talking, "msg_01KHV9W2A", "", "Any news on my refund?", "2026-03-06T16:45:00Z")
		// Queued 6 days 23 hours 50 minutes before the sweep: not yet idle for 7 days.
		startChat(t, d, org, sixDays, "2026-03-01T07:40:00Z", "web", user("vis_a4"), "")
		// Closed long ago: not a candidate.
		startChat(t, d, org, closedOld, "2026-02-10T11:00:00Z", "web", user("vis_a5"), tom)
		deliver(t, d, chats.ChatClosed, map[string]any{"orgId": org, "chatId": closedOld, "at": "2026-02-10T11:30:00Z", "reason": "resolved_by_agent"})
		// Northwind keeps chats open forever (autoCloseAfterDays 0).
		startChat(t, d, otherOrg, otherChat, "2026-01-15T10:00:00Z", "web", user("vis_b1"), "agt-nw-1")
		if a := storedAgent(t, d, org, tom); !a.Busy {
			t.Fatalf("seed: %s should be busy with 2 open chats of 2", tom)
		}
	}
	statuses := func(t *testing.T, d app.Deps) map[string]string {
		out := map[string]string{}
		for _, id := range []string{idleOpen, idleQueued, talking, sixDays, closedOld} {
			out[id] = storedChat(t, d, org, id).Status
		}
		out[otherChat] = storedChat(t, d, otherOrg, otherChat).Status
		return out
	}
	wantStatuses := map[string]string{idleOpen: chats.StatusClosed, idleQueued: chats.StatusClosed, talking: chats.StatusOpen,
		sixDays: chats.StatusQueued, closedOld: chats.StatusClosed, otherChat: chats.StatusOpen}
	var events int
	apitest.ReplayEvents(t, chatsfn.AutoCloseFunction, seed,
		apitest.EventCase{File: "closes-idle-chats.json", Check: func(t *testing.T, r *apitest.EventRun) {
			if res := r.Result; res.Changed != 2 || res.Examined != 2 || res.Orgs != 2 || res.Published != 3 || !res.Done {
				t.Errorf("result %+v, want 2 organisations, 2 chats examined and closed, 3 events (2 closed, Tom no longer busy), done", res)
			}
			if got := statuses(t, r.Deps); !maps.Equal(got, wantStatuses) {
				t.Errorf("statuses %v, want %v", got, wantStatuses)
			}
			closedEvents := map[string]map[string]any{}
			for _, e := range publishedOf(t, r.Deps, chats.ChatAutoClosed) {
				closedEvents[e["chatId"].(string)] = e
			}
			if len(closedEvents) != 2 {
				t.Fatalf("Chat Auto Closed events for %d chats, want 2: %v", len(closedEvents), closedEvents)
			}
			for id, last := range map[string]string{idleOpen: "2026-02-26T14:06:10Z", idleQueued: "2026-02-28T18:22:30Z"} {
				c := storedChat(t, r.Deps, org, id)
				if c.CloseReason != chats.CloseReasonAutoClose || c.ClosedAt.Before(apitest.EventEpoch) || c.ClosedAt.After(apitest.EventEpoch.Add(10*time.Minute)) {
					t.Errorf("%s: close reason %q at %s, want auto_close at the sweep's time", id, c.CloseReason, c.ClosedAt)
				}
				apitest.WantFields(t, closedEvents[id], map[string]any{"orgId": org, "chatId": id, "lastActivityAt": last,
					"closedAt": c.ClosedAt.Format(time.RFC3339Nano), "afterDays": 7})
			}
			if c := storedChat(t, r.Deps, org, idleOpen); c.AgentID != tom {
				t.Errorf("closed chat's agent = %q, want %s kept", c.AgentID, tom)
			}
			if storedAgent(t, r.Deps, org, tom).Busy {
				t.Errorf("%s still busy with 1 open chat of 2", tom)
			}
			busy := publishedOf(t, r.Deps, chats.AgentBusyChanged)
			if len(busy) == 0 {
				t.Fatal("no Agent Busy Changed event")
			}
			apitest.WantFields(t, busy[len(busy)-1], map[string]any{"agentId": tom, "busy": false, "activeChats": 1, "maxChats": 2})
			events = len(published(t, r.Deps))
		}},
		apitest.EventCase{File: "nothing-left.json", Check: func(t *testing.T, r *apitest.EventRun) {
			if res := r.Result; res.Changed != 0 || res.Examined != 0 || res.Published != 0 || !res.Done {
				t.Errorf("second run: %+v, want nothing examined or changed, done", res)
			}
			if got := statuses(t, r.Deps); !maps.Equal(got, wantStatuses) {
				t.Errorf("statuses %v, want %v", got, wantStatuses)
			}
			if n := len(published(t, r.Deps)); n != events {
				t.Errorf("second run published %d events, want none", n-events)
			}
		}},
	)
}

// events/queue-move-sweep/: the first run queues the unanswered chat of an agent who last
// logged in 6 days ago (rule: 3 days) and frees them; their answered chat, and the
// unanswered chat of an agent who logged in this morning, stay; the second run changes
// nothing.
func TestQueueMoveSweepSamples(t *testing.T) {
	t.Parallel()
	const (
		org      = "demo"
		sam      = "agt-sam-lee"
		lena     = "agt-lena-novak"
		waiting  = "ch_01KJQ4S6V8X0Z2B4D6F8H0K2M4"
		answered = "ch_01KJQ5T7W9Y1A3C5E7G9J1M3P5"
		fresh    = "ch_01KK6J2N4Q6S8V0X2Z4B6D8F0H"
	)
	seed := func(t *testing.T, d app.Deps) {
		seedRules(t, d, org, chathandling.Settings{MaxChatsPerAgent: 2, MoveToQueueAfterNoLoginDays: 3})
		user := func(id string) map[string]any { return map[string]any{"id": id} }
		deliver(t, d, chats.AgentLoggedIn, map[string]any{"orgId": org, "agentId": sam, "at": "2026-03-02T08:01:15Z"})
		deliver(t, d, chats.AgentStatusChanged, map[string]any{"orgId": org, "agentId": sam, "status": "online", "at": "2026-03-02T08:01:16Z"})
		startChat(t, d, org, waiting, "2026-03-02T09:10:00Z", "web", user("vis_c1"), sam)
		say(t, d, org, waiting, "msg_01KJQ4S7A", "", "Can I change my plan?", "2026-03-02T09:11:00Z")
		say(t, d, org, waiting, "msg_01KJQ4S7B", sam, "Yes: which plan would you like?", "2026-03-02T09:12:00Z")
		say(t, d, org, waiting, "msg_01KK5R0A1", "", "The annual one, please. Still there?", "2026-03-07T19:40:00Z")
		startChat(t, d, org, answered, "2026-03-02T10:00:00Z", "web", user("vis_c2"), sam)
		say(t, d, org, answered, "msg_01KJQ5T8A", "", "Where is my invoice?", "2026-03-02T10:01:00Z")
		say(t, d, org, answered, "msg_01KJQ5T8B", sam, "I have emailed it to you again.", "2026-03-02T10:03:00Z")
		deliver(t, d, chats.AgentLoggedIn, map[string]any{"orgId": org, "agentId": lena, "at": "2026-03-08T06:58:00Z"})
		startChat(t, d, org, fresh, "2026-03-08T07:05:00Z", "web", user("vis_c3"), lena)
		say(t, d, org, fresh, "msg_01KK6J2P1", "", "Hi, quick question about delivery times.", "2026-03-08T07:06:00Z")
		if !storedAgent(t, d, org, sam).Busy {
			t.Fatalf("seed: %s should be busy with 2 open chats of 2", sam)
		}
	}
	var events int
	check := func(t *testing.T, r *apitest.EventRun) {
		t.Helper()
		if c := storedChat(t, r.Deps, org, waiting); c.Status != chats.StatusQueued || c.AgentID != "" {
			t.Errorf("unanswered chat of %s: status %q, agent %q; want queued without an agent", sam, c.Status, c.AgentID)
		}
		if c := storedChat(t, r.Deps, org, answered); c.Status != chats.StatusOpen || c.AgentID != sam {
			t.Errorf("answered chat: status %q, agent %q; want open with %s", c.Status, c.AgentID, sam)
		}
		if c := storedChat(t, r.Deps, org, fresh); c.Status != chats.StatusOpen || c.AgentID != lena {
			t.Errorf("chat of %s (logged in today): status %q, agent %q; want open with her", lena, c.Status, c.AgentID)
		}
		wantIDs(t, "queue", listed(t, r.Deps, org, chats.StatusQueued), waiting)
	}
	apitest.ReplayEvents(t, chatsfn.QueueMoveFunction, seed,
		apitest.EventCase{File: "moves-unanswered-chats.json", Check: func(t *testing.T, r *apitest.EventRun) {
			if res := r.Result; res.Changed != 1 || res.Examined != 1 || res.Orgs != 1 || res.Published != 2 || !res.Done {
				t.Errorf("result %+v, want 1 organisation, 1 chat examined and moved, 2 events (moved, Sam no longer busy), done", res)
			}
			check(t, r)
			moved := publishedOf(t, r.Deps, chats.ChatMovedToQueue)
			if len(moved) != 1 {
				t.Fatalf("Chat Moved To Queue published %d times, want once: %v", len(moved), moved)
			}
			c := storedChat(t, r.Deps, org, waiting)
			apitest.WantFields(t, moved[0], map[string]any{"orgId": org, "chatId": waiting, "fromAgentId": sam,
				"reason": chats.ReasonNotLoggedIn, "at": c.StatusAt.Format(time.RFC3339Nano)})
			if c.StatusAt.Before(apitest.EventEpoch) {
				t.Errorf("queued at %s, want the sweep's time", c.StatusAt)
			}
			if storedAgent(t, r.Deps, org, sam).Busy {
				t.Errorf("%s still busy with 1 open chat of 2", sam)
			}
			busy := publishedOf(t, r.Deps, chats.AgentBusyChanged)
			if len(busy) == 0 {
				t.Fatal("no Agent Busy Changed event")
			}
			apitest.WantFields(t, busy[len(busy)-1], map[string]any{"agentId": sam, "busy": false, "activeChats": 1, "maxChats": 2})
			events = len(published(t, r.Deps))
		}},
		apitest.EventCase{File: "nothing-left.json", Check: func(t *testing.T, r *apitest.EventRun) {
			if res := r.Result; res.Changed != 0 || res.Examined != 0 || res.Published != 0 || !res.Done {
				t.Errorf("second run: %+v, want nothing examined or changed, done", res)
			}
			check(t, r)
			if n := len(published(t, r.Deps)); n != events {
				t.Errorf("second run published %d events, want none", n-events)
			}
		}},
	)
}

// summaryFields are the fields of a ChatSummary (openapi.yaml: all required, no others).
var summaryFields = []string{"chatId", "status", "channel", "businessUnitId", "user", "agentId", "startedAt", "statusAt",
	"lastActivityAt", "closedAt", "closeReason", "messages", "awaiting"}

// wantKeys checks that an object has exactly the keys given.
func wantKeys(t *testing.T, what string, obj any, keys ...string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, obj)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s has fields %v, want %v", what, got, want)
	}
}

// items returns the items of a ChatPage, checking its shape.
func items(t *testing.T, r *apitest.EventRun) []any {
	t.Helper()
	doc := apitest.MustJSON(t, r.Body)
	wantKeys(t, "the page", doc, "items") // one page: no nextCursor
	list, ok := doc.(map[string]any)["items"].([]any)
	if !ok {
		t.Fatalf("items is not an array: %s", r.Body)
	}
	for i, it := range list {
		wantKeys(t, fmt.Sprintf("item %d", i), it, summaryFields...)
	}
	return list
}

// events/chats/: the read API over chats of org demo kept from events.
func TestChatsSamples(t *testing.T) {
	t.Parallel()
	const (
		org       = "demo"
		open1     = "ch_01KK6H8D2F4G6J8K0M1Z3X5C7V"
		open2     = "ch_01KK6JB3N5P7R9T1V3X5Z7A9CE"
		queued    = "ch_01KK6KD4F6H8J0K2M4P6R8T0VW"
		closed    = "ch_01KK6E7G9J1K3M5N7P9Q1R3S5T"
		priya     = "agt-priya-shah"
		lena      = "agt-lena-novak"
		northChat = "ch_01KK6G5H7K9M1P3R5T7W9Y1B3D"
	)
	seed := func(t *testing.T, d app.Deps) {
		startChat(t, d, org, closed, "2026-03-08T06:00:00Z", "web", map[string]any{"id": "vis_0e5a"}, priya)
		deliver(t, d, chats.ChatClosed, map[string]any{"orgId": org, "chatId": closed, "at": "2026-03-08T06:20:00Z", "reason": "resolved_by_agent"})
		deliver(t, d, chats.ChatStarted, map[string]any{"orgId": org, "chatId": open1, "startedAt": "2026-03-08T06:40:12Z", "channel": "web",
			"businessUnitId": "bu-billing", "user": map[string]any{"id": "vis_3a7e91c4", "name": "Maria González", "email": "maria.gonzalez@example.com", "phone": "+44 7700 900123"}})
		deliver(t, d, chats.ChatAllocated, map[string]any{"orgId": org, "chatId": open1, "agentId": priya, "at": "2026-03-08T06:40:30Z"})
		say(t, d, org, open1, "msg_01KK6H8E1", "", "Hello, my order #58213 hasn't arrived yet.", "2026-03-08T06:41:02Z")
		say(t, d, org, open1, "msg_01KK6H8E2", priya, "Hi Maria, let me check that for you.", "2026-03-08T06:42:15Z")
		startChat(t, d, org, open2, "2026-03-08T06:55:00Z", "whatsapp", map[string]any{"id": "wa_447700900999", "name": "Ben Carter"}, lena)
		say(t, d, org, open2, "msg_01KK6JB4A", "", "Do you have the blue one in size 10?", "2026-03-08T06:56:05Z")
		startChat(t, d, org, queued, "2026-03-08T07:05:40Z", "web", map[string]any{"id": "vis_9c4b"}, "")
		say(t, d, org, queued, "msg_01KK6KD5A", "", "Hi!", "2026-03-08T07:05:52Z")
		// Northwind has chats of its own.
		startChat(t, d, "northwind", northChat, "2026-03-08T07:00:00Z", "web", map[string]any{"id": "vis_nw1"}, "agt-nw-1")
	}
	apitest.ReplayEvents(t, chatsfn.ReadFunction, seed,
		apitest.EventCase{File: "list-open.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			list := items(t, r)
			if len(list) != 2 {
				t.Fatalf("%d open chats, want 2 (Ben's, then Maria's): %s", len(list), r.Body)
			}
			apitest.WantFields(t, list[0], map[string]any{"chatId": open2, "status": "open", "channel": "whatsapp", "businessUnitId": nil,
				"agentId": lena, "awaiting": true, "messages": 1, "statusAt": "2026-03-08T06:55:20Z", "lastActivityAt": "2026-03-08T06:56:05Z",
				"closedAt": nil, "closeReason": nil, "user": map[string]any{"id": "wa_447700900999", "name": "Ben Carter"}})
			apitest.WantFields(t, list[1], map[string]any{"chatId": open1, "status": "open", "channel": "web", "businessUnitId": "bu-billing",
				"agentId": priya, "awaiting": false, "messages": 2, "startedAt": "2026-03-08T06:40:12Z", "statusAt": "2026-03-08T06:40:30Z",
				"lastActivityAt": "2026-03-08T06:42:15Z", "closedAt": nil, "closeReason": nil,
				"user": map[string]any{"id": "vis_3a7e91c4", "name": "Maria González", "email": "maria.gonzalez@example.com", "phone": "+44 7700 900123"}})
		}},
		apitest.EventCase{File: "list-unknown-status.json", Status: http.StatusBadRequest, Check: func(t *testing.T, r *apitest.EventRun) {
			doc := apitest.MustJSON(t, r.Body).(map[string]any)
			errs, _ := doc["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one, on status", doc["errors"])
			}
			apitest.WantFields(t, errs[0], map[string]any{"field": "status", "message": "must be open, queued, closed or missed"})
		}},
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			doc := apitest.MustJSON(t, r.Body)
			wantKeys(t, "the chat", doc, append(slices.Clone(summaryFields), "transcript", "transcriptTruncated")...)
			apitest.WantFields(t, doc, map[string]any{"chatId": open1, "status": "open", "agentId": priya, "messages": 2,
				"awaiting": false, "transcriptTruncated": false, "user.name": "Maria González"})
			msgs, _ := doc.(map[string]any)["transcript"].([]any)
			if len(msgs) != 2 {
				t.Fatalf("transcript of %d messages, want 2: %s", len(msgs), r.Body)
			}
			wantKeys(t, "the user's message", msgs[0], "messageId", "sender", "text", "sentAt")
			apitest.WantFields(t, msgs[0], map[string]any{"messageId": "msg_01KK6H8E1", "sender": "user",
				"text": "Hello, my order #58213 hasn't arrived yet.", "sentAt": "2026-03-08T06:41:02Z"})
			wantKeys(t, "the agent's message", msgs[1], "messageId", "sender", "agentId", "text", "sentAt")
			apitest.WantFields(t, msgs[1], map[string]any{"messageId": "msg_01KK6H8E2", "sender": "agent", "agentId": priya,
				"text": "Hi Maria, let me check that for you.", "sentAt": "2026-03-08T06:42:15Z"})
		}},
		apitest.EventCase{File: "get-unknown.json", Status: http.StatusNotFound, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"detail": "chat not found"})
			r.Saved["unknown"] = r.Body
		}},
		apitest.EventCase{File: "queue.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			list := items(t, r)
			if len(list) != 1 {
				t.Fatalf("%d queued chats, want 1: %s", len(list), r.Body)
			}
			apitest.WantFields(t, list[0], map[string]any{"chatId": queued, "status": "queued", "agentId": nil, "awaiting": false,
				"messages": 1, "statusAt": "2026-03-08T07:05:40Z", "lastActivityAt": "2026-03-08T07:05:52Z"})
		}},
		apitest.EventCase{File: "get-other-org.json", Status: http.StatusNotFound, Check: func(t *testing.T, r *apitest.EventRun) {
			// Northwind's admin asks for demo's chat under northwind: it is not theirs, and
			// the answer is the one for a chat that does not exist (the same problem but
			// for the request id), so it does not even tell that the id is taken.
			got, unknown := apitest.MustJSON(t, r.Body).(map[string]any), apitest.MustJSON(t, r.Saved["unknown"]).(map[string]any)
			delete(got, "requestId")
			delete(unknown, "requestId")
			if !reflect.DeepEqual(got, unknown) {
				t.Errorf("problem %v, want the unknown chat's %v", got, unknown)
			}
		}},
	)
}
