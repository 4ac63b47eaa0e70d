package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chats/chatstest"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/problem"
)

func TestChatsContract(t *testing.T) {
	needLocal(t)
	chatstest.Run(t, func(*testing.T) chats.Store { return dynamo.NewChats(localClient, localTable) })
}

// fakeChatsAPI answers with its function fields; a call without one fails.
type fakeChatsAPI struct {
	mu       sync.Mutex
	calls    []string
	getItem  func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	putItem  func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	update   func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	query    func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
	transact func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	batch    func(*dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error)
}

func (f *fakeChatsAPI) record(op string) {
	f.mu.Lock()
	f.calls = append(f.calls, op)
	f.mu.Unlock()
}

func call[In, Out any](f *fakeChatsAPI, op string, fn func(In) (Out, error), in In) (Out, error) {
	f.record(op)
	if fn == nil {
		var zero Out
		return zero, errNoFake
	}
	return fn(in)
}

func (f *fakeChatsAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(f, "GetItem", f.getItem, in)
}

func (f *fakeChatsAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(f, "PutItem", f.putItem, in)
}

func (f *fakeChatsAPI) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call(f, "UpdateItem", f.update, in)
}

func (f *fakeChatsAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call(f, "Query", f.query, in)
}

func (f *fakeChatsAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return call(f, "TransactWriteItems", f.transact, in)
}

func (f *fakeChatsAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return call(f, "BatchWriteItem", f.batch, in)
}

var chatAt = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// fullChange is a change with every part: its transaction holds the chat (0), the
// message id marker (1), the message (2), the agent (3) and two events (4, 5).
func fullChange(version int64) chats.Change {
	c := chats.Chat{OrgID: "acme", ChatID: "c-1", Status: chats.StatusOpen, AgentID: "a-1", StatusAt: chatAt,
		LastActivityAt: chatAt, LastUserMessageAt: chatAt, Version: version}
	a := chats.Agent{OrgID: "acme", AgentID: "a-1", Status: chats.AgentOnline, LastLoginAt: chatAt, Version: 2}
	m := chats.Message{MessageID: "m-1", Sender: chats.SenderUser, Text: "hi", SentAt: chatAt}
	e1, _ := bus.New("ev/1", "Agent Busy Changed", chatAt, map[string]any{"busy": true})
	e2, _ := bus.New("ev/2", "Chat Reallocated", chatAt, map[string]any{"chatId": "c-1"})
	return chats.Change{Chat: &c, Message: &m, Agent: &a, Events: []bus.Event{e1, e2}}
}

func TestChatsSaveErrorMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                      string
		err                       error
		conflict, duplicate, busy bool
	}{
		{"ChatCondition", canceled("ConditionalCheckFailed", "None", "None", "None", "None", "None"), true, false, false},
		{"AgentCondition", canceled("None", "None", "None", "ConditionalCheckFailed", "None", "None"), true, false, false},
		{"MessageCondition", canceled("None", "ConditionalCheckFailed", "None", "None", "None", "None"), false, true, false},
		{"MessageAndChatConditions", canceled("ConditionalCheckFailed", "ConditionalCheckFailed", "None", "None", "None", "None"), false, true, false},
		{"ChatConditionAndThrottledEvent", canceled("ConditionalCheckFailed", "None", "None", "None", "ThrottlingError", "None"), true, false, false},
		{"TransactionConflictOnChat", canceled("TransactionConflict", "None", "None", "None", "None", "None"), true, false, true},
		{"TransactionConflictOnEvent", canceled("None", "None", "None", "None", "None", "TransactionConflict"), true, false, true},
		{"TransactionConflictException", opErr("TransactWriteItems", &types.TransactionConflictException{Message: aws.String("conflict")}), true, false, true},
		{"ThrottledReason", canceled("None", "None", "None", "None", "ThrottlingError", "None"), false, false, true},
		{"ThrottlingException", opErr("TransactWriteItems", &types.ThrottlingException{Message: aws.String("slow down")}), false, false, true},
		{"InternalServerError", opErr("TransactWriteItems", &types.InternalServerError{Message: aws.String("oops")}), false, false, true},
		{"ValidationReason", canceled("None", "None", "ValidationError", "None", "None", "None"), false, false, false},
		{"ConditionOnAnEvent", canceled("None", "None", "None", "None", "ConditionalCheckFailed", "None"), false, false, false},
		{"Validation", opErr("TransactWriteItems", &smithy.GenericAPIError{Code: "ValidationException", Message: "too large"}), false, false, false},
		{"Canceled", opErr("TransactWriteItems", &smithy.CanceledError{Err: context.Canceled}), false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := dynamo.NewChats(&fakeChatsAPI{transact: func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
				return nil, tc.err
			}}, "t")
			err := store.Save(context.Background(), fullChange(3))
			if errors.Is(err, chats.ErrConflict) != tc.conflict || errors.Is(err, chats.ErrDuplicate) != tc.duplicate {
				t.Fatalf("got %v: ErrConflict %v, ErrDuplicate %v; want %v, %v", err, errors.Is(err, chats.ErrConflict), errors.Is(err, chats.ErrDuplicate), tc.conflict, tc.duplicate)
			}
			switch {
			case tc.busy:
				assertUnavailable(t, err)
			case tc.conflict || tc.duplicate:
				if problem.CodeOf(err) != problem.Internal {
					t.Errorf("a condition failure is a problem %s; want the bare sentinel", problem.CodeOf(err))
				}
			default:
				var pe *problem.Error
				if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "dynamo: save chat acme/c-1 v3 with message m-1 agent acme/a-1 v2 (2 events)") || !errors.Is(err, tc.err) {
					t.Fatalf("got %v (%T), want a plain error naming the operation and wrapping the cause", err, err)
				}
			}
		})
	}
}

