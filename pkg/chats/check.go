package chats

import (
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Bounds every Store enforces on a Change.
const (
	// MaxChangeEvents bounds the events of one change (a DynamoDB transaction holds at
	// most 100 items and 4 MB).
	MaxChangeEvents = 50
	// MaxEventID and MaxDetailType bound an event's id and detail-type.
	MaxEventID    = 512
	MaxDetailType = 256
)

// CheckText refuses what may not be a key part or a stored string: empty or longer than
// maxLen, not UTF-8, or holding a control character (NUL included).
func CheckText(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func checkID(what, id string) error {
	if !ids.Valid(id) {
		return problem.New(problem.NotFound, "%s not found", what)
	}
	return nil
}

// checkIDs checks an organisation id and another id, in that order.
func checkIDs(what1, id1, what2, id2 string) error {
	if err := checkID(what1, id1); err != nil {
		return err
	}
	return checkID(what2, id2)
}

// CheckChange is what every Store refuses before writing anything: malformed ids
// (problem.NotFound), unknown statuses, a message without its chat or of another chat,
// a malformed message id (problem.Invalid), more than MaxChangeEvents events, malformed
// events and two events with one id.
func CheckChange(ch Change) error {
	if c := ch.Chat; c != nil {
		if err := checkIDs("organisation", c.OrgID, "chat", c.ChatID); err != nil {
			return err
		}
		if c.AgentID != "" {
			if err := checkID("agent", c.AgentID); err != nil {
				return err
			}
		}
		if c.Status != "" && !slices.Contains(Statuses, c.Status) {
			return fmt.Errorf("chats: chat %s/%s: unknown status %q", c.OrgID, c.ChatID, c.Status)
		}
	}
	if m := ch.Message; m != nil {
		if ch.Chat == nil {
			return errors.New("chats: a change with a message needs its chat")
		}
		if (m.OrgID != "" && m.OrgID != ch.Chat.OrgID) || (m.ChatID != "" && m.ChatID != ch.Chat.ChatID) {
			return fmt.Errorf("chats: message %q of %s/%s saved with chat %s/%s", m.MessageID, m.OrgID, m.ChatID, ch.Chat.OrgID, ch.Chat.ChatID)
		}
		if !ids.Valid(m.MessageID) {
			return problem.New(problem.Invalid, "malformed message id")
		}
	}
	if a := ch.Agent; a != nil {
		if err := checkIDs("organisation", a.OrgID, "agent", a.AgentID); err != nil {
			return err
		}
		switch a.Status {
		case "", AgentOnline, AgentAway, AgentOffline:
		default:
			return fmt.Errorf("chats: agent %s/%s: unknown status %q", a.OrgID, a.AgentID, a.Status)
		}
	}
	if len(ch.Events) > MaxChangeEvents {
		return fmt.Errorf("chats: a change may keep at most %d events, not %d", MaxChangeEvents, len(ch.Events))
	}
	seen := make(map[string]bool, len(ch.Events))
	for _, e := range ch.Events {
		if !CheckText(e.ID, MaxEventID) || !CheckText(e.DetailType, MaxDetailType) || len(e.Detail) > bus.MaxDetailSize || !utf8.Valid(e.Detail) {
			return fmt.Errorf("chats: malformed event %.40q (%.40q, %d bytes)", e.ID, e.DetailType, len(e.Detail))
		}
		if seen[e.ID] {
			return fmt.Errorf("chats: two events of one change have the id %q", e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}
