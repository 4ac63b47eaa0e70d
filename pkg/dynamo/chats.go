package dynamo

// The chats.Store on the single table (Chats, from NewChats). No Scan anywhere: every
// read is a GetItem or a Query of one partition of the table or of a sparse index (an
// item carries an index's attributes only while it belongs in it).
//
// Items of the table (ids are package ids ids: no "#"; <t> is a time as 19 zero-padded
// digits of Unix nanoseconds, clamped to 1970..2262, so that it sorts as text):
//
//	item              pk                       sk                        other attributes
//	chat              CHAT#<org>#<chat>        CHAT                      version N, data S (chat JSON), index attributes below
//	message           CHAT#<org>#<chat>        MSG#<sentAt t>#<message>  data S (message JSON)
//	message id        CHAT#<org>#<chat>        MID#<message>             (dedupe marker, written with the message)
//	report marker     CHAT#<org>#<chat>        REPORT                    rstate S (claimed|released|sent), claimedAt S, attempts N, sentTo S, sentMessageId S
//	agent             AGENT#<org>#<agent>      STATE                     version N, data S (agent JSON), index attributes below
//	org registry      ORGS#<shard>             <org>                     (an org that had a chat; shard = FNV-1a(org) mod 16, 2 hex digits)
//	pending event     EVENT#<shard>            <eventId>                 id, detailType, detail, time S; index attributes below (shard = FNV-1a(eventId) mod 16)
//	sweep cursor      SWEEP#<sweep>            CURSOR                    position S
//
// Global secondary indexes, each projecting ALL attributes, overloaded and sparse (an
// item has an index's pk/sk only while it belongs in the list):
//
//	index  pk attr  sk attr  item           pk value                 sk value                       present while
//	gsi1   g1pk     g1sk     chat           STATUS#<org>#<status>    <order t>#<chat>               status is open, queued, closed or missed
//	gsi1   g1pk     g1sk     agent          LOGIN#<org>              <lastLoginAt t>#<agent>        LastLoginAt is set
//	gsi1   g1pk     g1sk     pending event  EVENT#<shard>            <time t>#<eventId>             the event is pending
//	gsi2   g2pk     g2sk     chat           LIVE#<org>               <lastActivityAt t>#<chat>      the chat is open or queued
//	gsi2   g2pk     g2sk     agent          ONLINE#<org>             <agent>                        status is online
//	gsi3   g3pk     g3sk     chat           OPEN#<org>#<agent>       A#<lastUserMessageAt t>#<chat> open, allocated and Chat.Awaiting
//	gsi3   g3pk     g3sk     chat           OPEN#<org>#<agent>       N#<chat>                       open, allocated, not awaiting
//
// gsi3 serves both Awaiting (sort keys beginning A#) and ActiveChats (every key of the
// partition), which keeps the chat indexes to three (CloudFormation adds at most one index
// to an existing table per stack update).
//
// <order t> is StatusAt for a queued chat (the queue: oldest first) and MaxInt64 minus
// StatusAt for the others (newest first), so every list is an ascending Query whose ties
// are by id. Positions given out are "<kind>.<19 digits>.<id>" (kind: the status, "idle"
// or "login"), turned back into a key condition (sk > position, or BETWEEN it and the
// time bound), so a position stays valid when its item has left the list.
//
// Writes: Save is one TransactWriteItems (the chat, conditional on its version or on not
// existing; the message id marker, conditional on not existing, and the message; the agent,
// conditional on its version; one put per event); before the transaction, a chat saved as
// new registers its organisation with one PutItem (skipped when this process registered it
// already), outside the transaction so that concurrent new chats of one org do not collide
// on the registry item. The registry and the pending events, written for every new org and
// every event, are spread over 16 partitions each and merged on read. Reads of one record
// are strongly consistent GetItems; lists read the indexes, which are eventually
// consistent (a change shows in a list a moment after Save returns).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// ChatsAPI is the subset of *dynamodb.Client that Chats uses (no Scan).
type ChatsAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, params *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, params *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ ChatsAPI = (*dynamodb.Client)(nil)

// The global secondary indexes of the chat items (see the layout above).
const (
	GSI1 = "gsi1" // chats by status, agents by last login, pending events by time
	GSI2 = "gsi2" // live chats by last activity, online agents
	GSI3 = "gsi3" // an agent's open chats, the unanswered ones first by user message
)

// ChatIndexes lists the indexes Chats queries.
var ChatIndexes = []string{GSI1, GSI2, GSI3}

// Patterns (IAM StringLike) of the partition keys Chats uses, for dynamodb:LeadingKeys
// conditions: in the table, and in the indexes.
const (
	ChatKeys    = "CHAT#*"   // table: chats, messages, message ids, report markers
	AgentKeys   = "AGENT#*"  // table: agent states
	ChatOrgKeys = "ORGS#*"   // table: the registry of organisations that had a chat
	EventKeys   = "EVENT#*"  // table and g1: pending events
	SweepKeys   = "SWEEP#*"  // table: sweep cursors
	StatusKeys  = "STATUS#*" // gsi1: chats by status
	LoginKeys   = "LOGIN#*"  // gsi1: agents by last login
	LiveKeys    = "LIVE#*"   // gsi2: open and queued chats by last activity
	OnlineKeys  = "ONLINE#*" // gsi2: online agents
	OpenKeys    = "OPEN#*"   // gsi3: an agent's open chats
)

