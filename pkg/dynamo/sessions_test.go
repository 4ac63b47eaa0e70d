package dynamo_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/sessions"
	"github.com/convrs/admin/pkg/sessions/sessionstest"
)

func TestSessionsContract(t *testing.T) {
	needLocal(t)
	sessionstest.Run(t, func(*testing.T) sessions.Store { return dynamo.NewSessions(localClient, localTable) })
}

// sessionCalls forwards to next and counts the calls by operation.
type sessionCalls struct {
	next dynamo.SessionsAPI

	mu sync.Mutex
	n  map[string]int
}

func (c *sessionCalls) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[op]++
}

func (c *sessionCalls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func (c *sessionCalls) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.next.GetItem(ctx, in, opt...)
}

func (c *sessionCalls) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.next.PutItem(ctx, in, opt...)
}

func (c *sessionCalls) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.next.UpdateItem(ctx, in, opt...)
}

// TestSessionItem checks the stored item (the layout package sessions documents, the TTL
// attribute moving with each touch) and that every method is one call.
func TestSessionItem(t *testing.T) {
	needLocal(t)
	t.Parallel()
	calls := &sessionCalls{next: localClient, n: map[string]int{}}
	st := dynamo.NewSessions(calls, localTable)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 9, 0, 0, 500, time.UTC)
	s := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
	step := func(name string, want map[string]int, fn func() error) {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := calls.take(); len(got) != len(want) || got[name] != want[name] {
			t.Errorf("%s made calls %v, want %v", name, got, want)
		}
	}
	step("PutItem", map[string]int{"PutItem": 1}, func() error { return st.Create(ctx, s) })
	item := getItem(t, "SESSION#"+s.ID, "SESSION")
	want := map[string]string{
		"data":         `{"id":"` + s.ID + `","orgId":"acme","agentId":"agt_ana","createdAt":"2026-11-25T09:00:00.0000005Z"}`,
		"lastActivity": "2026-11-25T09:00:00.0000005Z",
		"version":      "1",
		// Rounded up: DynamoDB never forgets a session early.
		"expiresAt": strconv.FormatInt(at.Add(sessions.MaxIdle).Unix()+1, 10),
	}
	checkItem := func(item map[string]types.AttributeValue, want map[string]string) {
		t.Helper()
		if len(item) != len(want)+2 {
			t.Errorf("item has %d attributes, want %d: %v", len(item), len(want)+2, item)
		}
		for name, v := range want {
			var got string
			switch a := item[name].(type) {
			case *types.AttributeValueMemberS:
				got = a.Value
			case *types.AttributeValueMemberN:
				got = a.Value
			}
			if got != v {
				t.Errorf("attribute %s = %q, want %q", name, got, v)
			}
		}
	}
	checkItem(item, want)

	touched := at.Add(30 * time.Minute).Add(-500)
	step("UpdateItem", map[string]int{"UpdateItem": 1}, func() error { return st.Touch(ctx, s.ID, 1, touched) })
	want["lastActivity"], want["version"] = "2026-11-25T09:30:00Z", "2"
	want["expiresAt"] = strconv.FormatInt(touched.Add(sessions.MaxIdle).Unix(), 10)
	checkItem(getItem(t, "SESSION#"+s.ID, "SESSION"), want)

	step("UpdateItem", map[string]int{"UpdateItem": 1}, func() error { return st.End(ctx, s.ID, touched.Add(time.Minute)) })
	want["endedAt"], want["version"] = "2026-11-25T09:31:00Z", "3"
	checkItem(getItem(t, "SESSION#"+s.ID, "SESSION"), want)

	step("GetItem", map[string]int{"GetItem": 1}, func() error {
		got, found, err := st.Get(ctx, s.ID)
		if err == nil && (!found || got.Version != 3) {
			t.Errorf("get: %+v, %v", got, found)
		}
		return err
	})
	// A malformed id makes no call.
	step("none", map[string]int{}, func() error {
		_, _, _ = st.Get(ctx, "a#b")
		_ = st.Touch(ctx, "a#b", 1, at)
		_ = st.Create(ctx, sessions.Session{ID: "a#b", OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at})
		return st.End(ctx, "a#b", at)
	})
}

// fakeSessions answers every call with err (and, for a failed condition, old as the
// item DynamoDB returns).
type fakeSessions struct{ err error }

func (f fakeSessions) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, f.err
}

func (f fakeSessions) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, f.err
}

func (f fakeSessions) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, f.err
}

func TestSessionErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
	calls := map[string]func(st *dynamo.Sessions) error{
		"Create": func(st *dynamo.Sessions) error { return st.Create(ctx, s) },
		"Get":    func(st *dynamo.Sessions) error { _, _, err := st.Get(ctx, s.ID); return err },
		"Touch":  func(st *dynamo.Sessions) error { return st.Touch(ctx, s.ID, 1, at) },
		"End":    func(st *dynamo.Sessions) error { return st.End(ctx, s.ID, at) },
	}
	for name, call := range calls {
		for _, busy := range []error{
			opErr(name, &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}),
			opErr(name, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}),
			opErr(name, &types.RequestLimitExceeded{Message: aws.String("account limit")}),
			opErr(name, &types.InternalServerError{Message: aws.String("oops")}),
		} {
			assertUnavailable(t, call(dynamo.NewSessions(fakeSessions{busy}, "t")))
		}
		for _, fatal := range []error{
			opErr(name, &smithy.GenericAPIError{Code: "ValidationException", Message: "bad"}),
			opErr(name, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}),
			opErr(name, &smithy.CanceledError{Err: context.Canceled}),
		} {
			err := call(dynamo.NewSessions(fakeSessions{fatal}, "t"))
			var pe *problem.Error
			if err == nil || errors.As(err, &pe) || !errors.Is(err, fatal) || !strings.Contains(err.Error(), s.ID) {
				t.Errorf("%s: %v, want a plain error naming the session and wrapping the cause", name, err)
			}
		}
	}
	// A failed condition: which error the old item says.
	failed := func(old map[string]types.AttributeValue) error {
		return opErr("UpdateItem", &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: old})
	}
	live := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SESSION#" + s.ID}, "version": &types.AttributeValueMemberN{Value: "3"}}
	ended := map[string]types.AttributeValue{"pk": live["pk"], "version": live["version"], "endedAt": &types.AttributeValueMemberS{Value: "2026-11-25T09:00:00Z"}}
	for _, tc := range []struct {
		old  map[string]types.AttributeValue
		want error
	}{{nil, sessions.ErrEnded}, {ended, sessions.ErrEnded}, {live, sessions.ErrConflict}} {
		if err := calls["Touch"](dynamo.NewSessions(fakeSessions{failed(tc.old)}, "t")); err != tc.want {
			t.Errorf("touch failing its condition on %v: %v, want %v", tc.old, err, tc.want)
		}
	}
	if err := calls["End"](dynamo.NewSessions(fakeSessions{failed(nil)}, "t")); err != nil {
		t.Errorf("end failing its condition: %v, want nil", err)
	}
	if err := calls["Create"](dynamo.NewSessions(fakeSessions{failed(nil)}, "t")); err != sessions.ErrConflict {
		t.Errorf("create failing its condition: %v, want ErrConflict", err)
	}
}

// FuzzDecodeSession: whatever a stored item holds, decoding never panics, and what it
// accepts is a session Create or Touch could have written.
func FuzzDecodeSession(f *testing.F) {
	f.Add("ses1", `{"id":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z"}`, "2", "2026-11-25T09:30:00.5Z", "", false)
	f.Add("ses1", `{"id":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00+01:00"}`, "3", "2026-11-25T09:30:00Z", "2026-11-25T10:00:00Z", true)
	f.Add("ses1", `{"ID":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z"}`, "1", "2026-11-25T09:00:00Z", "", false)
	f.Add("ses1", `{"id":"ses1","id":"ses2","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z"}`, "1", "x", "", false)
	f.Add("ses1", `{"id":"ses1","orgId":"a#b","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z","version":9}`, "-1", "", "", true)
	f.Add("ses1", `{"id":"ses1"} {}`, "1e3", "2026-11-25T09:00:00Z", "2026-13-25T09:00:00Z", true)
	f.Fuzz(func(t *testing.T, id, data, version, last, endedAt string, ended bool) {
		item := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "SESSION#" + id}, "sk": &types.AttributeValueMemberS{Value: "SESSION"},
			"data": &types.AttributeValueMemberS{Value: data}, "version": &types.AttributeValueMemberN{Value: version},
			"lastActivity": &types.AttributeValueMemberS{Value: last},
		}
		if ended {
			item["endedAt"] = &types.AttributeValueMemberS{Value: endedAt}
		}
		s, err := dynamo.DecodeSessionForTest(id, item)
		if err != nil {
			var pe *problem.Error
			if errors.As(err, &pe) {
				t.Fatalf("a corrupt item is a client's problem: %v", err)
			}
			return
		}
		if s.ID != id || !ids.Valid(s.OrgID) || !ids.Valid(s.AgentID) || s.Version < 1 || s.CreatedAt.IsZero() ||
			s.CreatedAt.Location() != time.UTC || s.LastActivity.Location() != time.UTC || (s.EndedAt == nil) == ended ||
			(s.EndedAt != nil && s.EndedAt.Location() != time.UTC) {
			t.Fatalf("accepted %+v from %q v%q last %q ended %v %q", s, data, version, last, ended, endedAt)
		}
	})
}
