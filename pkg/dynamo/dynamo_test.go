package dynamo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/officehours"
	"github.com/convrs/admin/pkg/settings/settingstest"
	"github.com/convrs/admin/pkg/webchat/revision/revisiontest"
)

// Set by TestMain when AWS_ENDPOINT_URL_DYNAMODB points at DynamoDB Local (or another
// DynamoDB endpoint): the client and a table created for this run.
var (
	localClient *dynamodb.Client
	localTable  string
)

const notRunning = "DynamoDB Local not running: use make test"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
			fmt.Fprintln(os.Stderr, "pkg/dynamo: AWS_ENDPOINT_URL_DYNAMODB is not set, and with CI=true the DynamoDB suite must run: use make test (scripts/test.sh starts DynamoDB Local)")
			return 1
		}
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := newClient(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkg/dynamo:", err)
		return 1
	}
	table, err := createTable(ctx, client, "settings-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkg/dynamo:", err)
		return 1
	}
	localClient, localTable = client, table
	code := m.Run()
	if err := deleteTable(client, table); err != nil {
		fmt.Fprintln(os.Stderr, "pkg/dynamo:", err)
	}
	return code
}

// newClient builds a client the way the SDK's default chain does, so the endpoint comes
// from AWS_ENDPOINT_URL_DYNAMODB. Without credentials in the environment it uses dummy
// static ones, which DynamoDB Local accepts.
func newClient(ctx context.Context) (*dynamodb.Client, error) {
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return dynamodb.NewFromConfig(cfg), nil
}

func createTable(ctx context.Context, client *dynamodb.Client, prefix string) (string, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	table := fmt.Sprintf("%s-%d-%s", prefix, time.Now().UnixNano(), hex.EncodeToString(b[:]))
	return table, dynamo.CreateTable(ctx, client, table)
}

func deleteTable(client *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	return err
}

// needLocal skips t when no DynamoDB endpoint is configured.
func needLocal(t testing.TB) {
	t.Helper()
	if localClient == nil {
		t.Skip(notRunning)
	}
}

func TestContract(t *testing.T) {
	needLocal(t)
	settingstest.Run(t, func(*testing.T) settings.Store { return dynamo.New(localClient, localTable) })
}

func TestWebchatRevisionsContract(t *testing.T) {
	needLocal(t)
	revisiontest.Run(t, func(*testing.T) revisiontest.Store { return dynamo.New(localClient, localTable) })
}

// countingAPI forwards to next and records every call.
type countingAPI struct {
	next dynamo.API

	mu      sync.Mutex
	gets    []*dynamodb.GetItemInput
	writes  int
	queries int
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.mu.Lock()
	c.gets = append(c.gets, in)
	c.mu.Unlock()
	return c.next.GetItem(ctx, in, opt...)
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.next.PutItem(ctx, in, opt...)
}

func (c *countingAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opt ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.next.TransactWriteItems(ctx, in, opt...)
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opt ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.mu.Lock()
	c.queries++
	c.mu.Unlock()
	return c.next.Query(ctx, in, opt...)
}

// take returns the calls recorded since the last take: GetItem inputs, TransactWriteItems
// and Query counts.
func (c *countingAPI) take() ([]*dynamodb.GetItemInput, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, w, q := c.gets, c.writes, c.queries
	c.gets, c.writes, c.queries = nil, 0, 0
	return g, w, q
}

type testDoc struct {
	Max int `json:"max"`
}

func (d testDoc) Validate() error {
	var f problem.Fields
	if d.Max < 1 || d.Max > 10 {
		f.Add("max", "must be between 1 and 10")
	}
	return f.Err()
}

type fakeAuthn struct{}

func (fakeAuthn) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{Subject: "u1", OrgID: "acme", Role: auth.RoleAdmin}, nil
}