// Shards is how many partitions the org registry and the pending events are spread over.
// It must never be lowered (items in the dropped shards would never be read again).
const Shards = 16

// Limits beyond the port's, the same as package bolt's.
const (
	// MaxChatPage bounds the limit of Idle, LoggedInBefore, Awaiting, ActiveChats, Online,
	// Orgs and Pending.
	MaxChatPage = 1000
	// MaxChangeEvents bounds the events of one change: a transaction holds at most 100
	// items and 4 MB, and an event's detail may be 64 KiB.
	MaxChangeEvents = chats.MaxChangeEvents
)

// Attribute names of chat items.
const (
	attrG1PK          = "g1pk"
	attrG1SK          = "g1sk"
	attrG2PK          = "g2pk"
	attrG2SK          = "g2sk"
	attrG3PK          = "g3pk"
	attrG3SK          = "g3sk"
	attrEventID       = "id"
	attrDetailType    = "detailType"
	attrDetail        = "detail"
	attrTime          = "time"
	attrPosition      = "position"
	attrReportState   = "rstate"
	attrClaimedAt     = "claimedAt"
	attrAttempts      = "attempts"
	attrSentTo        = "sentTo"
	attrSentMessageID = "sentMessageId"
)

const (
	skChat   = "CHAT"
	skAgent  = "STATE"
	skReport = "REPORT"
	skCursor = "CURSOR"

	reportClaimed  = "claimed"
	reportReleased = "released"
	reportSent     = "sent"

	conditionFailed = "ConditionalCheckFailed"
)

// Chats is the chats.Store on one DynamoDB table. It is safe for concurrent use.
type Chats struct {
	client ChatsAPI
	table  string

	mu   sync.Mutex
	orgs map[string]bool // organisations registered by this process
}

var _ chats.Store = (*Chats)(nil)

// NewChats returns the chat store on table through client (usually a *dynamodb.Client).
func NewChats(client ChatsAPI, table string) *Chats {
	return &Chats{client: client, table: table, orgs: map[string]bool{}}
}

// maxRegistered bounds the organisations a process remembers having registered.
const maxRegistered = 10000

// ---------------------------------------------------------------- validation

func checkChatID(what, id string) error {
	if !ids.Valid(id) {
		return problem.New(problem.NotFound, "%s not found", what)
	}
	return nil
}

func checkOrgChat(orgID, chatID string) error {
	if err := checkChatID("organisation", orgID); err != nil {
		return err
	}
	return checkChatID("chat", chatID)
}

func checkOrgAgent(orgID, agentID string) error {
	if err := checkChatID("organisation", orgID); err != nil {
		return err
	}
	return checkChatID("agent", agentID)
}

func checkLimit(limit, maxLimit int) error {
	if limit < 1 || limit > maxLimit {
		return problem.New(problem.Invalid, "limit must be between 1 and %d", maxLimit)
	}
	return nil
}

var errPosition = problem.New(problem.BadRequest, "malformed position")

// Bounds of the strings kept beside ids.
const (
	maxEventID    = 512
	maxDetailType = 256
	maxSweep      = 128
	maxPosition   = 4096
	maxReportText = 1024
)

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

// ---------------------------------------------------------------- keys

// chatNanos is t as clamped Unix nanoseconds (the zero time and anything before 1970 is 0).
func chatNanos(t time.Time) int64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

func digits(n int64) string { return fmt.Sprintf("%019d", n) }

// upTo is the largest sort key "<t>#..." of time n can have (every such key is below it,
// every key of a later time above it).
func upTo(n int64) string { return digits(n) + "$" }

func chatPK(orgID, chatID string) string   { return "CHAT#" + orgID + "#" + chatID }
func agentPK(orgID, agentID string) string { return "AGENT#" + orgID + "#" + agentID }
func statusPK(orgID, status string) string { return "STATUS#" + orgID + "#" + status }
func loginPK(orgID string) string          { return "LOGIN#" + orgID }
func livePK(orgID string) string           { return "LIVE#" + orgID }
func onlinePK(orgID string) string         { return "ONLINE#" + orgID }
func openPK(orgID, agentID string) string  { return "OPEN#" + orgID + "#" + agentID }

func shard(s string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return fmt.Sprintf("%02x", h.Sum32()%Shards)
}

func orgsPK(s string) string  { return "ORGS#" + s }
func eventPK(s string) string { return "EVENT#" + s }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

// statusOrder is the sortable time of a chat in its status list.
func statusOrder(c chats.Chat) string {
	if c.Status == chats.StatusQueued {
		return digits(chatNanos(c.StatusAt))
	}
	return digits(math.MaxInt64 - chatNanos(c.StatusAt))
}

// position is a position given out: "<kind>.<19 digits>.<id>" from an index sort key
// "<19 digits>#<id>".
func position(kind, sk string) (string, error) {
	order, id, ok := strings.Cut(sk, "#")
	if !ok || len(order) != 19 || !ids.Valid(id) {
		return "", fmt.Errorf("dynamo: malformed index sort key %q", sk)
	}
	return kind + "." + order + "." + id, nil
}

// positionKey is the index sort key of a position of kind.
func positionKey(kind, pos string) (string, error) {
	rest, ok := strings.CutPrefix(pos, kind+".")
	if !ok {
		return "", errPosition
	}
	order, id, ok := strings.Cut(rest, ".")
	if !ok || len(order) != 19 || !ids.Valid(id) {
		return "", errPosition
	}
	for i := 0; i < len(order); i++ {
		if order[i] < '0' || order[i] > '9' {
			return "", errPosition
		}
	}
	return order + "#" + id, nil
}

