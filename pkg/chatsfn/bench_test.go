package chatsfn_test

// Function-level benchmarks of the chats functions (BENCHMARKS.md, "Chats: sweeps and chat
// events"): the auto-close and queue-move sweeps over 100,000 chats, and a "Chat Message"
// through the chat-events handler, each on the embedded bbolt store and on DynamoDB Local
// through the real SDK, side by side with its floors in the same run: the bare store reads
// of the same candidates (floor-read), those reads plus the bare Save and Published of the
// same changes (floor-rw), the bare Save of the same change (save-floor). Loading is not
// timed (-v logs how long it took).
//
//	go test -run '^$' -bench Sweeps -benchmem -benchtime 3x -v ./pkg/chatsfn/
//	go test -run '^$' -bench ChatMessage -benchmem -benchtime 1000x -count 3 ./pkg/chatsfn/
//
// The DynamoDB halves need DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB) and are skipped
// without it.

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chats/chatstest"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// The sweeps' population: chatstest.Population(10, 10000, 100, benchNow, 72h) holds, in
// each of 10 organisations, 100 chats idle for 3 days and more (open or queued), 2,000
// live recent ones and 7,900 closed or missed. Its open chats are allocated to agent-0 to
// agent-9 and all have an unanswered user message; agent-0 last logged in 4 days ago.
var benchNow = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

const (
	benchOrgs   = 10
	benchPerOrg = 10000
	benchIdle   = 100
	benchAgents = 10
	// benchDays is both autoCloseAfterDays and moveToQueueAfterNoLoginDays.
	benchDays  = 3
	staleAgent = "agent-0"
	// maxCandidateItems is the budget of candidate items read per chat changed: the
	// candidates come from sparse indexes holding only live chats (and unanswered ones),
	// so a sweep reads each once, plus at most one item per page. bbolt counts two reads
	// per item (the index key and the record).
	maxCandidateItems = 1.5
	// awaitingLimit reads all of an agent's unanswered chats at once (both stores' page
	// bound).
	awaitingLimit = 1000
)

// discardBus accepts every event, counting the calls (one PutEvents each in Lambda).
type discardBus struct{ calls, events atomic.Int64 }

func (d *discardBus) Publish(_ context.Context, evs []bus.Event) error {
	d.calls.Add(1)
	d.events.Add(int64(len(evs)))
	return nil
}

// opCount is what the calls of one store method did.
type opCount struct{ calls, reads int64 }

// opStore is the store the functions get: it counts the calls of each method and the
// items (DynamoDB) or keys and records (bbolt) each read, from the store's own counter.
type opStore struct {
	chats.Store
	read func() int64

	mu  sync.Mutex
	ops map[string]opCount
}

func (s *opStore) count(op string, before int64) {
	r := s.read() - before
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ops[op]
	c.calls++
	c.reads += r
	s.ops[op] = c
}

// take returns the counts and starts again from zero.
func (s *opStore) take() map[string]opCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.ops
	s.ops = map[string]opCount{}
	return out
}

func (s *opStore) Chat(ctx context.Context, orgID, chatID string) (chats.Chat, bool, error) {
	defer s.count("Chat", s.read())
	return s.Store.Chat(ctx, orgID, chatID)
}

func (s *opStore) Agent(ctx context.Context, orgID, agentID string) (chats.Agent, bool, error) {
	defer s.count("Agent", s.read())
	return s.Store.Agent(ctx, orgID, agentID)
}

func (s *opStore) Save(ctx context.Context, ch chats.Change) error {
	defer s.count("Save", s.read())
	return s.Store.Save(ctx, ch)
}

func (s *opStore) Idle(ctx context.Context, orgID string, idleSince time.Time, after string, limit int) ([]chats.Chat, string, error) {
	defer s.count("Idle", s.read())
	return s.Store.Idle(ctx, orgID, idleSince, after, limit)
}

