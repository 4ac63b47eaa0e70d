// Package chatstest is the contract suite every chats.Store adapter must pass (package
// dynamo against DynamoDB Local, package bolt always). An adapter's test calls Run with a
// constructor of stores.
//
// What the suite holds adapters to, beyond the doc comments of chats.Store:
//
//   - Save does not change the caller's records; the stored version is Version+1. A
//     version below 0, or above 0 for a record never stored, is a conflict. A change that
//     carries a message needs a chat, of the same organisation and chat id (a message's
//     OrgID and ChatID may be left empty). A chat status outside chats.Statuses and "",
//     an agent status outside online, away, offline and "", a message id that is not a
//     package ids id, an event without an ID or two events with one ID are refused and
//     nothing is written.
//   - When a change's message is stored already and its version is stale too, Save
//     returns ErrDuplicate or ErrConflict (either way nothing is written).
//   - Lists order ties by ascending chat (or agent) id, in every list.
//   - Next and next positions are "" when nothing follows, even after a full page.
//     A position is only valid for the kind of list that made it: a malformed one, or one
//     of another list (another status, Idle's given to List, ...) is refused with a
//     problem.BadRequest, never a panic.
//   - Limits: ListQuery.Limit 1..chats.MaxListLimit, Transcript 1..chats.MaxTranscript,
//     every other limit 1..1000; outside, an error.
//   - FinishReport without a claim held (never claimed, released, or sent) returns an
//     error matching chats.ErrConflict and changes nothing.
//   - A List status outside chats.Statuses is an error.
//
// Times are fixed (never time.Now), and every record a test writes belongs to
// organisations of its own, so that stores may be shared between subtests. Pending and
// Orgs see the whole store: the pending tests use event times of an era of their own,
// before any other test's, and publish what they keep; the Orgs test pages through every
// organisation and checks only its own.
package chatstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Run runs the chats.Store contract against stores made by newStore, called once per
// subtest. A store may be shared between subtests (see the package comment) but must not
// hold pending events from outside the suite older than 2000.
func Run(t *testing.T, newStore func(t *testing.T) chats.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s chats.Store)
	}{
		{"NothingStored", testNothingStored},
		{"SaveNewChatAndRead", testSaveNewChat},
		{"SaveStaleVersionConflicts", testStaleVersion},
		{"SaveDoesNotChangeTheCaller", testSaveKeepsCaller},
		{"MessageDedupe", testMessageDedupe},
		{"MessageRules", testMessageRules},
		{"AgentSaves", testAgentSaves},
		{"ChatAndAgentAtomic", testChatAndAgentAtomic},
		{"RefusedChangesWriteNothing", testRefusedChanges},
		{"PendingEvents", testPending},
		{"PendingOnlyWithTheChange", testPendingOnlyWithChange},
		{"PendingLimitAndPublished", testPendingLimitPublished},
		{"ListOrders", testListOrders},
		{"ListPaging", testListPaging},
		{"ListLeavingAStatus", testListLeaving},
		{"ListRefusals", testListRefusals},
		{"Idle", testIdle},
		{"IdlePagingAndDropOut", testIdlePaging},
		{"LoggedInBefore", testLoggedInBefore},
		{"Awaiting", testAwaiting},
		{"ActiveChats", testActiveChats},
		{"Online", testOnline},
		{"Orgs", testOrgs},
		{"Transcript", testTranscript},
		{"Cursors", testCursors},
		{"ReportClaims", testReportClaims},
		{"ReportNeverTakenOver", testReportNeverTakenOver},
		{"ReportConcurrentClaims", testReportConcurrent},
		{"MalformedIDs", testMalformedIDs},
		{"LongestIDs", testLongestIDs},
		{"MalformedPositions", testMalformedPositions},
		{"Limits", testLimits},
		{"OrgsIsolated", testOrgsIsolated},
		{"ConcurrentSavesOneWins", testConcurrentSaves},
		{"ConcurrentNewChatOneWins", testConcurrentNew},
		{"RacingDuplicateMessages", testRacingDuplicates},
		{"ContextDone", testContextDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// base is the suite's fixed "now"; at(m) is m minutes after it.
var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func at(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }

// newID returns a fresh id with the given prefix (a package ids id).
func newID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// era returns a time in an era of the caller's own, between 1975 and 2000 and at least
// a day away from the other eras' starts in all likelihood, for the pending tests.
func era() time.Time {
	n, _ := rand.Int(rand.Reader, big.NewInt(9000))
	return time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n.Int64()))
}

func newChat(org, id, status string, statusAt time.Time) chats.Chat {
	c := chats.Chat{
		OrgID: org, ChatID: id, Status: status, Channel: "web", BusinessUnitID: "bu-1",
		User:      chats.User{ID: "user-" + id, Name: "Ann Lee", Email: "ann@example.com", Phone: "+442079460958"},
		StartedAt: statusAt, StatusAt: statusAt, LastActivityAt: statusAt,
	}
	return c
}

func newAgent(org, id, status string, statusAt time.Time) chats.Agent {
	return chats.Agent{OrgID: org, AgentID: id, Status: status, StatusAt: statusAt}
}

func event(id string, t time.Time) bus.Event {
	e, err := bus.New(id, "Chat Auto Closed", t, map[string]any{"eventId": id, "n": 1, "text": "é\"<>&"})
	if err != nil {
		panic(err)
	}
	return e
}

// withID gives e another id, bypassing the checks of bus.New (stores must refuse what it refuses).
func withID(e bus.Event, id string) bus.Event {
	e.ID = id
	return e
}

func message(id, sender string, sentAt time.Time) chats.Message {
	return chats.Message{MessageID: id, Sender: sender, Text: "hello " + id + " — ü", SentAt: sentAt}
}

// env is one test's store and organisation.
type env struct {
	t   *testing.T
	s   chats.Store
	org string
}

func newEnv(t *testing.T, s chats.Store) *env { return &env{t: t, s: s, org: newID("org")} }

func (e *env) ctx() context.Context { return e.t.Context() }

func (e *env) save(ch chats.Change) {
	e.t.Helper()
	if err := e.s.Save(e.ctx(), ch); err != nil {
		e.t.Fatalf("Save(%s): %v", describe(ch), err)
	}
}

func describe(ch chats.Change) string {
	var parts []string
	if ch.Chat != nil {
		parts = append(parts, fmt.Sprintf("chat %s/%s v%d %q", ch.Chat.OrgID, ch.Chat.ChatID, ch.Chat.Version, ch.Chat.Status))
	}
	if ch.Message != nil {
		parts = append(parts, "message "+ch.Message.MessageID)
	}
	if ch.Agent != nil {
		parts = append(parts, fmt.Sprintf("agent %s/%s v%d", ch.Agent.OrgID, ch.Agent.AgentID, ch.Agent.Version))
	}
	if len(ch.Events) > 0 {
		parts = append(parts, fmt.Sprintf("%d events", len(ch.Events)))
	}
	return strings.Join(parts, ", ")
}

// chat returns the stored chat, failing the test when there is none.
func (e *env) chat(org, id string) chats.Chat {
	e.t.Helper()
	c, found, err := e.s.Chat(e.ctx(), org, id)
	if err != nil || !found {
		e.t.Fatalf("Chat(%s, %s): found %v, %v", org, id, found, err)
	}
	return c
}

func (e *env) agent(org, id string) chats.Agent {
	e.t.Helper()
	a, found, err := e.s.Agent(e.ctx(), org, id)
	if err != nil || !found {
		e.t.Fatalf("Agent(%s, %s): found %v, %v", org, id, found, err)
	}
	return a
}

// put saves c over whatever is stored (at the stored version) and returns it as stored.
func (e *env) put(c chats.Chat) chats.Chat {
	e.t.Helper()
	cur, _, err := e.s.Chat(e.ctx(), c.OrgID, c.ChatID)
	if err != nil {
		e.t.Fatalf("Chat(%s, %s): %v", c.OrgID, c.ChatID, err)
	}
	c.Version = cur.Version
	e.save(chats.Change{Chat: &c})
	return e.chat(c.OrgID, c.ChatID)
}

func (e *env) putAgent(a chats.Agent) chats.Agent {
	e.t.Helper()
	cur, _, err := e.s.Agent(e.ctx(), a.OrgID, a.AgentID)
	if err != nil {
		e.t.Fatalf("Agent(%s, %s): %v", a.OrgID, a.AgentID, err)
	}
	a.Version = cur.Version
	e.save(chats.Change{Agent: &a})
	return e.agent(a.OrgID, a.AgentID)
}

// text is a record's JSON form: every field but Version, times as RFC 3339 (so equal
// instants in UTC compare equal).
func text(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (e *env) wantChat(org, id string, want chats.Chat, version int64) {
	e.t.Helper()
	got := e.chat(org, id)
	if text(got) != text(want) || got.Version != version {
		e.t.Errorf("Chat(%s, %s):\n got v%d %s\nwant v%d %s", org, id, got.Version, text(got), version, text(want))
	}
}

func chatIDs(cs []chats.Chat) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ChatID
	}
	return out
}

func agentIDs(as []chats.Agent) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.AgentID
	}
	return out
}

func eventIDs(es []bus.Event) []string {
	out := make([]string, len(es))
	for i, ev := range es {
		out[i] = ev.ID
	}
	return out
}

// pending returns the ids of the pending events at or before before that are in ids, in
// the order Pending gives them.
func (e *env) pending(before time.Time, ids ...string) []string {
	e.t.Helper()
	evs, err := e.s.Pending(e.ctx(), before, 1000)
	if err != nil {
		e.t.Fatalf("Pending(%v): %v", before, err)
	}
	var out []string
	for _, ev := range evs {
		if slices.Contains(ids, ev.ID) {
			out = append(out, ev.ID)
		}
	}
	return out
}

// publishAtEnd forgets the events at the end of the test, so that they do not crowd out
// another test's.
func (e *env) publishAtEnd(ids ...string) {
	e.t.Cleanup(func() {
		if err := e.s.Published(context.Background(), ids); err != nil {
			e.t.Errorf("Published at cleanup: %v", err)
		}
	})
}

// listAll pages through the org's chats of status with limit, failing on a page that is
// not full but says more follow, or on more pages than chats.
func (e *env) listAll(org, status string, limit int) []string {
	e.t.Helper()
	var out []string
	after := ""
	for page := 0; ; page++ {
		if page > 1000 {
			e.t.Fatalf("List(%s) pages without end", status)
		}
		p, err := e.s.List(e.ctx(), org, chats.ListQuery{Status: status, Limit: limit, After: after})
		if err != nil {
			e.t.Fatalf("List(%s, %s, limit %d, after %q): %v", org, status, limit, after, err)
		}
		if len(p.Chats) > limit {
			e.t.Fatalf("List(%s, limit %d): %d chats", status, limit, len(p.Chats))
		}
		for _, c := range p.Chats {
			if c.OrgID != org || c.Status != status {
				e.t.Errorf("List(%s, %s) returned chat %s of org %s status %q", org, status, c.ChatID, c.OrgID, c.Status)
			}
		}
		if len(p.Chats) == 0 && after != "" {
			e.t.Errorf("List(%s, limit %d): a next position led to an empty page", status, limit)
		}
		out = append(out, chatIDs(p.Chats)...)
		if p.Next == "" {
			return out
		}
		if len(p.Chats) < limit {
			e.t.Errorf("List(%s, limit %d): a page of %d chats with a next position", status, limit, len(p.Chats))
		}
		after = p.Next
	}
}