// TestChatsSaveCancellationThroughSDK checks that the cancellation reasons DynamoDB sends
// reach the mapping in the order of the transaction's items, through the real client.
func TestChatsSaveCancellationThroughSDK(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reasons []string
		want    error
	}{
		{[]string{"ConditionalCheckFailed", "None", "None", "None", "None", "None"}, chats.ErrConflict},
		{[]string{"None", "ConditionalCheckFailed", "None", "None", "None", "None"}, chats.ErrDuplicate},
		{[]string{"None", "None", "None", "ConditionalCheckFailed", "None", "None"}, chats.ErrConflict},
	} {
		_, srv := newFakeDynamo(t, func(target string, _ int) reply {
			if target != targetTransact {
				return awsError(http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#ValidationException", "unexpected "+target)
			}
			return cancelled(tc.reasons...)
		})
		store := dynamo.NewChats(fakeClient(srv), "t")
		if err := store.Save(context.Background(), fullChange(3)); !errors.Is(err, tc.want) {
			t.Errorf("reasons %v: got %v, want %v", tc.reasons, err, tc.want)
		}
	}
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return "<none>"
}

func TestChatsSaveRequest(t *testing.T) {
	t.Parallel()
	var puts []*dynamodb.PutItemInput
	var txs []*dynamodb.TransactWriteItemsInput
	api := &fakeChatsAPI{
		putItem: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			puts = append(puts, in)
			return &dynamodb.PutItemOutput{}, nil
		},
		transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			txs = append(txs, in)
			return &dynamodb.TransactWriteItemsOutput{}, nil
		},
	}
	store := dynamo.NewChats(api, "tbl")
	ctx := context.Background()
	for _, v := range []int64{0, 0, 5} {
		if err := store.Save(ctx, fullChange(v)); err != nil {
			t.Fatal(err)
		}
	}
	// The organisation is registered once, before the first new chat, and never for a
	// chat saved at a version.
	if len(puts) != 1 || attrS(puts[0].Item, "pk") != "ORGS#"+shardOf("acme") || attrS(puts[0].Item, "sk") != "acme" || puts[0].ConditionExpression != nil {
		t.Fatalf("registrations: %d PutItem %+v; want one of ORGS#<shard>/acme", len(puts), puts)
	}
	if !slices.Equal(api.calls, []string{"PutItem", "TransactWriteItems", "TransactWriteItems", "TransactWriteItems"}) {
		t.Errorf("calls: %v", api.calls)
	}
	items := txs[2].TransactItems
	if len(items) != 6 {
		t.Fatalf("%d transaction items, want 6", len(items))
	}
	type want struct{ pk, sk, cond string }
	for i, w := range []want{
		{"CHAT#acme#c-1", "CHAT", "version = :v"},
		{"CHAT#acme#c-1", "MID#m-1", "attribute_not_exists(pk)"},
		{"CHAT#acme#c-1", "MSG#" + fmt.Sprintf("%019d", chatAt.UnixNano()) + "#m-1", ""},
		{"AGENT#acme#a-1", "STATE", "version = :v"},
		{"EVENT#" + shardOf("ev/1"), "ev/1", ""},
		{"EVENT#" + shardOf("ev/2"), "ev/2", ""},
	} {
		p := items[i].Put
		if p == nil || aws.ToString(p.TableName) != "tbl" || attrS(p.Item, "pk") != w.pk || attrS(p.Item, "sk") != w.sk || aws.ToString(p.ConditionExpression) != w.cond {
			t.Errorf("item %d: %+v; want put of %s/%s on condition %q", i, p, w.pk, w.sk, w.cond)
		}
	}
	if v, _ := items[0].Put.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN); v == nil || v.Value != "5" {
		t.Errorf("chat condition :v = %v, want 5", items[0].Put.ExpressionAttributeValues[":v"])
	}
	if v, _ := items[0].Put.Item["version"].(*types.AttributeValueMemberN); v == nil || v.Value != "6" {
		t.Errorf("chat version = %v, want 6", items[0].Put.Item["version"])
	}
	if v, _ := items[3].Put.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN); v == nil || v.Value != "2" {
		t.Errorf("agent condition :v = %v, want 2", items[3].Put.ExpressionAttributeValues[":v"])
	}
	if c := aws.ToString(txs[0].TransactItems[0].Put.ConditionExpression); c != "attribute_not_exists(pk)" {
		t.Errorf("new chat condition %q", c)
	}
	// The chat carries the attributes of the indexes it belongs in, and only those.
	chat := items[0].Put.Item
	order := fmt.Sprintf("%019d", int64(1<<63-1)-chatAt.UnixNano())
	at := fmt.Sprintf("%019d", chatAt.UnixNano())
	for name, want := range map[string]string{
		"g1pk": "STATUS#acme#open", "g1sk": order + "#c-1",
		"g2pk": "LIVE#acme", "g2sk": at + "#c-1",
		"g3pk": "OPEN#acme#a-1", "g3sk": "A#" + at + "#c-1",
	} {
		if got := attrS(chat, name); got != want {
			t.Errorf("chat %s = %q, want %q", name, got, want)
		}
	}
	agent := items[3].Put.Item
	for name, want := range map[string]string{"g1pk": "LOGIN#acme", "g1sk": at + "#a-1", "g2pk": "ONLINE#acme", "g2sk": "a-1"} {
		if got := attrS(agent, name); got != want {
			t.Errorf("agent %s = %q, want %q", name, got, want)
		}
	}
	ev := items[4].Put.Item
	if attrS(ev, "g1pk") != "EVENT#"+shardOf("ev/1") || attrS(ev, "g1sk") != at+"#ev/1" || attrS(ev, "detail") != `{"busy":true}` {
		t.Errorf("event item %v", ev)
	}

	// A closed chat and an offline agent that never logged in leave every index.
	txs = nil
	ch := fullChange(5)
	ch.Chat.Status, ch.Agent.Status, ch.Agent.LastLoginAt, ch.Message, ch.Events = chats.StatusClosed, chats.AgentOffline, time.Time{}, nil, nil
	if err := store.Save(ctx, ch); err != nil {
		t.Fatal(err)
	}
	chat, agent = txs[0].TransactItems[0].Put.Item, txs[0].TransactItems[1].Put.Item
	for _, name := range []string{"g2pk", "g2sk", "g3pk", "g3sk"} {
		if _, ok := chat[name]; ok {
			t.Errorf("closed chat has %s", name)
		}
	}
	if attrS(chat, "g1pk") != "STATUS#acme#closed" {
		t.Errorf("closed chat g1pk = %q", attrS(chat, "g1pk"))
	}
	for _, name := range []string{"g1pk", "g1sk", "g2pk", "g2sk"} {
		if _, ok := agent[name]; ok {
			t.Errorf("offline agent that never logged in has %s", name)
		}
	}
}

