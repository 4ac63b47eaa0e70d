package webchat_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/webchat/revision"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/filesecrets"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/webchat"
	"github.com/convrs/admin/pkg/webchat/token"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	store   *bolt.Store
	secrets *filesecrets.Store
	clock   *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.OpenWith(filepath.Join(dir, "db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	sec, err := filesecrets.New(filepath.Join(dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, secrets: sec, clock: &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}}
}

// keys returns a Keys on the fixture's stores: each call is another container.
func (f *fixture) keys() *webchat.Keys { return webchat.NewKeys(f.store, f.secrets, f.clock.Now) }

var ctx = auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin@acme", OrgID: "acme", Role: auth.RoleAdmin})

func sign(t testing.TB, kid, secret string, now time.Time) string {
	t.Helper()
	tok, err := token.Sign(token.Key{KID: kid, Secret: []byte(secret)}, map[string]any{"sub": "user-1", "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func verify(t *testing.T, k *webchat.Keys, tok string) token.Result {
	t.Helper()
	r, err := k.Verify(ctx, "acme", tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := f.keys()
	if st, err := k.Status(ctx, "acme"); err != nil || st.Current != nil || st.Previous != nil {
		t.Fatalf("no keys yet: %+v, %v", st, err)
	}
	if r := verify(t, k, sign(t, "wk_x", "0123456789abcdef0123456789abcdef0", f.clock.Now())); r.Valid || r.Reason != token.NoSecret {
		t.Errorf("before generate: got %+v, want no_secret", r)
	}
	if _, err := k.Rotate(ctx, "acme"); !problem.Is(err, problem.Conflict) {
		t.Errorf("rotate before generate: got %v, want Conflict", err)
	}
	if err := k.RevokePrevious(ctx, "acme"); !problem.Is(err, problem.NotFound) {
		t.Errorf("revoke before generate: got %v, want NotFound", err)
	}

	first, err := k.Generate(ctx, "acme")
	if err != nil || len(first.Secret) != 43 || first.KID == "" {
		t.Fatalf("generate: %+v, %v", first, err)
	}
	if _, err := k.Generate(ctx, "acme"); !problem.Is(err, problem.Conflict) {
		t.Errorf("second generate: got %v, want Conflict", err)
	}
	old := sign(t, first.KID, first.Secret, f.clock.Now())
	if r := verify(t, k, old); !r.Valid || r.Key != "current" {
		t.Fatalf("token of the first key: %+v", r)
	}

	f.clock.Add(time.Hour)
	rotated, err := k.Rotate(ctx, "acme")
	if err != nil || rotated.Previous == nil || rotated.Previous.KID != first.KID || rotated.KID == first.KID {
		t.Fatalf("rotate: %+v, %v", rotated, err)
	}
	if want := f.clock.Now().Add(48 * time.Hour); !rotated.Previous.ExpiresAt.Equal(want) {
		t.Errorf("previous expires %v, want %v", rotated.Previous.ExpiresAt, want)
	}
	if r := verify(t, k, old); !r.Valid || r.Key != "previous" {
		t.Errorf("old token after rotation: %+v, want previous", r)
	}
	fresh := sign(t, rotated.KID, rotated.Secret, f.clock.Now())
	if r := verify(t, k, fresh); !r.Valid || r.Key != "current" {
		t.Errorf("new token: %+v", r)
	}
	st, _ := k.Status(ctx, "acme")
	if st.Current == nil || st.Current.KID != rotated.KID || st.Previous == nil || st.Previous.KID != first.KID {
		t.Errorf("status after rotation: %+v", st)
	}

	if err := k.RevokePrevious(ctx, "acme"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if r := verify(t, k, old); r.Valid || r.Reason != token.UnknownKey {
		t.Errorf("old token after revocation: %+v, want unknown_key at once", r)
	}
	if err := k.RevokePrevious(ctx, "acme"); !problem.Is(err, problem.NotFound) {
		t.Errorf("second revoke: got %v, want NotFound", err)
	}
	if st, _ := k.Status(ctx, "acme"); st.Previous != nil {
		t.Errorf("status after revocation: %+v", st)
	}

	// Every change is audited, with no secret material.
	p, err := f.store.ListAudit(ctx, "acme", auditQuery())
	if err != nil || len(p.Items) != 3 {
		t.Fatalf("audit: %d entries, %v", len(p.Items), err)
	}
	for i, want := range []string{"revoke", "rotate", "generate"} {
		e := p.Items[i]
		if e.Action != want || e.Area != "webchat" || e.Actor != "admin@acme" {
			t.Errorf("entry %d: %+v, want %s", i, e, want)
		}
		for _, c := range e.Changes {
			for _, s := range []string{first.Secret, rotated.Secret} {
				if containsBytes(c.From, s) || containsBytes(c.To, s) {
					t.Errorf("entry %d holds a secret in %s", i, c.Field)
				}
			}
		}
	}
}

// The previous key stays valid for 48 hours after the rotation, and no longer.
func TestGracePeriodEdges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := f.keys()
	first, _ := k.Generate(ctx, "acme")
	if _, err := k.Rotate(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	rotatedAt := f.clock.Now()
	for _, tc := range []struct {
		after time.Duration
		valid bool
	}{{47*time.Hour + 59*time.Minute, true}, {48*time.Hour - time.Second, true}, {48*time.Hour + time.Minute, false}} {
		f.clock.now = rotatedAt.Add(tc.after)
		old := sign(t, first.KID, first.Secret, f.clock.Now())
		if r := verify(t, f.keys(), old); r.Valid != tc.valid {
			t.Errorf("%v after the rotation: %+v, want valid %v", tc.after, r, tc.valid)
		}
	}
	if st, _ := k.Status(ctx, "acme"); st.Previous != nil {
		t.Errorf("status after the grace period: previous %+v, want none", st.Previous)
	}
}

// Verifiers cache the key set: the secret store is read once per change, and a change is
// honoured by another container within a second.
func TestVerifiersFollowChangesWithinASecond(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	admin, verifier := f.keys(), f.keys()
	first, _ := admin.Generate(ctx, "acme")
	tok := sign(t, first.KID, first.Secret, f.clock.Now())
	for range 100 {
		if r := verify(t, verifier, tok); !r.Valid {
			t.Fatalf("%+v", r)
		}
	}
	if n := verifier.SecretReads(); n != 1 {
		t.Errorf("secret reads for 100 verifications: %d, want 1", n)
	}
	f.clock.Add(2 * time.Second)
	for range 100 {
		verify(t, verifier, tok)
	}
	if n := verifier.SecretReads(); n != 1 {
		t.Errorf("secret reads after the revision was checked again: %d, want 1 (no change)", n)
	}
	rotated, _ := admin.Rotate(ctx, "acme")
	_ = admin.RevokePrevious(ctx, "acme")
	// Within the second the verifier may still hold the old set...
	f.clock.Add(999 * time.Millisecond)
	verify(t, verifier, tok)
	// ...and once the second has passed it has the new one.
	f.clock.Add(2 * time.Millisecond)
	if r := verify(t, verifier, tok); r.Valid {
		t.Errorf("revoked key accepted %v after the revocation", 1001*time.Millisecond)
	}
	if r := verify(t, verifier, sign(t, rotated.KID, rotated.Secret, f.clock.Now())); !r.Valid {
		t.Errorf("new key refused: %+v", r)
	}
	if n := verifier.SecretReads(); n != 2 {
		t.Errorf("secret reads: %d, want 2 (one per revision seen)", n)
	}
}

// barrier holds every Revision read until n callers have read, so that n changes really
// start from the same revision, whatever the scheduler does.
type barrier struct {
	revision.Store
	mu      sync.Mutex
	waiting int
	n       int
	release chan struct{}
}

func newBarrier(r revision.Store, n int) *barrier {
	return &barrier{Store: r, n: n, release: make(chan struct{})}
}

func (b *barrier) Revision(ctx context.Context, orgID string) (revision.Revision, error) {
	rev, err := b.Store.Revision(ctx, orgID)
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.n {
		close(b.release)
	}
	b.mu.Unlock()
	<-b.release
	return rev, err
}

// Two generates at once: one gets the key, the other a 409. Two rotations at once: one
// wins, the other is refused, and the winner's secret is the one verification accepts.
func TestConcurrentChanges(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"generate", "rotate"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if action == "rotate" {
				if _, err := f.keys().Generate(ctx, "acme"); err != nil {
					t.Fatal(err)
				}
			}
			const n = 4
			b := newBarrier(f.store, n)
			var wg sync.WaitGroup
			issued := make([]webchat.Issued, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					k := webchat.NewKeys(b, f.secrets, f.clock.Now)
					if action == "generate" {
						issued[i], errs[i] = k.Generate(ctx, "acme")
					} else {
						issued[i], errs[i] = k.Rotate(ctx, "acme")
					}
				})
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				if err != nil {
					if !problem.Is(err, problem.Conflict) {
						t.Errorf("%s %d: %v, want success or Conflict", action, i, err)
					}
					continue
				}
				won++
				tok := sign(t, issued[i].KID, issued[i].Secret, f.clock.Now())
				if r := verify(t, f.keys(), tok); !r.Valid || r.Key != "current" {
					t.Errorf("the winner's secret is not the current one: %+v", r)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d concurrent %ss succeeded, want exactly 1", won, n, action)
			}
		})
	}
}

// A change that claimed the revision and wrote the document but never committed (it
// crashed) leaves the keys in effect as they were; the next change after the lease
// builds on them, not on the abandoned document.
func TestAbandonedChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := f.keys()
	first, _ := k.Generate(ctx, "acme")
	tok := sign(t, first.KID, first.Secret, f.clock.Now())
	// Simulate a crash: claim and write a document of the next revision, no commit.
	rev, _ := f.store.Revision(ctx, "acme")
	if _, err := f.store.Claim(ctx, "acme", rev, f.clock.Now(), f.clock.Now().Add(webchat.Lease)); err != nil {
		t.Fatal(err)
	}
	data, _ := f.secrets.Get(ctx, webchat.SecretName("acme"))
	doc, _ := webchat.ParseDocument(data)
	abandoned, _ := doc.Next(rev.Committed, webchat.Set{})
	if err := f.secrets.Put(ctx, webchat.SecretName("acme"), mustJSON(t, abandoned)); err != nil {
		t.Fatal(err)
	}
	if r := verify(t, f.keys(), tok); !r.Valid {
		t.Errorf("during the abandoned change: %+v, want the committed key accepted", r)
	}
	if _, err := k.Rotate(ctx, "acme"); !problem.Is(err, problem.Conflict) {
		t.Errorf("rotate while the claim is held: %v, want Conflict", err)
	}
	f.clock.Add(webchat.Lease + time.Second)
	rotated, err := k.Rotate(ctx, "acme")
	if err != nil || rotated.Previous == nil || rotated.Previous.KID != first.KID {
		t.Fatalf("rotate after the lease: %+v, %v; want the committed key demoted", rotated, err)
	}
	if r := verify(t, f.keys(), tok); !r.Valid || r.Key != "previous" {
		t.Errorf("old token: %+v, want previous", r)
	}
}

func TestMalformedOrg(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, org := range []string{"a/b", "", "a\x00"} {
		if _, err := f.keys().Generate(ctx, org); err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("generate for %q: accepted", org)
		}
	}
}
