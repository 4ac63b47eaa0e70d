package bolt

// The chats.Store of the embedded store (Chats, from Store.Chats). Every key part is an
// id (package ids: no NUL, no "."), a 19-digit time (below) or, for events and cursors, a
// string refused when it holds a NUL or a control character, so every key reads one way:
//
//	bucket "chats":           <org> 0 <chat>                         -> {"version":n,"chat":{...}}
//	bucket "chatMessages":    <org> 0 <chat> 0 <sentAt> 0 <messageId> -> message JSON
//	bucket "chatMessageIds":  <org> 0 <chat> 0 <messageId>           -> <sentAt> (dedupe)
//	bucket "chatReports":     <org> 0 <chat>                         -> report marker JSON
//	bucket "chatsByStatus":   <org> 0 <status> 0 <order> 0 <chat>    -> empty
//	bucket "chatsLive":       <org> 0 <lastActivityAt> 0 <chat>      -> empty (open, queued)
//	bucket "chatsAwaiting":   <org> 0 <agent> 0 <lastUserMsgAt> 0 <chat> -> empty (Chat.Awaiting)
//	bucket "chatsActive":     <org> 0 <agent> 0 <chat>               -> empty (open, allocated)
//	bucket "chatAgents":      <org> 0 <agent>                        -> {"version":n,"agent":{...}}
//	bucket "agentsByLogin":   <org> 0 <lastLoginAt> 0 <agent>        -> empty (logged in once)
//	bucket "agentsOnline":    <org> 0 <agent>                        -> empty (status online)
//	bucket "chatOrgs":        <org>                                  -> empty (had a chat)
//	bucket "chatEvents":      <time> 0 <eventId>                     -> pending event JSON
//	bucket "chatEventIds":    <eventId>                              -> <time>
//	bucket "chatCursors":     <sweep>                                -> position
//
// A time is its Unix nanoseconds, clamped to 0..MaxInt64 (1970 to 2262), as 19 zero-padded
// digits, so that keys sort by time. <order> is the StatusAt of a queued chat (oldest
// first) and MaxInt64 minus it for the other statuses (newest first), so every list is a
// forward cursor walk with ties by id. Save is one bbolt transaction that checks the
// versions and the message id, replaces the records and moves their index keys; every
// list seeks to its first key and walks only keys of its prefix and bound.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

var (
	bucketChats          = []byte("chats")
	bucketChatMessages   = []byte("chatMessages")
	bucketChatMessageIDs = []byte("chatMessageIds")
	bucketChatReports    = []byte("chatReports")
	bucketChatsByStatus  = []byte("chatsByStatus")
	bucketChatsLive      = []byte("chatsLive")
	bucketChatsAwaiting  = []byte("chatsAwaiting")
	bucketChatsActive    = []byte("chatsActive")
	bucketChatAgents     = []byte("chatAgents")
	bucketAgentsByLogin  = []byte("agentsByLogin")
	bucketAgentsOnline   = []byte("agentsOnline")
	bucketChatOrgs       = []byte("chatOrgs")
	bucketChatEvents     = []byte("chatEvents")
	bucketChatEventIDs   = []byte("chatEventIds")
	bucketChatCursors    = []byte("chatCursors")

	chatBuckets = [][]byte{bucketChats, bucketChatMessages, bucketChatMessageIDs, bucketChatReports, bucketChatsByStatus,
		bucketChatsLive, bucketChatsAwaiting, bucketChatsActive, bucketChatAgents, bucketAgentsByLogin, bucketAgentsOnline,
		bucketChatOrgs, bucketChatEvents, bucketChatEventIDs, bucketChatCursors}
)

// Limits of the store beyond the port's.
const (
	// MaxPage bounds the limit of Idle, LoggedInBefore, Awaiting, ActiveChats, Online,
	// Orgs and Pending.
	MaxPage = 1000
	// MaxEvents bounds the events of one change (DynamoDB's transaction holds at most 100
	// items and 4 MB; both adapters keep the same bound).
	MaxEvents = chats.MaxChangeEvents
)