// shardOf mirrors the adapter's shard (FNV-1a mod 16), to name expected keys.
func shardOf(s string) string {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return fmt.Sprintf("%02x", h%16)
}

func TestChatsThrottledIsUnavailable(t *testing.T) {
	t.Parallel()
	throttled := opErr("Query", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")})
	api := &fakeChatsAPI{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { return nil, throttled },
		query:   func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return nil, throttled },
		update:  func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, throttled },
		batch:   func(*dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error) { return nil, throttled },
	}
	s := dynamo.NewChats(api, "t")
	ctx := context.Background()
	_, _, err := s.Chat(ctx, "acme", "c-1")
	assertUnavailable(t, err)
	_, err = s.List(ctx, "acme", chats.ListQuery{Status: chats.StatusOpen, Limit: 10})
	assertUnavailable(t, err)
	_, _, err = s.Idle(ctx, "acme", chatAt, "", 10)
	assertUnavailable(t, err)
	_, _, err = s.Orgs(ctx, "", 10)
	assertUnavailable(t, err)
	_, err = s.Pending(ctx, chatAt, 10)
	assertUnavailable(t, err)
	assertUnavailable(t, s.Published(ctx, []string{"ev/1"}))
	_, err = s.ClaimReport(ctx, "acme", "c-1", chatAt)
	assertUnavailable(t, err)
}