func (e *env) idleAll(idleSince time.Time, limit int) []string {
	e.t.Helper()
	var out []string
	after := ""
	for page := 0; ; page++ {
		if page > 1000 {
			e.t.Fatalf("Idle pages without end")
		}
		cs, next, err := e.s.Idle(e.ctx(), e.org, idleSince, after, limit)
		if err != nil {
			e.t.Fatalf("Idle(%v, after %q, %d): %v", idleSince, after, limit, err)
		}
		if len(cs) > limit {
			e.t.Fatalf("Idle(limit %d): %d chats", limit, len(cs))
		}
		if len(cs) == 0 && after != "" {
			e.t.Errorf("Idle(limit %d): a next position led to an empty page", limit)
		}
		out = append(out, chatIDs(cs)...)
		if next == "" {
			return out
		}
		after = next
	}
}

func (e *env) loggedInAll(before time.Time, limit int) []string {
	e.t.Helper()
	var out []string
	after := ""
	for page := 0; ; page++ {
		if page > 1000 {
			e.t.Fatalf("LoggedInBefore pages without end")
		}
		as, next, err := e.s.LoggedInBefore(e.ctx(), e.org, before, after, limit)
		if err != nil {
			e.t.Fatalf("LoggedInBefore(%v, after %q, %d): %v", before, after, limit, err)
		}
		if len(as) > limit {
			e.t.Fatalf("LoggedInBefore(limit %d): %d agents", limit, len(as))
		}
		if len(as) == 0 && after != "" {
			e.t.Errorf("LoggedInBefore(limit %d): a next position led to an empty page", limit)
		}
		out = append(out, agentIDs(as)...)
		if next == "" {
			return out
		}
		after = next
	}
}

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func wantCode(t *testing.T, what string, err error, code problem.Code) {
	t.Helper()
	if !problem.Is(err, code) {
		t.Errorf("%s: got %v, want a %s problem", what, err, code)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got %v, want %v", what, err, target)
	}
}

// ---------------------------------------------------------------- records

func testNothingStored(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	if c, found, err := s.Chat(e.ctx(), e.org, "c-1"); err != nil || found || c.Version != 0 {
		t.Errorf("Chat of nothing stored: %+v, found %v, %v; want not found", c, found, err)
	}
	if a, found, err := s.Agent(e.ctx(), e.org, "a-1"); err != nil || found || a.Version != 0 {
		t.Errorf("Agent of nothing stored: %+v, found %v, %v; want not found", a, found, err)
	}
	if msgs, more, err := s.Transcript(e.ctx(), e.org, "c-1", 10); err != nil || len(msgs) != 0 || more {
		t.Errorf("Transcript of nothing stored: %v, %v, %v; want none", msgs, more, err)
	}
	for _, st := range chats.Statuses {
		if p, err := s.List(e.ctx(), e.org, chats.ListQuery{Status: st, Limit: 10}); err != nil || len(p.Chats) != 0 || p.Next != "" {
			t.Errorf("List(%s) of nothing stored: %+v, %v", st, p, err)
		}
	}
	if cs, next, err := s.Idle(e.ctx(), e.org, at(0), "", 10); err != nil || len(cs) != 0 || next != "" {
		t.Errorf("Idle of nothing stored: %v, %q, %v", cs, next, err)
	}
	if as, next, err := s.LoggedInBefore(e.ctx(), e.org, at(0), "", 10); err != nil || len(as) != 0 || next != "" {
		t.Errorf("LoggedInBefore of nothing stored: %v, %q, %v", as, next, err)
	}
	if cs, err := s.Awaiting(e.ctx(), e.org, "a-1", 10); err != nil || len(cs) != 0 {
		t.Errorf("Awaiting of nothing stored: %v, %v", cs, err)
	}
	if n, err := s.ActiveChats(e.ctx(), e.org, "a-1", 10); err != nil || n != 0 {
		t.Errorf("ActiveChats of nothing stored: %d, %v", n, err)
	}
	if as, err := s.Online(e.ctx(), e.org, 10); err != nil || len(as) != 0 {
		t.Errorf("Online of nothing stored: %v, %v", as, err)
	}
	if pos, err := s.Cursor(e.ctx(), newID("sweep")); err != nil || pos != "" {
		t.Errorf("Cursor of nothing stored: %q, %v", pos, err)
	}
	if err := s.Save(e.ctx(), chats.Change{}); err != nil {
		t.Errorf("Save of an empty change: %v", err)
	}
}

func testSaveNewChat(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	c := newChat(e.org, "c-1", chats.StatusOpen, at(1))
	c.AgentID = "a-1"
	c.LastUserMessageAt, c.LastAgentMessageAt = at(2), at(3)
	c.LastActivityAt = at(3)
	c.Messages = 2
	e.save(chats.Change{Chat: &c})
	e.wantChat(e.org, "c-1", c, 1)

	// Every field round-trips, zero times and empty strings included.
	c.Version = 1
	c.Status, c.StatusAt, c.ClosedAt, c.CloseReason = chats.StatusClosed, at(4), at(4), "auto_close"
	c.User = chats.User{ID: "u-2"}
	c.Channel, c.BusinessUnitID = "", ""
	e.save(chats.Change{Chat: &c})
	e.wantChat(e.org, "c-1", c, 2)

	// A chat known only from events before its start: no status, zero times.
	early := chats.Chat{OrgID: e.org, ChatID: "c-early", Messages: 1, LastUserMessageAt: at(1), LastActivityAt: at(1)}
	e.save(chats.Change{Chat: &early})
	e.wantChat(e.org, "c-early", early, 1)

	// Times come back in UTC whatever zone they were given in.
	zoned := newChat(e.org, "c-zoned", chats.StatusQueued, at(5).In(time.FixedZone("x", 5*3600)))
	e.save(chats.Change{Chat: &zoned})
	if got := e.chat(e.org, "c-zoned"); got.StatusAt.Location() != time.UTC || !got.StatusAt.Equal(at(5)) {
		t.Errorf("StatusAt given in +05:00: got %v, want %v in UTC", got.StatusAt, at(5))
	}
}

func testStaleVersion(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	c := newChat(e.org, "c-1", chats.StatusQueued, at(1))
	e.save(chats.Change{Chat: &c})
	stored := e.chat(e.org, "c-1")

	ev := event(newID("ev"), at(1))
	again := newChat(e.org, "c-1", chats.StatusOpen, at(2))
	m := message("m-1", chats.SenderUser, at(2))
	for _, v := range []int64{0, 2, 7, -1} {
		again.Version = v
		err := s.Save(e.ctx(), chats.Change{Chat: &again, Message: &m, Events: []bus.Event{ev}})
		wantErr(t, fmt.Sprintf("Save at version %d over version 1", v), err, chats.ErrConflict)
	}
	e.wantChat(e.org, "c-1", c, stored.Version)
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-1", 10); len(msgs) != 0 {
		t.Errorf("refused saves added messages: %v", msgs)
	}
	wantIDs(t, "pending events of refused saves", e.pending(at(10), ev.ID), nil)

	// A chat never stored is at version 0: any other version is a conflict.
	ghost := newChat(e.org, "c-ghost", chats.StatusQueued, at(1))
	ghost.Version = 1
	wantErr(t, "Save at version 1 of a chat never stored", s.Save(e.ctx(), chats.Change{Chat: &ghost}), chats.ErrConflict)
	if _, found, _ := s.Chat(e.ctx(), e.org, "c-ghost"); found {
		t.Errorf("a refused save stored the chat")
	}

	// The right version goes through, again and again.
	for v := int64(1); v <= 3; v++ {
		again.Version = v
		e.save(chats.Change{Chat: &again})
		e.wantChat(e.org, "c-1", again, v+1)
	}
}

func testSaveKeepsCaller(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	c := newChat(e.org, "c-1", chats.StatusQueued, at(1))
	a := newAgent(e.org, "a-1", chats.AgentOnline, at(1))
	m := message("m-1", chats.SenderUser, at(1))
	before := text(c) + text(a) + text(m)
	e.save(chats.Change{Chat: &c, Agent: &a, Message: &m})
	if c.Version != 0 || a.Version != 0 || text(c)+text(a)+text(m) != before || m.OrgID != "" || m.ChatID != "" {
		t.Errorf("Save changed the caller's records: chat v%d, agent v%d, %s%s%s", c.Version, a.Version, text(c), text(a), text(m))
	}
}

func testMessageDedupe(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	c := newChat(e.org, "c-1", chats.StatusOpen, at(1))
	c.Messages = 1
	m := message("m-1", chats.SenderUser, at(1))
	e.save(chats.Change{Chat: &c, Message: &m})

	// The same message again, with the chat at its stored version: ErrDuplicate, and
	// neither the chat nor the events of the change are kept.
	c2 := c
	c2.Version, c2.Messages, c2.LastUserMessageAt = 1, 2, at(5)
	ev := event(newID("ev"), at(5))
	for _, dup := range []chats.Message{m, {MessageID: "m-1", Sender: chats.SenderAgent, Text: "other", SentAt: at(9)}} {
		err := s.Save(e.ctx(), chats.Change{Chat: &c2, Message: &dup, Events: []bus.Event{ev}})
		wantErr(t, "Save of a stored message (sent at "+dup.SentAt.Format(time.Kitchen)+")", err, chats.ErrDuplicate)
	}
	e.wantChat(e.org, "c-1", c, 1)
	wantIDs(t, "pending events of a duplicate", e.pending(at(10), ev.ID), nil)
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-1", 10); len(msgs) != 1 || msgs[0].Text != m.Text {
		t.Errorf("transcript after duplicates: %+v, want the first message only", msgs)
	}

	// Duplicate and stale at once: nothing is written, whichever error is given.
	c2.Version = 0
	if err := s.Save(e.ctx(), chats.Change{Chat: &c2, Message: &m}); !errors.Is(err, chats.ErrDuplicate) && !errors.Is(err, chats.ErrConflict) {
		t.Errorf("stale and duplicate: got %v, want ErrDuplicate or ErrConflict", err)
	}
	e.wantChat(e.org, "c-1", c, 1)

	// Another message id is added; the same id in another chat is another message.
	c2.Version = 1
	m2 := message("m-2", chats.SenderAgent, at(2))
	e.save(chats.Change{Chat: &c2, Message: &m2, Events: []bus.Event{ev}})
	e.publishAtEnd(ev.ID)
	other := newChat(e.org, "c-2", chats.StatusOpen, at(1))
	e.save(chats.Change{Chat: &other, Message: &m})
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-1", 10); len(msgs) != 2 {
		t.Errorf("transcript of c-1: %d messages, want 2", len(msgs))
	}
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-2", 10); len(msgs) != 1 || msgs[0].MessageID != "m-1" || msgs[0].ChatID != "c-2" {
		t.Errorf("transcript of c-2: %+v, want m-1", msgs)
	}
}