// Chats is the chats.Store of a bolt Store. It is safe for concurrent use; writes are
// serialised by bbolt.
type Chats struct {
	db    *bbolt.DB
	reads atomic.Int64
}

var _ chats.Store = (*Chats)(nil)

// Chats returns the chats.Store kept in s's file, creating its buckets the first time.
func (s *Store) Chats() (*Chats, error) {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range chatBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: init chats: %w", err)
	}
	return &Chats{db: s.db}, nil
}

// Reads is the number of keys and records the store has read since it was made: for
// tests and benchmarks that measure what an operation costs (a list reads its matching
// index keys and their records, nothing else).
func (c *Chats) Reads() int64 { return c.reads.Load() }

// ---------------------------------------------------------------- validation

func checkID(what, id string) error {
	if !ids.Valid(id) {
		return problem.New(problem.NotFound, "%s not found", what)
	}
	return nil
}

func checkOrgChat(orgID, chatID string) error {
	if err := checkID("organisation", orgID); err != nil {
		return err
	}
	return checkID("chat", chatID)
}

func checkOrgAgent(orgID, agentID string) error {
	if err := checkID("organisation", orgID); err != nil {
		return err
	}
	return checkID("agent", agentID)
}

func checkLimit(limit, maxLimit int) error {
	if limit < 1 || limit > maxLimit {
		return problem.New(problem.Invalid, "limit must be between 1 and %d", maxLimit)
	}
	return nil
}

var errPosition = problem.New(problem.BadRequest, "malformed position")

// checkText refuses what may not be a key part or a stored string: empty or longer than
// maxLen, not UTF-8, or holding a control character (NUL included).
func checkText(s string, maxLen int) bool {
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

// Bounds of the strings the store keeps beside ids.
const (
	maxEventID    = 512
	maxDetailType = 256
	maxSweep      = 128
	maxPosition   = 4096
	maxReportText = 1024
)

// ---------------------------------------------------------------- keys

// nanos is t as clamped Unix nanoseconds (the zero time and anything before 1970 is 0).
func nanos(t time.Time) int64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

func digits(n int64) string { return fmt.Sprintf("%019d", n) }

func join(parts ...string) []byte { return []byte(strings.Join(parts, "\x00")) }

// statusOrder is the sortable time of a chat in its status list.
func statusOrder(c chats.Chat) string {
	if c.Status == chats.StatusQueued {
		return digits(nanos(c.StatusAt))
	}
	return digits(math.MaxInt64 - nanos(c.StatusAt))
}

type indexKey struct {
	bucket []byte
	key    []byte
}

// chatIndex lists the index keys of a stored chat.
func chatIndex(c chats.Chat) []indexKey {
	var out []indexKey
	if slices.Contains(chats.Statuses, c.Status) {
		out = append(out, indexKey{bucketChatsByStatus, join(c.OrgID, c.Status, statusOrder(c), c.ChatID)})
	}
	if c.Live() {
		out = append(out, indexKey{bucketChatsLive, join(c.OrgID, digits(nanos(c.LastActivityAt)), c.ChatID)})
	}
	if c.Awaiting() {
		out = append(out, indexKey{bucketChatsAwaiting, join(c.OrgID, c.AgentID, digits(nanos(c.LastUserMessageAt)), c.ChatID)})
	}
	if c.Status == chats.StatusOpen && c.AgentID != "" {
		out = append(out, indexKey{bucketChatsActive, join(c.OrgID, c.AgentID, c.ChatID)})
	}
	return out
}

func agentIndex(a chats.Agent) []indexKey {
	var out []indexKey
	if !a.LastLoginAt.IsZero() {
		out = append(out, indexKey{bucketAgentsByLogin, join(a.OrgID, digits(nanos(a.LastLoginAt)), a.AgentID)})
	}
	if a.Status == chats.AgentOnline {
		out = append(out, indexKey{bucketAgentsOnline, join(a.OrgID, a.AgentID)})
	}
	return out
}

// A position is "<kind>.<19 digits>.<id>": kind names the list (a status, "idle" or
// "login"), so that a position of one list is refused by another.
func position(kind, order, id string) string { return kind + "." + order + "." + id }

func parsePosition(kind, pos string) (order, id string, err error) {
	rest, ok := strings.CutPrefix(pos, kind+".")
	if !ok {
		return "", "", errPosition
	}
	order, id, ok = strings.Cut(rest, ".")
	if !ok || len(order) != 19 || !ids.Valid(id) {
		return "", "", errPosition
	}
	for i := 0; i < len(order); i++ {
		if order[i] < '0' || order[i] > '9' {
			return "", "", errPosition
		}
	}
	return order, id, nil
}

// ---------------------------------------------------------------- records

type chatRecord struct {
	Version int64      `json:"version"`
	Chat    chats.Chat `json:"chat"`
}

type agentRecord struct {
	Version int64       `json:"version"`
	Agent   chats.Agent `json:"agent"`
}

type eventRecord struct {
	ID         string    `json:"id"`
	DetailType string    `json:"detailType"`
	Detail     string    `json:"detail"`
	Time       time.Time `json:"time"`
}

type reportRecord struct {
	State     string    `json:"state"` // claimed, released or sent
	ClaimedAt time.Time `json:"claimedAt"`
	Attempts  int       `json:"attempts"`
	To        string    `json:"to,omitempty"`
	MessageID string    `json:"messageId,omitempty"`
}

const (
	reportClaimed  = "claimed"
	reportReleased = "released"
	reportSent     = "sent"
)

func utcChat(c chats.Chat) chats.Chat {
	for _, t := range []*time.Time{&c.StartedAt, &c.StatusAt, &c.LastActivityAt, &c.LastUserMessageAt, &c.LastAgentMessageAt, &c.ClosedAt} {
		*t = t.UTC()
	}
	return c
}

func (c *Chats) getChat(tx *bbolt.Tx, orgID, chatID string) (chats.Chat, bool, error) {
	c.reads.Add(1)
	v := tx.Bucket(bucketChats).Get(join(orgID, chatID))
	if v == nil {
		return chats.Chat{}, false, nil
	}
	var r chatRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return chats.Chat{}, false, fmt.Errorf("bolt: decode chat %s/%s: %w", orgID, chatID, err)
	}
	r.Chat.Version = r.Version
	return r.Chat, true, nil
}