// ---------------------------------------------------------------- items

func utcChat(c chats.Chat) chats.Chat {
	for _, t := range []*time.Time{&c.StartedAt, &c.StatusAt, &c.LastActivityAt, &c.LastUserMessageAt, &c.LastAgentMessageAt, &c.ClosedAt} {
		*t = t.UTC()
	}
	c.Version = 0
	return c
}

// chatItem is the item of chat c at version.
func chatItem(c chats.Chat, version int64) (map[string]types.AttributeValue, error) {
	c = utcChat(c)
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("dynamo: encode chat: %w", err)
	}
	item := key(chatPK(c.OrgID, c.ChatID), skChat)
	item[attrVersion] = num(version)
	item[attrData] = str(string(data))
	if slices.Contains(chats.Statuses, c.Status) {
		item[attrG1PK], item[attrG1SK] = str(statusPK(c.OrgID, c.Status)), str(statusOrder(c)+"#"+c.ChatID)
	}
	if c.Live() {
		item[attrG2PK], item[attrG2SK] = str(livePK(c.OrgID)), str(digits(chatNanos(c.LastActivityAt))+"#"+c.ChatID)
	}
	switch {
	case c.Awaiting():
		item[attrG3PK], item[attrG3SK] = str(openPK(c.OrgID, c.AgentID)), str("A#"+digits(chatNanos(c.LastUserMessageAt))+"#"+c.ChatID)
	case c.Status == chats.StatusOpen && c.AgentID != "":
		item[attrG3PK], item[attrG3SK] = str(openPK(c.OrgID, c.AgentID)), str("N#"+c.ChatID)
	}
	return item, nil
}

func agentItem(a chats.Agent, version int64) (map[string]types.AttributeValue, error) {
	a.StatusAt, a.LastLoginAt, a.Version = a.StatusAt.UTC(), a.LastLoginAt.UTC(), 0
	data, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("dynamo: encode agent: %w", err)
	}
	item := key(agentPK(a.OrgID, a.AgentID), skAgent)
	item[attrVersion] = num(version)
	item[attrData] = str(string(data))
	if !a.LastLoginAt.IsZero() {
		item[attrG1PK], item[attrG1SK] = str(loginPK(a.OrgID)), str(digits(chatNanos(a.LastLoginAt))+"#"+a.AgentID)
	}
	if a.Status == chats.AgentOnline {
		item[attrG2PK], item[attrG2SK] = str(onlinePK(a.OrgID)), str(a.AgentID)
	}
	return item, nil
}

func eventItem(e bus.Event) map[string]types.AttributeValue {
	t := e.Time.UTC()
	s := shard(e.ID)
	item := key(eventPK(s), e.ID)
	item[attrG1PK], item[attrG1SK] = str(eventPK(s)), str(digits(chatNanos(t))+"#"+e.ID)
	item[attrEventID] = str(e.ID)
	item[attrDetailType] = str(e.DetailType)
	item[attrDetail] = str(string(e.Detail))
	item[attrTime] = str(formatTime(t))
	return item
}

// versioned is a record's data and version.
func versioned(item map[string]types.AttributeValue, dst any) (int64, error) {
	v, err := getN(item, attrVersion)
	if err != nil {
		return 0, err
	}
	data, err := getS(item, attrData)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal([]byte(data), dst); err != nil {
		return 0, fmt.Errorf("attribute %s: %w", attrData, err)
	}
	return v, nil
}

func decodeChat(item map[string]types.AttributeValue) (chats.Chat, error) {
	var c chats.Chat
	v, err := versioned(item, &c)
	if err != nil {
		return chats.Chat{}, fmt.Errorf("dynamo: decode chat: %w", err)
	}
	c.Version = v
	return c, nil
}

func decodeAgent(item map[string]types.AttributeValue) (chats.Agent, error) {
	var a chats.Agent
	v, err := versioned(item, &a)
	if err != nil {
		return chats.Agent{}, fmt.Errorf("dynamo: decode agent: %w", err)
	}
	a.Version = v
	return a, nil
}

func decodeEvent(item map[string]types.AttributeValue) (bus.Event, error) {
	var e bus.Event
	var detail string
	var err error
	for name, dst := range map[string]*string{attrEventID: &e.ID, attrDetailType: &e.DetailType, attrDetail: &detail} {
		if *dst, err = getS(item, name); err != nil {
			return bus.Event{}, fmt.Errorf("dynamo: decode event: %w", err)
		}
	}
	if e.Time, err = getTime(item, attrTime); err != nil {
		return bus.Event{}, fmt.Errorf("dynamo: decode event: %w", err)
	}
	e.Detail, e.Time = json.RawMessage(detail), e.Time.UTC()
	return e, nil
}

// mapChatsError is mapError for the chat store: throttling and transient failures are an
// Unavailable problem, anything else a plain error naming the operation.
func mapChatsError(op string, err error) error {
	class := awserr.Classify(err)
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			class = max(class, awserr.ClassifyCode(aws.ToString(r.Code)))
		}
	}
	return class.Problem("dynamo: "+op, err, "the chat store is busy, please retry")
}

// ---------------------------------------------------------------- records

func (s *Chats) get(ctx context.Context, op string, k map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapChatsError(op, err)
	}
	return out.Item, nil
}