func testMessageRules(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	m := message("m-1", chats.SenderUser, at(1))
	if err := s.Save(e.ctx(), chats.Change{Message: &m}); err == nil {
		t.Errorf("Save of a message without its chat: accepted")
	}
	c := newChat(e.org, "c-1", chats.StatusOpen, at(1))
	for _, bad := range []chats.Message{
		{OrgID: e.org, ChatID: "c-2", MessageID: "m-1", SentAt: at(1)},
		{OrgID: newID("org"), ChatID: "c-1", MessageID: "m-1", SentAt: at(1)},
		{MessageID: "", SentAt: at(1)},
		{MessageID: "m#1", SentAt: at(1)},
		{MessageID: strings.Repeat("m", 65), SentAt: at(1)},
	} {
		if err := s.Save(e.ctx(), chats.Change{Chat: &c, Message: &bad}); err == nil || errors.Is(err, chats.ErrDuplicate) || errors.Is(err, chats.ErrConflict) {
			t.Errorf("Save with message %q of %q/%q: got %v, want a refusal", bad.MessageID, bad.OrgID, bad.ChatID, err)
		}
	}
	if _, found, _ := s.Chat(e.ctx(), e.org, "c-1"); found {
		t.Errorf("a refused change stored its chat")
	}
	// OrgID and ChatID may be given (the chat's) or left empty; the transcript fills them.
	m.OrgID, m.ChatID = e.org, "c-1"
	e.save(chats.Change{Chat: &c, Message: &m})
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-1", 1); len(msgs) != 1 || msgs[0].OrgID != e.org || msgs[0].ChatID != "c-1" {
		t.Errorf("transcript: %+v", msgs)
	}
}

func testAgentSaves(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	a := chats.Agent{OrgID: e.org, AgentID: "a-1", Status: chats.AgentOnline, StatusAt: at(1), LastLoginAt: at(1),
		Busy: true, MaxChats: 4, BusinessUnits: []string{"bu-1", "bu-2"}}
	e.save(chats.Change{Agent: &a})
	got := e.agent(e.org, "a-1")
	if text(got) != text(a) || got.Version != 1 {
		t.Errorf("Agent: got v%d %s, want v1 %s", got.Version, text(got), text(a))
	}
	for _, v := range []int64{0, 2, -1} {
		b := a
		b.Version, b.Status = v, chats.AgentOffline
		wantErr(t, fmt.Sprintf("agent Save at version %d over 1", v), s.Save(e.ctx(), chats.Change{Agent: &b}), chats.ErrConflict)
	}
	b := chats.Agent{OrgID: e.org, AgentID: "a-1", Status: chats.AgentAway, StatusAt: at(2), Version: 1}
	e.save(chats.Change{Agent: &b})
	if got := e.agent(e.org, "a-1"); text(got) != text(b) || got.Version != 2 {
		t.Errorf("Agent after update: got v%d %s, want v2 %s", got.Version, text(got), text(b))
	}
	ghost := newAgent(e.org, "a-ghost", chats.AgentOnline, at(1))
	ghost.Version = 3
	wantErr(t, "agent Save at version 3 of an agent never stored", s.Save(e.ctx(), chats.Change{Agent: &ghost}), chats.ErrConflict)
	if _, found, _ := s.Agent(e.ctx(), e.org, "a-ghost"); found {
		t.Errorf("a refused save stored the agent")
	}
	// An agent is not a chat: the ids are separate.
	if _, found, _ := s.Chat(e.ctx(), e.org, "a-1"); found {
		t.Errorf("Chat(a-1) found the agent")
	}
}

func testChatAndAgentAtomic(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	a := e.putAgent(newAgent(e.org, "a-1", chats.AgentOnline, at(1)))
	c := newChat(e.org, "c-1", chats.StatusQueued, at(1))
	e.save(chats.Change{Chat: &c})

	// Allocate the chat and mark the agent busy in one change; the agent is stale.
	c.Version, c.Status, c.AgentID, c.StatusAt = 1, chats.StatusOpen, "a-1", at(2)
	stale := a
	stale.Version, stale.Busy = 0, true
	ev := event(newID("ev"), at(2))
	m := message("m-1", chats.SenderSystem, at(2))
	wantErr(t, "change with a stale agent", s.Save(e.ctx(), chats.Change{Chat: &c, Agent: &stale, Message: &m, Events: []bus.Event{ev}}), chats.ErrConflict)
	if got := e.chat(e.org, "c-1"); got.Version != 1 || got.Status != chats.StatusQueued {
		t.Errorf("the chat of a refused change was written: v%d %q", got.Version, got.Status)
	}
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-1", 10); len(msgs) != 0 {
		t.Errorf("the message of a refused change was written")
	}
	wantIDs(t, "pending events of a refused change", e.pending(at(10), ev.ID), nil)
	if n, _ := s.ActiveChats(e.ctx(), e.org, "a-1", 10); n != 0 {
		t.Errorf("ActiveChats after a refused change: %d", n)
	}

	// With the agent's version right, both are written.
	stale.Version = a.Version
	e.save(chats.Change{Chat: &c, Agent: &stale, Message: &m, Events: []bus.Event{ev}})
	e.publishAtEnd(ev.ID)
	if got := e.agent(e.org, "a-1"); !got.Busy || got.Version != 2 {
		t.Errorf("agent after the change: %+v", got)
	}
	if got := e.chat(e.org, "c-1"); got.Version != 2 || got.AgentID != "a-1" {
		t.Errorf("chat after the change: %+v", got)
	}
	if n, _ := s.ActiveChats(e.ctx(), e.org, "a-1", 10); n != 1 {
		t.Errorf("ActiveChats after the change: %d, want 1", n)
	}
}

func testRefusedChanges(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ok := newChat(e.org, "c-1", chats.StatusQueued, at(1))
	okAgent := newAgent(e.org, "a-1", chats.AgentOnline, at(1))
	ev := event(newID("ev"), at(1))
	weird := newChat(e.org, "c-1", "pending", at(1))
	weirdAgent := newAgent(e.org, "a-1", "busy", at(1))
	for _, tc := range []struct {
		name string
		ch   chats.Change
	}{
		{"UnknownChatStatus", chats.Change{Chat: &weird, Events: []bus.Event{ev}}},
		{"UnknownAgentStatus", chats.Change{Chat: &ok, Agent: &weirdAgent, Events: []bus.Event{ev}}},
		{"EventWithoutID", chats.Change{Chat: &ok, Events: []bus.Event{ev, {DetailType: "X", Detail: json.RawMessage(`{}`), Time: at(1)}}}},
		{"TwoEventsOneID", chats.Change{Chat: &ok, Agent: &okAgent, Events: []bus.Event{ev, ev}}},
		{"EventIDWithNUL", chats.Change{Chat: &ok, Events: []bus.Event{ev, withID(event(newID("ev"), at(1)), "a\x00b")}}},
	} {
		if err := s.Save(e.ctx(), tc.ch); err == nil || errors.Is(err, chats.ErrConflict) || errors.Is(err, chats.ErrDuplicate) {
			t.Errorf("%s: got %v, want a refusal", tc.name, err)
		}
	}
	if _, found, _ := s.Chat(e.ctx(), e.org, "c-1"); found {
		t.Errorf("a refused change stored its chat")
	}
	if _, found, _ := s.Agent(e.ctx(), e.org, "a-1"); found {
		t.Errorf("a refused change stored its agent")
	}
	wantIDs(t, "pending events of refused changes", e.pending(at(10), ev.ID), nil)
}

// ---------------------------------------------------------------- pending events

func testPending(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	t0 := era()
	ev1 := event(newID("ev")+"/b", t0.Add(2*time.Minute))
	ev2 := event(newID("ev")+"/b", t0.Add(time.Minute))
	ev3 := event(ev2.ID[:len(ev2.ID)-2]+"/a", t0.Add(time.Minute)) // same time as ev2, id sorts first
	ev4 := event("chat-auto-closed/"+e.org+"/c-1/"+t0.Add(3*time.Minute).Format(time.RFC3339Nano), t0.Add(3*time.Minute))
	ids := []string{ev1.ID, ev2.ID, ev3.ID, ev4.ID}
	e.publishAtEnd(ids...)

	c := newChat(e.org, "c-1", chats.StatusOpen, at(1))
	e.save(chats.Change{Chat: &c, Events: []bus.Event{ev1, ev2}})
	e.save(chats.Change{Events: []bus.Event{ev3}}) // events only
	a := newAgent(e.org, "a-1", chats.AgentOnline, at(1))
	e.save(chats.Change{Agent: &a, Events: []bus.Event{ev4}})

	wantIDs(t, "Pending at ev1's time (inclusive)", e.pending(ev1.Time, ids...), []string{ev3.ID, ev2.ID, ev1.ID})
	wantIDs(t, "Pending 1ns before ev1", e.pending(ev1.Time.Add(-time.Nanosecond), ids...), []string{ev3.ID, ev2.ID})
	wantIDs(t, "Pending before all", e.pending(t0, ids...), nil)
	wantIDs(t, "Pending of all", e.pending(t0.Add(time.Hour), ids...), []string{ev3.ID, ev2.ID, ev1.ID, ev4.ID})

	// Every field comes back as saved.
	evs, err := s.Pending(e.ctx(), t0.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range evs {
		if got.ID != ev4.ID {
			continue
		}
		if got.DetailType != ev4.DetailType || string(got.Detail) != string(ev4.Detail) || !got.Time.Equal(ev4.Time) || got.Time.Location() != time.UTC {
			t.Errorf("pending event:\n got %+v (%s)\nwant %+v (%s)", got, got.Detail, ev4, ev4.Detail)
		}
	}

	// The same event kept again (a retried change) is still one pending event, at the
	// time it was kept with last.
	e.save(chats.Change{Events: []bus.Event{ev3}})
	wantIDs(t, "Pending after keeping ev3 twice", e.pending(t0.Add(time.Hour), ids...), []string{ev3.ID, ev2.ID, ev1.ID, ev4.ID})
	later := ev3
	later.Time = t0.Add(5 * time.Minute)
	e.save(chats.Change{Events: []bus.Event{later}})
	wantIDs(t, "Pending after keeping ev3 again, later", e.pending(t0.Add(time.Hour), ids...), []string{ev2.ID, ev1.ID, ev4.ID, ev3.ID})
	wantIDs(t, "Pending before ev3's new time", e.pending(t0.Add(4*time.Minute), ids...), []string{ev2.ID, ev1.ID, ev4.ID})
}

func testPendingOnlyWithChange(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	t0 := era()
	c := newChat(e.org, "c-1", chats.StatusOpen, t0)
	kept := event(newID("ev"), t0)
	e.publishAtEnd(kept.ID)
	m := message("m-1", chats.SenderUser, t0)
	e.save(chats.Change{Chat: &c, Message: &m, Events: []bus.Event{kept}})

	var refused []string
	stale := c
	ev := event(newID("ev"), t0)
	refused = append(refused, ev.ID)
	wantErr(t, "stale", s.Save(e.ctx(), chats.Change{Chat: &stale, Events: []bus.Event{ev}}), chats.ErrConflict)
	dup := c
	dup.Version = 1
	ev = event(newID("ev"), t0)
	refused = append(refused, ev.ID)
	wantErr(t, "duplicate", s.Save(e.ctx(), chats.Change{Chat: &dup, Message: &m, Events: []bus.Event{ev}}), chats.ErrDuplicate)
	a := newAgent(e.org, "a-1", chats.AgentOnline, t0)
	a.Version = 4
	ev = event(newID("ev"), t0)
	refused = append(refused, ev.ID)
	wantErr(t, "stale agent", s.Save(e.ctx(), chats.Change{Agent: &a, Events: []bus.Event{ev}}), chats.ErrConflict)

	wantIDs(t, "pending events", e.pending(t0.Add(time.Hour), append(refused, kept.ID)...), []string{kept.ID})
}

func testPendingLimitPublished(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	t0 := era()
	var evs []bus.Event
	var ids []string
	for i := range 7 {
		ev := event(fmt.Sprintf("%s-%d", newID("ev"), i), t0.Add(time.Duration(i)*time.Second))
		evs = append(evs, ev)
		ids = append(ids, ev.ID)
	}
	e.publishAtEnd(ids...)
	e.save(chats.Change{Events: evs[3:]})
	e.save(chats.Change{Events: evs[:3]})

	for _, limit := range []int{1, 3, 7} {
		got, err := s.Pending(e.ctx(), t0.Add(time.Hour), limit)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, fmt.Sprintf("Pending(limit %d)", limit), eventIDs(got), ids[:limit])
	}

	// Published forgets the events named, ignoring unknown and malformed ids, and may be
	// repeated.
	for range 2 {
		if err := s.Published(e.ctx(), []string{ids[0], ids[2], newID("unknown"), "", "a\x00b", strings.Repeat("x", 5000)}); err != nil {
			t.Fatalf("Published: %v", err)
		}
	}
	wantIDs(t, "Pending after Published", e.pending(t0.Add(time.Hour), ids...), []string{ids[1], ids[3], ids[4], ids[5], ids[6]})
	if err := s.Published(e.ctx(), nil); err != nil {
		t.Errorf("Published(nil): %v", err)
	}
	// Many ids at once (more than any batch).
	var many []string
	for i := range 60 {
		many = append(many, fmt.Sprintf("%s-%d", newID("none"), i))
	}
	if err := s.Published(e.ctx(), append(many, ids...)); err != nil {
		t.Fatalf("Published of %d ids: %v", len(many)+len(ids), err)
	}
	wantIDs(t, "Pending after publishing all", e.pending(t0.Add(time.Hour), ids...), nil)
}

