// Package sessionstest is the contract suite every sessions.Store adapter must pass
// (package dynamo on DynamoDB Local, package bolt): the round trip, the conditions of
// Create and Touch (also under racing writers), the end of a session, and ids that must
// never reach a key.
package sessionstest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/sessions"
)

// Run runs the suite on the stores newStore returns. Stores may be shared between
// subtests: each uses its own session ids (sessions.NewID).
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s sessions.Store)
	}{
		{"CreateGetRoundTrip", testRoundTrip},
		{"CreateOfATakenID", testTaken},
		{"RacingCreatesOneWins", testRacingCreates},
		{"TouchMovesActivityAndVersion", testTouch},
		{"TouchOfAStaleVersion", testStaleTouch},
		{"RacingTouchesOneWins", testRacingTouches},
		{"UnknownSessions", testUnknown},
		{"EndIsFinalAndIdempotent", testEnd},
		{"MalformedIDs", testMalformed},
		{"CancelledContext", testCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// t0 is the suite's clock: every time it uses lies within a day of it, so that a store
// forgetting sessions idle for longer than sessions.MaxIdle forgets none of the suite's.
var t0 = time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)

// paris is a zone other than UTC: the store must give times back in UTC.
var paris = time.FixedZone("CET", 3600)

func newSession() sessions.Session {
	at := t0.In(paris)
	return sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
}

func create(t *testing.T, st sessions.Store, s sessions.Session) sessions.Session {
	t.Helper()
	if err := st.Create(context.Background(), s); err != nil {
		t.Fatalf("create %s: %v", s.ID, err)
	}
	s.Version = 1
	return s
}

func get(t *testing.T, st sessions.Store, id string) (sessions.Session, bool) {
	t.Helper()
	s, found, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %q: %v", id, err)
	}
	return s, found
}

// same reports how got differs from want (times compared as instants, and required in
// UTC); "" when it does not.
func same(got, want sessions.Session) string {
	var diffs []string
	if got.ID != want.ID || got.OrgID != want.OrgID || got.AgentID != want.AgentID {
		diffs = append(diffs, "ids")
	}
	if got.Version != want.Version {
		diffs = append(diffs, "version")
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"createdAt", got.CreatedAt, want.CreatedAt}, {"lastActivity", got.LastActivity, want.LastActivity}} {
		if !tm.got.Equal(tm.want) || tm.got.Location() != time.UTC {
			diffs = append(diffs, tm.name)
		}
	}
	switch {
	case (got.EndedAt == nil) != (want.EndedAt == nil):
		diffs = append(diffs, "endedAt")
	case got.EndedAt != nil && (!got.EndedAt.Equal(*want.EndedAt) || got.EndedAt.Location() != time.UTC):
		diffs = append(diffs, "endedAt")
	}
	if len(diffs) == 0 {
		return ""
	}
	return "differs in " + strings.Join(diffs, ", ")
}

func check(t *testing.T, st sessions.Store, want sessions.Session) {
	t.Helper()
	got, found := get(t, st, want.ID)
	if !found {
		t.Fatalf("session %s not found", want.ID)
	}
	if d := same(got, want); d != "" {
		t.Errorf("session %s %s:\n got %+v\nwant %+v", want.ID, d, got, want)
	}
}

func testRoundTrip(t *testing.T, st sessions.Store) {
	s := newSession()
	// Create stores version 1 whatever it is given; nanoseconds are kept.
	s.Version = 7
	s.LastActivity = s.CreatedAt.Add(time.Nanosecond)
	s = create(t, st, s)
	check(t, st, s) // read at once: strongly consistent
	got, _ := get(t, st, s.ID)
	if !got.ExpiresAt().Equal(s.LastActivity.Add(sessions.MaxIdle)) {
		t.Errorf("ExpiresAt %v, want %v", got.ExpiresAt(), s.LastActivity.Add(sessions.MaxIdle))
	}
	// Another session is another record.
	other := newSession()
	other.OrgID, other.AgentID = "globex", "agt_bo"
	other = create(t, st, other)
	check(t, st, other)
	check(t, st, s)
}

