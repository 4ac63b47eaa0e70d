// Package chats is the domain of chats as the admin product sees them (API.md "Chats,
// events and sweeps"): the chat, transcript and agent-state records kept from the chat
// platform's events, the rules that act on them (busy agents, offline reallocation,
// auto-close, queue moves) and the Store port that keeps them. The functions that feed
// and read it are in package chatsfn.
//
// Records are built from events that arrive at least once and in any order, so every rule
// here is a pure function of the stored record and one event, idempotent (the same event
// twice changes nothing the second time) and monotone (an event older than what the record
// already reflects never overwrites it).
package chats

import (
	"errors"
	"time"
)

// Statuses of a chat. A chat is open while an agent has it, queued while it waits for
// one; closed and missed are final. A chat known only from events that came before its
// "Chat Started" (an allocation, a close, a miss) takes the status they give it, which the
// late start keeps; the read API shows it once the start has arrived.
const (
	StatusOpen   = "open"
	StatusQueued = "queued"
	StatusClosed = "closed"
	StatusMissed = "missed"
)

// Statuses lists the statuses a chat list may be asked for.
var Statuses = []string{StatusOpen, StatusQueued, StatusClosed, StatusMissed}

// Agent statuses (the "Agent Status Changed" event).
const (
	AgentOnline  = "online"
	AgentAway    = "away"
	AgentOffline = "offline"
)

// Senders of a message.
const (
	SenderUser   = "user"
	SenderAgent  = "agent"
	SenderBot    = "bot"
	SenderSystem = "system"
)

// Limits of what is kept.
const (
	// MaxText is the longest message text kept, in bytes (longer texts are cut at a
	// character boundary and marked); EventBridge entries are at most 256 KiB.
	MaxText = 32 << 10
	// MaxTranscript is the most messages a chat detail or a report shows.
	MaxTranscript = 1000
	// MaxListLimit bounds a page of a chat list.
	MaxListLimit = 100
)

// User is who started a chat, as the widget or channel knew them.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Chat is the record of one chat.
type Chat struct {
	OrgID          string `json:"orgId"`
	ChatID         string `json:"chatId"`
	Status         string `json:"status"`
	Channel        string `json:"channel,omitempty"`
	BusinessUnitID string `json:"businessUnitId,omitempty"`
	User           User   `json:"user"`
	// AgentID is the agent the chat is allocated to (open chats); "" when queued. A
	// closed chat keeps the agent it had.
	AgentID string `json:"agentId,omitempty"`
	// AgentAt is when AgentID was last set or cleared (an allocation, a reallocation, a
	// queue move): of two allocations that arrive late, the later one names the agent.
	AgentAt time.Time `json:"agentAt"`
	// StartedAt is zero until "Chat Started" is seen.
	StartedAt time.Time `json:"startedAt"`
	// StatusAt is when the chat entered its status: the time of the event that set it.
	// An event older than it cannot change the status.
	StatusAt time.Time `json:"statusAt"`
	// LastActivityAt is the last message from the user or an agent (bots and system
	// messages do not count), or StartedAt before any: what auto-close measures.
	LastActivityAt     time.Time `json:"lastActivityAt"`
	LastUserMessageAt  time.Time `json:"lastUserMessageAt"`
	LastAgentMessageAt time.Time `json:"lastAgentMessageAt"`
	ClosedAt           time.Time `json:"closedAt"`
	// CloseReason is the reason of "Chat Closed", or "auto_close" for the sweep.
	CloseReason string `json:"closeReason,omitempty"`
	Messages    int    `json:"messages"`
	// Version is the store's: 0 for a chat never stored, then 1, 2, ... per save.
	Version int64 `json:"-"`
}

// Awaiting reports whether the chat is open and its user's last message is newer than
// the agent's last answer (the queue-move rule's "unanswered").
func (c Chat) Awaiting() bool {
	return c.Status == StatusOpen && c.AgentID != "" && c.LastUserMessageAt.After(c.LastAgentMessageAt)
}

// Live reports whether the chat is open or queued (what auto-close looks at).
func (c Chat) Live() bool { return c.Status == StatusOpen || c.Status == StatusQueued }

// Message is one message of a transcript.
type Message struct {
	OrgID     string    `json:"-"`
	ChatID    string    `json:"-"`
	MessageID string    `json:"messageId"`
	Sender    string    `json:"sender"`
	AgentID   string    `json:"agentId,omitempty"`
	Text      string    `json:"text"`
	SentAt    time.Time `json:"sentAt"`
	// Truncated says the text was longer than MaxText and was cut.
	Truncated bool `json:"truncated,omitempty"`
}

// Agent is what the chat events say about one agent. (Agents themselves, with their
// business units and chat limit, are another feature; until it exists BusinessUnits is
// empty and MaxChats 0, which means the organisation's maxChatsPerAgent.)
type Agent struct {
	OrgID   string `json:"orgId"`
	AgentID string `json:"agentId"`
	// Status is online, away or offline; "" before any "Agent Status Changed".
	Status   string    `json:"status"`
	StatusAt time.Time `json:"statusAt"`
	// LastLoginAt is the last "Agent Logged In"; zero when never seen.
	LastLoginAt time.Time `json:"lastLoginAt"`
	// Busy is whether the agent's active chats reached their limit, as last published
	// ("Agent Busy Changed").
	Busy          bool     `json:"busy"`
	MaxChats      int      `json:"maxChats,omitempty"`
	BusinessUnits []string `json:"businessUnits,omitempty"`
	Version       int64    `json:"-"`
}

// Errors of the store.
var (
	// ErrConflict: the record changed since it was read (its Version differs, or a record
	// saved as new exists). Nothing was written; read again and reapply.
	ErrConflict = errors.New("chats: the record changed since it was read")
	// ErrDuplicate: the message of a change is stored already. Nothing was written.
	ErrDuplicate = errors.New("chats: the message is stored already")
)
