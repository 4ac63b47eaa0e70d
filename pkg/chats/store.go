package chats

import (
	"context"
	"time"

	"github.com/convrs/admin/pkg/bus"
)

// Change is one atomic write of the store: a chat (and the message that changed it, if
// any) together with the events it must publish, or an agent with its events.
type Change struct {
	// Chat is written when not nil, on condition that the stored version is
	// Chat.Version (0: no chat stored); the store saves Chat.Version+1.
	Chat *Chat
	// Message is added with the chat, on condition that no message with its id is stored
	// for the chat (else ErrDuplicate and nothing is written). Needs Chat.
	Message *Message
	// Agent is written when not nil, on the same version rule as Chat.
	Agent *Agent
	// Events are kept as pending in the same write; the caller publishes them and then
	// calls Published. A change with no Chat and no Agent only keeps events.
	Events []bus.Event
}

// Page is one page of a chat list.
type Page struct {
	Chats []Chat
	// Next is the position after the last chat ("" on the last page); pass it as After.
	Next string
}

// ListQuery asks for a page of the chats of one status.
type ListQuery struct {
	Status string
	Limit  int    // 1..MaxListLimit
	After  string // "" for the first page, else a Page.Next of the same query
}

// ReportState is the state of the missed-chat report of one chat.
type ReportState struct {
	// Claimed: the caller holds the claim and must send, then call FinishReport.
	Claimed bool
	// Sent: a report was sent already (To, MessageID say where and which).
	Sent      bool
	To        string
	MessageID string
	// InProgress: another attempt holds the claim (or took it and never finished: it may
	// have sent); do not send.
	InProgress bool
	ClaimedAt  time.Time
	// Attempts counts the claims taken so far.
	Attempts int
}

// Store keeps chats, transcripts, agent states, pending events, sweep cursors and
// report markers. Adapters: package dynamo (the single table, sparse GSIs, no Scan) and
// package bolt; both pass the contract suite in package chatstest. Every method refuses
// a malformed organisation, chat or agent id (package ids) with a problem.NotFound error,
// and every list is ordered and bounded as documented.
type Store interface {
	// Chat returns the chat; found is false when nothing of it is stored.
	Chat(ctx context.Context, orgID, chatID string) (c Chat, found bool, err error)
	// Transcript returns up to limit messages of the chat, oldest first (SentAt, then
	// MessageID), and whether there are more.
	Transcript(ctx context.Context, orgID, chatID string, limit int) (msgs []Message, more bool, err error)
	// Agent returns the agent's record; found is false when nothing of it is stored.
	Agent(ctx context.Context, orgID, agentID string) (a Agent, found bool, err error)
	// Save writes one change atomically: ErrConflict or ErrDuplicate and nothing
	// written, or everything.
	Save(ctx context.Context, ch Change) error

	// List returns a page of the organisation's chats of q.Status: queued chats oldest
	// first by StatusAt (the queue's order), the others newest first by StatusAt; ties by
	// chat id.
	List(ctx context.Context, orgID string, q ListQuery) (Page, error)
	// Idle returns up to limit open or queued chats of the organisation whose
	// LastActivityAt is at or before idleSince, oldest activity first, after the position
	// after ("" from the start), and the position to resume from ("" when done). Only
	// such chats are read (the auto-close sweep's candidates).
	Idle(ctx context.Context, orgID string, idleSince time.Time, after string, limit int) (chats []Chat, next string, err error)
	// LoggedInBefore returns up to limit agents of the organisation whose LastLoginAt is
	// set and before t, oldest first, after the position after, and the position to
	// resume from ("" when done).
	LoggedInBefore(ctx context.Context, orgID string, t time.Time, after string, limit int) (agents []Agent, next string, err error)
	// Awaiting returns up to limit open chats allocated to the agent whose user's last
	// message is unanswered (Chat.Awaiting), oldest user message first.
	Awaiting(ctx context.Context, orgID, agentID string, limit int) ([]Chat, error)
	// ActiveChats counts the open chats allocated to the agent, counting at most limit.
	ActiveChats(ctx context.Context, orgID, agentID string, limit int) (int, error)
	// OpenChats returns the ids of up to limit open chats allocated to the agent (the
	// chats that stop an agent from being disabled), in no promised order.
	OpenChats(ctx context.Context, orgID, agentID string, limit int) ([]string, error)
	// Online returns up to limit agents of the organisation whose status is online, by
	// agent id.
	Online(ctx context.Context, orgID string, limit int) ([]Agent, error)
	// Orgs returns up to limit organisations that have had a chat, by id, after the
	// organisation after ("" from the start), and the next position ("" when done).
	Orgs(ctx context.Context, after string, limit int) (orgIDs []string, next string, err error)

	// Pending returns up to limit events kept by Save and not yet marked Published whose
	// Time is at or before before, oldest first.
	Pending(ctx context.Context, before time.Time, limit int) ([]bus.Event, error)
	// Published forgets pending events (unknown ids are ignored).
	Published(ctx context.Context, ids []string) error

	// Cursor returns the saved position of a sweep ("" when none); SetCursor saves it.
	Cursor(ctx context.Context, sweep string) (string, error)
	SetCursor(ctx context.Context, sweep, position string) error

	// ClaimReport takes the claim of sending the chat's missed-chat report at now. It is
	// granted when no report was sent and no attempt holds the claim (an attempt that
	// failed released it with FinishReport). A claim that was never finished is never
	// taken over: its holder may have sent before it died, and a report is sent at most
	// once; it reads as InProgress (with the time it was taken in ClaimedAt).
	ClaimReport(ctx context.Context, orgID, chatID string, now time.Time) (ReportState, error)
	// FinishReport ends the caller's claim: sent (with the recipient and the mailer's
	// message id) or not (the claim is released, so a retry may send).
	FinishReport(ctx context.Context, orgID, chatID string, sent bool, to, messageID string) error
}