func (s *opStore) LoggedInBefore(ctx context.Context, orgID string, t time.Time, after string, limit int) ([]chats.Agent, string, error) {
	defer s.count("LoggedInBefore", s.read())
	return s.Store.LoggedInBefore(ctx, orgID, t, after, limit)
}

func (s *opStore) Awaiting(ctx context.Context, orgID, agentID string, limit int) ([]chats.Chat, error) {
	defer s.count("Awaiting", s.read())
	return s.Store.Awaiting(ctx, orgID, agentID, limit)
}

func (s *opStore) ActiveChats(ctx context.Context, orgID, agentID string, limit int) (int, error) {
	defer s.count("ActiveChats", s.read())
	return s.Store.ActiveChats(ctx, orgID, agentID, limit)
}

func (s *opStore) Online(ctx context.Context, orgID string, limit int) ([]chats.Agent, error) {
	defer s.count("Online", s.read())
	return s.Store.Online(ctx, orgID, limit)
}

func (s *opStore) Orgs(ctx context.Context, after string, limit int) ([]string, string, error) {
	defer s.count("Orgs", s.read())
	return s.Store.Orgs(ctx, after, limit)
}

func (s *opStore) Pending(ctx context.Context, before time.Time, limit int) ([]bus.Event, error) {
	defer s.count("Pending", s.read())
	return s.Store.Pending(ctx, before, limit)
}

func (s *opStore) Published(ctx context.Context, ids []string) error {
	defer s.count("Published", s.read())
	return s.Store.Published(ctx, ids)
}

func (s *opStore) Cursor(ctx context.Context, sweep string) (string, error) {
	defer s.count("Cursor", s.read())
	return s.Store.Cursor(ctx, sweep)
}

func (s *opStore) SetCursor(ctx context.Context, sweep, position string) error {
	defer s.count("SetCursor", s.read())
	return s.Store.SetCursor(ctx, sweep, position)
}

// boltWrites are the store methods that are one bbolt write transaction each.
var boltWrites = []string{"Save", "Published", "SetCursor"}

// writeTally counts the items DynamoDB write calls carry.
type writeTally struct {
	dynamo.ChatsAPI
	items atomic.Int64
}

func (w *writeTally) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	w.items.Add(int64(len(in.TransactItems)))
	return w.ChatsAPI.TransactWriteItems(ctx, in, opts...)
}

func (w *writeTally) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for _, reqs := range in.RequestItems {
		w.items.Add(int64(len(reqs)))
	}
	return w.ChatsAPI.BatchWriteItem(ctx, in, opts...)
}

func (w *writeTally) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	w.items.Add(1)
	return w.ChatsAPI.PutItem(ctx, in, opts...)
}

func (w *writeTally) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	w.items.Add(1)
	return w.ChatsAPI.UpdateItem(ctx, in, opts...)
}

// dynamoWrites are the DynamoDB write operations.
var dynamoWrites = []string{"TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"}

// benchEnv is the ports of the chats functions on one store, and what measures them.
type benchEnv struct {
	store string // "bolt" or "dynamo"
	// readsPerItem is what the store's read counter counts for one item of a list: 1 for
	// DynamoDB (items read), 2 for bbolt (the index key and the record).
	readsPerItem int
	deps         app.Deps
	ops          *opStore // deps.Chats
	bus          *discardBus
	// load stores chats as first saves (LoadForBenchmark) through an unmeasured store of
	// the same data; setup saves through it.
	load  func(ctx context.Context, cs []chats.Chat) error
	setup chats.Store
	// DynamoDB only: the meter of the functions' client and the items it wrote.
	meter *dynamo.Meter
	tally *writeTally
}