func newHandler(store settings.Store) http.Handler {
	api := httpx.New(fakeAuthn{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	svc := settings.NewService(settings.Area[testDoc]{Name: "chat-handling", Defaults: func() testDoc { return testDoc{Max: 3} }}, store, nil)
	svc.Register(api, auth.Permission(auth.PermSettingsManage))
	return api
}

const areaPath = "/v1/orgs/acme/settings/chat-handling"

func serve(t *testing.T, h http.Handler, method, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, areaPath, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: status %d, body %q is not a JSON object: %v", method, areaPath, rec.Code, rec.Body.String(), err)
	}
	return rec.Code, m, rec.Header()
}

// TestCallsPerRequest proves the DynamoDB cost of the settings routes: a GET is one
// strongly consistent GetItem; a PUT is that read (the audit diff needs the stored
// document) plus one TransactWriteItems.
func TestCallsPerRequest(t *testing.T) {
	needLocal(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	table, err := createTable(ctx, localClient, "settings-calls")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := deleteTable(localClient, table); err != nil {
			t.Log(err)
		}
	})
	api := &countingAPI{next: localClient}
	store := dynamo.New(api, table)
	h := newHandler(store)

	consistent := true
	expect := func(what string, wantGets, wantWrites int) {
		t.Helper()
		gets, writes, queries := api.take()
		if len(gets) != wantGets || writes != wantWrites || queries != 0 {
			t.Errorf("%s: %d GetItem, %d TransactWriteItems, %d Query; want %d, %d, 0", what, len(gets), writes, queries, wantGets, wantWrites)
		}
		for _, g := range gets {
			if aws.ToBool(g.ConsistentRead) != consistent {
				t.Errorf("%s: GetItem ConsistentRead = %v, want %v", what, aws.ToBool(g.ConsistentRead), consistent)
			}
		}
	}

	steps := []struct {
		method, body        string
		wantMax, wantVer    float64
		wantGets, wantWrite int
	}{
		{http.MethodGet, "", 3, 0, 1, 0},
		{http.MethodPut, `{"max":4}`, 4, 1, 1, 1},
		{http.MethodGet, "", 4, 1, 1, 0},
		{http.MethodPut, `{"max":5}`, 5, 2, 1, 1},
		{http.MethodGet, "", 5, 2, 1, 0},
		{http.MethodPut, `{"max":5}`, 5, 2, 1, 0}, // changes nothing: no write, no audit entry
	}
	for _, st := range steps {
		what := st.method + " " + st.body
		code, body, _ := serve(t, h, st.method, st.body)
		if code != http.StatusOK || body["max"] != st.wantMax || body["version"] != st.wantVer {
			t.Fatalf("%s: status %d body %v; want 200 with max %v version %v", what, code, body, st.wantMax, st.wantVer)
		}
		expect(what, st.wantGets, st.wantWrite)
	}

	page, err := store.ListAudit(ctx, "acme", audit.Query{Area: "chat-handling"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].Actor != "u1" || page.Items[0].Action != "replace" || page.Items[0].RequestID == "" {
		t.Fatalf("audit after two PUTs: %+v", page.Items)
	}
	if c := page.Items[0].Changes; len(c) != 1 || c[0].Field != "max" || string(c[0].From) != "4" || string(c[0].To) != "5" {
		t.Errorf("newest audit changes: %+v, want max 4 -> 5", c)
	}
}

func getItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := localClient.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(localTable),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// TestFailedWriteLeavesNothing checks that Save is one transaction: when either condition
// fails, neither the document nor the audit entry is written.
func TestFailedWriteLeavesNothing(t *testing.T) {
	needLocal(t)
	ctx := context.Background()
	store := dynamo.New(localClient, localTable)
	org := "org-atomic-" + fmt.Sprint(time.Now().UnixNano())
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	rec := settings.Record{OrgID: org, Area: "general", Version: 1, UpdatedAt: at, UpdatedBy: "u1", Data: json.RawMessage(`{"name":"a"}`)}
	first := audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Actor: "u1", Area: "general", Action: "replace", RequestID: "r1"}
	if err := store.Save(ctx, rec, first); err != nil {
		t.Fatal(err)
	}

	// Stale version: the document's condition fails, so the new audit entry is not written.
	stale := first
	stale.ID = audit.NewID(at.Add(time.Second))
	rec.Data = json.RawMessage(`{"name":"stale"}`)
	if err := store.Save(ctx, rec, stale); !errors.Is(err, settings.ErrVersionConflict) {
		t.Fatalf("stale Save: got %v, want ErrVersionConflict", err)
	}
	if it := getItem(t, "AUDIT#"+org, stale.ID); it != nil {
		t.Errorf("audit item of a stale Save was written: %v", it)
	}

	// Duplicate audit id: the audit condition fails, so the document is not written either.
	rec.Version, rec.Data = 2, json.RawMessage(`{"name":"dup"}`)
	err := store.Save(ctx, rec, first)
	if err == nil || errors.Is(err, settings.ErrVersionConflict) {
		t.Fatalf("Save with an existing audit id: got %v, want a failure other than a version conflict", err)
	}
	got, err := store.Get(ctx, org, "general", settings.Strong)
	if err != nil || got.Version != 1 || string(got.Data) != `{"name":"a"}` {
		t.Fatalf("after failed saves: %+v, %v; want version 1 with the first data", got, err)
	}

	// The item layout is the documented one.
	doc := getItem(t, "SETTINGS#general#"+org, "DOC")
	for name, want := range map[string]types.AttributeValue{
		"version":   &types.AttributeValueMemberN{Value: "1"},
		"updatedAt": &types.AttributeValueMemberS{Value: "2026-01-02T03:04:05.000000006Z"},
		"updatedBy": &types.AttributeValueMemberS{Value: "u1"},
		"data":      &types.AttributeValueMemberS{Value: `{"name":"a"}`},
	} {
		if fmt.Sprint(doc[name]) != fmt.Sprint(want) {
			t.Errorf("settings item %s = %v, want %v", name, doc[name], want)
		}
	}
	audit := getItem(t, "AUDIT#"+org, first.ID)
	for name, want := range map[string]string{
		"ap": "AUDIT#" + org + "#general", "at": "2026-01-02T03:04:05.000000006Z", "actor": "u1",
		"area": "general", "action": "replace", "requestId": "r1", "changes": "null",
	} {
		if s, ok := audit[name].(*types.AttributeValueMemberS); !ok || s.Value != want {
			t.Errorf("audit item %s = %v, want %q", name, audit[name], want)
		}
	}
}