// ---------------------------------------------------------------- lists

// listFixture stores, in a fresh org, for each status five chats whose StatusAt are
// at(5), at(1), at(3), at(2), at(2) with ids x5, x1, x3, b2, a2 (x the status's initial),
// plus a chat with no status.
func listFixture(e *env) {
	e.t.Helper()
	for _, st := range chats.Statuses {
		p := st[:1]
		for _, tc := range []struct {
			id string
			m  int
		}{{p + "5", 5}, {p + "1", 1}, {p + "3", 3}, {"b2-" + p, 2}, {"a2-" + p, 2}} {
			c := newChat(e.org, tc.id, st, at(tc.m))
			if st == chats.StatusOpen {
				c.AgentID = "a-1"
			}
			e.put(c)
		}
	}
	e.put(chats.Chat{OrgID: e.org, ChatID: "n-none", LastActivityAt: at(0)})
}

func listWant(status string) []string {
	p := status[:1]
	if status == chats.StatusQueued {
		return []string{p + "1", "a2-" + p, "b2-" + p, p + "3", p + "5"}
	}
	return []string{p + "5", p + "3", "a2-" + p, "b2-" + p, p + "1"}
}

func testListOrders(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	listFixture(e)
	for _, st := range chats.Statuses {
		wantIDs(t, "List("+st+")", e.listAll(e.org, st, chats.MaxListLimit), listWant(st))
	}
	// Chats come back whole.
	p, err := s.List(e.ctx(), e.org, chats.ListQuery{Status: chats.StatusQueued, Limit: 1})
	if err != nil || len(p.Chats) != 1 {
		t.Fatalf("List(queued, 1): %+v, %v", p, err)
	}
	if want := newChat(e.org, "q1", chats.StatusQueued, at(1)); text(p.Chats[0]) != text(want) || p.Chats[0].Version != 1 {
		t.Errorf("listed chat: got v%d %s, want v1 %s", p.Chats[0].Version, text(p.Chats[0]), text(want))
	}
}

func testListPaging(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	listFixture(e)
	for _, st := range chats.Statuses {
		for _, limit := range []int{1, 2, 3, 4, 5, 6} {
			wantIDs(t, fmt.Sprintf("List(%s) by pages of %d", st, limit), e.listAll(e.org, st, limit), listWant(st))
		}
	}
	// A full last page says nothing follows.
	p, err := s.List(e.ctx(), e.org, chats.ListQuery{Status: chats.StatusClosed, Limit: 5})
	if err != nil || len(p.Chats) != 5 || p.Next != "" {
		t.Errorf("List(closed, 5) of 5 chats: %d chats, next %q, %v; want 5 and no next", len(p.Chats), p.Next, err)
	}
	// A position stays valid when its chat leaves the list.
	p, err = s.List(e.ctx(), e.org, chats.ListQuery{Status: chats.StatusQueued, Limit: 2})
	if err != nil || len(p.Chats) != 2 || p.Next == "" {
		t.Fatalf("List(queued, 2): %+v, %v", p, err)
	}
	moved := p.Chats[1]
	moved.Status, moved.StatusAt = chats.StatusClosed, at(9)
	e.put(moved)
	rest, err := s.List(e.ctx(), e.org, chats.ListQuery{Status: chats.StatusQueued, Limit: 10, After: p.Next})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "List(queued) after a position whose chat closed", chatIDs(rest.Chats), []string{"b2-q", "q3", "q5"})
}

func testListLeaving(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	listFixture(e)
	// q3 is allocated (open, newest), o5 closes (newest closed), m1 ... stays.
	q3 := e.chat(e.org, "q3")
	q3.Status, q3.StatusAt, q3.AgentID = chats.StatusOpen, at(6), "a-1"
	e.put(q3)
	o5 := e.chat(e.org, "o5")
	o5.Status, o5.StatusAt = chats.StatusClosed, at(7)
	e.put(o5)
	// A chat whose StatusAt changes within its status moves within its list.
	q1 := e.chat(e.org, "q1")
	q1.StatusAt = at(8)
	e.put(q1)
	wantIDs(t, "List(queued)", e.listAll(e.org, chats.StatusQueued, 2), []string{"a2-q", "b2-q", "q5", "q1"})
	wantIDs(t, "List(open)", e.listAll(e.org, chats.StatusOpen, 2), []string{"q3", "o3", "a2-o", "b2-o", "o1"})
	wantIDs(t, "List(closed)", e.listAll(e.org, chats.StatusClosed, 2), []string{"o5", "c5", "c3", "a2-c", "b2-c", "c1"})
	// A chat losing its status (as stored records never do, but the store must not care)
	// leaves every list.
	m1 := e.chat(e.org, "m1")
	m1.Status = ""
	e.put(m1)
	wantIDs(t, "List(missed)", e.listAll(e.org, chats.StatusMissed, 10), []string{"m5", "m3", "a2-m", "b2-m"})
}

func testListRefusals(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	for _, q := range []chats.ListQuery{
		{Status: "", Limit: 10}, {Status: "pending", Limit: 10}, {Status: "OPEN", Limit: 10},
		{Status: chats.StatusOpen, Limit: 0}, {Status: chats.StatusOpen, Limit: -1}, {Status: chats.StatusOpen, Limit: chats.MaxListLimit + 1},
	} {
		if _, err := s.List(e.ctx(), e.org, q); err == nil {
			t.Errorf("List(%+v): accepted", q)
		}
	}
}

func testIdle(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	for _, tc := range []struct {
		id, status string
		activity   int
	}{
		{"open-1", chats.StatusOpen, 1}, {"queued-2", chats.StatusQueued, 2}, {"open-3", chats.StatusOpen, 3},
		{"b-open-2", chats.StatusOpen, 2}, {"closed-0", chats.StatusClosed, 0}, {"missed-0", chats.StatusMissed, 0},
		{"open-5", chats.StatusOpen, 5}, {"queued-4", chats.StatusQueued, 4},
	} {
		c := newChat(e.org, tc.id, tc.status, at(0))
		c.LastActivityAt = at(tc.activity)
		e.put(c)
	}
	e.put(chats.Chat{OrgID: e.org, ChatID: "none-0", LastActivityAt: at(0)})

	// Inclusive at idleSince, oldest first, ties by chat id.
	wantIDs(t, "Idle(at 3)", e.idleAll(at(3), 100), []string{"open-1", "b-open-2", "queued-2", "open-3"})
	wantIDs(t, "Idle(1ns before 3)", e.idleAll(at(3).Add(-time.Nanosecond), 100), []string{"open-1", "b-open-2", "queued-2"})
	wantIDs(t, "Idle(before all)", e.idleAll(at(0), 100), nil)
	wantIDs(t, "Idle(after all)", e.idleAll(at(60), 100), []string{"open-1", "b-open-2", "queued-2", "open-3", "queued-4", "open-5"})
	cs, _, err := s.Idle(e.ctx(), e.org, at(1), "", 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Idle(at 1, 1): %v, %v", cs, err)
	}
	want := newChat(e.org, "open-1", chats.StatusOpen, at(0))
	want.LastActivityAt = at(1)
	if text(cs[0]) != text(want) || cs[0].Version != 1 {
		t.Errorf("idle chat: got v%d %s, want v1 %s", cs[0].Version, text(cs[0]), text(want))
	}
}

