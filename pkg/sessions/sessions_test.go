package sessions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/sessions"
)

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := sessions.NewID()
		if !ids.Valid(id) || !strings.HasPrefix(id, sessions.IDPrefix) || len(id) != len(sessions.IDPrefix)+22 || seen[id] {
			t.Fatalf("NewID() = %q: want a new valid id, %s and 22 characters", id, sessions.IDPrefix)
		}
		seen[id] = true
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	good := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
	if err := sessions.Check(good); err != nil {
		t.Fatalf("Check(%+v): %v", good, err)
	}
	if got := good.ExpiresAt(); !got.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("ExpiresAt %v, want a day after the last activity", got)
	}
	for name, mod := range map[string]func(*sessions.Session){
		"empty id":        func(s *sessions.Session) { s.ID = "" },
		"id with NUL":     func(s *sessions.Session) { s.ID = "a\x00b" },
		"id with slash":   func(s *sessions.Session) { s.ID = "a/b" },
		"65-byte id":      func(s *sessions.Session) { s.ID = strings.Repeat("s", 65) },
		"organisation #":  func(s *sessions.Session) { s.OrgID = "a#b" },
		"no agent":        func(s *sessions.Session) { s.AgentID = "" },
		"no created time": func(s *sessions.Session) { s.CreatedAt = time.Time{} },
		"no activity":     func(s *sessions.Session) { s.LastActivity = time.Time{} },
		"ended":           func(s *sessions.Session) { s.EndedAt = &at },
	} {
		s := good
		mod(&s)
		if err := sessions.Check(s); err == nil {
			t.Errorf("%s: Check accepted %+v", name, s)
		}
	}
}