// Chat implements chats.Store with one strongly consistent GetItem.
func (s *Chats) Chat(ctx context.Context, orgID, chatID string) (chats.Chat, bool, error) {
	if err := checkOrgChat(orgID, chatID); err != nil {
		return chats.Chat{}, false, err
	}
	return record(ctx, s, "get chat "+orgID+"/"+chatID, key(chatPK(orgID, chatID), skChat), decodeChat)
}

// Agent implements chats.Store with one strongly consistent GetItem.
func (s *Chats) Agent(ctx context.Context, orgID, agentID string) (chats.Agent, bool, error) {
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return chats.Agent{}, false, err
	}
	return record(ctx, s, "get agent "+orgID+"/"+agentID, key(agentPK(orgID, agentID), skAgent), decodeAgent)
}

// record reads the record (a chat or an agent state) at k with get and decode.
func record[T any](ctx context.Context, s *Chats, op string, k map[string]types.AttributeValue,
	decode func(map[string]types.AttributeValue) (T, error)) (T, bool, error) {
	item, err := s.get(ctx, op, k)
	if err != nil || len(item) == 0 {
		var zero T
		return zero, false, err
	}
	r, err := decode(item)
	return r, err == nil, err
}

// query runs in until it has want items or the query ends, following DynamoDB's 1 MB
// pages; more says the query ended early.
func (s *Chats) query(ctx context.Context, op string, in *dynamodb.QueryInput, want int) ([]map[string]types.AttributeValue, error) {
	in.TableName = aws.String(s.table)
	var items []map[string]types.AttributeValue
	// Every page holds at least one item (there are no filters), so want pages suffice.
	for range want {
		in.Limit = aws.Int32(int32(want - len(items)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, mapChatsError(op, err)
		}
		items = append(items, out.Items...)
		if len(items) >= want || len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return items, nil
}

func values(kv ...string) map[string]types.AttributeValue {
	m := make(map[string]types.AttributeValue, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = str(kv[i+1])
	}
	return m
}

// Transcript implements chats.Store with one strongly consistent Query of the chat's
// partition for limit+1 messages (more pages only past DynamoDB's 1 MB).
func (s *Chats) Transcript(ctx context.Context, orgID, chatID string, limit int) ([]chats.Message, bool, error) {
	if err := checkOrgChat(orgID, chatID); err != nil {
		return nil, false, err
	}
	if err := checkLimit(limit, chats.MaxTranscript); err != nil {
		return nil, false, err
	}
	op := "transcript of " + orgID + "/" + chatID
	items, err := s.query(ctx, op, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :m)"),
		ExpressionAttributeValues: values(":p", chatPK(orgID, chatID), ":m", "MSG#"),
		ConsistentRead:            aws.Bool(true),
	}, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(items) > limit
	items = items[:min(len(items), limit)]
	msgs := make([]chats.Message, 0, len(items))
	for _, it := range items {
		data, err := getS(it, attrData)
		if err != nil {
			return nil, false, fmt.Errorf("dynamo: %s: %w", op, err)
		}
		var m chats.Message
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, false, fmt.Errorf("dynamo: %s: decode: %w", op, err)
		}
		m.OrgID, m.ChatID = orgID, chatID
		msgs = append(msgs, m)
	}
	return msgs, more, nil
}

// Save implements chats.Store with one TransactWriteItems (and, for a chat saved as new
// whose organisation this process has not registered yet, one PutItem before it).
func (s *Chats) Save(ctx context.Context, ch chats.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := chats.CheckChange(ch); err != nil {
		return err
	}
	if ch.Chat == nil && ch.Agent == nil && len(ch.Events) == 0 {
		return nil
	}
	var op string
	var items []types.TransactWriteItem
	chatAt, midAt, agentAt := -1, -1, -1
	put := func(item map[string]types.AttributeValue, version int64) *types.Put {
		p := &types.Put{TableName: aws.String(s.table), Item: item}
		switch {
		case version == 0:
			p.ConditionExpression = aws.String("attribute_not_exists(pk)")
		default:
			p.ConditionExpression = aws.String("version = :v")
			p.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
		}
		return p
	}
	if c := ch.Chat; c != nil {
		if c.Version < 0 {
			return chats.ErrConflict
		}
		item, err := chatItem(*c, c.Version+1)
		if err != nil {
			return err
		}
		chatAt = len(items)
		items = append(items, types.TransactWriteItem{Put: put(item, c.Version)})
		op = fmt.Sprintf("save chat %s/%s v%d", c.OrgID, c.ChatID, c.Version)
	}
	if m := ch.Message; m != nil {
		msg := *m
		msg.OrgID, msg.ChatID, msg.SentAt = "", "", m.SentAt.UTC()
		data, err := json.Marshal(msg)
		if err != nil {
			return fmt.Errorf("dynamo: encode message: %w", err)
		}
		pk := chatPK(ch.Chat.OrgID, ch.Chat.ChatID)
		midAt = len(items)
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: key(pk, "MID#"+m.MessageID),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
				attrPK: str(pk), attrSK: str("MSG#" + digits(chatNanos(msg.SentAt)) + "#" + m.MessageID), attrData: str(string(data)),
			}}})
		op += " with message " + m.MessageID
	}
	if a := ch.Agent; a != nil {
		if a.Version < 0 {
			return chats.ErrConflict
		}
		item, err := agentItem(*a, a.Version+1)
		if err != nil {
			return err
		}
		agentAt = len(items)
		items = append(items, types.TransactWriteItem{Put: put(item, a.Version)})
		op += fmt.Sprintf(" agent %s/%s v%d", a.OrgID, a.AgentID, a.Version)
	}
	for _, e := range ch.Events {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: eventItem(e)}})
	}
	op = strings.TrimSpace(op + fmt.Sprintf(" (%d events)", len(ch.Events)))

	if c := ch.Chat; c != nil && c.Version == 0 {
		if err := s.register(ctx, c.OrgID); err != nil {
			return err
		}
	}
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	return saveError(op, err, chatAt, midAt, agentAt)
}