func testIdlePaging(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	var all []string
	for i := range 7 {
		c := newChat(e.org, fmt.Sprintf("c-%d", i), chats.StatusOpen, at(0))
		c.LastActivityAt = at(i)
		e.put(c)
		all = append(all, c.ChatID)
	}
	for _, limit := range []int{1, 2, 3, 4, 7, 8} {
		wantIDs(t, fmt.Sprintf("Idle(at 4) by pages of %d", limit), e.idleAll(at(4), limit), all[:5])
	}
	// A full page that reaches the end says so.
	if cs, next, err := s.Idle(e.ctx(), e.org, at(4), "", 5); err != nil || len(cs) != 5 || next != "" {
		t.Errorf("Idle(at 4, 5) of 5 idle chats: %d, next %q, %v; want 5 and no next", len(cs), next, err)
	}

	// A sweep closes what it read, or the chats get newer activity, and resumes from its
	// position: those chats are not read again.
	cs, next, err := s.Idle(e.ctx(), e.org, at(4), "", 2)
	if err != nil || len(cs) != 2 || next == "" {
		t.Fatalf("Idle(at 4, 2): %v, %q, %v", chatIDs(cs), next, err)
	}
	closed := cs[0]
	closed.Status, closed.ClosedAt, closed.StatusAt = chats.StatusClosed, at(9), at(9)
	e.put(closed)
	busy := e.chat(e.org, "c-2")
	busy.LastActivityAt = at(10)
	e.put(busy)
	queued := e.chat(e.org, "c-3")
	queued.Status = chats.StatusQueued
	e.put(queued)
	rest, next2, err := s.Idle(e.ctx(), e.org, at(4), next, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Idle resumed", chatIDs(rest), []string{"c-3", "c-4"})
	if next2 != "" {
		t.Errorf("Idle resumed to the end: next %q", next2)
	}
	wantIDs(t, "Idle from the start", e.idleAll(at(4), 10), []string{"c-1", "c-3", "c-4"})
	// A position past idleSince (the sweep's bound moved back) finds nothing.
	if cs, next, err := s.Idle(e.ctx(), e.org, at(0), next, 10); err != nil || len(cs) != 0 || next != "" {
		t.Errorf("Idle(at 0) after a later position: %v, %q, %v", chatIDs(cs), next, err)
	}
}

func testLoggedInBefore(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	for _, tc := range []struct {
		id    string
		login int // -1: never
	}{{"a-1", 1}, {"a-2", 2}, {"a-3", 3}, {"b-2", 2}, {"never", -1}, {"a-9", 9}} {
		a := newAgent(e.org, tc.id, chats.AgentOnline, at(0))
		if tc.login >= 0 {
			a.LastLoginAt = at(tc.login)
		}
		e.putAgent(a)
	}
	wantIDs(t, "LoggedInBefore(at 3)", e.loggedInAll(at(3), 100), []string{"a-1", "a-2", "b-2"})
	wantIDs(t, "LoggedInBefore(1ns after 3)", e.loggedInAll(at(3).Add(time.Nanosecond), 100), []string{"a-1", "a-2", "b-2", "a-3"})
	for _, limit := range []int{1, 2, 3, 5} {
		wantIDs(t, fmt.Sprintf("LoggedInBefore(at 10) by %d", limit), e.loggedInAll(at(10), limit), []string{"a-1", "a-2", "b-2", "a-3", "a-9"})
	}
	wantIDs(t, "LoggedInBefore(at 1)", e.loggedInAll(at(1), 10), nil)
	as, _, err := s.LoggedInBefore(e.ctx(), e.org, at(2), "", 10)
	if err != nil || len(as) != 1 || as[0].AgentID != "a-1" || !as[0].LastLoginAt.Equal(at(1)) || as[0].Version != 1 || as[0].Status != chats.AgentOnline {
		t.Errorf("LoggedInBefore(at 2): %+v, %v", as, err)
	}
	// A new login moves the agent; resuming skips what was read.
	as, next, err := s.LoggedInBefore(e.ctx(), e.org, at(10), "", 2)
	if err != nil || next == "" {
		t.Fatalf("LoggedInBefore(at 10, 2): %v, %q, %v", agentIDs(as), next, err)
	}
	a1 := e.agent(e.org, "a-1")
	a1.LastLoginAt = at(20)
	e.putAgent(a1)
	wantIDs(t, "LoggedInBefore(at 10)", e.loggedInAll(at(10), 10), []string{"a-2", "b-2", "a-3", "a-9"})
	rest, _, err := s.LoggedInBefore(e.ctx(), e.org, at(10), next, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "LoggedInBefore resumed", agentIDs(rest), []string{"b-2", "a-3", "a-9"})
}

func testAwaiting(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	mk := func(id, status, agent string, user, answer int) chats.Chat {
		c := newChat(e.org, id, status, at(0))
		c.AgentID = agent
		if user >= 0 {
			c.LastUserMessageAt = at(user)
		}
		if answer >= 0 {
			c.LastAgentMessageAt = at(answer)
		}
		return e.put(c)
	}
	mk("c-1", chats.StatusOpen, "x", 2, 1)    // awaiting
	mk("c-2", chats.StatusOpen, "x", 1, 3)    // answered
	mk("c-3", chats.StatusOpen, "x", 1, -1)   // awaiting, never answered
	mk("c-4", chats.StatusQueued, "", 0, -1)  // queued
	mk("c-5", chats.StatusOpen, "y", 0, -1)   // another agent's
	mk("c-6", chats.StatusClosed, "x", 5, 1)  // closed
	mk("c-7", chats.StatusOpen, "x", -1, -1)  // no user message
	mk("c-8", chats.StatusOpen, "x", 4, 4)    // answered at once
	mk("b-1", chats.StatusOpen, "x", 1, 0)    // awaiting, ties c-3
	mk("c-9", chats.StatusMissed, "x", 5, -1) // missed
	got, err := s.Awaiting(e.ctx(), e.org, "x", 10)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Awaiting(x)", chatIDs(got), []string{"b-1", "c-3", "c-1"})
	for _, c := range got {
		if !c.Awaiting() || c.Version != 1 {
			t.Errorf("awaiting chat %s: %+v", c.ChatID, c)
		}
	}
	if got, _ := s.Awaiting(e.ctx(), e.org, "x", 1); len(got) != 1 || got[0].ChatID != "b-1" {
		t.Errorf("Awaiting(x, 1): %v", chatIDs(got))
	}
	if got, _ := s.Awaiting(e.ctx(), e.org, "y", 10); len(got) != 1 || got[0].ChatID != "c-5" {
		t.Errorf("Awaiting(y): %v", chatIDs(got))
	}

	// Answered, closed, moved to the queue, reallocated: each leaves x's list.
	c1 := e.chat(e.org, "c-1")
	c1.LastAgentMessageAt = at(6)
	e.put(c1)
	b1 := e.chat(e.org, "b-1")
	b1.Status = chats.StatusClosed
	e.put(b1)
	c3 := e.chat(e.org, "c-3")
	c3.AgentID = "y"
	e.put(c3)
	c8 := e.chat(e.org, "c-8")
	c8.LastUserMessageAt = at(7) // a new user message: c-8 awaits again
	e.put(c8)
	got, _ = s.Awaiting(e.ctx(), e.org, "x", 10)
	wantIDs(t, "Awaiting(x) after changes", chatIDs(got), []string{"c-8"})
	got, _ = s.Awaiting(e.ctx(), e.org, "y", 10)
	wantIDs(t, "Awaiting(y) after changes", chatIDs(got), []string{"c-5", "c-3"})
	c8 = e.chat(e.org, "c-8")
	c8.Status, c8.AgentID = chats.StatusQueued, ""
	e.put(c8)
	if got, _ := s.Awaiting(e.ctx(), e.org, "x", 10); len(got) != 0 {
		t.Errorf("Awaiting(x) after moving to the queue: %v", chatIDs(got))
	}
}

func testActiveChats(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	for i, tc := range []struct{ status, agent string }{
		{chats.StatusOpen, "x"}, {chats.StatusOpen, "x"}, {chats.StatusOpen, "x"}, {chats.StatusQueued, ""},
		{chats.StatusClosed, "x"}, {chats.StatusMissed, "x"}, {chats.StatusOpen, "y"},
	} {
		c := newChat(e.org, fmt.Sprintf("c-%d", i), tc.status, at(i))
		c.AgentID = tc.agent
		e.put(c)
	}
	for _, tc := range []struct {
		agent string
		limit int
		want  int
	}{{"x", 10, 3}, {"x", 3, 3}, {"x", 2, 2}, {"x", 1, 1}, {"y", 10, 1}, {"z", 10, 0}} {
		if n, err := s.ActiveChats(e.ctx(), e.org, tc.agent, tc.limit); err != nil || n != tc.want {
			t.Errorf("ActiveChats(%s, %d) = %d, %v; want %d", tc.agent, tc.limit, n, err, tc.want)
		}
	}
	open := func(agent string, limit int) []string {
		ids, err := s.OpenChats(e.ctx(), e.org, agent, limit)
		if err != nil {
			t.Fatalf("OpenChats(%s): %v", agent, err)
		}
		slices.Sort(ids)
		return ids
	}
	if got := open("x", 10); !slices.Equal(got, []string{"c-0", "c-1", "c-2"}) {
		t.Errorf("OpenChats(x) = %v, want c-0 c-1 c-2", got)
	}
	if got := open("x", 2); len(got) != 2 {
		t.Errorf("OpenChats(x, 2) = %v, want 2 ids", got)
	}
	if got, err := s.OpenChats(e.ctx(), e.org, "z", 10); err != nil || len(got) != 0 {
		t.Errorf("OpenChats(z) = %v, %v; want none", got, err)
	}
	c := e.chat(e.org, "c-0")
	c.Status = chats.StatusClosed
	e.put(c)
	c = e.chat(e.org, "c-1")
	c.AgentID = "y"
	e.put(c)
	if n, _ := s.ActiveChats(e.ctx(), e.org, "x", 10); n != 1 {
		t.Errorf("ActiveChats(x) after a close and a transfer: %d, want 1", n)
	}
	if n, _ := s.ActiveChats(e.ctx(), e.org, "y", 10); n != 2 {
		t.Errorf("ActiveChats(y) after a transfer: %d, want 2", n)
	}
	if got := open("y", 10); !slices.Equal(got, []string{"c-1", "c-6"}) {
		t.Errorf("OpenChats(y) after a transfer = %v, want c-1 c-6", got)
	}
}

func testOnline(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	for _, tc := range []struct{ id, status string }{
		{"b", chats.AgentOnline}, {"a", chats.AgentOnline}, {"c", chats.AgentAway}, {"d", chats.AgentOffline},
		{"e", ""}, {"f", chats.AgentOnline},
	} {
		e.putAgent(newAgent(e.org, tc.id, tc.status, at(1)))
	}
	get := func(limit int) []string {
		t.Helper()
		as, err := s.Online(e.ctx(), e.org, limit)
		if err != nil {
			t.Fatalf("Online(%d): %v", limit, err)
		}
		for _, a := range as {
			if a.Status != chats.AgentOnline || a.Version < 1 || a.OrgID != e.org {
				t.Errorf("online agent %+v", a)
			}
		}
		return agentIDs(as)
	}
	wantIDs(t, "Online(10)", get(10), []string{"a", "b", "f"})
	wantIDs(t, "Online(2)", get(2), []string{"a", "b"})
	b := e.agent(e.org, "b")
	b.Status = chats.AgentOffline
	e.putAgent(b)
	c := e.agent(e.org, "c")
	c.Status = chats.AgentOnline
	e.putAgent(c)
	wantIDs(t, "Online(10) after changes", get(10), []string{"a", "c", "f"})
}

func testOrgs(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ours := []string{newID("org"), newID("org"), newID("org")}
	for _, org := range ours {
		e.put(newChat(org, "c-1", chats.StatusQueued, at(1)))
		e.put(newChat(org, "c-2", chats.StatusOpen, at(1)))
		c := e.chat(org, "c-1")
		c.Status = chats.StatusClosed
		e.put(c)
	}
	agentOnly := newID("org")
	e.putAgent(newAgent(agentOnly, "a-1", chats.AgentOnline, at(1)))
	slices.Sort(ours)

	for _, limit := range []int{1, 2, 1000} {
		var all []string
		after := ""
		for page := 0; ; page++ {
			if page > 100000 {
				t.Fatalf("Orgs pages without end")
			}
			ids, next, err := s.Orgs(e.ctx(), after, limit)
			if err != nil {
				t.Fatalf("Orgs(after %q, %d): %v", after, limit, err)
			}
			if len(ids) > limit || (next != "" && len(ids) < limit) || (len(ids) == 0 && after != "") {
				t.Fatalf("Orgs(after %q, %d): %d ids, next %q", after, limit, len(ids), next)
			}
			all = append(all, ids...)
			if next == "" {
				break
			}
			after = next
		}
		if !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != len(all) {
			t.Errorf("Orgs by %d: not strictly ascending: %q", limit, all)
		}
		for _, org := range ours {
			if n := count(all, org); n != 1 {
				t.Errorf("Orgs by %d: %s listed %d times, want once", limit, org, n)
			}
		}
		if slices.Contains(all, agentOnly) {
			t.Errorf("Orgs by %d lists %s, which has only an agent", limit, agentOnly)
		}
	}
	// From a position: only later organisations.
	ids, _, err := s.Orgs(e.ctx(), ours[0], 1000)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ids, ours[0]) || !slices.Contains(ids, ours[1]) || (len(ids) > 0 && ids[0] <= ours[0]) {
		t.Errorf("Orgs(after %s): %q", ours[0], ids)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func testTranscript(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	c := newChat(e.org, "c-1", chats.StatusOpen, at(0))
	add := func(m chats.Message) {
		t.Helper()
		cur := e.chat(e.org, "c-1")
		cur.Messages++
		e.save(chats.Change{Chat: &cur, Message: &m})
	}
	e.save(chats.Change{Chat: &c})
	mb := message("m-b", chats.SenderUser, at(1))
	ma := message("m-a", chats.SenderAgent, at(1))
	ma.AgentID = "a-1"
	mc := message("m-c", chats.SenderBot, at(0))
	md := chats.Message{MessageID: "m-d", Sender: chats.SenderSystem, Text: strings.Repeat("é", chats.MaxText/2), SentAt: at(2).Add(time.Nanosecond), Truncated: true}
	me := message("m-0", chats.SenderUser, at(1).Add(-time.Nanosecond))
	zoned := me
	zoned.SentAt = me.SentAt.In(time.FixedZone("x", -3600)) // comes back in UTC
	for _, m := range []chats.Message{mb, ma, md, mc, zoned} {
		add(m)
	}
	// Another chat's messages stay in their chat.
	other := newChat(e.org, "c-10", chats.StatusOpen, at(0))
	om := message("m-a", chats.SenderUser, at(0))
	e.save(chats.Change{Chat: &other, Message: &om})

	want := []chats.Message{mc, me, ma, mb, md}
	msgs, more, err := s.Transcript(e.ctx(), e.org, "c-1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if more || len(msgs) != len(want) {
		t.Fatalf("Transcript(10): %d messages, more %v; want %d, false", len(msgs), more, len(want))
	}
	for i, m := range msgs {
		if text(m) != text(want[i]) || m.OrgID != e.org || m.ChatID != "c-1" || m.SentAt.Location() != time.UTC {
			t.Errorf("message %d:\n got %.200s (%s/%s)\nwant %.200s", i, text(m), m.OrgID, m.ChatID, text(want[i]))
		}
	}
	for _, tc := range []struct {
		limit int
		more  bool
	}{{1, true}, {2, true}, {4, true}, {5, false}, {chats.MaxTranscript, false}} {
		msgs, more, err := s.Transcript(e.ctx(), e.org, "c-1", tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range msgs {
			ids = append(ids, m.MessageID)
		}
		wantIDs(t, fmt.Sprintf("Transcript(%d)", tc.limit), ids, []string{"m-c", "m-0", "m-a", "m-b", "m-d"}[:min(tc.limit, 5)])
		if more != tc.more {
			t.Errorf("Transcript(%d): more %v, want %v", tc.limit, more, tc.more)
		}
	}
}

func testCursors(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	a, b := newID("auto-close"), newID("queue-move")
	get := func(sweep string) string {
		t.Helper()
		pos, err := s.Cursor(e.ctx(), sweep)
		if err != nil {
			t.Fatalf("Cursor(%s): %v", sweep, err)
		}
		return pos
	}
	set := func(sweep, pos string) {
		t.Helper()
		if err := s.SetCursor(e.ctx(), sweep, pos); err != nil {
			t.Fatalf("SetCursor(%s, %q): %v", sweep, pos, err)
		}
	}
	if got := get(a); got != "" {
		t.Errorf("Cursor of a sweep never run: %q", got)
	}
	long := strings.Repeat("p#/=+", 200)
	set(a, "org-1/open.0000000000000000001.c-1")
	set(b, long)
	if got := get(a); got != "org-1/open.0000000000000000001.c-1" {
		t.Errorf("Cursor(a) = %q", got)
	}
	if got := get(b); got != long {
		t.Errorf("Cursor(b) = %.20q..., want the long position", got)
	}
	set(a, "second")
	if got := get(a); got != "second" {
		t.Errorf("Cursor(a) after overwrite = %q", got)
	}
	set(a, "")
	if got := get(a); got != "" {
		t.Errorf("Cursor(a) after clearing = %q", got)
	}
	for _, bad := range []string{"", "a\x00b", strings.Repeat("s", 300)} {
		if _, err := s.Cursor(e.ctx(), bad); err == nil {
			t.Errorf("Cursor(%.20q): accepted", bad)
		}
		if err := s.SetCursor(e.ctx(), bad, "x"); err == nil {
			t.Errorf("SetCursor(%.20q): accepted", bad)
		}
	}
}

// ---------------------------------------------------------------- reports

func claim(t *testing.T, s chats.Store, org, chat string, now time.Time) chats.ReportState {
	t.Helper()
	st, err := s.ClaimReport(t.Context(), org, chat, now)
	if err != nil {
		t.Fatalf("ClaimReport(%s, %s): %v", org, chat, err)
	}
	return st
}

func testReportClaims(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	st := claim(t, s, e.org, "c-1", at(1))
	if !st.Claimed || st.Sent || st.InProgress || st.Attempts != 1 || !st.ClaimedAt.Equal(at(1)) {
		t.Fatalf("first claim: %+v, want Claimed, 1 attempt, at 1", st)
	}
	st = claim(t, s, e.org, "c-1", at(2))
	if st.Claimed || st.Sent || !st.InProgress || st.Attempts != 1 || !st.ClaimedAt.Equal(at(1)) {
		t.Errorf("second claim while held: %+v, want InProgress since at 1", st)
	}
	// A failed attempt releases the claim: the retry is granted.
	if err := s.FinishReport(e.ctx(), e.org, "c-1", false, "", ""); err != nil {
		t.Fatalf("FinishReport(not sent): %v", err)
	}
	wantErr(t, "FinishReport of a released claim", s.FinishReport(e.ctx(), e.org, "c-1", true, "x@example.com", "m"), chats.ErrConflict)
	st = claim(t, s, e.org, "c-1", at(3))
	if !st.Claimed || st.Attempts != 2 || !st.ClaimedAt.Equal(at(3)) {
		t.Fatalf("retry after release: %+v, want Claimed, 2 attempts, at 3", st)
	}
	if err := s.FinishReport(e.ctx(), e.org, "c-1", true, "ops@example.com", "ses-0001"); err != nil {
		t.Fatalf("FinishReport(sent): %v", err)
	}
	for i := range 2 {
		st = claim(t, s, e.org, "c-1", at(4+i))
		if st.Claimed || !st.Sent || st.InProgress || st.To != "ops@example.com" || st.MessageID != "ses-0001" || st.Attempts != 2 {
			t.Errorf("claim after sent: %+v, want Sent to ops@example.com (ses-0001), 2 attempts", st)
		}
	}
	for _, sent := range []bool{false, true} {
		wantErr(t, fmt.Sprintf("FinishReport(%v) after sent", sent), s.FinishReport(e.ctx(), e.org, "c-1", sent, "y@example.com", "other"), chats.ErrConflict)
	}
	if st := claim(t, s, e.org, "c-1", at(9)); !st.Sent || st.To != "ops@example.com" {
		t.Errorf("a refused FinishReport changed the sent report: %+v", st)
	}
	// Never claimed: FinishReport has no claim to end.
	wantErr(t, "FinishReport without a claim", s.FinishReport(e.ctx(), e.org, "c-2", true, "x@example.com", "m"), chats.ErrConflict)
	if st := claim(t, s, e.org, "c-2", at(1)); !st.Claimed || st.Attempts != 1 {
		t.Errorf("claim after a refused FinishReport: %+v", st)
	}
}

func testReportNeverTakenOver(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	claim(t, s, e.org, "c-1", at(1))
	for _, later := range []time.Duration{time.Minute, time.Hour, 30 * 24 * time.Hour, 10 * 365 * 24 * time.Hour} {
		st := claim(t, s, e.org, "c-1", at(1).Add(later))
		if st.Claimed || !st.InProgress || !st.ClaimedAt.Equal(at(1)) || st.Attempts != 1 {
			t.Errorf("claim %v after an unfinished one: %+v, want InProgress since at 1", later, st)
		}
	}
}

func testReportConcurrent(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	const n = 8
	var wg sync.WaitGroup
	states := make([]chats.ReportState, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { states[i], errs[i] = s.ClaimReport(e.ctx(), e.org, "c-1", at(i)) })
	}
	wg.Wait()
	claimed := 0
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Errorf("concurrent claim: %v", errs[i])
		case states[i].Claimed:
			claimed++
		case !states[i].InProgress:
			t.Errorf("concurrent claim neither claimed nor in progress: %+v", states[i])
		}
	}
	if claimed != 1 {
		t.Errorf("%d concurrent claims granted, want exactly 1", claimed)
	}
}