// TestChatsPublishedRetriesUnprocessed: BatchWriteItem leaves some deletes unprocessed
// (as DynamoDB does under load); they are sent again until none are left.
func TestChatsPublishedRetriesUnprocessed(t *testing.T) {
	t.Parallel()
	var sizes []int
	api := &fakeChatsAPI{batch: func(in *dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error) {
		reqs := in.RequestItems["t"]
		sizes = append(sizes, len(reqs))
		out := &dynamodb.BatchWriteItemOutput{}
		if len(reqs) > 10 {
			out.UnprocessedItems = map[string][]types.WriteRequest{"t": reqs[10:]}
		}
		return out, nil
	}}
	var ids []string
	for i := range 30 {
		ids = append(ids, fmt.Sprintf("ev/%d", i), fmt.Sprintf("ev/%d", i)) // each twice
	}
	if err := dynamo.NewChats(api, "t").Published(context.Background(), append(ids, "", "a\x00b")); err != nil {
		t.Fatal(err)
	}
	if want := []int{25, 15, 5, 5}; !slices.Equal(sizes, want) {
		t.Errorf("BatchWriteItem sizes %v, want %v (30 distinct ids, 25 a call, 10 processed a call)", sizes, want)
	}
	// Never processed: the bound ends it with an Unavailable problem.
	api.batch = func(in *dynamodb.BatchWriteItemInput) (*dynamodb.BatchWriteItemOutput, error) {
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
	}
	api.calls = nil
	err := dynamo.NewChats(api, "t").Published(context.Background(), []string{"ev/1"})
	assertUnavailable(t, err)
	if len(api.calls) != 9 {
		t.Errorf("%d BatchWriteItem calls for an item never processed, want 9", len(api.calls))
	}
}

// recordingAPI forwards to next and records the inputs of reads.
type recordingAPI struct {
	dynamo.ChatsAPI
	mu      sync.Mutex
	gets    []*dynamodb.GetItemInput
	queries []*dynamodb.QueryInput
}

func (r *recordingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.mu.Lock()
	r.gets = append(r.gets, in)
	r.mu.Unlock()
	return r.ChatsAPI.GetItem(ctx, in, opt...)
}

func (r *recordingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opt ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	cp := *in
	r.mu.Lock()
	r.queries = append(r.queries, &cp)
	r.mu.Unlock()
	return r.ChatsAPI.Query(ctx, in, opt...)
}

func (r *recordingAPI) take() ([]*dynamodb.GetItemInput, []*dynamodb.QueryInput) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, q := r.gets, r.queries
	r.gets, r.queries = nil, nil
	return g, q
}

// meteredClient is a client of DynamoDB Local whose calls meter counts.
func meteredClient(t testing.TB, meter *dynamo.Meter) *dynamodb.Client {
	t.Helper()
	return dynamodb.New(localClient.Options(), meter.Install)
}

