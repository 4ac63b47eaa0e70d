package chats

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/bus"
)

// Day is the unit of the chat-handling rules' day counts: 24 hours from the instant of
// the last activity or login, whatever the time zone (an idle period of exactly N days is
// N*24h; daylight-saving changes do not stretch or shrink it).
const Day = 24 * time.Hour

// rank orders statuses for events that happen at the same instant: the later in a chat's
// life wins.
func rank(s string) int {
	switch s {
	case StatusQueued:
		return 1
	case StatusOpen:
		return 2
	case StatusMissed:
		return 3
	case StatusClosed:
		return 4
	}
	return 0
}

// Final reports whether a status is final (closed or missed): no later event reopens the
// chat.
func Final(s string) bool { return s == StatusClosed || s == StatusMissed }

// setStatus moves c to status as of at, unless the chat already reflects a later event:
// an event older than StatusAt never changes the status, one at the same instant only
// moves the chat further along its life, and a final status is never left for a live one.
func setStatus(c *Chat, status string, at time.Time) bool {
	switch {
	case Final(c.Status) && !Final(status):
		return false
	case at.Before(c.StatusAt):
		return false
	case at.Equal(c.StatusAt) && rank(status) <= rank(c.Status):
		return false
	}
	c.Status, c.StatusAt = status, at
	return true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ApplyToChat applies a chat event to c, the stored chat (the zero Chat with its ids when
// nothing is stored), and returns the new record, the message to add with it (Chat
// Message) and whether anything changed. The same event applied twice changes nothing the
// second time; an event older than what the record reflects changes only what it alone
// knows (a late "Chat Started" still fills in the user; a late message still joins the
// transcript and moves the activity times forward only).
func ApplyToChat(c Chat, in In) (Chat, *Message, bool) {
	c.OrgID, c.ChatID = in.OrgID, in.ChatID
	switch {
	case in.Started != nil:
		d := in.Started
		if !c.StartedAt.IsZero() {
			return c, nil, false
		}
		c.StartedAt, c.Channel, c.BusinessUnitID, c.User = d.StartedAt.UTC(), d.Channel, d.BusinessUnitID, d.User
		c.LastActivityAt = later(c.LastActivityAt, c.StartedAt)
		if c.Status == "" {
			c.Status, c.StatusAt = StatusQueued, c.StartedAt
		}
		return c, nil, true
	case in.Message != nil:
		m := NewMessage(in.OrgID, in.ChatID, *in.Message)
		switch m.Sender {
		case SenderUser:
			c.LastUserMessageAt = later(c.LastUserMessageAt, m.SentAt)
			c.LastActivityAt = later(c.LastActivityAt, m.SentAt)
		case SenderAgent:
			c.LastAgentMessageAt = later(c.LastAgentMessageAt, m.SentAt)
			c.LastActivityAt = later(c.LastActivityAt, m.SentAt)
		}
		c.Messages++
		return c, &m, true
	case in.Allocated != nil:
		if Final(c.Status) {
			// A late allocation of a closed or missed chat still says who had it.
			if in.At.After(c.StatusAt) || !in.At.After(c.AgentAt) || c.AgentID == in.AgentID {
				return c, nil, false
			}
			c.AgentID, c.AgentAt = in.AgentID, in.At
			return c, nil, true
		}
		if c.Status == StatusOpen && c.AgentID == in.AgentID {
			return c, nil, false // allocated to this agent already
		}
		if !setStatus(&c, StatusOpen, in.At) {
			return c, nil, false
		}
		c.AgentID, c.AgentAt = in.AgentID, in.At
		return c, nil, true
	case in.Closed != nil:
		if !setStatus(&c, StatusClosed, in.At) {
			return c, nil, false
		}
		c.ClosedAt, c.CloseReason = in.At, in.Closed.Reason
		return c, nil, true
	case in.Missed != nil:
		if !setStatus(&c, StatusMissed, in.At) {
			return c, nil, false
		}
		return c, nil, true
	}
	return c, nil, false
}

// NewMessage makes the transcript message of a "Chat Message" event, its text cut to
// MaxText bytes at a character boundary.
func NewMessage(orgID, chatID string, d MessageDetail) Message {
	m := Message{OrgID: orgID, ChatID: chatID, MessageID: d.MessageID, Sender: d.Sender, AgentID: d.AgentID, Text: d.Text, SentAt: d.SentAt.UTC()}
	if len(m.Text) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(m.Text[cut]) {
			cut--
		}
		m.Text, m.Truncated = m.Text[:cut], true
	}
	return m
}

// agentRank orders agent statuses for events at the same instant: the most cautious wins.
func agentRank(s string) int {
	switch s {
	case AgentOnline:
		return 1
	case AgentAway:
		return 2
	case AgentOffline:
		return 3
	}
	return 0
}

// ApplyToAgent applies an agent event to a, the stored agent (the zero Agent when none),
// and returns the new record and whether anything changed; idempotent and monotone like
// ApplyToChat.
func ApplyToAgent(a Agent, in In) (Agent, bool) {
	a.OrgID, a.AgentID = in.OrgID, in.AgentID
	switch {
	case in.LoggedIn != nil:
		if !in.At.After(a.LastLoginAt) {
			return a, false
		}
		a.LastLoginAt = in.At
		return a, true
	case in.Status != nil:
		s := in.Status.Status
		if in.At.Before(a.StatusAt) || (in.At.Equal(a.StatusAt) && agentRank(s) <= agentRank(a.Status)) {
			return a, false
		}
		a.Status, a.StatusAt = s, in.At
		return a, true
	}
	return a, false
}

// IdleSince is the instant at or before which a chat's last activity makes it idle for
// days at now: an idle period of exactly days is enough.
func IdleSince(now time.Time, days int) time.Time { return now.Add(-time.Duration(days) * Day) }

// AutoClose closes c at now when it is open or queued and idle for at least days (0 never
// closes), and returns the closed chat and its "Chat Auto Closed" event.
func AutoClose(c Chat, days int, now time.Time) (Chat, bus.Event, bool) {
	if days <= 0 || !c.Live() || c.LastActivityAt.IsZero() || c.LastActivityAt.After(IdleSince(now, days)) {
		return c, bus.Event{}, false
	}
	now = now.UTC()
	c.Status, c.StatusAt, c.ClosedAt, c.CloseReason = StatusClosed, now, now, CloseReasonAutoClose
	ev, err := bus.New(EventID(ChatAutoClosed, c.OrgID, c.ChatID, now), ChatAutoClosed, now, map[string]any{
		"orgId": c.OrgID, "chatId": c.ChatID, "lastActivityAt": c.LastActivityAt, "closedAt": now, "afterDays": days})
	if err != nil {
		return c, bus.Event{}, false
	}
	return c, ev, true
}

// LoginStale reports whether an agent last logged in more than days before now (never
// seen logging in is not stale: nothing is known).
func LoginStale(a Agent, days int, now time.Time) bool {
	return days > 0 && !a.LastLoginAt.IsZero() && a.LastLoginAt.Before(IdleSince(now, days))
}

// MoveToQueue takes c from its agent and queues it at now, for reason (ReasonNotLoggedIn
// or ReasonAgentOffline), with its "Chat Moved To Queue" event.
func MoveToQueue(c Chat, reason string, now time.Time) (Chat, bus.Event, bool) {
	if c.Status != StatusOpen || c.AgentID == "" {
		return c, bus.Event{}, false
	}
	now = now.UTC()
	from := c.AgentID
	c.Status, c.StatusAt, c.AgentID = StatusQueued, later(c.StatusAt, now), ""
	c.AgentAt = c.StatusAt
	ev, err := bus.New(EventID(ChatMovedToQueue, c.OrgID, c.ChatID, c.StatusAt), ChatMovedToQueue, c.StatusAt, map[string]any{
		"orgId": c.OrgID, "chatId": c.ChatID, "fromAgentId": from, "reason": reason, "at": c.StatusAt})
	if err != nil {
		return c, bus.Event{}, false
	}
	return c, ev, true
}

// Reallocate gives c to agent to at at, with its "Chat Reallocated" event.
func Reallocate(c Chat, to string, at time.Time) (Chat, bus.Event, bool) {
	if c.Status != StatusOpen || c.AgentID == "" || c.AgentID == to {
		return c, bus.Event{}, false
	}
	at = later(c.StatusAt, at.UTC())
	from := c.AgentID
	c.AgentID, c.StatusAt, c.AgentAt = to, at, at
	ev, err := bus.New(EventID(ChatReallocated, c.OrgID, c.ChatID, at), ChatReallocated, at, map[string]any{
		"orgId": c.OrgID, "chatId": c.ChatID, "fromAgentId": from, "toAgentId": to, "at": at})
	if err != nil {
		return c, bus.Event{}, false
	}
	return c, ev, true
}

// AdminClose closes a live (open or queued) chat at now for an admin (by: who), with its
// "Chat Closed By Admin" event; false when the chat is not live.
func AdminClose(c Chat, by string, now time.Time) (Chat, bus.Event, bool) {
	if !c.Live() {
		return c, bus.Event{}, false
	}
	now = later(c.StatusAt, now.UTC())
	c.Status, c.StatusAt, c.ClosedAt, c.CloseReason = StatusClosed, now, now, CloseReasonAdmin
	detail := map[string]any{"orgId": c.OrgID, "chatId": c.ChatID, "agentId": nil, "by": by, "at": now}
	if c.AgentID != "" {
		detail["agentId"] = c.AgentID
	}
	ev, err := bus.New(EventID(ChatClosedByAdmin, c.OrgID, c.ChatID, now), ChatClosedByAdmin, now, detail)
	if err != nil {
		return c, bus.Event{}, false
	}
	return c, ev, true
}

// Transfer moves a live chat to agent to ("" = the queue) at now for an admin (by), with
// its "Chat Transferred" event; false when the chat is not live or is there already.
func Transfer(c Chat, to, by string, now time.Time) (Chat, bus.Event, bool) {
	if !c.Live() || c.AgentID == to {
		return c, bus.Event{}, false
	}
	now = later(c.StatusAt, now.UTC())
	from := c.AgentID
	c.AgentID, c.AgentAt, c.StatusAt = to, now, now
	c.Status = StatusOpen
	if to == "" {
		c.Status = StatusQueued
	}
	detail := map[string]any{"orgId": c.OrgID, "chatId": c.ChatID, "fromAgentId": nil, "toAgentId": nil, "by": by, "at": now}
	if from != "" {
		detail["fromAgentId"] = from
	}
	if to != "" {
		detail["toAgentId"] = to
	}
	ev, err := bus.New(EventID(ChatTransferred, c.OrgID, c.ChatID, now), ChatTransferred, now, detail)
	if err != nil {
		return c, bus.Event{}, false
	}
	return c, ev, true
}

// BusyEvent is the "Agent Busy Changed" event of a's busy state flipping with its record's
// next version.
func BusyEvent(a Agent, active, max int, at time.Time) bus.Event {
	ev, _ := bus.New(strings.Join([]string{"agent-busy-changed", a.OrgID, a.AgentID, strconv.FormatInt(a.Version+1, 10)}, "/"),
		AgentBusyChanged, at, map[string]any{"orgId": a.OrgID, "agentId": a.AgentID, "busy": a.Busy, "activeChats": active, "maxChats": max})
	return ev
}

// ReportSentEvent is the "Missed Chat Report Sent" event of a chat's report.
func ReportSentEvent(orgID, chatID, to, messageID string, at time.Time) bus.Event {
	ev, _ := bus.New(strings.Join([]string{"missed-chat-report-sent", orgID, chatID}, "/"), MissedChatReportSent, at,
		map[string]any{"orgId": orgID, "chatId": chatID, "to": to, "messageId": messageID})
	return ev
}

// EventID is the deterministic id of the event of detail-type dt for a change of a chat
// at an instant: the same change always has the same id.
func EventID(dt, orgID, chatID string, at time.Time) string {
	slug := strings.ToLower(strings.ReplaceAll(dt, " ", "-"))
	return slug + "/" + orgID + "/" + chatID + "/" + strconv.FormatInt(at.UnixNano(), 10)
}