// saveError maps the failure of a Save's transaction by the item whose condition failed:
// the message id marker (ErrDuplicate, checked first: a stored message makes the whole
// change a duplicate), the chat or the agent (ErrConflict). A transaction that collided
// with a concurrent one on its items also matches ErrConflict (nothing was written, and
// reading again and reapplying is the answer), while being an Unavailable problem should
// it reach a client.
func saveError(op string, err error, chatAt, midAt, agentAt int) error {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		if contended(err) {
			return errors.Join(chats.ErrConflict, mapChatsError(op, err))
		}
		return mapChatsError(op, err)
	}
	code := func(i int) string {
		if i < 0 || i >= len(canceled.CancellationReasons) {
			return ""
		}
		return aws.ToString(canceled.CancellationReasons[i].Code)
	}
	switch {
	case code(midAt) == conditionFailed:
		return chats.ErrDuplicate
	case code(chatAt) == conditionFailed || code(agentAt) == conditionFailed:
		return chats.ErrConflict
	case contended(err):
		return errors.Join(chats.ErrConflict, mapChatsError(op, err))
	}
	return mapChatsError(op, err)
}

// register records that orgID had a chat, once per process.
func (s *Chats) register(ctx context.Context, orgID string) error {
	s.mu.Lock()
	done := s.orgs[orgID]
	s.mu.Unlock()
	if done {
		return nil
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: key(orgsPK(shard(orgID)), orgID)})
	if err != nil {
		return mapChatsError("register organisation "+orgID, err)
	}
	s.mu.Lock()
	if len(s.orgs) >= maxRegistered {
		clear(s.orgs)
	}
	s.orgs[orgID] = true
	s.mu.Unlock()
	return nil
}

// ---------------------------------------------------------------- lists

// List implements chats.Store with one Query of gsi1 (STATUS#<org>#<status>) for
// limit+1 chats.
func (s *Chats) List(ctx context.Context, orgID string, q chats.ListQuery) (chats.Page, error) {
	if err := checkChatID("organisation", orgID); err != nil {
		return chats.Page{}, err
	}
	if !slices.Contains(chats.Statuses, q.Status) {
		return chats.Page{}, problem.New(problem.Invalid, "status must be one of %s", strings.Join(chats.Statuses, ", "))
	}
	if err := checkLimit(q.Limit, chats.MaxListLimit); err != nil {
		return chats.Page{}, err
	}
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI1),
		KeyConditionExpression:    aws.String("g1pk = :p"),
		ExpressionAttributeValues: values(":p", statusPK(orgID, q.Status)),
	}
	if q.After != "" {
		after, err := positionKey(q.Status, q.After)
		if err != nil {
			return chats.Page{}, err
		}
		in.KeyConditionExpression = aws.String("g1pk = :p AND g1sk > :a")
		in.ExpressionAttributeValues[":a"] = str(after)
	}
	op := "list " + q.Status + " chats of " + orgID
	items, err := s.query(ctx, op, in, q.Limit+1)
	if err != nil {
		return chats.Page{}, err
	}
	cs, next, err := page(op, q.Status, attrG1SK, items, q.Limit, decodeChat)
	return chats.Page{Chats: cs, Next: next}, err
}

// page decodes up to limit records of items (chats or agent states, with decode) and,
// when items has more, gives the position (of kind) after the last, from its sort key
// attribute skAttr.
func page[T any](op, kind, skAttr string, items []map[string]types.AttributeValue, limit int,
	decode func(map[string]types.AttributeValue) (T, error)) ([]T, string, error) {
	next := ""
	if len(items) > limit {
		items = items[:limit]
		sk, err := getS(items[limit-1], skAttr)
		if err != nil {
			return nil, "", fmt.Errorf("dynamo: %s: %w", op, err)
		}
		if next, err = position(kind, sk); err != nil {
			return nil, "", err
		}
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		r, err := decode(it)
		if err != nil {
			return nil, "", fmt.Errorf("dynamo: %s: %w", op, err)
		}
		out = append(out, r)
	}
	return out, next, nil
}

// timeRange is the key condition of an index whose sort keys are "<t>#<id>": the keys
// up to hi (inclusive), after the position after of kind. ok is false when the range is
// empty.
func timeRange(in *dynamodb.QueryInput, pkAttr, skAttr, pk, kind, after, hi string) (ok bool, err error) {
	in.ExpressionAttributeValues = values(":p", pk, ":hi", hi)
	if after == "" {
		in.KeyConditionExpression = aws.String(pkAttr + " = :p AND " + skAttr + " <= :hi")
		return true, nil
	}
	lo, err := positionKey(kind, after)
	if err != nil {
		return false, err
	}
	// "<t>#<id>#" is above "<t>#<id>" and at or below every key after it (ids hold none
	// of "#" and the characters below it).
	lo += "#"
	if lo > hi {
		return false, nil
	}
	in.KeyConditionExpression = aws.String(pkAttr + " = :p AND " + skAttr + " BETWEEN :lo AND :hi")
	in.ExpressionAttributeValues[":lo"] = str(lo)
	return true, nil
}