// ---------------------------------------------------------------- hostile input

var malformed = []string{"", "a#b", "a\x00b", "a/b", "-a", "a b", "é", strings.Repeat("a", 65)}

func testMalformedIDs(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ctx, org := e.ctx(), e.org
	e.put(newChat(org, "c-1", chats.StatusOpen, at(1)))
	for _, bad := range malformed {
		q := fmt.Sprintf("%q", bad)
		check := func(what string, err error) {
			t.Helper()
			wantCode(t, what+" with "+q, err, problem.NotFound)
		}
		_, _, err := s.Chat(ctx, bad, "c-1")
		check("Chat(org)", err)
		_, _, err = s.Chat(ctx, org, bad)
		check("Chat(chat)", err)
		_, _, err = s.Transcript(ctx, bad, "c-1", 10)
		check("Transcript(org)", err)
		_, _, err = s.Transcript(ctx, org, bad, 10)
		check("Transcript(chat)", err)
		_, _, err = s.Agent(ctx, bad, "a-1")
		check("Agent(org)", err)
		_, _, err = s.Agent(ctx, org, bad)
		check("Agent(agent)", err)
		refused := []chats.Chat{newChat(bad, "c-2", chats.StatusQueued, at(1)), newChat(org, bad, chats.StatusQueued, at(1))}
		if bad != "" { // "" is no agent
			refused = append(refused, chats.Chat{OrgID: org, ChatID: "c-2", Status: chats.StatusOpen, AgentID: bad})
		}
		for _, c := range refused {
			check("Save(chat "+c.OrgID+"/"+c.ChatID+" agent "+c.AgentID+")", s.Save(ctx, chats.Change{Chat: &c}))
		}
		for _, a := range []chats.Agent{newAgent(bad, "a-1", chats.AgentOnline, at(1)), newAgent(org, bad, chats.AgentOnline, at(1))} {
			check("Save(agent)", s.Save(ctx, chats.Change{Agent: &a}))
		}
		_, err = s.List(ctx, bad, chats.ListQuery{Status: chats.StatusOpen, Limit: 10})
		check("List", err)
		_, _, err = s.Idle(ctx, bad, at(1), "", 10)
		check("Idle", err)
		_, _, err = s.LoggedInBefore(ctx, bad, at(1), "", 10)
		check("LoggedInBefore", err)
		_, err = s.Awaiting(ctx, bad, "a-1", 10)
		check("Awaiting(org)", err)
		_, err = s.Awaiting(ctx, org, bad, 10)
		check("Awaiting(agent)", err)
		_, err = s.ActiveChats(ctx, bad, "a-1", 10)
		check("ActiveChats(org)", err)
		_, err = s.ActiveChats(ctx, org, bad, 10)
		check("ActiveChats(agent)", err)
		_, err = s.Online(ctx, bad, 10)
		check("Online", err)
		_, err = s.ClaimReport(ctx, bad, "c-1", at(1))
		check("ClaimReport(org)", err)
		_, err = s.ClaimReport(ctx, org, bad, at(1))
		check("ClaimReport(chat)", err)
		check("FinishReport(org)", s.FinishReport(ctx, bad, "c-1", true, "x@example.com", "m"))
		check("FinishReport(chat)", s.FinishReport(ctx, org, bad, true, "x@example.com", "m"))
	}
	// Nothing of the refused saves reached a key: the well-formed parts of them are not
	// stored, and "a" (what "a#b" or "a\x00b" would be cut to) has nothing.
	for _, id := range []string{"c-2", "a"} {
		if _, found, _ := s.Chat(ctx, org, id); found {
			t.Errorf("Chat(%s) found after refused saves", id)
		}
	}
	if _, found, _ := s.Chat(ctx, "a", "c-1"); found {
		t.Errorf("Chat(a, c-1) found after refused saves")
	}
	if p, _ := s.List(ctx, org, chats.ListQuery{Status: chats.StatusQueued, Limit: 10}); len(p.Chats) != 0 {
		t.Errorf("List(queued) after refused saves: %v", chatIDs(p.Chats))
	}
	if as, _ := s.Online(ctx, org, 10); len(as) != 0 {
		t.Errorf("Online after refused saves: %v", agentIDs(as))
	}
}

