package iam_test

// The other half of the policies' check. pkg/conformance compares each function's policy
// in template.yaml with iam.Grants of its Needs; this test compares iam.Grants with what
// the function's code really sends to DynamoDB. It runs the functions that use the chat
// store (and the password check) through a scenario on DynamoDB Local, each on a client
// whose every request is checked as IAM checks it: the action (each item of a
// TransactWriteItems as its own), the table or index, and the partition key against the
// dynamodb:LeadingKeys patterns. A request the grants would refuse is an error naming the
// function, the action, the resource and the key. (Over-broad grants are not found here:
// the grants are derived per store call in pkg/iam, and reviewed there.)

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/agentsfn"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/iam"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/membus"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/sessions"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/officehours"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
	"github.com/convrs/admin/pkg/settings/security"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signinfn"
)

// request is one permission a DynamoDB request needs: an action on the table or an index
// ("Table", "Table/index/gsi1", as iam.Grant names them) for a partition key.
type request struct {
	action, resource, key string
}

// keyCondition reads the partition key's placeholder of a KeyConditionExpression.
var keyCondition = regexp.MustCompile(`^\s*(#?\w+)\s*=\s*(:\w+)`)

func pkOf(item map[string]types.AttributeValue) string {
	if v, ok := item["pk"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// requestsOf lists the permissions a request's input needs.
func requestsOf(params any) []request {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return []request{{"dynamodb:GetItem", "Table", pkOf(in.Key)}}
	case *dynamodb.PutItemInput:
		return []request{{"dynamodb:PutItem", "Table", pkOf(in.Item)}}
	case *dynamodb.UpdateItemInput:
		return []request{{"dynamodb:UpdateItem", "Table", pkOf(in.Key)}}
	case *dynamodb.DeleteItemInput:
		return []request{{"dynamodb:DeleteItem", "Table", pkOf(in.Key)}}
	case *dynamodb.QueryInput:
		res := "Table"
		if in.IndexName != nil {
			res += "/index/" + *in.IndexName
		}
		key := "(unreadable key condition)"
		if m := keyCondition.FindStringSubmatch(aws.ToString(in.KeyConditionExpression)); m != nil {
			if v, ok := in.ExpressionAttributeValues[m[2]].(*types.AttributeValueMemberS); ok {
				key = v.Value
			}
		}
		return []request{{"dynamodb:Query", res, key}}
	case *dynamodb.TransactWriteItemsInput:
		var out []request
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, request{"dynamodb:PutItem", "Table", pkOf(it.Put.Item)})
			case it.Update != nil:
				out = append(out, request{"dynamodb:UpdateItem", "Table", pkOf(it.Update.Key)})
			case it.Delete != nil:
				out = append(out, request{"dynamodb:DeleteItem", "Table", pkOf(it.Delete.Key)})
			case it.ConditionCheck != nil:
				out = append(out, request{"dynamodb:ConditionCheckItem", "Table", pkOf(it.ConditionCheck.Key)})
			}
		}
		return out
	case *dynamodb.BatchGetItemInput:
		var out []request
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				out = append(out, request{"dynamodb:BatchGetItem", "Table", pkOf(k)})
			}
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []request
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					out = append(out, request{"dynamodb:BatchWriteItem", "Table", pkOf(r.PutRequest.Item)})
				case r.DeleteRequest != nil:
					out = append(out, request{"dynamodb:BatchWriteItem", "Table", pkOf(r.DeleteRequest.Key)})
				}
			}
		}
		return out
	}
	return []request{{fmt.Sprintf("%T", params), "Table", "(not checked by this test: add it)"}}
}

// like is IAM's StringLike with the patterns iam uses: '*' matches any run of characters.
func like(pattern, s string) bool {
	head, tail, wild := strings.Cut(pattern, "*")
	if !wild {
		return pattern == s
	}
	if !strings.HasPrefix(s, head) {
		return false
	}
	s = s[len(head):]
	for i := 0; i <= len(s); i++ {
		if like(tail, s[i:]) {
			return true
		}
	}
	return false
}