// Idle implements chats.Store with one Query of gsi2 (LIVE#<org>) for limit+1 chats.
func (s *Chats) Idle(ctx context.Context, orgID string, idleSince time.Time, after string, limit int) ([]chats.Chat, string, error) {
	if err := checkChatID("organisation", orgID); err != nil {
		return nil, "", err
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{IndexName: aws.String(GSI2)}
	ok, err := timeRange(in, attrG2PK, attrG2SK, livePK(orgID), "idle", after, upTo(chatNanos(idleSince)))
	if err != nil || !ok {
		return nil, "", err
	}
	op := "idle chats of " + orgID
	items, err := s.query(ctx, op, in, limit+1)
	if err != nil {
		return nil, "", err
	}
	return page(op, "idle", attrG2SK, items, limit, decodeChat)
}

// LoggedInBefore implements chats.Store with one Query of gsi1 (LOGIN#<org>) for limit+1
// agents.
func (s *Chats) LoggedInBefore(ctx context.Context, orgID string, t time.Time, after string, limit int) ([]chats.Agent, string, error) {
	if err := checkChatID("organisation", orgID); err != nil {
		return nil, "", err
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, "", err
	}
	n := chatNanos(t)
	hi := "" // before 1970: below every key
	if n > 0 {
		hi = upTo(n - 1)
	}
	in := &dynamodb.QueryInput{IndexName: aws.String(GSI1)}
	ok, err := timeRange(in, attrG1PK, attrG1SK, loginPK(orgID), "login", after, hi)
	if err != nil || !ok || hi == "" {
		return nil, "", err
	}
	op := "agents of " + orgID + " by login"
	items, err := s.query(ctx, op, in, limit+1)
	if err != nil {
		return nil, "", err
	}
	return page(op, "login", attrG1SK, items, limit, decodeAgent)
}

// Awaiting implements chats.Store with one Query of gsi3 (OPEN#<org>#<agent>, sort keys
// beginning A#).
func (s *Chats) Awaiting(ctx context.Context, orgID, agentID string, limit int) ([]chats.Chat, error) {
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, err
	}
	op := "chats awaiting " + orgID + "/" + agentID
	items, err := s.query(ctx, op, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI3),
		KeyConditionExpression:    aws.String("g3pk = :p AND begins_with(g3sk, :a)"),
		ExpressionAttributeValues: values(":p", openPK(orgID, agentID), ":a", "A#"),
	}, limit)
	if err != nil {
		return nil, err
	}
	cs, _, err := page(op, "", "", items, limit, decodeChat)
	return cs, err
}

// OpenChats implements chats.Store with one Query of gsi3 (OPEN#<org>#<agent>).
func (s *Chats) OpenChats(ctx context.Context, orgID, agentID string, limit int) ([]string, error) {
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, err
	}
	op := "open chats of " + orgID + "/" + agentID
	items, err := s.query(ctx, op, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI3),
		KeyConditionExpression:    aws.String("g3pk = :p"),
		ExpressionAttributeValues: values(":p", openPK(orgID, agentID)),
	}, limit)
	if err != nil {
		return nil, err
	}
	cs, _, err := page(op, "", "", items, limit, decodeChat)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ChatID
	}
	return out, err
}

// ActiveChats implements chats.Store with one Query of gsi3 (OPEN#<org>#<agent>) that
// counts (Select COUNT) at most limit items.
func (s *Chats) ActiveChats(ctx context.Context, orgID, agentID string, limit int) (int, error) {
	if err := checkOrgAgent(orgID, agentID); err != nil {
		return 0, err
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return 0, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(GSI3),
		KeyConditionExpression:    aws.String("g3pk = :p"),
		ExpressionAttributeValues: values(":p", openPK(orgID, agentID)),
		Select:                    types.SelectCount,
	}
	n := 0
	for range limit {
		in.Limit = aws.Int32(int32(limit - n))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return 0, mapChatsError("count active chats of "+orgID+"/"+agentID, err)
		}
		n += int(out.Count)
		if n >= limit || len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return min(n, limit), nil
}

// Online implements chats.Store with one Query of gsi2 (ONLINE#<org>).
func (s *Chats) Online(ctx context.Context, orgID string, limit int) ([]chats.Agent, error) {
	if err := checkChatID("organisation", orgID); err != nil {
		return nil, err
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, err
	}
	op := "online agents of " + orgID
	items, err := s.query(ctx, op, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI2),
		KeyConditionExpression:    aws.String("g2pk = :p"),
		ExpressionAttributeValues: values(":p", onlinePK(orgID)),
	}, limit)
	if err != nil {
		return nil, err
	}
	as, _, err := page(op, "", "", items, limit, decodeAgent)
	return as, err
}