// boltEnv opens a bbolt file without fsync (as pkg/bolt's benchmarks do: what is measured
// is our code and the store's work, not the disk).
func boltEnv(b *testing.B, now func() time.Time) *benchEnv {
	b.Helper()
	st, err := bolt.OpenWith(filepath.Join(b.TempDir(), "convrs.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	measured, err := st.Chats()
	if err != nil {
		b.Fatal(err)
	}
	setup, err := st.Chats()
	if err != nil {
		b.Fatal(err)
	}
	ops := &opStore{Store: measured, read: measured.Reads, ops: map[string]opCount{}}
	bus := &discardBus{}
	return &benchEnv{store: "bolt", readsPerItem: 2, ops: ops, bus: bus, load: setup.LoadForBenchmark, setup: setup,
		deps: app.Deps{Settings: st, Chats: ops, Bus: bus, Now: now}}
}

// localDynamo is a DynamoDB client on AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local, with the
// environment's credentials or dummy ones); the benchmark is skipped when it is not set.
func localDynamo(b *testing.B, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	b.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		b.Skip("AWS_ENDPOINT_URL_DYNAMODB is not set: start DynamoDB Local and export its endpoint (BENCHMARKS.md says how)")
	}
	return dynamodb.New(dynamodb.Options{
		Region:       cmp.Or(os.Getenv("AWS_REGION"), "us-east-1"),
		BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(cmp.Or(os.Getenv("AWS_ACCESS_KEY_ID"), "local"),
			cmp.Or(os.Getenv("AWS_SECRET_ACCESS_KEY"), "local"), os.Getenv("AWS_SESSION_TOKEN")),
	}, optFns...)
}

// dynamoEnv creates a table on DynamoDB Local (deleted after the benchmark) and gives the
// functions a metered client on it, as dynamo.Table does in Lambda.
func dynamoEnv(b *testing.B, now func() time.Time) *benchEnv {
	b.Helper()
	client := localDynamo(b)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	table := fmt.Sprintf("chatsfn-bench-%d-%s", time.Now().UnixNano(), hex.EncodeToString(rnd[:]))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			b.Log(err)
		}
	})
	meter := &dynamo.Meter{}
	metered := localDynamo(b, meter.Install)
	tally := &writeTally{ChatsAPI: metered}
	ops := &opStore{Store: dynamo.NewChats(tally, table), read: func() int64 { return meter.Usage().ItemsRead }, ops: map[string]opCount{}}
	setup := dynamo.NewChats(client, table)
	bus := &discardBus{}
	return &benchEnv{store: "dynamo", readsPerItem: 1, ops: ops, bus: bus, load: setup.LoadForBenchmark, setup: setup, meter: meter, tally: tally,
		deps: app.Deps{Settings: dynamo.New(metered, table), Chats: ops, Bus: bus, Now: now}}
}

// rules saves the organisation's chat-handling settings.
func (e *benchEnv) rules(b *testing.B, org string, s chathandling.Settings) {
	b.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "bench@" + org, OrgID: org, Role: auth.RoleAdmin})
	svc := settings.NewService(chathandling.Area, e.deps.Settings, e.deps.Now)
	if _, err := svc.Update(ctx, org, "", "replace", func(chathandling.Settings) (chathandling.Settings, error) { return s, nil }); err != nil {
		b.Fatal(err)
	}
}

// restore stores cs again as first saves: the chats a sweep changed become candidates
// again.
func (e *benchEnv) restore(b *testing.B, cs []chats.Chat) {
	b.Helper()
	if err := e.load(context.Background(), cs); err != nil {
		b.Fatal(err)
	}
}

// cost is what the functions did between two takes.
type cost struct {
	ops          map[string]opCount
	publishes    int64        // calls of the bus
	usage        dynamo.Usage // DynamoDB only
	itemsWritten int64        // DynamoDB only
}

func (e *benchEnv) take() cost {
	c := cost{ops: e.ops.take(), publishes: e.bus.calls.Swap(0)}
	if e.meter != nil {
		c.usage = e.meter.Reset()
		c.itemsWritten = e.tally.items.Swap(0)
	}
	return c
}