// fakeAPI answers with the given functions; a nil function fails the call.
type fakeAPI struct {
	getItem  func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	transact func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	query    func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
}

var errNoFake = errors.New("fakeAPI: call not expected")

func (f *fakeAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.getItem == nil {
		return nil, errNoFake
	}
	return f.getItem(in)
}

func (f *fakeAPI) PutItem(_ context.Context, _ *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errNoFake
}

func (f *fakeAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.transact == nil {
		return nil, errNoFake
	}
	return f.transact(in)
}

func (f *fakeAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if f.query == nil {
		return nil, errNoFake
	}
	return f.query(in)
}

// opErr wraps err the way the SDK returns service errors.
func opErr(op string, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: err}
}

func canceled(codes ...string) error {
	e := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return opErr("TransactWriteItems", e)
}

func sampleSave() (settings.Record, audit.Entry) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return settings.Record{OrgID: "acme", Area: "general", Version: 3, UpdatedAt: at, UpdatedBy: "u1", Data: json.RawMessage(`{}`)},
		audit.Entry{ID: audit.NewID(at), OrgID: "acme", At: at, Actor: "u1", Area: "general", Action: "patch"}
}

func TestSaveErrorMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		err       error
		conflict  bool
		busy      bool
		contended bool
	}{
		{"ConditionOnDocument", canceled("ConditionalCheckFailed", "None"), true, false, false},
		{"ConditionOnDocumentAndThrottledIndex", canceled("ConditionalCheckFailed", "ThrottlingError"), true, false, false},
		{"TransactionConflict", canceled("TransactionConflict", "None"), false, true, true},
		{"TransactionConflictOnAudit", canceled("None", "TransactionConflict"), false, true, true},
		{"ThrottledReason", canceled("None", "ThrottlingError"), false, true, false},
		{"ProvisionedThroughputExceededReason", canceled("ProvisionedThroughputExceeded", "None"), false, true, false},
		{"ThrottlingException", opErr("TransactWriteItems", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}), false, true, false},
		{"TypedThrottlingException", opErr("TransactWriteItems", &types.ThrottlingException{Message: aws.String("Rate exceeded")}), false, true, false},
		{"ProvisionedThroughputExceeded", opErr("TransactWriteItems", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}), false, true, false},
		{"RequestLimitExceeded", opErr("TransactWriteItems", &types.RequestLimitExceeded{Message: aws.String("account limit")}), false, true, false},
		{"TransactionConflictException", opErr("TransactWriteItems", &types.TransactionConflictException{Message: aws.String("conflict")}), false, true, true},
		{"TransactionInProgressException", opErr("TransactWriteItems", &types.TransactionInProgressException{Message: aws.String("in progress")}), false, true, false},
		{"InternalServerError", opErr("TransactWriteItems", &types.InternalServerError{Message: aws.String("oops")}), false, true, false},
		{"ConnectionReset", errors.New("read tcp 10.0.0.1:1234->10.0.0.2:443: read: connection reset by peer"), false, true, false},
		{"ConditionOnAuditOnly", canceled("None", "ConditionalCheckFailed"), false, false, false},
		{"ValidationReason", canceled("ValidationError", "None"), false, false, false},
		{"Validation", opErr("TransactWriteItems", &smithy.GenericAPIError{Code: "ValidationException", Message: "bad"}), false, false, false},
		{"Plain", errors.New("boom"), false, false, false},
		{"Canceled", opErr("TransactWriteItems", &smithy.CanceledError{Err: context.Canceled}), false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := dynamo.New(&fakeAPI{transact: func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
				return nil, tc.err
			}}, "t")
			rec, entry := sampleSave()
			err := store.Save(context.Background(), rec, entry)
			switch {
			case tc.conflict:
				if !errors.Is(err, settings.ErrVersionConflict) {
					t.Fatalf("got %v, want ErrVersionConflict", err)
				}
			case tc.busy:
				assertUnavailable(t, err)
				if errors.Is(err, settings.ErrContended) != tc.contended {
					t.Errorf("errors.Is(%v, ErrContended): got %v, want %v", err, !tc.contended, tc.contended)
				}
			default:
				var pe *problem.Error
				if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "dynamo: save acme/general v3") || !errors.Is(err, tc.err) {
					t.Fatalf("got %v (%T), want a plain error naming the operation and wrapping the cause", err, err)
				}
			}
		})
	}
}