// shards runs fn for every shard at once and returns the first error.
func shards(fn func(shard string) error) error {
	errs := make([]error, Shards)
	var wg sync.WaitGroup
	for i := range Shards {
		wg.Go(func() { errs[i] = fn(fmt.Sprintf("%02x", i)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Orgs implements chats.Store with one Query of each of the 16 registry partitions (at
// once, for limit+1 ids each), merged.
func (s *Chats) Orgs(ctx context.Context, after string, limit int) ([]string, string, error) {
	if after != "" && !ids.Valid(after) {
		return nil, "", errPosition
	}
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, "", err
	}
	found := make([][]string, Shards)
	err := shards(func(sh string) error {
		in := &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("pk = :p"),
			ExpressionAttributeValues: values(":p", orgsPK(sh)),
		}
		if after != "" {
			in.KeyConditionExpression = aws.String("pk = :p AND sk > :a")
			in.ExpressionAttributeValues[":a"] = str(after)
		}
		items, err := s.query(ctx, "list organisations", in, limit+1)
		if err != nil {
			return err
		}
		i, _ := strconv.ParseUint(sh, 16, 8)
		for _, it := range items {
			org, err := getS(it, attrSK)
			if err != nil {
				return fmt.Errorf("dynamo: list organisations: %w", err)
			}
			found[i] = append(found[i], org)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	all := slices.Concat(found...)
	slices.Sort(all)
	if len(all) <= limit {
		return all, "", nil
	}
	all = all[:limit]
	return all, all[limit-1], nil
}

// ---------------------------------------------------------------- events

// Pending implements chats.Store with one Query of gsi1 in each of the 16 event partitions
// (at once, for limit events each), merged.
func (s *Chats) Pending(ctx context.Context, before time.Time, limit int) ([]bus.Event, error) {
	if err := checkLimit(limit, MaxChatPage); err != nil {
		return nil, err
	}
	type found struct {
		sk string
		ev bus.Event
	}
	perShard := make([][]found, Shards)
	hi := upTo(chatNanos(before))
	err := shards(func(sh string) error {
		items, err := s.query(ctx, "pending events", &dynamodb.QueryInput{
			IndexName:                 aws.String(GSI1),
			KeyConditionExpression:    aws.String("g1pk = :p AND g1sk <= :hi"),
			ExpressionAttributeValues: values(":p", eventPK(sh), ":hi", hi),
		}, limit)
		if err != nil {
			return err
		}
		i, _ := strconv.ParseUint(sh, 16, 8)
		for _, it := range items {
			sk, err := getS(it, attrG1SK)
			if err != nil {
				return fmt.Errorf("dynamo: pending events: %w", err)
			}
			ev, err := decodeEvent(it)
			if err != nil {
				return err
			}
			perShard[i] = append(perShard[i], found{sk, ev})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	all := slices.Concat(perShard...)
	slices.SortFunc(all, func(a, b found) int { return strings.Compare(a.sk, b.sk) })
	out := make([]bus.Event, 0, min(limit, len(all)))
	for _, f := range all[:min(limit, len(all))] {
		out = append(out, f.ev)
	}
	return out, nil
}

// Published implements chats.Store with BatchWriteItem deletes, 25 a call.
func (s *Chats) Published(ctx context.Context, eventIDs []string) error {
	seen := map[string]bool{}
	var reqs []types.WriteRequest
	for _, id := range eventIDs {
		if !checkText(id, maxEventID) || seen[id] {
			continue // never stored
		}
		seen[id] = true
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(eventPK(shard(id)), id)}})
	}
	for start := 0; start < len(reqs); start += 25 {
		if err := s.batchWrite(ctx, "forget published events", reqs[start:min(start+25, len(reqs))]); err != nil {
			return err
		}
	}
	return nil
}

// batchWrite writes reqs (at most 25) with BatchWriteItem, retrying what DynamoDB leaves
// unprocessed a bounded number of times with growing pauses.
func (s *Chats) batchWrite(ctx context.Context, op string, reqs []types.WriteRequest) error {
	pause := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
		if err != nil {
			return mapChatsError(op, err)
		}
		reqs = out.UnprocessedItems[s.table]
		if len(reqs) == 0 {
			return nil
		}
		if attempt == 8 {
			return awserr.Throttled.Problem("dynamo: "+op, fmt.Errorf("%d writes still unprocessed after %d attempts", len(reqs), attempt+1), "the chat store is busy, please retry")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// LoadForBenchmark stores chats as a first Save of each would (version 1, index
// attributes, the organisations' registration), replacing what is stored under their
// ids, with BatchWriteItem: 25 items a call, 8 calls at a time. It is for tests and
// benchmarks that need many chats fast; it checks ids and statuses but no versions, and
// keeps no messages or events.
func (s *Chats) LoadForBenchmark(ctx context.Context, cs []chats.Chat) error {
	var reqs []types.WriteRequest
	orgs := map[string]bool{}
	for i := range cs {
		if err := chats.CheckChange(chats.Change{Chat: &cs[i]}); err != nil {
			return err
		}
		item, err := chatItem(cs[i], 1)
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if !orgs[cs[i].OrgID] {
			orgs[cs[i].OrgID] = true
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: key(orgsPK(shard(cs[i].OrgID)), cs[i].OrgID)}})
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for b := range batches {
				if err := s.batchWrite(ctx, "load chats", b); err != nil {
					cancel(err) // the first error stops the load
				}
			}
		})
	}
	for start := 0; start < len(reqs) && ctx.Err() == nil; start += 25 {
		batches <- reqs[start:min(start+25, len(reqs))]
	}
	close(batches)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// ---------------------------------------------------------------- cursors

func checkSweep(sweep string) error {
	if !checkText(sweep, maxSweep) {
		return fmt.Errorf("dynamo: malformed sweep name %.40q", sweep)
	}
	return nil
}

// Cursor implements chats.Store with one strongly consistent GetItem.
func (s *Chats) Cursor(ctx context.Context, sweep string) (string, error) {
	if err := checkSweep(sweep); err != nil {
		return "", err
	}
	item, err := s.get(ctx, "get cursor of "+sweep, key("SWEEP#"+sweep, skCursor))
	if err != nil || len(item) == 0 {
		return "", err
	}
	pos, err := getS(item, attrPosition)
	if err != nil {
		return "", fmt.Errorf("dynamo: cursor of %s: %w", sweep, err)
	}
	return pos, nil
}

// SetCursor implements chats.Store with one PutItem. Positions are UTF-8, at most 4096
// bytes.
func (s *Chats) SetCursor(ctx context.Context, sweep, pos string) error {
	if err := checkSweep(sweep); err != nil {
		return err
	}
	if len(pos) > maxPosition || !utf8.ValidString(pos) {
		return fmt.Errorf("dynamo: sweep position of %d bytes, or not UTF-8", len(pos))
	}
	item := key("SWEEP#"+sweep, skCursor)
	item[attrPosition] = str(pos)
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return mapChatsError("set cursor of "+sweep, err)
	}
	return nil
}

// ---------------------------------------------------------------- reports

// ClaimReport implements chats.Store with one conditional UpdateItem (granted when no
// marker exists or its claim was released), which returns the marker that refused it.
func (s *Chats) ClaimReport(ctx context.Context, orgID, chatID string, now time.Time) (chats.ReportState, error) {
	if err := checkOrgChat(orgID, chatID); err != nil {
		return chats.ReportState{}, err
	}
	op := "claim report of " + orgID + "/" + chatID
	k := key(chatPK(orgID, chatID), skReport)
	// A marker released between the refusal and a read of it (without
	// ReturnValuesOnConditionCheckFailure) is claimed again, a bounded number of times.
	for range 3 {
		out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(s.table),
			Key:                 k,
			UpdateExpression:    aws.String("SET rstate = :claimed, claimedAt = :now, attempts = if_not_exists(attempts, :zero) + :one"),
			ConditionExpression: aws.String("attribute_not_exists(pk) OR rstate = :released"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":claimed": str(reportClaimed), ":released": str(reportReleased), ":now": str(formatTime(now)),
				":zero": num(0), ":one": num(1),
			},
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return reportState(out.Attributes, true)
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return chats.ReportState{}, mapChatsError(op, err)
		}
		item := failed.Item
		if len(item) == 0 {
			if item, err = s.get(ctx, op, k); err != nil {
				return chats.ReportState{}, err
			}
		}
		if st, _ := getS(item, attrReportState); len(item) > 0 && st != reportReleased {
			return reportState(item, false)
		}
	}
	return chats.ReportState{}, problem.Wrap(problem.Unavailable, fmt.Errorf("dynamo: %s: the marker kept changing", op), "the chat store is busy, please retry")
}

// reportState is what a claim reads from the marker item: granted (the caller took the
// claim), or the state another attempt left.
func reportState(item map[string]types.AttributeValue, granted bool) (chats.ReportState, error) {
	var st chats.ReportState
	state, err := getS(item, attrReportState)
	if err != nil {
		return st, fmt.Errorf("dynamo: report marker: %w", err)
	}
	attempts, err := getN(item, attrAttempts)
	if err != nil {
		return st, fmt.Errorf("dynamo: report marker: %w", err)
	}
	at, err := getTime(item, attrClaimedAt)
	if err != nil {
		return st, fmt.Errorf("dynamo: report marker: %w", err)
	}
	st.Attempts, st.ClaimedAt = int(attempts), at.UTC()
	switch {
	case granted:
		st.Claimed = true
	case state == reportSent:
		st.Sent = true
		st.To, _ = getS(item, attrSentTo)
		st.MessageID, _ = getS(item, attrSentMessageID)
	default:
		st.InProgress = true
	}
	return st, nil
}

// FinishReport implements chats.Store with one UpdateItem, conditional on the claim
// being held (else an error matching chats.ErrConflict, and nothing changes).
func (s *Chats) FinishReport(ctx context.Context, orgID, chatID string, sent bool, to, messageID string) error {
	if err := checkOrgChat(orgID, chatID); err != nil {
		return err
	}
	if len(to) > maxReportText || len(messageID) > maxReportText || !utf8.ValidString(to) || !utf8.ValidString(messageID) {
		return errors.New("dynamo: report recipient or message id too long, or not UTF-8")
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(chatPK(orgID, chatID), skReport),
		UpdateExpression:          aws.String("SET rstate = :state"),
		ConditionExpression:       aws.String("rstate = :claimed"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":claimed": str(reportClaimed), ":state": str(reportReleased)},
	}
	if sent {
		in.UpdateExpression = aws.String("SET rstate = :state, sentTo = :to, sentMessageId = :mid")
		in.ExpressionAttributeValues[":state"] = str(reportSent)
		in.ExpressionAttributeValues[":to"] = str(to)
		in.ExpressionAttributeValues[":mid"] = str(messageID)
	}
	_, err := s.client.UpdateItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &failed):
		return fmt.Errorf("dynamo: report of %s/%s: no claim held: %w", orgID, chatID, chats.ErrConflict)
	}
	return mapChatsError("finish report of "+orgID+"/"+chatID, err)
}