func (c *Chats) getAgent(tx *bbolt.Tx, orgID, agentID string) (chats.Agent, bool, error) {
	c.reads.Add(1)
	v := tx.Bucket(bucketChatAgents).Get(join(orgID, agentID))
	if v == nil {
		return chats.Agent{}, false, nil
	}
	var r agentRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return chats.Agent{}, false, fmt.Errorf("bolt: decode agent %s/%s: %w", orgID, agentID, err)
	}
	r.Agent.Version = r.Version
	return r.Agent, true, nil
}

// moveIndex deletes the old index keys and puts the new ones.
func moveIndex(tx *bbolt.Tx, old, cur []indexKey) error {
	for _, k := range old {
		if err := tx.Bucket(k.bucket).Delete(k.key); err != nil {
			return err
		}
	}
	for _, k := range cur {
		if err := tx.Bucket(k.bucket).Put(k.key, nil); err != nil {
			return err
		}
	}
	return nil
}

// putChat stores c at version (its index keys moved from old's, when found).
func putChat(tx *bbolt.Tx, c chats.Chat, version int64, old chats.Chat, found bool) error {
	c = utcChat(c)
	v, err := json.Marshal(chatRecord{Version: version, Chat: c})
	if err != nil {
		return fmt.Errorf("bolt: encode chat: %w", err)
	}
	if err := tx.Bucket(bucketChats).Put(join(c.OrgID, c.ChatID), v); err != nil {
		return err
	}
	var oldKeys []indexKey
	if found {
		oldKeys = chatIndex(old)
	}
	if err := moveIndex(tx, oldKeys, chatIndex(c)); err != nil {
		return err
	}
	return tx.Bucket(bucketChatOrgs).Put([]byte(c.OrgID), nil)
}