func testTaken(t *testing.T, st sessions.Store) {
	s := create(t, st, newSession())
	again := s
	again.AgentID, again.OrgID = "agt_eve", "evil"
	if err := st.Create(context.Background(), again); !errors.Is(err, sessions.ErrConflict) {
		t.Errorf("create of a taken id: %v, want ErrConflict", err)
	}
	check(t, st, s)
	// An ended session's id stays taken.
	if err := st.End(context.Background(), s.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(context.Background(), again); !errors.Is(err, sessions.ErrConflict) {
		t.Errorf("create of an ended session's id: %v, want ErrConflict", err)
	}
}

func testRacingCreates(t *testing.T, st sessions.Store) {
	const n = 8
	id := sessions.NewID()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s := newSession()
			s.ID, s.AgentID = id, []string{"agt_a", "agt_b", "agt_c", "agt_d", "agt_e", "agt_f", "agt_g", "agt_h"}[i]
			<-start
			errs[i] = st.Create(context.Background(), s)
		})
	}
	close(start)
	wg.Wait()
	won := oneWinner(t, "create", errs)
	if got, _ := get(t, st, id); got.AgentID != []string{"agt_a", "agt_b", "agt_c", "agt_d", "agt_e", "agt_f", "agt_g", "agt_h"}[won] || got.Version != 1 {
		t.Errorf("stored %+v, want the winner's (create %d) at version 1", got, won)
	}
}

func testTouch(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	s := create(t, st, newSession())
	for i := 1; i <= 3; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Minute).Add(time.Duration(i)).In(paris)
		if err := st.Touch(ctx, s.ID, s.Version, at); err != nil {
			t.Fatalf("touch %d at version %d: %v", i, s.Version, err)
		}
		s.LastActivity, s.Version = at, s.Version+1
		check(t, st, s)
	}
	got, _ := get(t, st, s.ID)
	if !got.ExpiresAt().Equal(s.LastActivity.Add(sessions.MaxIdle)) || !got.CreatedAt.Equal(t0) {
		t.Errorf("after touches: ExpiresAt %v, CreatedAt %v", got.ExpiresAt(), got.CreatedAt)
	}
}

func testStaleTouch(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	s := create(t, st, newSession())
	if err := st.Touch(ctx, s.ID, 1, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.LastActivity, s.Version = t0.Add(time.Minute), 2
	for _, v := range []int64{1, 0, -1, 3, 1 << 62} {
		if err := st.Touch(ctx, s.ID, v, t0.Add(time.Hour)); !errors.Is(err, sessions.ErrConflict) {
			t.Errorf("touch at version %d of a session at 2: %v, want ErrConflict", v, err)
		}
	}
	check(t, st, s)
}

func testRacingTouches(t *testing.T, st sessions.Store) {
	s := create(t, st, newSession())
	const n = 8
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = st.Touch(context.Background(), s.ID, 1, t0.Add(time.Duration(i+1)*time.Minute))
		})
	}
	close(start)
	wg.Wait()
	won := oneWinner(t, "touch", errs)
	s.LastActivity, s.Version = t0.Add(time.Duration(won+1)*time.Minute), 2
	check(t, st, s)
}

func testUnknown(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	id := sessions.NewID()
	if _, found := get(t, st, id); found {
		t.Error("found a session never created")
	}
	if err := st.Touch(ctx, id, 1, t0); !errors.Is(err, sessions.ErrEnded) {
		t.Errorf("touch of an unknown session: %v, want ErrEnded", err)
	}
	if err := st.End(ctx, id, t0); err != nil {
		t.Errorf("end of an unknown session: %v, want nil", err)
	}
	// Neither wrote a record.
	if s, found := get(t, st, id); found {
		t.Errorf("touch or end of an unknown session stored %+v", s)
	}
	if err := st.Touch(ctx, id, 1, t0); !errors.Is(err, sessions.ErrEnded) {
		t.Errorf("touch after the end of an unknown session: %v, want ErrEnded", err)
	}
	// The id is still free.
	s := newSession()
	s.ID = id
	create(t, st, s)
}