// report reports the cost per unit changed (a chat closed or moved, an event handled):
// the items (DynamoDB) or keys and records (bbolt) read, those read by the candidate
// methods, the capacity, the write calls and items, the Scan calls (which fail the
// benchmark), the time; and logs the reads of each store method.
func (e *benchEnv) report(b *testing.B, c cost, n int, unit string, candidates ...string) {
	b.Helper()
	if n == 0 {
		b.Fatal("nothing was changed")
	}
	per := func(v float64) float64 { return v / float64(n) }
	var reads, candReads int64
	for op, oc := range c.ops {
		reads += oc.reads
		if slices.Contains(candidates, op) {
			candReads += oc.reads
		}
	}
	if len(candidates) > 0 {
		b.ReportMetric(per(float64(candReads)), "cand-reads/"+unit)
	}
	switch e.store {
	case "dynamo":
		u := c.usage
		writes := 0
		for _, op := range dynamoWrites {
			writes += u.Calls[op]
		}
		b.ReportMetric(per(float64(u.ItemsRead)), "items-read/"+unit)
		b.ReportMetric(per(u.ReadUnits), "RCU/"+unit)
		b.ReportMetric(per(float64(writes)), "write-calls/"+unit)
		b.ReportMetric(per(float64(c.itemsWritten)), "items-written/"+unit)
		b.ReportMetric(per(u.WriteUnits), "WCU/"+unit)
		b.ReportMetric(float64(u.Calls["Scan"]), "scans")
		b.Logf("DynamoDB calls per %s: %s", unit, perCall(u.Calls, n))
		if u.Calls["Scan"] != 0 {
			b.Fatalf("%d Scan calls: every read must be a GetItem or a Query", u.Calls["Scan"])
		}
		if u.Errors != 0 {
			b.Errorf("%d DynamoDB calls failed", u.Errors)
		}
	default:
		var txns int64
		for _, op := range boltWrites {
			txns += c.ops[op].calls
		}
		b.ReportMetric(per(float64(reads)), "reads/"+unit)
		b.ReportMetric(per(float64(txns)), "write-txns/"+unit)
	}
	b.ReportMetric(per(float64(c.publishes)), "publishes/"+unit)
	b.ReportMetric(per(float64(b.Elapsed().Nanoseconds())), "ns/"+unit)
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(c.ops)) {
		oc := c.ops[op]
		parts = append(parts, fmt.Sprintf("%s %.3g calls %.3g reads", op, per(float64(oc.calls)), per(float64(oc.reads))))
	}
	b.Logf("store methods per %s: %s", unit, strings.Join(parts, "; "))
	if budget := maxCandidateItems * float64(e.readsPerItem); len(candidates) > 0 && per(float64(candReads)) > budget {
		b.Errorf("%.2f candidate reads per %s, want at most %.1f: the candidates must come from the sparse indexes", per(float64(candReads)), unit, budget)
	}
}

func perCall(calls map[string]int, n int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(calls)) {
		parts = append(parts, fmt.Sprintf("%s %.3g", op, float64(calls[op])/float64(n)))
	}
	return strings.Join(parts, ", ")
}

func benchOrg(o int) string { return fmt.Sprintf("bench-org-%02d", o) }

// BenchmarkSweeps runs the auto-close and queue-move sweeps, each pass changing the same
// chats (restored, untimed, before each pass), and beside each its floors: the bare store
// reads of the same candidates (floor-read), and those reads with the bare writes of the
// same changes, each closed or queued chat saved with its event and the event forgotten as
// published (floor-rw). Per chat closed or moved: items read (bbolt: keys and records), of
// which by the candidate reads, capacity, writes, bus calls, time. Scan calls and more
// than 1.5 candidate items read per chat fail it.
func BenchmarkSweeps(b *testing.B) {
	now := func() time.Time { return benchNow }
	b.Run("bolt", func(b *testing.B) { benchSweeps(b, boltEnv(b, now)) })
	b.Run("dynamo", func(b *testing.B) { benchSweeps(b, dynamoEnv(b, now)) })
}