// TestChatsCallsPerOperation proves the DynamoDB cost of each method on DynamoDB Local:
// the calls, which index each Query reads, that reads of one record are strongly
// consistent, that lists read only the items they return (plus at most one), and that
// nothing ever scans.
func TestChatsCallsPerOperation(t *testing.T) {
	needLocal(t)
	meter := &dynamo.Meter{}
	rec := &recordingAPI{ChatsAPI: meteredClient(t, meter)}
	s := dynamo.NewChats(rec, localTable)
	ctx := context.Background()
	org := fmt.Sprintf("calls-%d", time.Now().UnixNano())

	type read struct {
		index      string // "" for the table
		consistent bool
	}
	expect := func(what string, calls map[string]int, maxItems int64, reads ...read) {
		t.Helper()
		u := meter.Reset()
		gets, queries := rec.take()
		if fmt.Sprint(u.Calls) != fmt.Sprint(calls) {
			t.Errorf("%s: calls %v, want %v", what, u.Calls, calls)
		}
		if u.ItemsRead > maxItems {
			t.Errorf("%s: read %d items, want at most %d", what, u.ItemsRead, maxItems)
		}
		var got []read
		for _, g := range gets {
			got = append(got, read{"", aws.ToBool(g.ConsistentRead)})
		}
		for _, q := range queries {
			got = append(got, read{aws.ToString(q.IndexName), aws.ToBool(q.ConsistentRead)})
		}
		if fmt.Sprint(got) != fmt.Sprint(reads) {
			t.Errorf("%s: reads %v, want %v", what, got, reads)
		}
	}
	table, consistent, tableQuery := read{"", true}, read{"", true}, read{"", false}
	idx := func(name string) read { return read{name, false} }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// 30 chats: 10 idle (open, activity at chatAt), 10 live and recent, 10 closed.
	for i := range 30 {
		c := chats.Chat{OrgID: org, ChatID: fmt.Sprintf("c-%02d", i), Status: chats.StatusOpen, AgentID: "a-1", StatusAt: chatAt,
			LastActivityAt: chatAt, LastUserMessageAt: chatAt}
		switch {
		case i >= 20:
			c.Status = chats.StatusClosed
		case i >= 10:
			c.LastActivityAt = chatAt.Add(time.Hour)
		}
		must(s.Save(ctx, chats.Change{Chat: &c}))
		if i == 0 {
			expect("Save of the org's first new chat", map[string]int{"PutItem": 1, "TransactWriteItems": 1}, 0)
		}
	}
	meter.Reset()
	rec.take()
	c := chats.Chat{OrgID: org, ChatID: "c-00", Status: chats.StatusOpen, AgentID: "a-1", StatusAt: chatAt, LastActivityAt: chatAt, Version: 1}
	m := chats.Message{MessageID: "m-1", Sender: chats.SenderUser, SentAt: chatAt}
	must(s.Save(ctx, chats.Change{Chat: &c, Message: &m}))
	expect("Save of a chat with a message", map[string]int{"TransactWriteItems": 1}, 0)

	_, _, err := s.Chat(ctx, org, "c-00")
	must(err)
	expect("Chat", map[string]int{"GetItem": 1}, 1, consistent)
	_, _, err = s.Agent(ctx, org, "a-1")
	must(err)
	expect("Agent", map[string]int{"GetItem": 1}, 0, consistent)
	_, _, err = s.Transcript(ctx, org, "c-00", 10)
	must(err)
	expect("Transcript", map[string]int{"Query": 1}, 1, table)
	p, err := s.List(ctx, org, chats.ListQuery{Status: chats.StatusOpen, Limit: 5})
	must(err)
	expect("List(5)", map[string]int{"Query": 1}, 6, idx(dynamo.GSI1))
	if len(p.Chats) != 5 || p.Next == "" {
		t.Errorf("List(5): %d chats, next %q", len(p.Chats), p.Next)
	}
	cs, next, err := s.Idle(ctx, org, chatAt, "", 100)
	must(err)
	expect("Idle(100) of 10 idle chats among 20 live ones", map[string]int{"Query": 1}, 10, idx(dynamo.GSI2))
	if len(cs) != 10 || next != "" {
		t.Errorf("Idle: %d chats, next %q; want 10 and no next", len(cs), next)
	}
	_, _, err = s.LoggedInBefore(ctx, org, chatAt, "", 10)
	must(err)
	expect("LoggedInBefore", map[string]int{"Query": 1}, 0, idx(dynamo.GSI1))
	_, err = s.Awaiting(ctx, org, "a-1", 5)
	must(err)
	expect("Awaiting(5)", map[string]int{"Query": 1}, 5, idx(dynamo.GSI3))
	n, err := s.ActiveChats(ctx, org, "a-1", 7)
	must(err)
	expect("ActiveChats(7)", map[string]int{"Query": 1}, 7, idx(dynamo.GSI3))
	if n != 7 {
		t.Errorf("ActiveChats(7) = %d", n)
	}
	_, err = s.Online(ctx, org, 10)
	must(err)
	expect("Online", map[string]int{"Query": 1}, 0, idx(dynamo.GSI2))
	_, _, err = s.Orgs(ctx, "", 1)
	must(err)
	expect("Orgs", map[string]int{"Query": dynamo.Shards}, 2*dynamo.Shards, slices.Repeat([]read{tableQuery}, dynamo.Shards)...)
	_, err = s.Pending(ctx, chatAt, 1)
	must(err)
	expect("Pending", map[string]int{"Query": dynamo.Shards}, dynamo.Shards, slices.Repeat([]read{idx(dynamo.GSI1)}, dynamo.Shards)...)
	must(s.Published(ctx, []string{"ev/1", "ev/2"}))
	expect("Published", map[string]int{"BatchWriteItem": 1}, 0)
	_, err = s.Cursor(ctx, "calls-sweep")
	must(err)
	expect("Cursor", map[string]int{"GetItem": 1}, 0, consistent)
	must(s.SetCursor(ctx, "calls-sweep", "p"))
	expect("SetCursor", map[string]int{"PutItem": 1}, 0)
	_, err = s.ClaimReport(ctx, org, "c-00", chatAt)
	must(err)
	expect("ClaimReport", map[string]int{"UpdateItem": 1}, 0)
	st, err := s.ClaimReport(ctx, org, "c-00", chatAt)
	must(err)
	expect("ClaimReport refused", map[string]int{"UpdateItem": 1}, 0)
	if !st.InProgress {
		t.Errorf("second claim: %+v", st)
	}
	must(s.FinishReport(ctx, org, "c-00", true, "a@example.com", "m"))
	expect("FinishReport", map[string]int{"UpdateItem": 1}, 0)
}