func putAgent(tx *bbolt.Tx, a chats.Agent, version int64, old chats.Agent, found bool) error {
	a.StatusAt, a.LastLoginAt = a.StatusAt.UTC(), a.LastLoginAt.UTC()
	v, err := json.Marshal(agentRecord{Version: version, Agent: a})
	if err != nil {
		return fmt.Errorf("bolt: encode agent: %w", err)
	}
	if err := tx.Bucket(bucketChatAgents).Put(join(a.OrgID, a.AgentID), v); err != nil {
		return err
	}
	var oldKeys []indexKey
	if found {
		oldKeys = agentIndex(old)
	}
	return moveIndex(tx, oldKeys, agentIndex(a))
}

func putEvent(tx *bbolt.Tx, e bus.Event) error {
	t := e.Time.UTC()
	at := digits(nanos(t))
	idx := tx.Bucket(bucketChatEventIDs)
	events := tx.Bucket(bucketChatEvents)
	if old := idx.Get([]byte(e.ID)); old != nil && string(old) != at {
		if err := events.Delete(join(string(old), e.ID)); err != nil {
			return err
		}
	}
	v, err := json.Marshal(eventRecord{ID: e.ID, DetailType: e.DetailType, Detail: string(e.Detail), Time: t})
	if err != nil {
		return fmt.Errorf("bolt: encode event: %w", err)
	}
	if err := events.Put(join(at, e.ID), v); err != nil {
		return err
	}
	return idx.Put([]byte(e.ID), []byte(at))
}

// ---------------------------------------------------------------- records API

// Chat implements chats.Store.
func (c *Chats) Chat(ctx context.Context, orgID, chatID string) (chats.Chat, bool, error) {
	return view(c, ctx, checkOrgChat(orgID, chatID), orgID, chatID, c.getChat)
}

// Agent implements chats.Store.
func (c *Chats) Agent(ctx context.Context, orgID, agentID string) (chats.Agent, bool, error) {
	return view(c, ctx, checkOrgAgent(orgID, agentID), orgID, agentID, c.getAgent)
}

// getter reads an organisation's record (a chat or an agent state) by id.
type getter[T any] func(tx *bbolt.Tx, orgID, id string) (T, bool, error)

// view reads a record with get in a read transaction, after ctx's error and check.
func view[T any](c *Chats, ctx context.Context, check error, orgID, id string, get getter[T]) (r T, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return r, false, err
	}
	if check != nil {
		return r, false, check
	}
	err = c.db.View(func(tx *bbolt.Tx) error {
		r, found, err = get(tx, orgID, id)
		return err
	})
	return r, found, err
}