func testEnd(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	s := create(t, st, newSession())
	if err := st.Touch(ctx, s.ID, 1, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.LastActivity, s.Version = t0.Add(time.Minute), 2
	ended := t0.Add(2 * time.Minute).In(paris)
	if err := st.End(ctx, s.ID, ended); err != nil {
		t.Fatalf("end: %v", err)
	}
	s.EndedAt, s.Version = &ended, 3
	check(t, st, s)
	// Touch refuses an ended session whatever the version.
	for _, v := range []int64{2, 3, 4} {
		if err := st.Touch(ctx, s.ID, v, t0.Add(3*time.Minute)); !errors.Is(err, sessions.ErrEnded) {
			t.Errorf("touch at version %d of an ended session: %v, want ErrEnded", v, err)
		}
	}
	// Ending again changes nothing.
	if err := st.End(ctx, s.ID, t0.Add(time.Hour)); err != nil {
		t.Errorf("second end: %v", err)
	}
	check(t, st, s)
	// Racing ends: all succeed, one end time is kept.
	r := create(t, st, newSession())
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = st.End(ctx, r.ID, t0.Add(time.Duration(i+1)*time.Second)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("racing end %d: %v", i, err)
		}
	}
	if got, _ := get(t, st, r.ID); got.EndedAt == nil || got.Version != 2 {
		t.Errorf("after racing ends: %+v, want ended once (version 2)", got)
	}
}

func testMalformed(t *testing.T, st sessions.Store) {
	ctx := context.Background()
	bad := []string{"", "a\x00b", "a/b", "a#b", "SESSION#x", "ses x", "-ses", "sés", strings.Repeat("s", 65)}
	for _, id := range bad {
		if _, found, err := st.Get(ctx, id); found || err != nil {
			t.Errorf("Get(%q): found %v, %v; want not found", id, found, err)
		}
		if err := st.Touch(ctx, id, 1, t0); !errors.Is(err, sessions.ErrEnded) {
			t.Errorf("Touch(%q): %v, want ErrEnded", id, err)
		}
		if err := st.End(ctx, id, t0); err != nil {
			t.Errorf("End(%q): %v, want nil", id, err)
		}
		s := newSession()
		s.ID = id
		if err := st.Create(ctx, s); err == nil {
			t.Errorf("Create(%q) stored a malformed id", id)
		}
	}
	// The longest valid id is stored.
	s := newSession()
	s.ID = strings.Repeat("s", 64)
	if err := st.Create(ctx, s); err != nil && !errors.Is(err, sessions.ErrConflict) {
		t.Errorf("Create of a 64-byte id: %v", err)
	}
	// Malformed organisation or agent ids, and sessions that are not new, are refused.
	for _, mod := range []func(*sessions.Session){
		func(s *sessions.Session) { s.OrgID = "" },
		func(s *sessions.Session) { s.OrgID = "a#b" },
		func(s *sessions.Session) { s.AgentID = "agt/1" },
		func(s *sessions.Session) { s.CreatedAt = time.Time{} },
		func(s *sessions.Session) { s.LastActivity = time.Time{} },
		func(s *sessions.Session) { at := t0; s.EndedAt = &at },
	} {
		s := newSession()
		mod(&s)
		if err := st.Create(ctx, s); err == nil {
			t.Errorf("Create(%+v) stored a malformed session", s)
		}
		if _, found := get(t, st, s.ID); found {
			t.Errorf("a refused create stored %s", s.ID)
		}
	}
}

func testCancelled(t *testing.T, st sessions.Store) {
	live := create(t, st, newSession())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := newSession()
	if err := st.Create(ctx, s); err == nil {
		t.Error("Create on a cancelled context succeeded")
	}
	if _, _, err := st.Get(ctx, live.ID); err == nil {
		t.Error("Get on a cancelled context succeeded")
	}
	if err := st.Touch(ctx, live.ID, 1, t0.Add(time.Minute)); err == nil {
		t.Error("Touch on a cancelled context succeeded")
	}
	if err := st.End(ctx, live.ID, t0.Add(time.Minute)); err == nil {
		t.Error("End on a cancelled context succeeded")
	}
	if _, found := get(t, st, s.ID); found {
		t.Error("a create on a cancelled context was stored")
	}
	check(t, st, live)
}

// oneWinner checks the errors of racing calls (what names them): exactly one nil, the
// others ErrConflict. It returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error) int {
	t.Helper()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("%ss %d and %d both succeeded", what, won, i)
		case err == nil:
			won = i
		case !errors.Is(err, sessions.ErrConflict):
			t.Errorf("%s %d: %v, want nil or ErrConflict", what, i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no %s succeeded", what)
	}
	return won
}