func benchSweeps(b *testing.B, e *benchEnv) {
	ctx := context.Background()
	pop := chatstest.Population(benchOrgs, benchPerOrg, benchIdle, benchNow, benchDays*chats.Day)
	idleSince := chats.IdleSince(benchNow, benchDays)
	loginBefore := idleSince // the same number of days
	var idle, awaiting []chats.Chat
	for _, c := range pop {
		if c.Live() && !c.LastActivityAt.After(idleSince) {
			idle = append(idle, c)
		}
		if c.Awaiting() && c.AgentID == staleAgent {
			awaiting = append(awaiting, c)
		}
	}
	start := time.Now()
	if err := e.load(ctx, pop); err != nil {
		b.Fatal(err)
	}
	for o := range benchOrgs {
		org := benchOrg(o)
		e.rules(b, org, chathandling.Settings{MaxChatsPerAgent: chathandling.Defaults().MaxChatsPerAgent,
			AutoCloseAfterDays: benchDays, MoveToQueueAfterNoLoginDays: benchDays})
		for a := range benchAgents {
			ag := chats.Agent{OrgID: org, AgentID: fmt.Sprintf("agent-%d", a), Status: chats.AgentOnline, LastLoginAt: benchNow.Add(-time.Hour)}
			if ag.AgentID == staleAgent {
				ag.Status, ag.LastLoginAt = chats.AgentOffline, benchNow.Add(-(benchDays+1)*chats.Day)
			}
			ag.StatusAt = ag.LastLoginAt
			if err := e.setup.Save(ctx, chats.Change{Agent: &ag}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("%s: loaded %d chats (%d idle, %d awaiting %s), %d agents and the settings of %d organisations in %v",
		e.store, len(pop), len(idle), len(awaiting), staleAgent, benchOrgs*benchAgents, benchOrgs, time.Since(start).Round(time.Millisecond))

	b.Run("auto-close", func(b *testing.B) {
		b.Run("floor-read", func(b *testing.B) {
			e.take()
			read := 0
			for b.Loop() {
				read += readIdle(b, e.deps.Chats, idleSince)
			}
			e.report(b, e.take(), read, "chat", "Idle")
		})
		b.Run("floor-rw", func(b *testing.B) {
			benchPasses(b, e, idle, func() int { return closeIdle(b, e.deps.Chats) }, "Idle")
		})
		b.Run("sweep", func(b *testing.B) {
			benchPasses(b, e, idle, sweepPass(b, e, chatsfn.AutoCloseFunction, len(idle)), "Idle")
		})
	})
	b.Run("queue-move", func(b *testing.B) {
		b.Run("floor-read", func(b *testing.B) {
			e.take()
			read := 0
			for b.Loop() {
				read += readAwaiting(b, e.deps.Chats, loginBefore, nil)
			}
			if read != b.N*len(awaiting) {
				b.Fatalf("read %d awaiting chats in %d passes, want %d each", read, b.N, len(awaiting))
			}
			e.report(b, e.take(), read, "chat", "LoggedInBefore", "Awaiting")
		})
		b.Run("floor-rw", func(b *testing.B) {
			benchPasses(b, e, awaiting, func() int { return readAwaiting(b, e.deps.Chats, loginBefore, queue) }, "LoggedInBefore", "Awaiting")
		})
		b.Run("sweep", func(b *testing.B) {
			benchPasses(b, e, awaiting, sweepPass(b, e, chatsfn.QueueMoveFunction, len(awaiting)), "LoggedInBefore", "Awaiting")
		})
	})
}

// sweepPass runs sweep f once and checks it changed want chats.
func sweepPass(b *testing.B, e *benchEnv, f app.Function, want int) func() int {
	run := f.Sweep.Run(e.deps)
	return func() int {
		res, err := run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if !res.Done || res.Changed != want {
			b.Fatalf("%s: %+v, want %d changed and done", f.Name, res, want)
		}
		return res.Changed
	}
}

// benchPasses times passes that each change the chats of set, restored (untimed) before
// each pass. An untimed pass first brings the agents' busy flags to where every later pass
// leaves them; set is restored at the end.
func benchPasses(b *testing.B, e *benchEnv, set []chats.Chat, pass func() int, candidates ...string) {
	defer e.restore(b, set)
	e.restore(b, set)
	if n := pass(); n != len(set) {
		b.Fatalf("changed %d chats, want %d", n, len(set))
	}
	e.take()
	changed := 0
	for b.Loop() {
		b.StopTimer()
		e.restore(b, set)
		b.StartTimer()
		changed += pass()
	}
	if changed != b.N*len(set) {
		b.Fatalf("changed %d chats in %d passes, want %d each", changed, b.N, len(set))
	}
	e.report(b, e.take(), changed, "chat", candidates...)
}

// save writes one change of a floor and forgets its events as published, as the
// functions do after publishing.
func save(tb testing.TB, s chats.Store, c chats.Chat, ev bus.Event) {
	if err := s.Save(context.Background(), chats.Change{Chat: &c, Events: []bus.Event{ev}}); err != nil {
		tb.Fatal(err)
	}
	if err := s.Published(context.Background(), []string{ev.ID}); err != nil {
		tb.Fatal(err)
	}
}

// closeIdle is the auto-close rule on the bare store: readIdle, and each candidate closed
// (chats.AutoClose) with its event.
func closeIdle(tb testing.TB, s chats.Store) int {
	n := 0
	for o := range benchOrgs {
		after := ""
		for {
			cs, next, err := s.Idle(context.Background(), benchOrg(o), chats.IdleSince(benchNow, benchDays), after, 100)
			if err != nil {
				tb.Fatal(err)
			}
			for _, c := range cs {
				closed, ev, ok := chats.AutoClose(c, benchDays, benchNow)
				if !ok {
					tb.Fatalf("chat %s/%s is not idle", c.OrgID, c.ChatID)
				}
				save(tb, s, closed, ev)
				n++
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	return n
}

// queue is the queue-move rule on the bare store: the chat queued (chats.MoveToQueue)
// with its event.
func queue(tb testing.TB, s chats.Store, c chats.Chat) {
	moved, ev, ok := chats.MoveToQueue(c, chats.ReasonNotLoggedIn, benchNow)
	if !ok {
		tb.Fatalf("chat %s/%s cannot be queued", c.OrgID, c.ChatID)
	}
	save(tb, s, moved, ev)
}

// readIdle pages through the idle chats of the population's organisations as the
// auto-close sweep does (pages of 100), checking it finds each organisation's.
func readIdle(tb testing.TB, s chats.Store, idleSince time.Time) int {
	n := 0
	for o := range benchOrgs {
		got, after := 0, ""
		for {
			cs, next, err := s.Idle(context.Background(), benchOrg(o), idleSince, after, 100)
			if err != nil {
				tb.Fatal(err)
			}
			got += len(cs)
			if next == "" {
				break
			}
			after = next
		}
		if got != benchIdle {
			tb.Fatalf("Idle of %s: %d chats, want %d", benchOrg(o), got, benchIdle)
		}
		n += got
	}
	return n
}

// readAwaiting reads what the queue-move sweep reads as candidates: each organisation's
// agents who last logged in before loginBefore, and their unanswered chats; with change,
// it changes each.
func readAwaiting(tb testing.TB, s chats.Store, loginBefore time.Time, change func(testing.TB, chats.Store, chats.Chat)) int {
	n := 0
	for o := range benchOrgs {
		agents, next, err := s.LoggedInBefore(context.Background(), benchOrg(o), loginBefore, "", 100)
		if err != nil || next != "" || len(agents) != 1 || agents[0].AgentID != staleAgent {
			tb.Fatalf("LoggedInBefore of %s: %v, next %q, %v; want %s only", benchOrg(o), agents, next, err, staleAgent)
		}
		cs, err := s.Awaiting(context.Background(), benchOrg(o), staleAgent, awaitingLimit)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range cs {
			if change != nil {
				change(tb, s, c)
			}
		}
		n += len(cs)
	}
	return n
}

// BenchmarkChatMessage handles "Chat Message" events (a user's message on an open,
// allocated chat; default chat-handling rules) through the chat-events handler, and beside
// it the floor: the bare store Save of the same change (the chat and its message). Per
// event: items read (bbolt: keys and records), capacity, write calls and items, time.
func BenchmarkChatMessage(b *testing.B) {
	clock := func() time.Time { return benchNow.Add(time.Hour) }
	b.Run("bolt", func(b *testing.B) { benchChatMessage(b, boltEnv(b, clock)) })
	b.Run("dynamo", func(b *testing.B) { benchChatMessage(b, dynamoEnv(b, clock)) })
}

func benchChatMessage(b *testing.B, e *benchEnv) {
	const org, chat, agent = "bench-events", "chat-1", "agent-1"
	ctx := context.Background()
	e.rules(b, org, chathandling.Settings{MaxChatsPerAgent: chathandling.Defaults().MaxChatsPerAgent, AutoCloseAfterDays: benchDays})
	handle := chatsfn.EventsFunction.Events.Handler(e.deps)
	send := func(dt string, detail string) {
		if err := handle(ctx, app.Event{ID: "ev", Source: app.ChatSource, DetailType: dt, Time: benchNow, Detail: []byte(detail)}); err != nil {
			b.Fatalf("%s %s: %v", dt, detail, err)
		}
	}
	at := func(seq int) time.Time { return benchNow.Add(time.Duration(seq) * time.Millisecond) }
	send(chats.ChatStarted, fmt.Sprintf(`{"orgId":%q,"chatId":%q,"startedAt":%q,"channel":"web","user":{"id":"user-1","name":"Bench User"}}`,
		org, chat, ts(at(0))))
	send(chats.ChatAllocated, fmt.Sprintf(`{"orgId":%q,"chatId":%q,"agentId":%q,"at":%q}`, org, chat, agent, ts(at(1))))
	const text = "Hello, I have a question about my order"
	seq := 2

	b.Run("save-floor", func(b *testing.B) {
		cur, found, err := e.setup.Chat(ctx, org, chat)
		if err != nil || !found {
			b.Fatalf("chat: found %v, %v", found, err)
		}
		e.take()
		for b.Loop() {
			seq++
			in := chats.In{DetailType: chats.ChatMessage, OrgID: org, ChatID: chat, At: at(seq), Message: &chats.MessageDetail{
				OrgID: org, ChatID: chat, MessageID: fmt.Sprintf("f-%d", seq), Sender: chats.SenderUser, Text: text, SentAt: at(seq)}}
			next, msg, _ := chats.ApplyToChat(cur, in)
			if err := e.deps.Chats.Save(ctx, chats.Change{Chat: &next, Message: msg}); err != nil {
				b.Fatal(err)
			}
			cur, cur.Version = next, next.Version+1
		}
		e.report(b, e.take(), b.N, "event")
	})
	b.Run("handler", func(b *testing.B) {
		e.take()
		for b.Loop() {
			seq++
			send(chats.ChatMessage, fmt.Sprintf(`{"orgId":%q,"chatId":%q,"messageId":"h-%d","sender":"user","text":%q,"sentAt":%q}`,
				org, chat, seq, text, ts(at(seq))))
		}
		e.report(b, e.take(), b.N, "event")
		c, _, err := e.setup.Chat(ctx, org, chat)
		if err != nil || c.Status != chats.StatusOpen || c.AgentID != agent || !c.LastUserMessageAt.Equal(at(seq)) {
			b.Errorf("chat after the events: %+v, %v", c, err)
		}
	})
}
