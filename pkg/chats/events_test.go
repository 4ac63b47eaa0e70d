package chats_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/chats"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func TestParseValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dt, detail string
		check      func(t *testing.T, in chats.In)
	}{
		{chats.ChatStarted, `{"orgId":"acme","chatId":"c1","startedAt":"2026-11-20T10:00:00+01:00","channel":"web","businessUnitId":"bu1","user":{"id":"u1","name":"Ada","email":"ada@example.com","phone":"+44 20 7946 0000"}}`,
			func(t *testing.T, in chats.In) {
				if in.Started == nil || in.OrgID != "acme" || in.ChatID != "c1" || !in.At.Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) || in.At.Location() != time.UTC ||
					in.Started.User.Name != "Ada" || in.Started.BusinessUnitID != "bu1" {
					t.Errorf("got %+v", in)
				}
			}},
		{chats.UserSticky, `{"orgId":"acme","userId":"u1","agentId":"a1","at":"2026-11-20T10:00:00Z"}`,
			func(t *testing.T, in chats.In) {
				if in.Sticky == nil || in.Sticky.UserID != "u1" || in.AgentID != "a1" || in.ChatID != "" || in.OrgID != "acme" {
					t.Errorf("got %+v", in)
				}
			}},
		{chats.UserSticky, `{"orgId":"acme","userId":"u1","agentId":null,"at":"2026-11-20T10:00:00Z"}`,
			func(t *testing.T, in chats.In) {
				if in.Sticky == nil || in.Sticky.AgentID != nil || in.AgentID != "" {
					t.Errorf("got %+v", in)
				}
			}},
		{chats.ChatMessage, `{"orgId":"acme","chatId":"c1","messageId":"m1","sender":"agent","agentId":"a1","text":"Hello <b>","sentAt":"2026-11-20T10:00:00Z"}`,
			func(t *testing.T, in chats.In) {
				if in.Message == nil || in.AgentID != "a1" || in.Message.Text != "Hello <b>" {
					t.Errorf("got %+v", in)
				}
			}},
		{chats.ChatMessage, `{"orgId":"acme","chatId":"c1","messageId":"m2","sender":"user","text":"","sentAt":"2026-11-20T10:00:00Z"}`, nil},
		{chats.ChatAllocated, `{"orgId":"acme","chatId":"c1","agentId":"a1","at":"2026-11-20T10:00:00Z"}`, nil},
		{chats.ChatClosed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z","reason":"resolved"}`, nil},
		{chats.ChatClosed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z"}`, nil},
		{chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z"}`, nil},
		{chats.AgentLoggedIn, `{"orgId":"acme","agentId":"a1","at":"2026-11-20T10:00:00Z"}`,
			func(t *testing.T, in chats.In) {
				if in.LoggedIn == nil || in.ChatID != "" || in.AgentID != "a1" {
					t.Errorf("got %+v", in)
				}
			}},
		{chats.AgentStatusChanged, `{"orgId":"acme","agentId":"a1","status":"offline","at":"2026-11-20T10:00:00Z"}`, nil},
		// A day ahead of now is allowed (clock skew between systems).
		{chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"2026-11-21T12:00:00Z"}`, nil},
	} {
		in, err := chats.Parse(tc.dt, []byte(tc.detail), now)
		if err != nil {
			t.Errorf("%s %s: %v", tc.dt, tc.detail, err)
			continue
		}
		if tc.check != nil {
			tc.check(t, in)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	const started = `"chatId":"c1","startedAt":"2026-11-20T10:00:00Z","channel":"web","user":{"id":"u1"}`
	for _, tc := range []struct {
		name, dt, detail, want string
	}{
		{"unknown detail-type", "Chat Exploded", `{}`, "unknown detail-type"},
		{"missing orgId", chats.ChatStarted, `{` + started + `}`, "orgId is required"},
		{"org id rule", chats.ChatStarted, `{"orgId":"a/b",` + started + `}`, "orgId"},
		{"org id too long", chats.ChatStarted, `{"orgId":"` + strings.Repeat("a", 65) + `",` + started + `}`, "orgId"},
		{"wrong type", chats.ChatAllocated, `{"orgId":"acme","chatId":7,"agentId":"a1","at":"2026-11-20T10:00:00Z"}`, "chatId"},
		{"unknown field", chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z","extra":1}`, "extra"},
		{"wrong case", chats.ChatMissed, `{"OrgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z"}`, "OrgId"},
		{"duplicate key", chats.ChatMissed, `{"orgId":"acme","orgId":"evil","chatId":"c1","at":"2026-11-20T10:00:00Z"}`, "orgId"},
		{"not an object", chats.ChatMissed, `["acme"]`, "object"},
		{"not JSON", chats.ChatMissed, `{"orgId":`, "JSON"},
		{"missing time", chats.ChatMissed, `{"orgId":"acme","chatId":"c1"}`, "at is required"},
		{"sticky without agentId", chats.UserSticky, `{"orgId":"acme","userId":"u1","at":"2026-11-20T10:00:00Z"}`, "agentId is required"},
		{"sticky bad user", chats.UserSticky, `{"orgId":"acme","userId":"u 1","agentId":"a1","at":"2026-11-20T10:00:00Z"}`, "userId"},
		{"sticky bad agent", chats.UserSticky, `{"orgId":"acme","userId":"u1","agentId":"","at":"2026-11-20T10:00:00Z"}`, "agentId"},
		{"time not RFC 3339", chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"yesterday"}`, "RFC 3339"},
		{"time before 2000", chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"1999-12-31T23:59:59Z"}`, "before 2000"},
		{"time far ahead", chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"2026-11-21T12:00:01Z"}`, "future"},
		{"bad sender", chats.ChatMessage, `{"orgId":"acme","chatId":"c1","messageId":"m1","sender":"robot","text":"x","sentAt":"2026-11-20T10:00:00Z"}`, "sender"},
		{"agent message without agent", chats.ChatMessage, `{"orgId":"acme","chatId":"c1","messageId":"m1","sender":"agent","text":"x","sentAt":"2026-11-20T10:00:00Z"}`, "agentId is required"},
		{"user message with agent", chats.ChatMessage, `{"orgId":"acme","chatId":"c1","messageId":"m1","sender":"user","agentId":"a1","text":"x","sentAt":"2026-11-20T10:00:00Z"}`, "only for agent"},
		{"missing message id", chats.ChatMessage, `{"orgId":"acme","chatId":"c1","sender":"user","text":"x","sentAt":"2026-11-20T10:00:00Z"}`, "messageId"},
		{"invalid UTF-8 text", chats.ChatMessage, "{\"orgId\":\"acme\",\"chatId\":\"c1\",\"messageId\":\"m1\",\"sender\":\"user\",\"text\":\"a\xffb\",\"sentAt\":\"2026-11-20T10:00:00Z\"}", "UTF-8"},
		{"invalid UTF-8 anywhere", chats.ChatMissed, "{\"orgId\":\"acme\",\"chatId\":\"c1\",\"at\":\"2026-11-20T10:00:00Z\",\"x\xff\":1}", "UTF-8"},
		{"control character in a name", chats.ChatStarted, `{"orgId":"acme","chatId":"c1","startedAt":"2026-11-20T10:00:00Z","channel":"web","user":{"id":"u1","name":"Ada\r\nBcc: x@y.z"}}`, "user.name"},
		{"missing user id", chats.ChatStarted, `{"orgId":"acme","chatId":"c1","startedAt":"2026-11-20T10:00:00Z","channel":"web","user":{}}`, "user.id"},
		{"missing channel", chats.ChatStarted, `{"orgId":"acme","chatId":"c1","startedAt":"2026-11-20T10:00:00Z","user":{"id":"u1"}}`, "channel"},
		{"long name", chats.ChatStarted, `{"orgId":"acme","chatId":"c1","startedAt":"2026-11-20T10:00:00Z","channel":"web","user":{"id":"u1","name":"` + strings.Repeat("é", 257) + `"}}`, "256"},
		{"bad status", chats.AgentStatusChanged, `{"orgId":"acme","agentId":"a1","status":"ONLINE","at":"2026-11-20T10:00:00Z"}`, "status"},
		{"huge detail", chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z","pad":"` + strings.Repeat("x", 256<<10) + `"}`, "bytes"},
		{"null", chats.ChatMissed, `null`, "object"},
	} {
		_, err := chats.Parse(tc.dt, []byte(tc.detail), now)
		if !errors.Is(err, chats.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a malformed error naming %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParse: Parse never panics, refuses with ErrMalformed, and whatever it accepts has
// valid ids and times in range.
func FuzzParse(f *testing.F) {
	for _, s := range []struct{ dt, detail string }{
		{chats.ChatStarted, `{"orgId":"acme","chatId":"c1","startedAt":"2026-11-20T10:00:00Z","channel":"web","user":{"id":"u1","name":"Ada"}}`},
		{chats.ChatMessage, `{"orgId":"acme","chatId":"c1","messageId":"m1","sender":"agent","agentId":"a1","text":"hi","sentAt":"2026-11-20T10:00:00Z"}`},
		{chats.AgentStatusChanged, `{"orgId":"acme","agentId":"a1","status":"away","at":"2026-11-20T10:00:00Z"}`},
		{chats.ChatMissed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00.123456789Z"}`},
		{chats.ChatClosed, `{"orgId":"acme","chatId":"c1","at":"2026-11-20T10:00:00Z","reason":"\u2028"}`},
	} {
		f.Add(s.dt, []byte(s.detail))
	}
	f.Fuzz(func(t *testing.T, dt string, detail []byte) {
		in, err := chats.Parse(dt, detail, now)
		if err != nil {
			if !errors.Is(err, chats.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if in.OrgID == "" || in.At.IsZero() || in.At.After(now.Add(24*time.Hour)) || in.At.Year() < 2000 {
			t.Fatalf("accepted %+v", in)
		}
		if (in.ChatID == "") != (in.LoggedIn != nil || in.Status != nil) {
			t.Fatalf("chat id %q for %s", in.ChatID, in.DetailType)
		}
	})
}
