package chats

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Detail-types of the chat platform's events (source convrs.chat).
const (
	ChatStarted        = "Chat Started"
	ChatMessage        = "Chat Message"
	ChatAllocated      = "Chat Allocated"
	ChatClosed         = "Chat Closed"
	ChatMissed         = "Chat Missed"
	AgentLoggedIn      = "Agent Logged In"
	AgentStatusChanged = "Agent Status Changed"
	// UserSticky is "User Sticky Changed": a user is kept with one agent (or no longer).
	UserSticky = "User Sticky Changed"
)

// InTypes lists the detail-types chat-events consumes.
var InTypes = []string{ChatStarted, ChatMessage, ChatAllocated, ChatClosed, ChatMissed, AgentLoggedIn, AgentStatusChanged, UserSticky}

// Detail-types of the events the product emits (source convrs.admin).
const (
	ChatAutoClosed         = "Chat Auto Closed"
	ChatMovedToQueue       = "Chat Moved To Queue"
	ChatReallocated        = "Chat Reallocated"
	AgentBusyChanged       = "Agent Busy Changed"
	MissedChatReportSent   = "Missed Chat Report Sent"
	ChatClosedByAdmin      = "Chat Closed By Admin"
	ChatTransferred        = "Chat Transferred"
	CloseReasonAdmin       = "closed_by_admin"
	ReasonNotLoggedIn      = "agent_not_logged_in"
	ReasonAgentOffline     = "agent_offline"
	CloseReasonAutoClose   = "auto_close"
	maxFreeText            = 256
	maxEventDetail         = 256 << 10
	earliest, latestOffset = 2000, 24 * time.Hour
)

// In is one decoded, checked event of the chat platform. Exactly one of its pointers is
// set, matching DetailType.
type In struct {
	DetailType string
	OrgID      string
	ChatID     string // "" for agent events
	AgentID    string // agent events, Chat Allocated, agent messages
	At         time.Time

	Started   *StartedDetail
	Message   *MessageDetail
	Allocated *AllocatedDetail
	Closed    *ClosedDetail
	Missed    *MissedDetail
	LoggedIn  *LoggedInDetail
	Status    *StatusDetail
	Sticky    *StickyDetail
}

// StickyDetail is the detail of "User Sticky Changed": AgentID nil (JSON null) ends the
// user's stickiness.
type StickyDetail struct {
	OrgID   string    `json:"orgId"`
	UserID  string    `json:"userId"`
	AgentID *string   `json:"agentId"`
	At      time.Time `json:"at"`
}

// StartedDetail is the detail of "Chat Started".
type StartedDetail struct {
	OrgID          string    `json:"orgId"`
	ChatID         string    `json:"chatId"`
	StartedAt      time.Time `json:"startedAt"`
	Channel        string    `json:"channel"`
	BusinessUnitID string    `json:"businessUnitId,omitempty"`
	User           User      `json:"user"`
}

// MessageDetail is the detail of "Chat Message".
type MessageDetail struct {
	OrgID     string    `json:"orgId"`
	ChatID    string    `json:"chatId"`
	MessageID string    `json:"messageId"`
	Sender    string    `json:"sender"`
	AgentID   string    `json:"agentId,omitempty"`
	Text      string    `json:"text"`
	SentAt    time.Time `json:"sentAt"`
}

// AllocatedDetail is the detail of "Chat Allocated".
type AllocatedDetail struct {
	OrgID   string    `json:"orgId"`
	ChatID  string    `json:"chatId"`
	AgentID string    `json:"agentId"`
	At      time.Time `json:"at"`
}

// ClosedDetail is the detail of "Chat Closed".
type ClosedDetail struct {
	OrgID  string    `json:"orgId"`
	ChatID string    `json:"chatId"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// MissedDetail is the detail of "Chat Missed".
type MissedDetail struct {
	OrgID  string    `json:"orgId"`
	ChatID string    `json:"chatId"`
	At     time.Time `json:"at"`
}

// LoggedInDetail is the detail of "Agent Logged In".
type LoggedInDetail struct {
	OrgID   string    `json:"orgId"`
	AgentID string    `json:"agentId"`
	At      time.Time `json:"at"`
}

// StatusDetail is the detail of "Agent Status Changed".
type StatusDetail struct {
	OrgID   string    `json:"orgId"`
	AgentID string    `json:"agentId"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
}