func testLongestIDs(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	org := e.org + strings.Repeat("o", 64-len(e.org))
	chat, agent := strings.Repeat("c", 64), strings.Repeat("A", 64)
	c := newChat(org, chat, chats.StatusOpen, at(1))
	c.AgentID, c.LastUserMessageAt = agent, at(1)
	a := newAgent(org, agent, chats.AgentOnline, at(1))
	a.LastLoginAt = at(1)
	m := message(strings.Repeat("m", 64), chats.SenderUser, at(1))
	e.save(chats.Change{Chat: &c, Agent: &a, Message: &m})
	if got := e.chat(org, chat); got.ChatID != chat {
		t.Errorf("chat with 64-character ids: %+v", got)
	}
	if got := e.agent(org, agent); got.AgentID != agent {
		t.Errorf("agent with 64-character ids: %+v", got)
	}
	if msgs, _, err := s.Transcript(e.ctx(), org, chat, 1); err != nil || len(msgs) != 1 {
		t.Errorf("transcript with 64-character ids: %v, %v", msgs, err)
	}
	wantIDs(t, "List with 64-character ids", e.listAll(org, chats.StatusOpen, 1), []string{chat})
	if cs, _ := s.Awaiting(e.ctx(), org, agent, 10); len(cs) != 1 {
		t.Errorf("Awaiting with 64-character ids: %v", chatIDs(cs))
	}
	if n, _ := s.ActiveChats(e.ctx(), org, agent, 10); n != 1 {
		t.Errorf("ActiveChats with 64-character ids: %d", n)
	}
	if as, _, _ := s.LoggedInBefore(e.ctx(), org, at(2), "", 10); len(as) != 1 {
		t.Errorf("LoggedInBefore with 64-character ids: %v", agentIDs(as))
	}
	if st := claim(t, s, org, chat, at(1)); !st.Claimed {
		t.Errorf("ClaimReport with 64-character ids: %+v", st)
	}
}

func testMalformedPositions(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ctx, org := e.ctx(), e.org
	for i := range 3 {
		for _, st := range chats.Statuses {
			c := newChat(org, fmt.Sprintf("%s-%d", st, i), st, at(i))
			if st == chats.StatusOpen {
				c.AgentID = "a-1"
			}
			e.put(c)
		}
		a := newAgent(org, fmt.Sprintf("a-%d", i), chats.AgentOnline, at(i))
		a.LastLoginAt = at(i)
		e.putAgent(a)
	}
	// Valid positions of each kind.
	next := map[string]string{}
	for _, st := range chats.Statuses {
		p, err := s.List(ctx, org, chats.ListQuery{Status: st, Limit: 1})
		if err != nil || p.Next == "" {
			t.Fatalf("List(%s, 1): %+v, %v", st, p, err)
		}
		next[st] = p.Next
	}
	_, idleNext, err := s.Idle(ctx, org, at(9), "", 1)
	if err != nil || idleNext == "" {
		t.Fatalf("Idle(1): %q, %v", idleNext, err)
	}
	_, loginNext, err := s.LoggedInBefore(ctx, org, at(9), "", 1)
	if err != nil || loginNext == "" {
		t.Fatalf("LoggedInBefore(1): %q, %v", loginNext, err)
	}
	garbage := []string{"x", ".", "..", "\x00", "a\x00b", strings.Repeat("9", 5000), "#", "open", "open.", "open..",
		"open.123.c-1", "open.0000000000000000000.", "open.000000000000000000a.c-1", "open.-000000000000000001.c-1",
		"open.0000000000000000000.a#b", "open.0000000000000000000.c-1.x", "open.00000000000000000000.c-1",
		"\xff\xfe", "9223372036854775807", "-1"}
	for _, bad := range garbage {
		for _, st := range chats.Statuses {
			if _, err := s.List(ctx, org, chats.ListQuery{Status: st, Limit: 10, After: bad}); err == nil {
				t.Errorf("List(%s) after %.30q: accepted", st, bad)
			}
		}
		if _, _, err := s.Idle(ctx, org, at(9), bad, 10); err == nil {
			t.Errorf("Idle after %.30q: accepted", bad)
		}
		if _, _, err := s.LoggedInBefore(ctx, org, at(9), bad, 10); err == nil {
			t.Errorf("LoggedInBefore after %.30q: accepted", bad)
		}
	}
	for _, bad := range append(slices.Clone(malformed[1:]), garbage...) {
		if ids.Valid(bad) { // an organisation id is a valid position of Orgs
			continue
		}
		if _, _, err := s.Orgs(ctx, bad, 10); err == nil {
			t.Errorf("Orgs after %.30q: accepted", bad)
		}
	}
	// A position of one list is refused by another.
	for _, st := range chats.Statuses {
		for from, pos := range next {
			if from == st {
				continue
			}
			_, err := s.List(ctx, org, chats.ListQuery{Status: st, Limit: 10, After: pos})
			wantCode(t, fmt.Sprintf("List(%s) after a position of List(%s)", st, from), err, problem.BadRequest)
		}
		_, err := s.List(ctx, org, chats.ListQuery{Status: st, Limit: 10, After: idleNext})
		wantCode(t, "List after an Idle position", err, problem.BadRequest)
		_, err = s.List(ctx, org, chats.ListQuery{Status: st, Limit: 10, After: loginNext})
		wantCode(t, "List after a LoggedInBefore position", err, problem.BadRequest)
		_, _, err = s.Idle(ctx, org, at(9), next[st], 10)
		wantCode(t, "Idle after a List position", err, problem.BadRequest)
		_, _, err = s.LoggedInBefore(ctx, org, at(9), next[st], 10)
		wantCode(t, "LoggedInBefore after a List position", err, problem.BadRequest)
	}
	_, _, err = s.Idle(ctx, org, at(9), loginNext, 10)
	wantCode(t, "Idle after a LoggedInBefore position", err, problem.BadRequest)
	_, _, err = s.LoggedInBefore(ctx, org, at(9), idleNext, 10)
	wantCode(t, "LoggedInBefore after an Idle position", err, problem.BadRequest)
	_, err = s.List(ctx, org, chats.ListQuery{Status: chats.StatusOpen, Limit: 10, After: "garbage"})
	wantCode(t, "List after garbage", err, problem.BadRequest)
}

func testLimits(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ctx, org := e.ctx(), e.org
	for _, n := range []int{0, -1, 1001} {
		if _, _, err := s.Idle(ctx, org, at(1), "", n); err == nil {
			t.Errorf("Idle(limit %d): accepted", n)
		}
		if _, _, err := s.LoggedInBefore(ctx, org, at(1), "", n); err == nil {
			t.Errorf("LoggedInBefore(limit %d): accepted", n)
		}
		if _, err := s.Awaiting(ctx, org, "a-1", n); err == nil {
			t.Errorf("Awaiting(limit %d): accepted", n)
		}
		if _, err := s.ActiveChats(ctx, org, "a-1", n); err == nil {
			t.Errorf("ActiveChats(limit %d): accepted", n)
		}
		if _, err := s.Online(ctx, org, n); err == nil {
			t.Errorf("Online(limit %d): accepted", n)
		}
		if _, _, err := s.Orgs(ctx, "", n); err == nil {
			t.Errorf("Orgs(limit %d): accepted", n)
		}
		if _, err := s.Pending(ctx, at(1), n); err == nil {
			t.Errorf("Pending(limit %d): accepted", n)
		}
	}
	for _, n := range []int{0, -1, chats.MaxTranscript + 1} {
		if _, _, err := s.Transcript(ctx, org, "c-1", n); err == nil {
			t.Errorf("Transcript(limit %d): accepted", n)
		}
	}
	// The largest limits are accepted.
	if _, _, err := s.Transcript(ctx, org, "c-1", chats.MaxTranscript); err != nil {
		t.Errorf("Transcript(limit %d): %v", chats.MaxTranscript, err)
	}
	if _, _, err := s.Idle(ctx, org, at(1), "", 1000); err != nil {
		t.Errorf("Idle(limit 1000): %v", err)
	}
}