func assertUnavailable(t *testing.T, err error) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter != time.Second {
		t.Fatalf("got %v, want an Unavailable problem with RetryAfter 1s", err)
	}
	if strings.Contains(pe.Message, "Exception") || strings.Contains(pe.Message, "acme") {
		t.Errorf("client message %q leaks details", pe.Message)
	}
	if pe.Err == nil {
		t.Error("the cause is not kept for the logs")
	}
}

func TestThrottledReadsAreUnavailable(t *testing.T) {
	throttled := opErr("GetItem", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")})
	api := &fakeAPI{
		getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { return nil, throttled },
		query:   func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return nil, throttled },
	}
	store := dynamo.New(api, "t")
	_, err := store.Get(context.Background(), "acme", "general", settings.Strong)
	assertUnavailable(t, err)
	_, err = store.ListAudit(context.Background(), "acme", audit.Query{})
	assertUnavailable(t, err)

	// Through the HTTP handler, a throttled store is a 503 with Retry-After.
	code, body, hdr := serve(t, newHandler(store), http.MethodGet, "")
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") != "1" {
		t.Errorf("GET with a throttled store: status %d Retry-After %q body %v; want 503, 1", code, hdr.Get("Retry-After"), body)
	}
}

func TestSaveRequest(t *testing.T) {
	var got []*dynamodb.TransactWriteItemsInput
	store := dynamo.New(&fakeAPI{transact: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		got = append(got, in)
		return &dynamodb.TransactWriteItemsOutput{}, nil
	}}, "tbl")
	rec, entry := sampleSave()
	if err := store.Save(context.Background(), rec, entry); err != nil {
		t.Fatal(err)
	}
	rec.Version = 1
	if err := store.Save(context.Background(), rec, entry); err != nil {
		t.Fatal(err)
	}
	rec.Version = 0
	if err := store.Save(context.Background(), rec, entry); !errors.Is(err, settings.ErrVersionConflict) {
		t.Fatalf("Save of version 0: got %v, want ErrVersionConflict", err)
	}
	if len(got) != 2 {
		t.Fatalf("%d TransactWriteItems calls, want 2", len(got))
	}
	for i, want := range []struct{ cond, prev string }{{"version = :prev", "2"}, {"attribute_not_exists(pk)", ""}} {
		items := got[i].TransactItems
		if len(items) != 2 || items[0].Put == nil || items[1].Put == nil {
			t.Fatalf("call %d: want two puts, got %+v", i, items)
		}
		doc, audit := items[0].Put, items[1].Put
		if aws.ToString(doc.ConditionExpression) != want.cond || aws.ToString(doc.TableName) != "tbl" {
			t.Errorf("call %d: document condition %q on %q, want %q on tbl", i, aws.ToString(doc.ConditionExpression), aws.ToString(doc.TableName), want.cond)
		}
		if prev, _ := doc.ExpressionAttributeValues[":prev"].(*types.AttributeValueMemberN); (want.prev == "") != (prev == nil) || (prev != nil && prev.Value != want.prev) {
			t.Errorf("call %d: :prev = %v, want %q", i, doc.ExpressionAttributeValues[":prev"], want.prev)
		}
		if aws.ToString(audit.ConditionExpression) != "attribute_not_exists(pk)" {
			t.Errorf("call %d: audit condition %q", i, aws.ToString(audit.ConditionExpression))
		}
		if s, _ := audit.Item["ap"].(*types.AttributeValueMemberS); s == nil || s.Value != "AUDIT#acme#general" {
			t.Errorf("call %d: audit ap = %v", i, audit.Item["ap"])
		}
	}
}