// allowing returns the grants that allow r.
func allowing(grants []iam.Grant, r request) []iam.Grant {
	var out []iam.Grant
	for _, g := range grants {
		if g.Action == r.action && g.Resource == r.resource && (g.LeadingKeys == "" || like(g.LeadingKeys, r.key)) {
			out = append(out, g)
		}
	}
	return out
}

// denials collects the requests a function's grants would refuse, by function, and the
// grants its requests used.
type denials struct {
	mu   sync.Mutex
	got  map[string][]string
	used map[string]map[iam.Grant]bool
}

func (d *denials) use(fn string, g iam.Grant) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.used == nil {
		d.used = map[string]map[iam.Grant]bool{}
	}
	if d.used[fn] == nil {
		d.used[fn] = map[iam.Grant]bool{}
	}
	d.used[fn][g] = true
}

func (d *denials) usedBy(fn string, g iam.Grant) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used[fn][g]
}

func (d *denials) add(fn string, r request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	msg := fmt.Sprintf("%s on %s for key %q", r.action, r.resource, r.key)
	if !slices.Contains(d.got[fn], msg) {
		d.got[fn] = append(d.got[fn], msg)
	}
}

func (d *denials) of(fn string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got[fn])
}

// localClient is a client of DynamoDB Local at AWS_ENDPOINT_URL_DYNAMODB with the
// options given; the test is skipped without one (and fails in CI).
func localClient(t *testing.T, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
			t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set, and with CI=true the DynamoDB tests must run: use make test")
		}
		t.Skip("AWS_ENDPOINT_URL_DYNAMODB is not set (DynamoDB Local)")
	}
	return dynamodb.New(dynamodb.Options{
		Region:       cmp.Or(os.Getenv("AWS_REGION"), "us-east-1"),
		BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(cmp.Or(os.Getenv("AWS_ACCESS_KEY_ID"), "local"),
			cmp.Or(os.Getenv("AWS_SECRET_ACCESS_KEY"), "local"), os.Getenv("AWS_SESSION_TOKEN")),
	}, opts...)
}

