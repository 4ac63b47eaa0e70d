// Package stickytest is the contract suite every sticky.Store adapter must pass.
package stickytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/sticky"
)

// Run runs the suite on the stores newStore returns (each subtest uses its own org).
func Run(t *testing.T, newStore func(t *testing.T) sticky.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s sticky.Store)
	}{
		{"StickMoveUnstick", testMoves},
		{"OlderChangesChangeNothing", testOrder},
		{"ConcurrentChangesOfOneUser", testConcurrent},
		{"UsersAreListedByIDAndBounded", testList},
		{"MalformedIDs", testMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func newOrg() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "org-" + hex.EncodeToString(b[:])
}

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func users(t *testing.T, s sticky.Store, org, agent string) []string {
	t.Helper()
	u, err := s.Users(context.Background(), org, agent, sticky.MaxUsers)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testMoves(t *testing.T, s sticky.Store) {
	ctx, org := context.Background(), newOrg()
	if a, at, err := s.Agent(ctx, org, "u1"); err != nil || a != "" || !at.IsZero() {
		t.Errorf("never stuck: %q %v %v", a, at, err)
	}
	must(t, s.Apply(ctx, org, "u1", "a1", t0))
	must(t, s.Apply(ctx, org, "u2", "a1", t0))
	if got := users(t, s, org, "a1"); !slices.Equal(got, []string{"u1", "u2"}) {
		t.Errorf("a1's users %v", got)
	}
	must(t, s.Apply(ctx, org, "u1", "a2", t0.Add(time.Minute)))
	if got := users(t, s, org, "a1"); !slices.Equal(got, []string{"u2"}) {
		t.Errorf("after u1 moved, a1's users %v", got)
	}
	if got := users(t, s, org, "a2"); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("a2's users %v", got)
	}
	if a, at, _ := s.Agent(ctx, org, "u1"); a != "a2" || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("u1 is with %q since %v", a, at)
	}
	must(t, s.Apply(ctx, org, "u1", "", t0.Add(2*time.Minute)))
	if got := users(t, s, org, "a2"); len(got) != 0 {
		t.Errorf("after unstick, a2's users %v", got)
	}
	if a, _, _ := s.Agent(ctx, org, "u1"); a != "" {
		t.Errorf("unstuck user is with %q", a)
	}
	// Another organisation is another world.
	if got := users(t, s, newOrg(), "a1"); len(got) != 0 {
		t.Errorf("another org sees %v", got)
	}
}

func testOrder(t *testing.T, s sticky.Store) {
	ctx, org := context.Background(), newOrg()
	must(t, s.Apply(ctx, org, "u1", "a2", t0.Add(time.Hour)))
	for _, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if err := s.Apply(ctx, org, "u1", "a1", at); !errors.Is(err, sticky.ErrStale) {
			t.Errorf("change at %v after one at %v: %v, want ErrStale", at, t0.Add(time.Hour), err)
		}
	}
	if err := s.Apply(ctx, org, "u1", "", t0); !errors.Is(err, sticky.ErrStale) {
		t.Errorf("an older unstick: %v, want ErrStale", err)
	}
	if got := users(t, s, org, "a2"); !slices.Equal(got, []string{"u1"}) || len(users(t, s, org, "a1")) != 0 {
		t.Errorf("older changes moved the user: a2 %v a1 %v", got, users(t, s, org, "a1"))
	}
	// An unstick of a user never stuck is recorded (a later, older stick stays out).
	must(t, s.Apply(ctx, org, "u9", "", t0.Add(time.Hour)))
	if err := s.Apply(ctx, org, "u9", "a1", t0); !errors.Is(err, sticky.ErrStale) {
		t.Errorf("stick older than the unstick: %v", err)
	}
}

func testConcurrent(t *testing.T, s sticky.Store) {
	ctx, org := context.Background(), newOrg()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := s.Apply(ctx, org, "u1", fmt.Sprintf("a%d", i), t0.Add(time.Duration(i)*time.Second))
			if err != nil && !errors.Is(err, sticky.ErrStale) {
				t.Errorf("agent a%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if a, _, _ := s.Agent(ctx, org, "u1"); a != "a7" {
		t.Errorf("the newest change (a7) lost: u1 is with %q", a)
	}
	total := 0
	for i := range 8 {
		total += len(users(t, s, org, fmt.Sprintf("a%d", i)))
	}
	if total != 1 || len(users(t, s, org, "a7")) != 1 {
		t.Errorf("u1 is listed under %d agents, want exactly a7", total)
	}
}

func testList(t *testing.T, s sticky.Store) {
	ctx, org := context.Background(), newOrg()
	for i := range 12 {
		must(t, s.Apply(ctx, org, fmt.Sprintf("u%02d", 11-i), "a1", t0))
	}
	got, err := s.Users(ctx, org, "a1", 5)
	if err != nil || !slices.Equal(got, []string{"u00", "u01", "u02", "u03", "u04"}) {
		t.Errorf("first 5: %v %v", got, err)
	}
	if _, err := s.Users(ctx, org, "a1", sticky.MaxUsers+1); err == nil {
		t.Error("a limit over MaxUsers was accepted")
	}
}

func testMalformed(t *testing.T, s sticky.Store) {
	ctx := context.Background()
	for _, bad := range []string{"", "a#b", "x\x00", "a/b"} {
		if err := s.Apply(ctx, "acme", bad, "a1", t0); !problem.Is(err, problem.NotFound) {
			t.Errorf("Apply(user %q): %v", bad, err)
		}
		if err := s.Apply(ctx, bad, "u1", "a1", t0); !problem.Is(err, problem.NotFound) {
			t.Errorf("Apply(org %q): %v", bad, err)
		}
		if _, err := s.Users(ctx, "acme", bad, 5); !problem.Is(err, problem.NotFound) {
			t.Errorf("Users(agent %q): %v", bad, err)
		}
	}
	if err := s.Apply(ctx, "acme", "u1", "a#1", t0); !problem.Is(err, problem.NotFound) {
		t.Errorf("Apply(agent a#1): %v", err)
	}
}