func auditItem(id string) map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return map[string]types.AttributeValue{
		"pk": s("AUDIT#acme"), "sk": s(id), "ap": s("AUDIT#acme#general"), "at": s("2026-01-02T03:04:05Z"),
		"actor": s("u1"), "area": s("general"), "action": s("patch"), "requestId": s("r"), "changes": s("[]"),
	}
}

func TestListAuditRequests(t *testing.T) {
	ids := make([]string, 6)
	for i := range ids {
		ids[len(ids)-1-i] = audit.NewID(time.Unix(int64(i), 0)) // newest first
	}
	var got []*dynamodb.QueryInput
	// The fake returns at most two items per call (as if each page hit 1 MB), newest first.
	api := &fakeAPI{query: func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		cp := *in
		got = append(got, &cp)
		start := 0
		if k, ok := in.ExclusiveStartKey["sk"].(*types.AttributeValueMemberS); ok {
			for start < len(ids) && ids[start] >= k.Value {
				start++
			}
		}
		end := min(start+2, start+int(aws.ToInt32(in.Limit)), len(ids))
		out := &dynamodb.QueryOutput{}
		for _, id := range ids[start:end] {
			out.Items = append(out.Items, auditItem(id))
		}
		if end < len(ids) {
			out.LastEvaluatedKey = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "AUDIT#acme"}, "sk": &types.AttributeValueMemberS{Value: ids[end-1]}}
		}
		return out, nil
	}}
	store := dynamo.New(api, "tbl")

	page, err := store.ListAudit(context.Background(), "acme", audit.Query{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[2].ID != ids[2] || page.Items[0].OrgID != "acme" || !page.More {
		t.Fatalf("first page: %+v", page)
	}
	if len(got) != 2 || aws.ToInt32(got[0].Limit) != 4 || aws.ToInt32(got[1].Limit) != 2 {
		t.Errorf("first page: %d queries; want 2 with limits 4 then 2", len(got))
	}
	q := got[0]
	if q.IndexName != nil || aws.ToBool(q.ScanIndexForward) || !aws.ToBool(q.ConsistentRead) || aws.ToString(q.KeyConditionExpression) != "pk = :p" || q.ExclusiveStartKey != nil {
		t.Errorf("table query: %+v", q)
	}

	got = nil
	page, err = store.ListAudit(context.Background(), "acme", audit.Query{Limit: 3, After: page.Items[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[0].ID != ids[3] || page.More {
		t.Fatalf("last page: %d items, more %v; want 3 from %s and no more", len(page.Items), page.More, ids[3])
	}
	if esk := got[0].ExclusiveStartKey; len(esk) != 2 || fmt.Sprint(esk["sk"]) != fmt.Sprint(&types.AttributeValueMemberS{Value: ids[2]}) {
		t.Errorf("table ExclusiveStartKey from cursor: %v", esk)
	}

	got = nil
	if _, err := store.ListAudit(context.Background(), "acme", audit.Query{Area: "general", Limit: 1, After: ids[0]}); err != nil {
		t.Fatal(err)
	}
	q = got[0]
	if aws.ToString(q.IndexName) != dynamo.AuditIndex || aws.ToString(q.KeyConditionExpression) != "ap = :p" || q.ConsistentRead != nil {
		t.Errorf("index query: %+v", q)
	}
	if ap, _ := q.ExpressionAttributeValues[":p"].(*types.AttributeValueMemberS); ap == nil || ap.Value != "AUDIT#acme#general" {
		t.Errorf("index query :p = %v", q.ExpressionAttributeValues[":p"])
	}
	esk := q.ExclusiveStartKey
	for name, want := range map[string]string{"pk": "AUDIT#acme", "sk": ids[0], "ap": "AUDIT#acme#general"} {
		if s, _ := esk[name].(*types.AttributeValueMemberS); s == nil || s.Value != want || len(esk) != 3 {
			t.Errorf("index ExclusiveStartKey %s = %v, want %q (key %v)", name, esk[name], want, esk)
		}
	}
}

// TestContendedWrites is the 50-writer contention test on DynamoDB Local: writes without
// If-Match are retried (version conflicts and transaction conflicts alike) within the
// service's bound. How many land depends on the store's latency (DynamoDB Local under the
// race detector is far slower than DynamoDB), so the rate is logged for BENCHMARKS.md and
// the test asserts what must always hold: no update is lost or doubled (the version
// counts exactly the writes that answered 200) and a refused write is a 409 or 503.
func TestContendedWrites(t *testing.T) {
	needLocal(t)
	store := dynamo.New(localClient, localTable)
	const n = 50
	start := time.Now()
	org, statuses := settingstest.ContendedWrites(t, store, n)
	landed, refused := 0, map[int]int{}
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			landed++
		case http.StatusConflict, http.StatusServiceUnavailable:
			refused[st]++
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	t.Logf("%d concurrent writers without If-Match on DynamoDB Local: %d landed, refused %v, in %v", n, landed, refused, time.Since(start).Round(time.Millisecond))
	rec, err := store.Get(context.Background(), org, "counter", settings.Strong)
	if err != nil || rec.Version != int64(landed) {
		t.Errorf("version after %d landed writes: %d, %v; want %d", landed, rec.Version, err, landed)
	}
	if landed == 0 {
		t.Errorf("no write landed")
	}
}

// The office-hours status (the widget's hot read, any role) is one eventually consistent
// GetItem: half the cost of the strongly consistent read the settings screens use.
func TestStatusReadIsEventual(t *testing.T) {
	needLocal(t)
	api := &countingAPI{next: localClient}
	store := dynamo.New(api, localTable)
	h := httpx.New(fakeAuthn{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	officehours.Register(h, store, nil)
	for _, target := range []string{"/v1/orgs/acme/office-hours/status", "/v1/orgs/acme/office-hours/status?at=2026-11-25T10:00:00Z"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		gets, writes, queries := api.take()
		if len(gets) != 1 || writes != 0 || queries != 0 || aws.ToBool(gets[0].ConsistentRead) {
			t.Errorf("GET %s: %d GetItem (consistent %v), %d writes, %d queries; want 1 eventually consistent GetItem",
				target, len(gets), len(gets) > 0 && aws.ToBool(gets[0].ConsistentRead), writes, queries)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orgs/acme/settings/office-hours", nil))
	if gets, _, _ := api.take(); len(gets) != 1 || !aws.ToBool(gets[0].ConsistentRead) {
		t.Errorf("GET of the settings: want 1 strongly consistent GetItem")
	}
}

func (c *countingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.mu.Lock()
	c.queries++
	c.mu.Unlock()
	return c.next.BatchGetItem(ctx, in, opt...)
}

func (f *fakeAPI) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, errNoFake
}

func TestInheritance(t *testing.T) {
	needLocal(t)
	settingstest.RunInheritance(t, func(*testing.T) settings.Store { return dynamo.New(localClient, localTable) })
}