func testOrgsIsolated(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ctx := e.ctx()
	o1, o2 := newID("org"), newID("org")
	// The same chat, agent and message ids in two organisations.
	for i, org := range []string{o1, o2} {
		c := newChat(org, "c-1", chats.StatusOpen, at(i))
		c.AgentID, c.LastUserMessageAt, c.Channel = "a-1", at(i), "channel-"+org
		a := newAgent(org, "a-1", chats.AgentOnline, at(i))
		a.LastLoginAt = at(i)
		m := message("m-1", chats.SenderUser, at(i))
		m.Text = "text of " + org
		e.save(chats.Change{Chat: &c, Agent: &a, Message: &m})
	}
	for i, org := range []string{o1, o2} {
		if c := e.chat(org, "c-1"); c.Channel != "channel-"+org || !c.StatusAt.Equal(at(i)) || c.OrgID != org {
			t.Errorf("Chat(%s, c-1): %+v", org, c)
		}
		if msgs, _, _ := s.Transcript(ctx, org, "c-1", 10); len(msgs) != 1 || msgs[0].Text != "text of "+org {
			t.Errorf("Transcript(%s, c-1): %+v", org, msgs)
		}
		if a := e.agent(org, "a-1"); !a.LastLoginAt.Equal(at(i)) || a.OrgID != org {
			t.Errorf("Agent(%s, a-1): %+v", org, a)
		}
		wantIDs(t, "List(open) of "+org, e.listAll(org, chats.StatusOpen, 10), []string{"c-1"})
		if n, _ := s.ActiveChats(ctx, org, "a-1", 10); n != 1 {
			t.Errorf("ActiveChats(%s, a-1) = %d, want 1", org, n)
		}
		if cs, _ := s.Awaiting(ctx, org, "a-1", 10); len(cs) != 1 || cs[0].OrgID != org {
			t.Errorf("Awaiting(%s, a-1): %+v", org, cs)
		}
		if cs, _, _ := s.Idle(ctx, org, at(9), "", 10); len(cs) != 1 || cs[0].OrgID != org {
			t.Errorf("Idle(%s): %+v", org, cs)
		}
		if as, _, _ := s.LoggedInBefore(ctx, org, at(9), "", 10); len(as) != 1 || as[0].OrgID != org {
			t.Errorf("LoggedInBefore(%s): %+v", org, as)
		}
		if as, _ := s.Online(ctx, org, 10); len(as) != 1 || as[0].OrgID != org {
			t.Errorf("Online(%s): %+v", org, as)
		}
	}
	// A report sent in one organisation is not in the other.
	claim(t, s, o1, "c-1", at(1))
	if err := s.FinishReport(ctx, o1, "c-1", true, "a@example.com", "m"); err != nil {
		t.Fatal(err)
	}
	if st := claim(t, s, o2, "c-1", at(1)); !st.Claimed {
		t.Errorf("claim in %s after a report sent in %s: %+v", o2, o1, st)
	}
	// Changing one organisation's chat leaves the other's alone.
	c := e.chat(o1, "c-1")
	c.Status = chats.StatusClosed
	e.put(c)
	if c := e.chat(o2, "c-1"); c.Status != chats.StatusOpen || c.Version != 1 {
		t.Errorf("Chat(%s, c-1) after closing %s's: %+v", o2, o1, c)
	}
}

// ---------------------------------------------------------------- concurrency

func testConcurrentSaves(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	e.put(newChat(e.org, "c-1", chats.StatusQueued, at(0)))
	e.putAgent(newAgent(e.org, "a-1", chats.AgentOnline, at(0)))
	const n = 8
	var wg sync.WaitGroup
	chatErrs, agentErrs := make([]error, n), make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := newChat(e.org, "c-1", chats.StatusOpen, at(i+1))
			c.Version, c.AgentID = 1, fmt.Sprintf("a-%d", i)
			chatErrs[i] = s.Save(e.ctx(), chats.Change{Chat: &c})
		})
		wg.Go(func() {
			a := newAgent(e.org, "a-1", chats.AgentAway, at(i+1))
			a.Version = 1
			agentErrs[i] = s.Save(e.ctx(), chats.Change{Agent: &a})
		})
	}
	wg.Wait()
	for what, errs := range map[string][]error{"chat": chatErrs, "agent": agentErrs} {
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Errorf("%s: saves %d and %d of the same version both won", what, won, i)
			case err == nil:
				won = i
			case !errors.Is(err, chats.ErrConflict):
				t.Errorf("%s: losing save: %v, want ErrConflict", what, err)
			}
		}
		if won < 0 {
			t.Errorf("%s: no save won", what)
			continue
		}
		if what == "chat" {
			if c := e.chat(e.org, "c-1"); c.Version != 2 || c.AgentID != fmt.Sprintf("a-%d", won) {
				t.Errorf("chat after the race: v%d agent %s, want v2 agent a-%d", c.Version, c.AgentID, won)
			}
			if n, _ := s.ActiveChats(e.ctx(), e.org, fmt.Sprintf("a-%d", won), 10); n != 1 {
				t.Errorf("ActiveChats of the winner: %d", n)
			}
		} else if a := e.agent(e.org, "a-1"); a.Version != 2 || !a.StatusAt.Equal(at(won+1)) {
			t.Errorf("agent after the race: %+v, want v2 from save %d", a, won)
		}
	}
}

func testConcurrentNew(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := newChat(e.org, "c-1", chats.StatusQueued, at(i))
			errs[i] = s.Save(e.ctx(), chats.Change{Chat: &c})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, chats.ErrConflict):
			t.Errorf("losing save: %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d saves of a new chat won, want exactly 1", won)
	}
	if c := e.chat(e.org, "c-1"); c.Version != 1 {
		t.Errorf("chat after the race: v%d, want v1", c.Version)
	}
	wantIDs(t, "List(queued) after the race", e.listAll(e.org, chats.StatusQueued, 10), []string{"c-1"})
}

// testRacingDuplicates delivers the same message n times at once, each delivery applying
// it the way the domain does: read, count the message, save; on a conflict read again.
func testRacingDuplicates(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	e.put(newChat(e.org, "c-1", chats.StatusOpen, at(0)))
	const n = 8
	var wg sync.WaitGroup
	added := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			m := message("m-1", chats.SenderUser, at(1))
			for range 100 {
				c, _, err := s.Chat(e.ctx(), e.org, "c-1")
				if err != nil {
					errs[i] = err
					return
				}
				c.Messages++
				c.LastUserMessageAt = at(1)
				switch err := s.Save(e.ctx(), chats.Change{Chat: &c, Message: &m}); {
				case err == nil:
					added[i]++
					return
				case errors.Is(err, chats.ErrDuplicate):
					return
				case errors.Is(err, chats.ErrConflict):
					continue
				default:
					errs[i] = err
					return
				}
			}
			errs[i] = errors.New("still conflicting after 100 attempts")
		})
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("delivery %d: %v", i, errs[i])
		}
		total += added[i]
	}
	if total != 1 {
		t.Errorf("%d deliveries added the message, want exactly 1", total)
	}
	if c := e.chat(e.org, "c-1"); c.Messages != 1 || c.Version != 2 {
		t.Errorf("chat after racing duplicates: %d messages v%d, want 1 message v2", c.Messages, c.Version)
	}
	if msgs, _, _ := s.Transcript(e.ctx(), e.org, "c-1", 10); len(msgs) != 1 {
		t.Errorf("transcript after racing duplicates: %d messages, want 1", len(msgs))
	}
}

func testContextDone(t *testing.T, s chats.Store) {
	e := newEnv(t, s)
	ctx, cancel := context.WithCancel(e.ctx())
	cancel()
	c := newChat(e.org, "c-1", chats.StatusQueued, at(1))
	if err := s.Save(ctx, chats.Change{Chat: &c}); err == nil {
		t.Errorf("Save with a canceled context: accepted")
	}
	if _, found, _ := s.Chat(e.ctx(), e.org, "c-1"); found {
		t.Errorf("Save with a canceled context stored the chat")
	}
	if _, _, err := s.Chat(ctx, e.org, "c-1"); err == nil {
		t.Errorf("Chat with a canceled context: no error")
	}
	if _, err := s.List(ctx, e.org, chats.ListQuery{Status: chats.StatusQueued, Limit: 10}); err == nil {
		t.Errorf("List with a canceled context: no error")
	}
	if _, _, err := s.Idle(ctx, e.org, at(1), "", 10); err == nil {
		t.Errorf("Idle with a canceled context: no error")
	}
}

// Population returns chats for load tests and benchmarks: orgs organisations
// ("bench-org-00", ...) of perOrg chats each, of which, in each organisation, idle are
// open or queued with their last activity before now.Add(-idleFor) (the oldest first
// when i is smaller), a fifth of perOrg are open or queued with activity in the last
// hour, and the rest are closed or missed. Idle(org, now.Add(-idleFor), ...) returns
// exactly the idle ones. Open chats are allocated to agents "agent-0" to "agent-9".
func Population(orgs, perOrg, idle int, now time.Time, idleFor time.Duration) []chats.Chat {
	out := make([]chats.Chat, 0, orgs*perOrg)
	live := perOrg / 5
	for o := range orgs {
		org := fmt.Sprintf("bench-org-%02d", o)
		for i := range perOrg {
			c := chats.Chat{OrgID: org, ChatID: fmt.Sprintf("chat-%07d", i), Channel: "web",
				User: chats.User{ID: fmt.Sprintf("user-%07d", i), Name: "Bench User"}}
			var activity time.Time
			switch {
			case i < idle:
				activity = now.Add(-idleFor - time.Duration(idle-i)*time.Minute)
				c.Status = chats.StatusOpen
			case i < idle+live:
				activity = now.Add(-time.Duration(i%60) * time.Minute)
				c.Status = chats.StatusOpen
			default:
				activity = now.Add(-idleFor - 24*time.Hour - time.Duration(i)*time.Minute)
				c.Status, c.ClosedAt, c.CloseReason = chats.StatusClosed, activity.Add(time.Minute), "resolved"
				if i%10 == 0 {
					c.Status, c.CloseReason = chats.StatusMissed, ""
				}
			}
			if c.Status == chats.StatusOpen && i%3 == 0 {
				c.Status = chats.StatusQueued
			}
			if c.Status == chats.StatusOpen {
				c.AgentID = fmt.Sprintf("agent-%d", i%10)
			}
			c.StartedAt = activity.Add(-10 * time.Minute)
			c.StatusAt, c.LastActivityAt, c.LastUserMessageAt = c.StartedAt, activity, activity
			c.Messages = 2
			out = append(out, c)
		}
	}
	return out
}