// ErrMalformed is wrapped by Parse's errors: the event cannot be used as it is.
var ErrMalformed = errors.New("malformed event")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse decodes and checks the detail of a chat platform event of detail-type dt, as of
// now (times more than a day ahead of now are refused: a clock that far off would pin a
// chat's state in the future). Decoding is strict: exact field names, no unknown or
// repeated fields, the right types. Ids follow package ids; times are RFC 3339 from the
// year 2000 on; free text (names, channel, reasons) at most 256 characters of valid
// UTF-8 without control characters; message text at most MaxText bytes (longer is cut,
// see Message.Truncated). Errors wrap ErrMalformed and say what is wrong.
func Parse(dt string, detail []byte, now time.Time) (In, error) {
	if len(detail) > maxEventDetail {
		return In{}, malformed("the detail is %d bytes, more than %d", len(detail), maxEventDetail)
	}
	if !utf8.Valid(detail) {
		return In{}, malformed("the detail is not valid UTF-8")
	}
	in := In{DetailType: dt}
	var err error
	switch dt {
	case ChatStarted:
		var d StartedDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(chatIDs(d.OrgID, d.ChatID), optionalID("businessUnitId", d.BusinessUnitID),
				checkTime("startedAt", d.StartedAt, now), text("channel", d.Channel, true), checkUser(d.User))
		}
		in.OrgID, in.ChatID, in.At, in.Started = d.OrgID, d.ChatID, d.StartedAt, &d
	case ChatMessage:
		var d MessageDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(chatIDs(d.OrgID, d.ChatID), id("messageId", d.MessageID), checkTime("sentAt", d.SentAt, now), checkSender(d))
		}
		in.OrgID, in.ChatID, in.AgentID, in.At, in.Message = d.OrgID, d.ChatID, d.AgentID, d.SentAt, &d
	case ChatAllocated:
		var d AllocatedDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(chatIDs(d.OrgID, d.ChatID), id("agentId", d.AgentID), checkTime("at", d.At, now))
		}
		in.OrgID, in.ChatID, in.AgentID, in.At, in.Allocated = d.OrgID, d.ChatID, d.AgentID, d.At, &d
	case ChatClosed:
		var d ClosedDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(chatIDs(d.OrgID, d.ChatID), checkTime("at", d.At, now), text("reason", d.Reason, false))
		}
		in.OrgID, in.ChatID, in.At, in.Closed = d.OrgID, d.ChatID, d.At, &d
	case ChatMissed:
		var d MissedDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(chatIDs(d.OrgID, d.ChatID), checkTime("at", d.At, now))
		}
		in.OrgID, in.ChatID, in.At, in.Missed = d.OrgID, d.ChatID, d.At, &d
	case AgentLoggedIn:
		var d LoggedInDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(id("orgId", d.OrgID), id("agentId", d.AgentID), checkTime("at", d.At, now))
		}
		in.OrgID, in.AgentID, in.At, in.LoggedIn = d.OrgID, d.AgentID, d.At, &d
	case AgentStatusChanged:
		var d StatusDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(id("orgId", d.OrgID), id("agentId", d.AgentID), checkTime("at", d.At, now))
			switch d.Status {
			case AgentOnline, AgentAway, AgentOffline:
			default:
				err = errors.Join(err, malformed("status %q is not online, away or offline", clip(d.Status)))
			}
		}
		in.OrgID, in.AgentID, in.At, in.Status = d.OrgID, d.AgentID, d.At, &d
	case UserSticky:
		var d StickyDetail
		if err = decode(detail, &d); err == nil {
			err = errors.Join(id("orgId", d.OrgID), id("userId", d.UserID), checkTime("at", d.At, now))
			if d.AgentID != nil {
				err = errors.Join(err, id("agentId", *d.AgentID))
			} else if !httpx.HasMember(detail, "agentId") {
				// null ends the stickiness; a missing agentId is not read as null.
				err = errors.Join(err, malformed("agentId is required (null ends the stickiness)"))
			}
		}
		in.OrgID, in.At, in.Sticky = d.OrgID, d.At, &d
		if d.AgentID != nil {
			in.AgentID = *d.AgentID
		}
	default:
		return In{}, malformed("unknown detail-type %q", clip(dt))
	}
	if err != nil {
		return In{}, err
	}
	in.At = in.At.UTC()
	return in, nil
}

func decode(detail []byte, dst any) error {
	if err := httpx.Unmarshal(detail, dst); err != nil {
		var pe *problem.Error
		var te *time.ParseError
		switch {
		case errors.As(err, &te):
			return malformed("a time is not in RFC 3339 form (2026-11-20T10:00:00Z): %q", clip(te.Value))
		case errors.As(err, &pe) && len(pe.Fields) > 0:
			return malformed("%s: %s", pe.Fields[0].Field, pe.Fields[0].Message)
		case errors.As(err, &pe):
			return malformed("%s", strings.Replace(pe.Message, "body", "detail", 1))
		}
		return malformed("%v", err)
	}
	return nil
}

func id(field, v string) error {
	if v == "" {
		return malformed("%s is required", field)
	}
	if !ids.Valid(v) {
		return malformed("%s %q is not a valid id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)", field, clip(v))
	}
	return nil
}

func optionalID(field, v string) error {
	if v == "" {
		return nil
	}
	return id(field, v)
}

func chatIDs(org, chat string) error { return errors.Join(id("orgId", org), id("chatId", chat)) }

func checkTime(field string, t time.Time, now time.Time) error {
	switch {
	case t.IsZero():
		return malformed("%s is required", field)
	case t.Year() < earliest:
		return malformed("%s %s is before %d", field, t.Format(time.RFC3339), earliest)
	case t.After(now.Add(latestOffset)):
		return malformed("%s %s is more than a day in the future", field, t.Format(time.RFC3339))
	}
	return nil
}

func text(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return malformed("%s is required", field)
	case !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxFreeText:
		return malformed("%s must be at most %d characters of UTF-8", field, maxFreeText)
	case strings.ContainsFunc(v, isControl):
		return malformed("%s must not hold control characters", field)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0x2028 || r == 0x2029 }

func checkUser(u User) error {
	return errors.Join(id("user.id", u.ID), text("user.name", u.Name, false), text("user.email", u.Email, false), text("user.phone", u.Phone, false))
}

func checkSender(d MessageDetail) error {
	switch d.Sender {
	case SenderAgent:
		return id("agentId", d.AgentID)
	case SenderUser, SenderBot, SenderSystem:
		if d.AgentID != "" {
			return malformed("agentId is only for agent messages")
		}
		return nil
	}
	return malformed("sender %q is not user, agent, bot or system", clip(d.Sender))
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