// checking is a client option that checks every request against grants, recording
// refusals under fn in d (the request is still sent: one refusal does not hide the next).
func checking(fn string, grants []iam.Grant, d *denials) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("iamCheck",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					for _, r := range requestsOf(in.Parameters) {
						gs := allowing(grants, r)
						if len(gs) == 0 {
							d.add(fn, r)
						}
						for _, g := range gs {
							d.use(fn, g)
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// newTable creates a table on DynamoDB Local, deleted when the test ends.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	table := "iam-calls-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return table
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

type mailer struct {
	mu   sync.Mutex
	sent int
}

func (m *mailer) Send(context.Context, mail.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent++
	return fmt.Sprintf("msg-%d", m.sent), nil
}

// deps is every port on table through client (each function takes what it needs).
func deps(t *testing.T, client *dynamodb.Client, table string, c *clock, m *mailer) app.Deps {
	t.Helper()
	cursors, err := audit.NewCursors([]byte(strings.Repeat("k", audit.MinCursorKeyLen)))
	if err != nil {
		t.Fatal(err)
	}
	s := dynamo.New(client, table)
	return app.Deps{Settings: s, Revisions: s, Chats: dynamo.NewChats(client, table), Roles: dynamo.NewRoles(client, table),
		Orgs: dynamo.NewOrgs(client, table), Sticky: dynamo.NewSticky(client, table), Agents: dynamo.NewAgents(client, table),
		BusinessUnits: dynamo.NewBusinessUnits(client, table), Tags: dynamo.NewTags(client, table), Sessions: dynamo.NewSessions(client, table),
		Bus: membus.New(1000), Mail: m, MailFrom: "Convrs <reports@convrs.test>", BaseURL: "https://admin-api.convrs.test",
		Cursors: cursors, Now: c.Now}
}

// headerAuthn takes the caller from the X-Test-Role and X-Test-Sub headers, in org acme.
type headerAuthn struct{}

func (headerAuthn) Authenticate(r *http.Request) (auth.Principal, error) {
	return auth.Principal{Subject: cmp.Or(r.Header.Get("X-Test-Sub"), "admin@acme"), OrgID: "acme", Role: cmp.Or(r.Header.Get("X-Test-Role"), auth.RoleAdmin)}, nil
}

// api serves f's routes on d as lambdafn.API does, with headerAuthn.
func api(f app.Function, d app.Deps) *httpx.API {
	a := httpx.New(headerAuthn{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	a.SetRoles(roles.Resolver{Store: d.Roles})
	a.SetOrgs(d.Orgs)
	f.HTTP(a, d)
	return a
}

func call(t *testing.T, a *httpx.API, method, path, body, role, sub string, want int) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Test-Role", role)
	req.Header.Set("X-Test-Sub", sub)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != want {
		t.Errorf("%s %s as %s: got %d, want %d\n%s", method, path, cmp.Or(role, "admin"), rec.Code, want, rec.Body)
	}
}

// bearerCall is call for the sign-in routes: body (JSON, or none), the bearer token tok
// (or none); it returns the answer's token when there is one.
func bearerCall(t *testing.T, a *httpx.API, path, body, tok string, want int) string {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != want {
		t.Fatalf("POST %s: got %d, want %d\n%s", path, rec.Code, want, rec.Body)
	}
	var out struct{ Token string }
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out.Token
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// signingKey is an in-memory signer for the sign-in function.
func signingKey(t *testing.T) signer.Signer { return signer.FromKey(testKey()) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TestGrantsCoverTheCalls runs the chats functions, the agents function's chat reads and
// the password check on DynamoDB Local, each through a client that checks its requests
// against iam.Grants of its Needs.
func TestGrantsCoverTheCalls(t *testing.T) {
	t.Parallel()
	seed := localClient(t)
	table := newTable(t, seed)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	mails := &mailer{}
	ctx := context.Background()
	admin := auth.WithPrincipal(ctx, auth.Principal{Subject: "admin@acme", OrgID: "acme", Role: auth.RoleAdmin})

	// What no function under test writes: the settings, the agents' profiles, a custom role.
	sd := deps(t, seed, table, clk, mails)
	if _, err := settings.NewService(chathandling.Area, sd.Settings, sd.Now).Update(admin, "acme", "", "replace",
		func(chathandling.Settings) (chathandling.Settings, error) {
			return chathandling.Settings{MaxChatsPerAgent: 2, MoveToQueueWhenAgentOffline: true, AutoCloseAfterDays: 1, MoveToQueueAfterNoLoginDays: 1}, nil
		}); err != nil {
		t.Fatal(err)
	}
	if _, err := settings.NewService(officehours.Area, sd.Settings, sd.Now).Update(admin, "acme", "", "patch",
		func(s officehours.Settings) (officehours.Settings, error) {
			s.MissedChatReport = officehours.MissedChatReport{Enabled: true, Email: "reports@acme.test"}
			return s, nil
		}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"agent_ana", "agent_bo"} {
		a := agents.New(id, id+"@acme.test", agents.Profile{Name: id, Role: "agent", Language: "en", BusinessUnitIDs: []string{}}, t0)
		entry := audit.Entry{ID: audit.NewID(t0), OrgID: "acme", At: t0, Actor: "seed", Area: agents.AuditArea, Action: "create", Changes: []audit.Change{}}
		if err := sd.Agents.Create(ctx, "acme", a, agents.Credentials{}, entry); err != nil {
			t.Fatal(err)
		}
	}
	if err := sd.Roles.Create(ctx, roles.Role{OrgID: "acme", ID: "role_reader", Name: "Reader", Permissions: []string{auth.PermChatsRead}, CreatedAt: t0, UpdatedAt: t0},
		audit.Entry{ID: audit.NewID(t0), OrgID: "acme", At: t0, Actor: "seed", Area: roles.AuditArea, Action: "create", Changes: []audit.Change{}}); err != nil {
		t.Fatal(err)
	}

	// Each function on a client of its own, checked against its grants.
	refused := &denials{got: map[string][]string{}}
	fns := []app.Function{chatsfn.EventsFunction, chatsfn.ReadFunction, chatsfn.ReportFunction, chatsfn.AutoCloseFunction,
		chatsfn.QueueMoveFunction, agentsfn.Function, passwordpolicy.Function, signinfn.Function}
	d := map[string]app.Deps{}
	for _, f := range fns {
		fd := deps(t, localClient(t, checking(f.Name, iam.Grants(f.Needs), refused)), table, clk, mails)
		fd.Signer, fd.Issuer, fd.Audience = signingKey(t), "https://admin-api.convrs.test", "convrs-admin"
		d[f.Name] = fd
		if missing := f.Needs.Missing(d[f.Name]); len(missing) > 0 {
			t.Fatalf("%s: %v", f.Name, missing)
		}
	}

	// The chat platform's events: logins, presence, chats, messages (one to an offline
	// agent: reallocation and busy), a sticky user, a missed chat, a repeat delivery.
	in := chatsfn.EventsFunction.Events.Handler(d[chatsfn.EventsFunction.Name])
	at := t0
	deliver := func(dt string, detail map[string]any) {
		t.Helper()
		at = at.Add(time.Second)
		detail["orgId"] = "acme"
		raw, _ := json.Marshal(detail)
		if err := in(ctx, app.Event{ID: "ev", Source: app.ChatSource, DetailType: dt, Time: at, Detail: raw}); err != nil {
			t.Fatalf("%s %v: %v", dt, detail, err)
		}
	}
	start := func(chat, agent string) {
		deliver(chats.ChatStarted, map[string]any{"chatId": chat, "startedAt": ts(at), "channel": "web", "user": map[string]any{"id": "u-" + chat}})
		if agent != "" {
			deliver(chats.ChatAllocated, map[string]any{"chatId": chat, "agentId": agent, "at": ts(at)})
		}
	}
	say := func(chat, msg, agent string) {
		m := map[string]any{"chatId": chat, "messageId": msg, "sender": chats.SenderUser, "text": "hello", "sentAt": ts(at)}
		if agent != "" {
			m["sender"], m["agentId"] = chats.SenderAgent, agent
		}
		deliver(chats.ChatMessage, m)
	}
	for _, a := range []string{"agent_ana", "agent_bo"} {
		deliver(chats.AgentLoggedIn, map[string]any{"agentId": a, "at": ts(at)})
		deliver(chats.AgentStatusChanged, map[string]any{"agentId": a, "status": "online", "at": ts(at)})
	}
	start("c1", "agent_ana")
	say("c1", "m1", "")
	say("c1", "m2", "agent_ana")
	start("c2", "agent_ana")
	start("c3", "agent_bo")
	deliver(chats.AgentStatusChanged, map[string]any{"agentId": "agent_ana", "status": "offline", "at": ts(at)})
	say("c2", "m3", "") // ana is offline: c2 goes to bo, who becomes busy
	say("c2", "m3", "") // a repeat delivery
	deliver(chats.UserSticky, map[string]any{"userId": "u-c1", "agentId": "agent_ana", "at": ts(at)})
	start("c4", "")
	deliver(chats.ChatMissed, map[string]any{"chatId": "c4", "at": ts(at)})
	if c, _, _ := sd.Chats.Chat(ctx, "acme", "c2"); c.AgentID != "agent_bo" {
		t.Errorf("c2 is with %q, want agent_bo (offline reallocation)", c.AgentID)
	}

	// The chats API: lists, the queue, a chat, as an admin, an agent manager and a custom
	// role; then the admin actions.
	chatsAPI := api(chatsfn.ReadFunction, d[chatsfn.ReadFunction.Name])
	call(t, chatsAPI, "GET", "/v1/orgs/acme/chats", "", "", "", 200)
	call(t, chatsAPI, "GET", "/v1/orgs/acme/chats?status=missed", "", "", "", 200)
	call(t, chatsAPI, "GET", "/v1/orgs/acme/queue", "", "", "", 200)
	call(t, chatsAPI, "GET", "/v1/orgs/acme/chats/c1", "", "", "", 200)
	call(t, chatsAPI, "GET", "/v1/orgs/acme/chats", "", auth.RoleAgentManager, "agent_ana", 200)
	call(t, chatsAPI, "GET", "/v1/orgs/acme/chats/c1", "", "role_reader", "reader@acme", 200)
	call(t, chatsAPI, "POST", "/v1/orgs/acme/chats/c1/close", "", "", "", 200)
	call(t, chatsAPI, "POST", "/v1/orgs/acme/chats/c3/transfer", `{"toAgentId":"agent_ana"}`, "", "", 200)
	call(t, chatsAPI, "POST", "/v1/orgs/acme/chats/c2/transfer", `{"toAgentId":null}`, "", "", 200)
	// bo gets two chats (busy: auto-close's recount), ana is back with a message she leaves
	// unanswered (queue-move's candidate) and a second chat (busy: queue-move's recount).
	start("c5", "agent_bo")
	start("c6", "agent_bo")
	deliver(chats.AgentStatusChanged, map[string]any{"agentId": "agent_ana", "status": "online", "at": ts(at)})
	say("c3", "m4", "")
	start("c7", "agent_ana")
	for _, a := range []string{"agent_ana", "agent_bo"} {
		if s, _, _ := sd.Chats.Agent(ctx, "acme", a); !s.Busy {
			t.Errorf("%s is not busy; the sweeps' recounts would not be exercised", a)
		}
	}

	// The agents function's chat reads: the status board, and a disable refused for an
	// agent holding a chat.
	agentsAPI := api(agentsfn.Function, d[agentsfn.Function.Name])
	call(t, agentsAPI, "GET", "/v1/orgs/acme/agent-status", "", "", "", 200)
	call(t, agentsAPI, "POST", "/v1/orgs/acme/agents/agent_ana/disable", "", "", "", 409)

	// The agents store's sign-in calls (a function that signs in has Needs.Agents Write,
	// as the agents function has): the email's agent, failures up to a suspension (the
	// count's ADD, the suspension's transaction), a failure of a suspended agent, enable
	// (the count's reset with the profile), a sign-in (its reset and lastLoginAt), an
	// admin's reset of a suspended agent.
	ag := d[agentsfn.Function.Name].Agents
	if org, id, found, err := ag.ByEmail(ctx, " Agent_Bo@ACME.test"); err != nil || !found || org != "acme" || id != "agent_bo" {
		t.Errorf("ByEmail: %q, %q, %v, %v", org, id, found, err)
	}
	suspendEntry := func() audit.Entry {
		return audit.Entry{ID: audit.NewID(clk.Now()), OrgID: "acme", At: clk.Now(), Actor: "signin", Area: agents.AuditArea, Action: "suspend", Changes: []audit.Change{}}
	}
	for i := 1; i <= 3; i++ {
		if n, suspended, err := ag.LoginFailed(ctx, "acme", "agent_bo", 2, clk.Now(), suspendEntry()); err != nil || n != i || suspended != (i >= 2) {
			t.Errorf("failure %d: %d, %v, %v", i, n, suspended, err)
		}
	}
	call(t, agentsAPI, "POST", "/v1/orgs/acme/agents/agent_bo/enable", "", "", "", 200)
	if err := ag.LoginSucceeded(ctx, "acme", "agent_bo", clk.Now()); err != nil {
		t.Errorf("LoginSucceeded: %v", err)
	}
	for range 2 {
		_, _, _ = ag.LoginFailed(ctx, "acme", "agent_bo", 2, clk.Now(), suspendEntry())
	}
	call(t, agentsAPI, "POST", "/v1/orgs/acme/agents/agent_bo/password", `{"password":"Reset-pa55"}`, "", "", 200)
	if a, _, _ := sd.Agents.Get(ctx, "acme", "agent_bo"); a.SuspendedAt != nil || a.LastLoginAt == nil {
		t.Errorf("agent_bo after the sign-in calls: suspendedAt %v, lastLoginAt %v", a.SuspendedAt, a.LastLoginAt)
	}

	// The sign-in routes: a password set from an invitation, failures up to a suspension,
	// enable, a sign-in, a refresh, a logout.
	if _, err := settings.NewService(security.Area, sd.Settings, sd.Now).Update(admin, "acme", "", "patch",
		func(s security.Settings) (security.Settings, error) { s.LoginAttempts = 2; return s, nil }); err != nil {
		t.Fatal(err)
	}
	cy := agents.New("agent_cy", "cy@acme.test", agents.Profile{Name: "Cy", Role: "agent", Language: "en", BusinessUnitIDs: []string{}}, t0)
	link, inv := agents.NewInvitation(clk.Now())
	if err := sd.Agents.Create(ctx, "acme", cy, agents.Credentials{Invitation: &inv},
		audit.Entry{ID: audit.NewID(t0), OrgID: "acme", At: t0, Actor: "seed", Area: agents.AuditArea, Action: "create", Changes: []audit.Change{}}); err != nil {
		t.Fatal(err)
	}
	signIn := api(signinfn.Function, d[signinfn.Function.Name])
	call(t, signIn, "POST", signinfn.SetPasswordPath, `{"token":"`+link+`","password":"Sign-in-9"}`, "", "", 204)
	call(t, signIn, "POST", signinfn.LoginPath, `{"email":"nobody@acme.test","password":"Sign-in-9"}`, "", "", 401)
	call(t, signIn, "POST", signinfn.LoginPath, `{"email":"cy@acme.test","password":"wrong"}`, "", "", 401)
	call(t, signIn, "POST", signinfn.LoginPath, `{"email":"cy@acme.test","password":"wrong"}`, "", "", 423)
	call(t, agentsAPI, "POST", "/v1/orgs/acme/agents/agent_cy/enable", "", "", "", 200)
	tok := bearerCall(t, signIn, signinfn.LoginPath, `{"email":"cy@acme.test","password":"Sign-in-9"}`, "", 200)
	tok = bearerCall(t, signIn, signinfn.RefreshPath, "", tok, 200)
	bearerCall(t, signIn, signinfn.LogoutPath, "", tok, 204)

	// The password check naming an agent, reuse allowed and prevented.
	checkAPI := api(passwordpolicy.Function, d[passwordpolicy.Function.Name])
	call(t, checkAPI, "POST", "/v1/orgs/acme/password-policy/check", `{"password":"Tr0ub4dor&3","agentId":"agent_ana"}`, "", "", 200)
	call(t, checkAPI, "PUT", "/v1/orgs/acme/settings/password-policy", `{"preventReuse":true}`, "", "", 200)
	call(t, checkAPI, "POST", "/v1/orgs/acme/password-policy/check", `{"password":"Tr0ub4dor&3","agentId":"agent_ana"}`, "", "", 200)

	// The missed-chat report of c4.
	raw, _ := json.Marshal(map[string]any{"orgId": "acme", "chatId": "c4", "at": ts(at)})
	report := chatsfn.ReportFunction.Events.Handler(d[chatsfn.ReportFunction.Name])
	if err := report(ctx, app.Event{ID: "ev", Source: app.ChatSource, DetailType: chats.ChatMissed, Time: at, Detail: raw}); err != nil {
		t.Errorf("report: %v", err)
	}
	if mails.sent != 1 {
		t.Errorf("reports sent: %d, want 1", mails.sent)
	}

	// Three days on: queue-move queues ana's unanswered chat, auto-close closes the idle ones.
	clk.Set(t0.Add(72 * time.Hour))
	for _, f := range []app.Function{chatsfn.QueueMoveFunction, chatsfn.AutoCloseFunction} {
		res, err := f.Sweep.Run(d[f.Name])(ctx)
		if err != nil || !res.Done || res.Changed == 0 {
			t.Errorf("%s: %+v, %v; want a finished run that changed chats", f.Name, res, err)
		}
	}

	for _, f := range fns {
		for _, msg := range refused.of(f.Name) {
			t.Errorf("%s sends %s, which its grants (template.yaml's policy) refuse", f.Name, msg)
		}
		// Every grant of the chat store's jobs is needed: the scenario uses each, but for
		// the paths it cannot reach (a sweep rereads a chat only after a conflict).
		for _, g := range iam.Grants(app.Needs{Chats: f.Needs.Chats}) {
			unreached := f.Sweep != nil && g == iam.Grant{Action: "dynamodb:GetItem", Resource: "Table", LeadingKeys: dynamo.ChatKeys}
			if !refused.usedBy(f.Name, g) && !unreached {
				t.Errorf("%s is granted %s on %s (%s), which the scenario never needed: narrow its chat jobs or extend the scenario",
					f.Name, g.Action, g.Resource, g.LeadingKeys)
			}
		}
		// The sign-in's grants are each needed (the scenario's store calls above).
		if f.Needs.Agents == app.Write {
			for _, g := range []iam.Grant{{Action: "dynamodb:GetItem", Resource: "Table", LeadingKeys: dynamo.EmailKeys},
				{Action: "dynamodb:UpdateItem", Resource: "Table", LeadingKeys: dynamo.CredsKeys},
				{Action: "dynamodb:ConditionCheckItem", Resource: "Table", LeadingKeys: dynamo.CredsKeys}} {
				if !slices.Contains(iam.Grants(f.Needs), g) || !refused.usedBy(f.Name, g) {
					t.Errorf("%s: %s on %s (%s) is not both granted and used by the sign-in calls", f.Name, g.Action, g.Resource, g.LeadingKeys)
				}
			}
		}
		for _, g := range iam.Grants(f.Needs) {
			if f.Needs.AgentSignIn && slices.Contains(iam.Grants(app.Needs{AgentSignIn: true, Sessions: app.Write}), g) && !refused.usedBy(f.Name, g) {
				t.Errorf("%s is granted %s on %s (%s), which the sign-in scenario never needed", f.Name, g.Action, g.Resource, g.LeadingKeys)
			}
			if strings.HasPrefix(g.Action, "dynamodb:") && !refused.usedBy(f.Name, g) {
				t.Logf("%s: not used by the scenario: %s on %s (%s)", f.Name, g.Action, g.Resource, g.LeadingKeys)
			}
		}
	}
}

// TestSessionGrants runs every call of the session store (each outcome of each method)
// through a client checked against the grants of Needs.Sessions: Write, and checks that
// the grants are exactly what the calls use. (No function of the template keeps sessions
// yet; once the sign-in function does, TestGrantsCoverTheCalls can run its routes.)
func TestSessionGrants(t *testing.T) {
	t.Parallel()
	seed := localClient(t)
	table := newTable(t, seed)
	const fn = "sessions"
	grants := iam.Grants(app.Needs{Sessions: app.Write})
	refused := &denials{got: map[string][]string{}}
	st := deps(t, localClient(t, checking(fn, grants, refused)), table, &clock{}, &mailer{}).Sessions
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agent_ana", CreatedAt: t0, LastActivity: t0}
	for _, step := range []struct {
		name string
		err  error
		call func() error
	}{
		{"create", nil, func() error { return st.Create(ctx, s) }},
		{"create of a taken id", sessions.ErrConflict, func() error { return st.Create(ctx, s) }},
		{"get", nil, func() error { _, _, err := st.Get(ctx, s.ID); return err }},
		{"touch", nil, func() error { return st.Touch(ctx, s.ID, 1, t0.Add(time.Minute)) }},
		{"stale touch", sessions.ErrConflict, func() error { return st.Touch(ctx, s.ID, 1, t0.Add(time.Minute)) }},
		{"end", nil, func() error { return st.End(ctx, s.ID, t0.Add(time.Hour)) }},
		{"end again", nil, func() error { return st.End(ctx, s.ID, t0.Add(time.Hour)) }},
		{"touch of an ended session", sessions.ErrEnded, func() error { return st.Touch(ctx, s.ID, 3, t0.Add(time.Hour)) }},
		{"end of an unknown session", nil, func() error { return st.End(ctx, sessions.NewID(), t0) }},
		{"touch of an unknown session", sessions.ErrEnded, func() error { return st.Touch(ctx, sessions.NewID(), 1, t0) }},
		{"get of an unknown session", nil, func() error { _, _, err := st.Get(ctx, sessions.NewID()); return err }},
	} {
		if err := step.call(); !errors.Is(err, step.err) {
			t.Errorf("%s: %v, want %v", step.name, err, step.err)
		}
	}
	for _, msg := range refused.of(fn) {
		t.Errorf("the session store sends %s, which the grants of Needs.Sessions refuse", msg)
	}
	for _, g := range grants {
		if !refused.usedBy(fn, g) {
			t.Errorf("Needs.Sessions grants %s on %s (%s), which the session store never needs", g.Action, g.Resource, g.LeadingKeys)
		}
	}
}

// The checker itself: a request outside the grants is caught, one inside is not.
func TestCheckerRefuses(t *testing.T) {
	t.Parallel()
	seed := localClient(t)
	table := newTable(t, seed)
	refused := &denials{got: map[string][]string{}}
	grants := []iam.Grant{{Action: "dynamodb:GetItem", Resource: "Table", LeadingKeys: dynamo.ChatKeys}}
	store := dynamo.NewChats(localClient(t, checking("probe", grants, refused)), table)
	ctx := context.Background()
	if _, _, err := store.Chat(ctx, "acme", "c1"); err != nil {
		t.Fatal(err)
	}
	if got := refused.of("probe"); len(got) != 0 {
		t.Errorf("a granted GetItem was refused: %v", got)
	}
	_, _, _ = store.Agent(ctx, "acme", "agent_ana")
	_, _ = store.ActiveChats(ctx, "acme", "agent_ana", 3)
	want := []string{`dynamodb:GetItem on Table for key "AGENT#acme#agent_ana"`, `dynamodb:Query on Table/index/gsi3 for key "OPEN#acme#agent_ana"`}
	if got := refused.of("probe"); !slices.Equal(got, want) {
		t.Errorf("refused %q, want %q", got, want)
	}
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{{"CHAT#*", "CHAT#acme#c1", true}, {"CHAT#*", "CHATS#x", false}, {"SETTINGS#office-hours#*", "SETTINGS#office-hours#acme", true},
		{"SETTINGS#office-hours#*", "SETTINGS#chat-handling#acme", false}, {"A*B*", "AxxBy", true}, {"A*B", "AxxBy", false}} {
		if like(c.pattern, c.s) != c.want {
			t.Errorf("like(%q, %q) = %v", c.pattern, c.s, !c.want)
		}
	}
}

// An unknown email costs the sign-in function as many DynamoDB round trips as a wrong
// password does (pkg/signinfn's decoy reads), so that in AWS, where each is a few
// milliseconds, the answer's timing does not tell which emails exist.
func TestSignInRoundTripsDoNotTellEmails(t *testing.T) {
	t.Parallel()
	seed := localClient(t)
	table := newTable(t, seed)
	var calls atomic.Int64
	counting := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("count",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					calls.Add(1)
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
	clk := &clock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	d := deps(t, localClient(t, counting), table, clk, &mailer{})
	d.Signer, d.Issuer, d.Audience = signingKey(t), "https://admin-api.convrs.test", "convrs-admin"
	ctx := context.Background()
	a := agents.New("agent_cy", "cy@acme.test", agents.Profile{Name: "Cy", Role: "agent", Language: "en", BusinessUnitIDs: []string{}}, clk.Now())
	hash, err := passwords.HashPassword("Sign-in-9")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Agents.Create(ctx, "acme", a, agents.Credentials{PasswordHash: hash},
		audit.Entry{ID: audit.NewID(clk.Now()), OrgID: "acme", At: clk.Now(), Actor: "seed", Area: agents.AuditArea, Action: "create", Changes: []audit.Change{}}); err != nil {
		t.Fatal(err)
	}
	signIn := api(signinfn.Function, d)
	count := func(body string) int64 {
		before := calls.Load()
		call(t, signIn, "POST", signinfn.LoginPath, body, "", "", 401)
		return calls.Load() - before
	}
	wrong := count(`{"email":"cy@acme.test","password":"wrong"}`)
	unknown := count(`{"email":"nobody@acme.test","password":"wrong"}`)
	t.Logf("DynamoDB calls: wrong password %d, unknown email %d", wrong, unknown)
	if wrong != unknown {
		t.Errorf("a wrong password makes %d DynamoDB calls, an unknown email %d", wrong, unknown)
	}
}