func TestMeterCountsScans(t *testing.T) {
	needLocal(t)
	meter := &dynamo.Meter{}
	client := meteredClient(t, meter)
	if _, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(localTable), Limit: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	u := meter.Usage()
	if u.Calls["Scan"] != 1 || u.ItemsRead < 1 || u.ReadUnits <= 0 {
		t.Errorf("after one Scan: %+v", u)
	}
}

// FuzzPosition: a position given back is refused or turned into an index sort key that
// gives the same position back; it never panics.
func FuzzPosition(f *testing.F) {
	for _, s := range []string{"open.0000000000000000001.c-1", "idle.9223372036854775807.x", "login..", "open.000000000000000000a.c", "", "\xff", "open.0000000000000000001.c-1.x"} {
		f.Add("open", s)
		f.Add("idle", s)
	}
	f.Fuzz(func(t *testing.T, kind, pos string) {
		sk, err := dynamo.PositionKeyForTest(kind, pos)
		if err != nil {
			if !problem.Is(err, problem.BadRequest) {
				t.Fatalf("positionKey(%q, %q): %v, want a BadRequest problem", kind, pos, err)
			}
			return
		}
		back, err := dynamo.PositionForTest(kind, sk)
		if err != nil || back != pos {
			t.Fatalf("position(%q, %q) = %q, %v; want %q", kind, sk, back, err, pos)
		}
	})
}

func TestTableGivesTheChatStore(t *testing.T) {
	var d app.Deps
	if err := dynamo.Table(aws.Config{Region: "us-east-1"}, config.Config{TableName: "t"}, &d); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Chats.(*dynamo.Chats); !ok || d.Settings == nil || d.Revisions == nil {
		t.Errorf("Deps after Table: Chats %T, Settings %T, Revisions %T", d.Chats, d.Settings, d.Revisions)
	}
}
