package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/sessions"
	"github.com/convrs/admin/pkg/sessions/sessionstest"
)

func openSessions(t *testing.T) (*bolt.Store, *bolt.Sessions) {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	st, err := s.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func TestSessionsContract(t *testing.T) {
	_, st := openSessions(t)
	sessionstest.Run(t, func(*testing.T) sessions.Store { return st })
}

// TestSessionsSurviveReopen: sessions live in the file.
func TestSessionsSurviveReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "convrs.db")
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
	for i := range 2 {
		db, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.Sessions()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			err = st.Create(context.Background(), s)
		} else if got, found, gerr := st.Get(context.Background(), s.ID); gerr != nil || !found || got.AgentID != "agt_ana" {
			t.Errorf("after reopening: %+v, %v, %v", got, found, gerr)
		}
		_ = db.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionsForgetIdleOnes: a Create deletes the sessions idle for longer than
// sessions.MaxIdle before it, a bounded number at a time, and keeps every other.
func TestSessionsForgetIdleOnes(t *testing.T) {
	t.Parallel()
	_, st := openSessions(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	newAt := func(at time.Time) sessions.Session {
		s := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	var old []sessions.Session
	for range 20 {
		old = append(old, newAt(t0))
	}
	// One is touched, one ended: touched moves its expiry, an end keeps it.
	if err := st.Touch(ctx, old[0].ID, 1, t0.Add(sessions.MaxIdle)); err != nil {
		t.Fatal(err)
	}
	if err := st.End(ctx, old[1].ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	found := func(id string) bool {
		_, ok, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Exactly at the expiry nothing goes (ExpiresAt is when a store may forget).
	edge := newAt(t0.Add(sessions.MaxIdle))
	for _, s := range old {
		if !found(s.ID) {
			t.Fatalf("%s forgotten at its expiry", s.ID)
		}
	}
	later := t0.Add(sessions.MaxIdle + time.Second)
	newAt(later)
	gone := 0
	for _, s := range old[1:] {
		if !found(s.ID) {
			gone++
		}
	}
	if gone != 16 {
		t.Errorf("one create forgot %d idle sessions, want 16 (the batch)", gone)
	}
	newAt(later)
	for _, s := range old[1:] {
		if found(s.ID) {
			t.Errorf("%s still there after two creates", s.ID)
		}
	}
	if !found(old[0].ID) || !found(edge.ID) {
		t.Error("a create forgot a session that was active within MaxIdle")
	}
}

func FuzzDecodeSession(f *testing.F) {
	f.Add("ses1", []byte(`{"id":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z","lastActivity":"2026-11-25T09:00:00Z","version":1}`))
	f.Add("ses1", []byte(`{"id":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00+01:00","lastActivity":"2026-11-25T09:00:00Z","endedAt":"2026-11-25T10:00:00Z","version":3}`))
	f.Add("ses1", []byte(`{"ID":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z","lastActivity":"2026-11-25T09:00:00Z","version":1}`))
	f.Add("ses1", []byte(`{"id":"ses1","id":"ses2","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z","lastActivity":"2026-11-25T09:00:00Z","version":1}`))
	f.Add("ses1", []byte(`{"id":"ses1","orgId":"acme","agentId":"agt_a","createdAt":"2026-11-25T09:00:00Z","lastActivity":"2026-11-25T09:00:00Z","version":0,"endedAt":null}`))
	f.Add("x", []byte(`[]`))
	f.Fuzz(func(t *testing.T, id string, v []byte) {
		s, err := bolt.DecodeSessionForTest(id, v)
		if err != nil {
			var pe *problem.Error
			if errors.As(err, &pe) {
				t.Fatalf("a corrupt record is a client's problem: %v", err)
			}
			return
		}
		if s.ID != id || !ids.Valid(s.OrgID) || !ids.Valid(s.AgentID) || s.Version < 1 || s.CreatedAt.Location() != time.UTC ||
			s.LastActivity.Location() != time.UTC || (s.EndedAt != nil && s.EndedAt.Location() != time.UTC) {
			t.Fatalf("accepted %+v from %q", s, v)
		}
	})
}