// Transcript implements chats.Store: one cursor walk over the chat's message keys, which
// sort by SentAt and then MessageID.
func (c *Chats) Transcript(ctx context.Context, orgID, chatID string, limit int) ([]chats.Message, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if err := checkOrgChat(orgID, chatID); err != nil {
		return nil, false, err
	}
	if err := checkLimit(limit, chats.MaxTranscript); err != nil {
		return nil, false, err
	}
	var msgs []chats.Message
	more := false
	err := c.db.View(func(tx *bbolt.Tx) error {
		prefix := join(orgID, chatID, "")
		cur := tx.Bucket(bucketChatMessages).Cursor()
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			c.reads.Add(1)
			if len(msgs) == limit {
				more = true
				return nil
			}
			var m chats.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("bolt: decode message of %s/%s: %w", orgID, chatID, err)
			}
			m.OrgID, m.ChatID = orgID, chatID
			msgs = append(msgs, m)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return msgs, more, nil
}

// Save implements chats.Store in one bbolt transaction. A stored message wins over a
// stale version: the change is a duplicate whatever else changed.
func (c *Chats) Save(ctx context.Context, ch chats.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := chats.CheckChange(ch); err != nil {
		return err
	}
	if ch.Chat == nil && ch.Agent == nil && len(ch.Events) == 0 {
		return nil
	}
	return c.db.Update(func(tx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var midKey []byte
		if m := ch.Message; m != nil {
			midKey = join(ch.Chat.OrgID, ch.Chat.ChatID, m.MessageID)
			if tx.Bucket(bucketChatMessageIDs).Get(midKey) != nil {
				return chats.ErrDuplicate
			}
		}
		if nc := ch.Chat; nc != nil {
			old, found, err := c.getChat(tx, nc.OrgID, nc.ChatID)
			if err != nil {
				return err
			}
			if old.Version != nc.Version || nc.Version < 0 {
				return chats.ErrConflict
			}
			if err := putChat(tx, *nc, nc.Version+1, old, found); err != nil {
				return err
			}
		}
		if na := ch.Agent; na != nil {
			old, found, err := c.getAgent(tx, na.OrgID, na.AgentID)
			if err != nil {
				return err
			}
			if old.Version != na.Version || na.Version < 0 {
				return chats.ErrConflict
			}
			if err := putAgent(tx, *na, na.Version+1, old, found); err != nil {
				return err
			}
		}
		if m := ch.Message; m != nil {
			msg := *m
			msg.OrgID, msg.ChatID, msg.SentAt = "", "", m.SentAt.UTC()
			v, err := json.Marshal(msg)
			if err != nil {
				return fmt.Errorf("bolt: encode message: %w", err)
			}
			at := digits(nanos(msg.SentAt))
			if err := tx.Bucket(bucketChatMessages).Put(join(ch.Chat.OrgID, ch.Chat.ChatID, at, m.MessageID), v); err != nil {
				return err
			}
			if err := tx.Bucket(bucketChatMessageIDs).Put(midKey, []byte(at)); err != nil {
				return err
			}
		}
		for _, e := range ch.Events {
			if err := putEvent(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoadForBenchmark stores chats as a first Save of each would (version 1, index keys,
// the organisations' registration), replacing what is stored under their ids, in one
// transaction per 10,000 chats. It is for tests and benchmarks that need many chats
// fast; it checks ids and statuses but no versions, and keeps no messages or events.
func (c *Chats) LoadForBenchmark(ctx context.Context, cs []chats.Chat) error {
	for i := range cs {
		if err := chats.CheckChange(chats.Change{Chat: &cs[i]}); err != nil {
			return err
		}
	}
	for start := 0; start < len(cs); start += 10000 {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := cs[start:min(start+10000, len(cs))]
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for _, nc := range batch {
				old, found, err := c.getChat(tx, nc.OrgID, nc.ChatID)
				if err != nil {
					return err
				}
				if err := putChat(tx, nc, 1, old, found); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bolt: load chats: %w", err)
		}
	}
	return nil
}

// ---------------------------------------------------------------- lists

// walk visits the keys of bucket from start (inclusive) that have prefix, stopping when
// visit returns false or an error, or when ctx ends.
func (c *Chats) walk(ctx context.Context, tx *bbolt.Tx, bucket, prefix, start []byte, visit func(k []byte) (bool, error)) error {
	cur := tx.Bucket(bucket).Cursor()
	for k, _ := cur.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.reads.Add(1)
		more, err := visit(k)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// lastPart is the part of an index key after its last NUL.
func lastPart(k []byte) string {
	return string(k[bytes.LastIndexByte(k, 0)+1:])
}

// orderPart is the 19-digit part that precedes the last part of an index key.
func orderPart(k []byte) (string, error) {
	i := bytes.LastIndexByte(k, 0)
	if i < 20 || k[i-20] != 0 {
		return "", fmt.Errorf("bolt: malformed index key %q", k)
	}
	return string(k[i-19 : i]), nil
}

// after returns the key to seek for the keys after the position (order, id) under prefix.
func seekAfter(prefix []byte, order, id string) []byte {
	return append(append(bytes.Clone(prefix), join(order, id)...), 0)
}

// List implements chats.Store.
func (c *Chats) List(ctx context.Context, orgID string, q chats.ListQuery) (chats.Page, error) {
	if err := ctx.Err(); err != nil {
		return chats.Page{}, err
	}
	if err := checkID("organisation", orgID); err != nil {
		return chats.Page{}, err
	}
	if !slices.Contains(chats.Statuses, q.Status) {
		return chats.Page{}, problem.New(problem.Invalid, "status must be one of %s", strings.Join(chats.Statuses, ", "))
	}
	if err := checkLimit(q.Limit, chats.MaxListLimit); err != nil {
		return chats.Page{}, err
	}
	prefix := join(orgID, q.Status, "")
	start := prefix
	if q.After != "" {
		order, id, err := parsePosition(q.Status, q.After)
		if err != nil {
			return chats.Page{}, err
		}
		start = seekAfter(prefix, order, id)
	}
	cs, next, err := page(orgID, "chat", c.getChat, func(read readID) (next string, err error) {
		n, lastOrder, lastID := 0, "", ""
		err = c.db.View(func(tx *bbolt.Tx) error {
			return c.walk(ctx, tx, bucketChatsByStatus, prefix, start, func(k []byte) (bool, error) {
				if n == q.Limit {
					next = position(q.Status, lastOrder, lastID)
					return false, nil
				}
				order, err := orderPart(k)
				if err != nil {
					return false, err
				}
				lastOrder, lastID = order, lastPart(k)
				n++
				return true, read(tx, lastID)
			})
		})
		return next, err
	})
	if err != nil {
		return chats.Page{}, err
	}
	return chats.Page{Chats: cs, Next: next}, nil
}

// readID reads what the index key of id names, in tx.
type readID func(tx *bbolt.Tx, id string) error

// page reads the records (chats or agent states, what, read with get) that an index
// walk names: walk calls read with the id of each key it visits and returns the
// position after the last ("" when none follows). A record an index names must exist.
func page[T any](orgID, what string, get getter[T], walk func(read readID) (next string, err error)) ([]T, string, error) {
	var out []T
	next, err := walk(func(tx *bbolt.Tx, id string) error {
		r, found, err := get(tx, orgID, id)
		if err == nil && !found {
			err = fmt.Errorf("bolt: an index names %s %s/%s, which is missing", what, orgID, id)
		}
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// walkIDs calls read with the last part (the id) of the keys of bucket under prefix, at
// most limit, in a read transaction.
func (c *Chats) walkIDs(ctx context.Context, bucket, prefix []byte, limit int, read readID) error {
	n := 0
	return c.db.View(func(tx *bbolt.Tx) error {
		return c.walk(ctx, tx, bucket, prefix, prefix, func(k []byte) (bool, error) {
			n++
			return n < limit, read(tx, lastPart(k))
		})
	})
}

// timeWalk pages through an index of <org> 0 <time> 0 <id> keys up to the time bound
// (inclusive), from the position after of kind, reading one key more than limit to know
// whether more follow.
func (c *Chats) timeWalk(ctx context.Context, bucket []byte, orgID, kind, after string, bound string, limit int,
	read readID) (next string, err error) {
	prefix := join(orgID, "")
	start := prefix
	if after != "" {
		order, id, err := parsePosition(kind, after)
		if err != nil {
			return "", err
		}
		start = seekAfter(prefix, order, id)
	}
	n := 0
	lastOrder, lastID := "", ""
	err = c.db.View(func(tx *bbolt.Tx) error {
		return c.walk(ctx, tx, bucket, prefix, start, func(k []byte) (bool, error) {
			order, err := orderPart(k)
			if err != nil {
				return false, err
			}
			if order > bound {
				return false, nil
			}
			if n == limit {
				next = position(kind, lastOrder, lastID)
				return false, nil
			}
			lastOrder, lastID = order, lastPart(k)
			n++
			return true, read(tx, lastID)
		})
	})
	return next, err
}

// Idle implements chats.Store: a walk of the org's live chats by last activity.
func (c *Chats) Idle(ctx context.Context, orgID string, idleSince time.Time, after string, limit int) ([]chats.Chat, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if err := checkID("organisation", orgID); err != nil {
		return nil, "", err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, "", err
	}
	return page(orgID, "chat", c.getChat, func(read readID) (string, error) {
		return c.timeWalk(ctx, bucketChatsLive, orgID, "idle", after, digits(nanos(idleSince)), limit, read)
	})
}

// LoggedInBefore implements chats.Store: a walk of the org's agents by last login.
func (c *Chats) LoggedInBefore(ctx context.Context, orgID string, t time.Time, after string, limit int) ([]chats.Agent, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if err := checkID("organisation", orgID); err != nil {
		return nil, "", err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, "", err
	}
	bound := "" // before 1970: below every time
	if n := nanos(t); n > 0 {
		bound = digits(n - 1)
	}
	return page(orgID, "agent", c.getAgent, func(read readID) (string, error) {
		return c.timeWalk(ctx, bucketAgentsByLogin, orgID, "login", after, bound, limit, read)
	})
}

// Awaiting implements chats.Store: a walk of the agent's unanswered chats.
func (c *Chats) Awaiting(ctx context.Context, orgID, agentID string, limit int) ([]chats.Chat, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, err
	}
	out, _, err := page(orgID, "chat", c.getChat, func(read readID) (string, error) {
		return "", c.walkIDs(ctx, bucketChatsAwaiting, join(orgID, agentID, ""), limit, read)
	})
	return out, err
}

// OpenChats implements chats.Store: the agent's open chat keys, at most limit.
func (c *Chats) OpenChats(ctx context.Context, orgID, agentID string, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, err
	}
	out := []string{}
	err := c.walkIDs(ctx, bucketChatsActive, join(orgID, agentID, ""), limit, func(_ *bbolt.Tx, id string) error {
		out = append(out, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ActiveChats implements chats.Store: it counts the agent's open chat keys, at most limit.
func (c *Chats) ActiveChats(ctx context.Context, orgID, agentID string, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return 0, err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return 0, err
	}
	n := 0
	err := c.walkIDs(ctx, bucketChatsActive, join(orgID, agentID, ""), limit, func(*bbolt.Tx, string) error {
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Online implements chats.Store.
func (c *Chats) Online(ctx context.Context, orgID string, limit int) ([]chats.Agent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkID("organisation", orgID); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, err
	}
	out, _, err := page(orgID, "agent", c.getAgent, func(read readID) (string, error) {
		return "", c.walkIDs(ctx, bucketAgentsOnline, join(orgID, ""), limit, read)
	})
	return out, err
}

// Orgs implements chats.Store.
func (c *Chats) Orgs(ctx context.Context, after string, limit int) ([]string, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if after != "" && !ids.Valid(after) {
		return nil, "", errPosition
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, "", err
	}
	var out []string
	next := ""
	start := []byte{}
	if after != "" {
		start = append([]byte(after), 0)
	}
	err := c.db.View(func(tx *bbolt.Tx) error {
		return c.walk(ctx, tx, bucketChatOrgs, nil, start, func(k []byte) (bool, error) {
			if len(out) == limit {
				next = out[len(out)-1]
				return false, nil
			}
			out = append(out, string(k))
			return true, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// ---------------------------------------------------------------- events

// Pending implements chats.Store: a walk of the events by time.
func (c *Chats) Pending(ctx context.Context, before time.Time, limit int) ([]bus.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxPage); err != nil {
		return nil, err
	}
	bound := digits(nanos(before))
	var out []bus.Event
	err := c.db.View(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bucketChatEvents).Cursor()
		for k, v := cur.First(); k != nil && len(out) < limit; k, v = cur.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			c.reads.Add(1)
			if len(k) < 19 || string(k[:19]) > bound {
				return nil
			}
			var r eventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bolt: decode pending event: %w", err)
			}
			out = append(out, bus.Event{ID: r.ID, DetailType: r.DetailType, Detail: json.RawMessage(r.Detail), Time: r.Time.UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Published implements chats.Store.
func (c *Chats) Published(ctx context.Context, eventIDs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.db.Update(func(tx *bbolt.Tx) error {
		idx, events := tx.Bucket(bucketChatEventIDs), tx.Bucket(bucketChatEvents)
		for _, id := range eventIDs {
			if !checkText(id, maxEventID) {
				continue
			}
			at := idx.Get([]byte(id))
			if at == nil {
				continue
			}
			if err := events.Delete(join(string(at), id)); err != nil {
				return err
			}
			if err := idx.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---------------------------------------------------------------- cursors

func checkSweep(sweep string) error {
	if !checkText(sweep, maxSweep) {
		return fmt.Errorf("bolt: malformed sweep name %.40q", sweep)
	}
	return nil
}

// Cursor implements chats.Store.
func (c *Chats) Cursor(ctx context.Context, sweep string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkSweep(sweep); err != nil {
		return "", err
	}
	var pos string
	err := c.db.View(func(tx *bbolt.Tx) error {
		pos = string(tx.Bucket(bucketChatCursors).Get([]byte(sweep)))
		return nil
	})
	return pos, err
}

// SetCursor implements chats.Store. Positions are UTF-8, at most 4096 bytes.
func (c *Chats) SetCursor(ctx context.Context, sweep, pos string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSweep(sweep); err != nil {
		return err
	}
	if len(pos) > maxPosition || !utf8.ValidString(pos) {
		return fmt.Errorf("bolt: sweep position of %d bytes, or not UTF-8", len(pos))
	}
	return c.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketChatCursors).Put([]byte(sweep), []byte(pos))
	})
}

// ---------------------------------------------------------------- reports

func getReport(tx *bbolt.Tx, key []byte) (reportRecord, bool, error) {
	v := tx.Bucket(bucketChatReports).Get(key)
	if v == nil {
		return reportRecord{}, false, nil
	}
	var r reportRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return r, false, fmt.Errorf("bolt: decode report marker: %w", err)
	}
	return r, true, nil
}

func putReport(tx *bbolt.Tx, key []byte, r reportRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketChatReports).Put(key, v)
}

// ClaimReport implements chats.Store.
func (c *Chats) ClaimReport(ctx context.Context, orgID, chatID string, now time.Time) (chats.ReportState, error) {
	if err := ctx.Err(); err != nil {
		return chats.ReportState{}, err
	}
	if err := checkOrgChat(orgID, chatID); err != nil {
		return chats.ReportState{}, err
	}
	var st chats.ReportState
	err := c.db.Update(func(tx *bbolt.Tx) error {
		key := join(orgID, chatID)
		r, found, err := getReport(tx, key)
		if err != nil {
			return err
		}
		if found && r.State != reportReleased {
			st = reportState(r, false)
			return nil
		}
		r = reportRecord{State: reportClaimed, ClaimedAt: now.UTC(), Attempts: r.Attempts + 1}
		st = reportState(r, true)
		return putReport(tx, key, r)
	})
	return st, err
}

// reportState is what a claim reads from the marker r: granted (the caller took the
// claim), or the state another attempt left.
func reportState(r reportRecord, granted bool) chats.ReportState {
	st := chats.ReportState{ClaimedAt: r.ClaimedAt.UTC(), Attempts: r.Attempts}
	switch {
	case granted:
		st.Claimed = true
	case r.State == reportSent:
		st.Sent, st.To, st.MessageID = true, r.To, r.MessageID
	default:
		st.InProgress = true
	}
	return st
}

// FinishReport implements chats.Store. Without a claim held it returns an error matching
// chats.ErrConflict and changes nothing.
func (c *Chats) FinishReport(ctx context.Context, orgID, chatID string, sent bool, to, messageID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkOrgChat(orgID, chatID); err != nil {
		return err
	}
	if len(to) > maxReportText || len(messageID) > maxReportText {
		return errors.New("bolt: report recipient or message id too long")
	}
	return c.db.Update(func(tx *bbolt.Tx) error {
		key := join(orgID, chatID)
		r, found, err := getReport(tx, key)
		if err != nil {
			return err
		}
		if !found || r.State != reportClaimed {
			return fmt.Errorf("bolt: report of %s/%s: no claim held: %w", orgID, chatID, chats.ErrConflict)
		}
		if sent {
			r.State, r.To, r.MessageID = reportSent, to, messageID
		} else {
			r.State = reportReleased
		}
		return putReport(tx, key, r)
	})
}
