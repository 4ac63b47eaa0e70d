// Package webchattest is the contract suite every revision.Store adapter must pass.
package revisiontest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/webchat/revision"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/problem"
)

// Lister is what the suite needs to check that a commit stored its audit entry.
type Lister interface {
	ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error)
}

// Store is an adapter under test: the revisions port and the audit log it writes to.
type Store interface {
	revision.Store
	Lister
}

// Run runs the contract suite against the store newStore returns. Stores may be shared
// between subtests: each uses its own organisation ids.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"NeverHadKeysIsZero", testZero},
		{"ClaimThenCommit", testClaimCommit},
		{"CommitStoresTheAuditEntry", testCommitAudit},
		{"StaleClaimIsRefused", testStaleClaim},
		{"HeldClaimBlocksOthersUntilItsLeaseEnds", testLease},
		{"TakenOverClaimCannotCommit", testTakeOver},
		{"ConcurrentClaimsOneWins", testConcurrent},
		{"MalformedOrgIDs", testMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func newOrg() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "org-" + hex.EncodeToString(b[:])
}

var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func entry(org, action string, at time.Time) audit.Entry {
	return audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Actor: "u1", Area: "webchat", Action: action, RequestID: "r-" + action,
		Changes: []audit.Change{{Field: "current.kid", From: json.RawMessage(`null`), To: json.RawMessage(`"wk_1"`)}}}
}

func mustRevision(t *testing.T, s Store, org string) revision.Revision {
	t.Helper()
	r, err := s.Revision(context.Background(), org)
	if err != nil {
		t.Fatalf("Revision(%s): %v", org, err)
	}
	return r
}

func testZero(t *testing.T, s Store) {
	if r := mustRevision(t, s, newOrg()); r != (revision.Revision{}) {
		t.Errorf("an org that never had keys: got %+v, want the zero revision", r)
	}
}

func testClaimCommit(t *testing.T, s Store) {
	ctx, org := context.Background(), newOrg()
	for want := int64(1); want <= 3; want++ {
		cur := mustRevision(t, s, org)
		claimed, err := s.Claim(ctx, org, cur, base, base.Add(30*time.Second))
		if err != nil {
			t.Fatalf("Claim from %+v: %v", cur, err)
		}
		if claimed.Committed != want-1 || claimed.Claimed != want || !claimed.LeaseUntil.Equal(base.Add(30*time.Second)) {
			t.Fatalf("claimed %+v, want committed %d claimed %d", claimed, want-1, want)
		}
		if got := mustRevision(t, s, org); got.Committed != want-1 || got.Claimed != want {
			t.Fatalf("while claimed: got %+v", got)
		}
		if err := s.Commit(ctx, org, claimed, entry(org, "rotate", base.Add(time.Duration(want)*time.Second))); err != nil {
			t.Fatalf("Commit(%+v): %v", claimed, err)
		}
		if got := mustRevision(t, s, org); got.Committed != want || got.Claimed != want {
			t.Fatalf("after commit: got %+v, want committed and claimed %d", got, want)
		}
	}
}

func testCommitAudit(t *testing.T, s Store) {
	ctx, org := context.Background(), newOrg()
	claimed, err := s.Claim(ctx, org, revision.Revision{}, base, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	e := entry(org, "generate", base)
	if err := s.Commit(ctx, org, claimed, e); err != nil {
		t.Fatal(err)
	}
	p, err := s.ListAudit(ctx, org, audit.Query{Area: "webchat"})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != e.ID || p.Items[0].Action != "generate" || p.Items[0].Changes[0].Field != "current.kid" {
		t.Fatalf("audit after commit: %+v, %v", p.Items, err)
	}
	// A commit that fails writes no audit entry.
	if err := s.Commit(ctx, org, claimed, entry(org, "again", base.Add(time.Second))); !errors.Is(err, revision.ErrChanged) {
		t.Fatalf("second commit of the same claim: got %v, want ErrChanged", err)
	}
	if p, _ := s.ListAudit(ctx, org, audit.Query{}); len(p.Items) != 1 {
		t.Errorf("audit entries after a refused commit: %d, want 1", len(p.Items))
	}
}

func testStaleClaim(t *testing.T, s Store) {
	ctx, org := context.Background(), newOrg()
	claimed, _ := s.Claim(ctx, org, revision.Revision{}, base, base.Add(time.Minute))
	if err := s.Commit(ctx, org, claimed, entry(org, "generate", base)); err != nil {
		t.Fatal(err)
	}
	// A caller that read the zero revision before the commit cannot claim.
	if _, err := s.Claim(ctx, org, revision.Revision{}, base.Add(time.Second), base.Add(time.Minute)); !errors.Is(err, revision.ErrChanged) {
		t.Errorf("claim from a stale revision: got %v, want ErrChanged", err)
	}
}

func testLease(t *testing.T, s Store) {
	ctx, org := context.Background(), newOrg()
	held, err := s.Claim(ctx, org, revision.Revision{}, base, base.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Another caller reads the held claim and tries to take it before the lease ends.
	if _, err := s.Claim(ctx, org, held, base.Add(29*time.Second), base.Add(59*time.Second)); !errors.Is(err, revision.ErrChanged) {
		t.Errorf("claim while another is held: got %v, want ErrChanged", err)
	}
	// After the lease, the claim is taken over.
	over, err := s.Claim(ctx, org, held, base.Add(31*time.Second), base.Add(61*time.Second))
	if err != nil || over.Claimed != 1 || over.Committed != 0 {
		t.Fatalf("take-over after the lease: %+v, %v", over, err)
	}
	if err := s.Commit(ctx, org, over, entry(org, "generate", base.Add(40*time.Second))); err != nil {
		t.Errorf("commit of the take-over: %v", err)
	}
}

func testTakeOver(t *testing.T, s Store) {
	ctx, org := context.Background(), newOrg()
	held, _ := s.Claim(ctx, org, revision.Revision{}, base, base.Add(30*time.Second))
	over, err := s.Claim(ctx, org, held, base.Add(31*time.Second), base.Add(61*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// The first holder comes back after its lease: its commit must not land.
	if err := s.Commit(ctx, org, held, entry(org, "late", base.Add(32*time.Second))); !errors.Is(err, revision.ErrChanged) {
		t.Errorf("commit of a claim taken over: got %v, want ErrChanged", err)
	}
	if err := s.Commit(ctx, org, over, entry(org, "generate", base.Add(33*time.Second))); err != nil {
		t.Errorf("commit of the new holder: %v", err)
	}
}

func testConcurrent(t *testing.T, s Store) {
	ctx, org := context.Background(), newOrg()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Claim(ctx, org, revision.Revision{}, base, base.Add(time.Minute))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, revision.ErrChanged):
		default:
			t.Errorf("concurrent claim: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent claims won, want exactly 1", won)
	}
}

func testMalformed(t *testing.T, s Store) {
	ctx := context.Background()
	for _, bad := range []string{"", "a/b", "a\x00b", "a#b", "-a"} {
		if _, err := s.Revision(ctx, bad); !problem.Is(err, problem.NotFound) {
			t.Errorf("Revision(%q): got %v, want NotFound", bad, err)
		}
		if _, err := s.Claim(ctx, bad, revision.Revision{}, base, base.Add(time.Minute)); err == nil {
			t.Errorf("Claim(%q): accepted", bad)
		}
	}
}
