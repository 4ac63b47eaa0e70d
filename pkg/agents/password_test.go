package agents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

// policyOf is how a caller turns the organisation's password-policy settings into an
// agents.Policy (agents cannot import passwordpolicy; see its package comment).
func policyOf(s passwordpolicy.Settings) agents.Policy {
	return agents.Policy{Enforce: s.Enforce, PreventReuse: s.PreventReuse, ExpiryDays: s.ExpiryDays,
		Evaluate: func(password string) []agents.Violation {
			var out []agents.Violation
			for _, v := range s.Evaluate(password) {
				out = append(out, agents.Violation(v))
			}
			return out
		}}
}

func enforced(preventReuse bool) agents.Policy {
	s := passwordpolicy.Defaults()
	s.Enforce, s.PreventReuse = true, preventReuse
	return policyOf(s)
}

func mustHash(t testing.TB, password string) string {
	t.Helper()
	h, err := passwords.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=47104,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	t.Parallel()
	h1, h2 := mustHash(t, "Tr0ub4dor&3x"), mustHash(t, "Tr0ub4dor&3x")
	if !phc.MatchString(h1) {
		t.Errorf("hash %q is not $argon2id$v=19$m=47104,t=1,p=1$<16-byte salt>$<32-byte key>", h1)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, c := range []struct {
		password string
		ok       bool
	}{
		{"Tr0ub4dor&3x", true},
		{"tr0ub4dor&3x", false},
		{"Tr0ub4dor&3x ", false},
		{"Tr0ub4dor&3", false},
		{"", false},
		{strings.Repeat("x", 10_000), false},
	} {
		ok, rehash, err := passwords.VerifyPassword(h1, c.password)
		if err != nil || ok != c.ok || rehash {
			t.Errorf("verify %.20q: %v %v %v; want %v, no rehash", c.password, ok, rehash, err, c.ok)
		}
	}
}

// TestHashNFC: a password typed with a combining accent verifies the one typed with
// the precomposed character, as passwordpolicy counts them alike.
func TestHashNFC(t *testing.T) {
	t.Parallel()
	h := mustHash(t, "Crème brûlée")
	if ok, _, _ := passwords.VerifyPassword(h, "Cre\u0300me bru\u0302le\u0301e"); !ok {
		t.Error("the decomposed spelling does not verify")
	}
}

func TestVerifyRehash(t *testing.T) {
	t.Parallel()
	old := passwords.Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := old.Hash("s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := passwords.VerifyPassword(h, "s3cret!"); !ok || !rehash || err != nil {
		t.Errorf("verify under old parameters: %v %v %v; want ok and rehash", ok, rehash, err)
	}
	if ok, rehash, _ := passwords.VerifyPassword(h, "wrong"); ok || rehash {
		t.Errorf("a wrong password: ok %v rehash %v; want neither", ok, rehash)
	}
	for _, p := range []passwords.Params{
		{Memory: passwords.MaxMemory + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 5, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := p.Hash("x"); err == nil {
			t.Errorf("Hash under %+v succeeded; want parameters out of bounds", p)
		}
	}
	if _, err := passwords.HashPassword(strings.Repeat("x", agents.MaxPasswordBytes+1)); err == nil {
		t.Error("a password over MaxPasswordBytes was hashed")
	}
}

func TestParseHashTampered(t *testing.T) {
	t.Parallel()
	good := mustHash(t, "Tr0ub4dor&3x")
	parts := strings.Split(good, "$") // "", "argon2id", "v=19", params, salt, key
	salt, key := parts[4], parts[5]
	with := func(p string) string { return "$argon2id$v=19$" + p + "$" + salt + "$" + key }
	flip := []byte(good)
	flip[len(good)-len(key)] = "AB"[min(1, strings.IndexByte("A", key[0])+1)] // another first character of the key
	if ok, _, err := passwords.VerifyPassword(string(flip), "Tr0ub4dor&3x"); ok || err != nil {
		t.Errorf("a changed key: ok %v, %v; want no match", ok, err)
	}
	for name, h := range map[string]string{
		"empty":                  "",
		"argon2i":                strings.Replace(good, "argon2id", "argon2i", 1),
		"argon2d":                strings.Replace(good, "argon2id", "argon2d", 1),
		"upper case":             strings.Replace(good, "argon2id", "ARGON2ID", 1),
		"version 16":             strings.Replace(good, "v=19", "v=16", 1),
		"no version":             strings.Replace(good, "$v=19", "", 1),
		"bcrypt":                 "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		"memory ceiling + 1":     with("m=65537,t=1,p=1"),
		"4 GiB":                  with("m=4194304,t=1,p=1"),
		"overflow":               with("m=99999999999,t=1,p=1"),
		"memory 0":               with("m=0,t=1,p=1"),
		"memory below 8p":        with("m=31,t=1,p=4"),
		"leading zero":           with("m=047104,t=1,p=1"),
		"plus sign":              with("m=+47104,t=1,p=1"),
		"negative":               with("m=-1,t=1,p=1"),
		"hex":                    with("m=0xb800,t=1,p=1"),
		"time 0":                 with("m=47104,t=0,p=1"),
		"time ceiling + 1":       with("m=47104,t=5,p=1"),
		"a million passes":       with("m=47104,t=1000000,p=1"),
		"threads 0":              with("m=47104,t=1,p=0"),
		"threads 5":              with("m=47104,t=1,p=5"),
		"threads 255":            with("m=47104,t=1,p=255"),
		"order":                  with("t=1,m=47104,p=1"),
		"extra parameter":        with("m=47104,t=1,p=1,keyid=x"),
		"missing parameter":      with("m=47104,t=1"),
		"spaces":                 with("m=47104, t=1, p=1"),
		"padded salt":            strings.Replace(good, "$"+salt+"$", "$"+salt+"==$", 1),
		"url alphabet":           with("m=47104,t=1,p=1")[:len(good)-1] + "-",
		"stray bits in the salt": strings.Replace(good, "$"+salt+"$", "$"+salt[:21]+string(salt[21]^1)+"$", 1),
		"short salt":             strings.Replace(good, "$"+salt+"$", "$AAAAAAAA$", 1),
		"short key":              strings.TrimSuffix(good, key) + "AAAAAAAAAAAAAAAAAAAA", // 15 bytes
		"long key":               good + strings.Repeat("A", 64),
		"no key":                 strings.TrimSuffix(good, "$"+key),
		"trailing dollar":        good + "$",
		"trailing newline":       good + "\n",
		"newline in the key":     good[:len(good)-10] + "\n" + good[len(good)-10:],
		"CR in the salt":         strings.Replace(good, "$"+salt+"$", "$"+salt[:5]+"\r"+salt[5:]+"$", 1),
		"NUL":                    good[:20] + "\x00" + good[21:],
		"huge":                   good + strings.Repeat("A", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, _, _, err := passwords.ParseHash(h); !errors.Is(err, passwords.ErrMalformedHash) {
				t.Errorf("ParseHash: %v; want ErrMalformedHash", err)
			}
			start := time.Now()
			ok, _, err := passwords.VerifyPassword(h, "Tr0ub4dor&3x")
			if ok || !errors.Is(err, passwords.ErrMalformedHash) {
				t.Errorf("VerifyPassword: %v, %v; want ErrMalformedHash", ok, err)
			}
			if d := time.Since(start); d > 10*time.Millisecond {
				t.Logf("refusing took %v: was the hash run?", d) // a hint, not a timing test
			}
			if err != nil && (strings.Contains(err.Error(), "$") || len(h) > 0 && strings.Contains(err.Error(), h)) {
				t.Errorf("the error %q quotes the hash", err)
			}
		})
	}
	// The ceilings themselves parse, and the longest hash within them fits MaxHashLen.
	if p, _, _, err := passwords.ParseHash(with("m=65536,t=4,p=4")); err != nil || p.Memory != 65536 || p.Time != 4 || p.Threads != 4 {
		t.Errorf("the ceilings: %+v %v", p, err)
	}
	b64 := strings.Repeat("A", 86) // 64 bytes
	longest := "$argon2id$v=19$m=65536,t=4,p=4$" + b64 + "$" + b64
	if p, _, _, err := passwords.ParseHash(longest); err != nil || p.SaltLen != 64 || p.KeyLen != 64 || len(longest) > passwords.MaxHashLen {
		t.Errorf("the longest hash (%d bytes): %+v %v", len(longest), p, err)
	}
	if _, _, _, err := passwords.ParseHash("$argon2id$v=19$m=65536,t=4,p=4$" + b64 + "AA$" + b64); err == nil {
		t.Error("a 65-byte salt parsed")
	}
}

func TestHistoryPush(t *testing.T) {
	t.Parallel()
	var h agents.History
	for i := range 8 {
		before := slices.Clone(h)
		h2 := h.Push(fmt.Sprint(i))
		if !slices.Equal(h, before) {
			t.Fatal("Push changed its receiver")
		}
		h = h2
	}
	if want := (agents.History{"7", "6", "5", "4", "3"}); !slices.Equal(h, want) {
		t.Errorf("history %q; want %q (newest first, %d kept)", h, want, agents.HistorySize)
	}
	if got := h.Push(""); !slices.Equal(got, h) {
		t.Errorf("pushing no password changed the history: %q", got)
	}
}

// TestReused builds the history of seven changes and checks the candidates the reuse
// rule must refuse (the current password and the five before it) and those it must not
// (the password dropped from the history, a new one).
func TestReused(t *testing.T) {
	t.Parallel()
	var c agents.Credentials
	used := []string{"Pass-0", "Pass-1", "Pass-2", "Pass-3", "Pass-4", "Pass-5", "Pass-6"}
	for _, p := range used {
		c.History = c.History.Push(c.PasswordHash)
		c.PasswordHash = mustHash(t, p)
	}
	for _, c2 := range []struct {
		candidate string
		want      bool
	}{
		{"Pass-6", true}, // current
		{"Pass-5", true}, {"Pass-1", true},
		{"Pass-0", false}, // dropped: older than the history keeps
		{"Pass-7", false}, {"pass-6", false},
	} {
		t.Run(c2.candidate, func(t *testing.T) {
			t.Parallel()
			got, err := passwords.Reused(c2.candidate, c.PasswordHash, c.History)
			if err != nil || got != c2.want {
				t.Errorf("Reused(%q) = %v, %v; want %v", c2.candidate, got, err, c2.want)
			}
		})
	}
	t.Run("damaged history entry skipped", func(t *testing.T) {
		t.Parallel()
		h := agents.History{"$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", c.History[0]}
		if got, err := passwords.Reused("Pass-5", "", h); !got || err != nil {
			t.Errorf("got %v, %v; want the good entry to match", got, err)
		}
	})
	t.Run("damaged current hash", func(t *testing.T) {
		t.Parallel()
		if _, err := passwords.Reused("x", "$argon2id$garbage", nil); !errors.Is(err, passwords.ErrMalformedHash) {
			t.Errorf("got %v; want ErrMalformedHash", err)
		}
	})
	t.Run("longer history read only to the bound", func(t *testing.T) {
		t.Parallel()
		long := agents.History{"1", "2", "3", "4", "5", c.PasswordHash} // the sixth is past HistorySize
		if got, _ := passwords.Reused("Pass-6", "", long); got {
			t.Error("an entry past HistorySize was verified")
		}
	})
}

// endingCtx is a context whose Err is nil for its first live calls and
// context.DeadlineExceeded after: a request that runs out of time part way.
type endingCtx struct {
	context.Context
	live, calls int
}

func (c *endingCtx) Err() error {
	c.calls++
	if c.calls > c.live {
		return context.DeadlineExceeded
	}
	return nil
}

// TestReusedContextStops checks that the reuse rule looks at the request's context
// before every hash it verifies (each an argon2id run) and stops when it has ended: the
// match at the end of the history is never reached, and the answer is the context's
// error, not "not reused".
func TestReusedContextStops(t *testing.T) {
	t.Parallel()
	cheap := func(p string) string {
		h, err := passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash(p)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	current := cheap("Pass-6")
	history := agents.History{cheap("Pass-5"), cheap("Pass-4"), cheap("Pass-3"), cheap("Pass-2"), cheap("Pass-1")}
	if got, err := passwords.ReusedContext(context.Background(), "Pass-1", current, history); !got || err != nil {
		t.Fatalf("a live context: %v, %v; want the last entry to match", got, err)
	}
	for live := range agents.HistorySize + 1 {
		ctx := &endingCtx{Context: context.Background(), live: live}
		got, err := passwords.ReusedContext(ctx, "Pass-1", current, history)
		if got || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("context ending after %d hashes: %v, %v; want DeadlineExceeded", live, got, err)
		}
		if ctx.calls != live+1 {
			t.Errorf("context ending after %d hashes: Err called %d times, want %d (once per hash, none after it ended)", live, ctx.calls, live+1)
		}
	}
	// Reused is ReusedContext with a context that never ends.
	if got, err := passwords.Reused("Pass-1", current, history); !got || err != nil {
		t.Errorf("Reused: %v, %v", got, err)
	}
}

var now = time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

func TestResetPassword(t *testing.T) {
	t.Parallel()
	a, c := sampleAgent(), agents.Credentials{PasswordHash: mustHash(t, "old"), Invitation: &agents.Invitation{TokenHash: "x"}}
	for _, bad := range []struct{ password, msg string }{
		{"", "required"},
		{strings.Repeat("a", 129), "must be between 1 and 128 characters"},
		{strings.Repeat("😀", 129), "must be between 1 and 128 characters"},
		{strings.Repeat("a", 1<<20), "must be between 1 and 128 characters"},
	} {
		_, _, err := passwords.ResetPassword(a, c, bad.password, enforced(true), now)
		if got := fieldsOf(t, err, problem.Invalid); !slices.Equal(got, []string{"password: " + bad.msg}) {
			t.Errorf("reset to %d bytes: %q; want %q", len(bad.password), got, bad.msg)
		}
	}
	// Not subject to the policy: one character, reused, no digit. It lifts a suspension.
	a.SuspendedAt = new(now.Add(-time.Hour))
	a2, c2, err := passwords.ResetPassword(a, c, "old", enforced(true), now)
	if err != nil {
		t.Fatal(err)
	}
	if a2.SuspendedAt != nil {
		t.Errorf("a reset kept the suspension: %v", a2.SuspendedAt)
	}
	if !a2.MustChangePassword || !a2.PasswordChangedAt.Equal(now) || !a2.PasswordExpiresAt.Equal(now.AddDate(0, 0, 90)) {
		t.Errorf("agent after reset: must %v changed %v expires %v", a2.MustChangePassword, a2.PasswordChangedAt, a2.PasswordExpiresAt)
	}
	if c2.Invitation != nil || len(c2.History) != 1 || c2.History[0] != c.PasswordHash || c2.PasswordHash == c.PasswordHash {
		t.Errorf("credentials after reset: %d history entries, invitation %v", len(c2.History), c2.Invitation)
	}
	if ok, _, _ := passwords.VerifyPassword(c2.PasswordHash, "old"); !ok {
		t.Error("the new hash does not verify")
	}
	// 128 characters that NFC composes from 256 code points are 128 characters.
	if _, _, err := passwords.ResetPassword(a, c, strings.Repeat("e\u0301", 128), enforced(false), now); err != nil {
		t.Errorf("128 decomposed characters: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	a := sampleAgent()
	a.MustChangePassword = true
	c := agents.Credentials{PasswordHash: mustHash(t, "Current-1"), History: agents.History{mustHash(t, "Earlier-1")}}

	t.Run("wrong current", func(t *testing.T) {
		t.Parallel()
		_, _, err := passwords.ChangePassword(a, c, "current-1", "Brand-new-9", enforced(true), now)
		if !problem.Is(err, problem.Forbidden) || !strings.Contains(err.Error(), "the current password is wrong") {
			t.Errorf("got %v; want 403", err)
		}
	})
	t.Run("no password yet", func(t *testing.T) {
		t.Parallel()
		_, _, err := passwords.ChangePassword(a, agents.Credentials{}, "", "Brand-new-9", enforced(true), now)
		if !problem.Is(err, problem.Forbidden) {
			t.Errorf("got %v; want 403", err)
		}
	})
	t.Run("every violation listed", func(t *testing.T) {
		t.Parallel()
		_, _, err := passwords.ChangePassword(a, c, "Current-1", "earlier", enforced(true), now)
		want := []string{
			"new: must be at least 8 characters long",
			"new: must contain at least 1 upper-case letter",
			"new: must contain at least 1 digit",
		}
		if got := fieldsOf(t, err, problem.Invalid); !slices.Equal(got, want) {
			t.Errorf("fields %q; want %q", got, want)
		}
		b, _ := json.Marshal(err.(*problem.Error).Extensions["violations"])
		if string(b) != `[{"rule":"length","message":"must be at least 8 characters long"},{"rule":"upper","message":"must contain at least 1 upper-case letter"},{"rule":"digits","message":"must contain at least 1 digit"}]` {
			t.Errorf("violations %s", b)
		}
	})
	for _, reused := range []string{"Current-1", "Earlier-1"} {
		t.Run("reuse of "+reused, func(t *testing.T) {
			t.Parallel()
			_, _, err := passwords.ChangePassword(a, c, "Current-1", reused, enforced(true), now)
			if got := fieldsOf(t, err, problem.Invalid); !slices.Equal(got, []string{"new: must not be a password this agent has used before"}) {
				t.Errorf("fields %q", got)
			}
			if v := err.(*problem.Error).Extensions["violations"].([]agents.Violation); len(v) != 1 || v[0].Rule != "reuse" {
				t.Errorf("violations %v", v)
			}
			// Without preventReuse, or without enforcement, it is allowed.
			if _, _, err := passwords.ChangePassword(a, c, "Current-1", reused, enforced(false), now); err != nil {
				t.Errorf("without preventReuse: %v", err)
			}
		})
	}
	t.Run("not enforced: only 1-128 characters", func(t *testing.T) {
		t.Parallel()
		pol := enforced(true)
		pol.Enforce = false
		if _, _, err := passwords.ChangePassword(a, c, "Current-1", "x", pol, now); err != nil {
			t.Errorf("one character: %v", err)
		}
		_, _, err := passwords.ChangePassword(a, c, "Current-1", "", pol, now)
		if got := fieldsOf(t, err, problem.Invalid); !slices.Equal(got, []string{"new: required"}) {
			t.Errorf("empty: %q", got)
		}
		a2, _, err := passwords.ChangePassword(a, c, "Current-1", "y", pol, now)
		if err != nil || a2.PasswordExpiresAt != nil {
			t.Errorf("expiry while not enforced: %v, %v; want none", a2.PasswordExpiresAt, err)
		}
	})
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		a2, c2, err := passwords.ChangePassword(a, c, "Current-1", "Brand-new-9", enforced(true), now)
		if err != nil {
			t.Fatal(err)
		}
		if a2.MustChangePassword || !a2.PasswordChangedAt.Equal(now) || !a2.PasswordExpiresAt.Equal(now.Add(90*24*time.Hour)) {
			t.Errorf("agent: must %v changed %v expires %v", a2.MustChangePassword, a2.PasswordChangedAt, a2.PasswordExpiresAt)
		}
		if !slices.Equal(c2.History, agents.History{c.PasswordHash, c.History[0]}) {
			t.Error("the replaced hash did not join the history first")
		}
		if ok, _, _ := passwords.VerifyPassword(c2.PasswordHash, "Brand-new-9"); !ok {
			t.Error("the new password does not verify")
		}
	})
}

func TestAcceptPassword(t *testing.T) {
	t.Parallel()
	a := sampleAgent()
	c := agents.Credentials{PasswordHash: mustHash(t, "Admin-set-1"), Invitation: &agents.Invitation{TokenHash: "x"}}
	_, _, err := passwords.AcceptPassword(a, c, "Admin-set-1", enforced(true), now)
	if got := fieldsOf(t, err, problem.Invalid); !slices.Equal(got, []string{"password: must not be a password this agent has used before"}) {
		t.Errorf("reuse of the current password: %q", got)
	}
	a.SuspendedAt = new(now)
	a2, c2, err := passwords.AcceptPassword(a, agents.Credentials{Invitation: c.Invitation}, "First-pass-1", enforced(true), now)
	if err != nil || c2.Invitation != nil || a2.MustChangePassword || len(c2.History) != 0 || a2.PasswordChangedAt == nil || a2.SuspendedAt != nil {
		t.Errorf("first password: %v, invitation %v, history %d", err, c2.Invitation, len(c2.History))
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	changed := time.Date(2026, 3, 28, 23, 30, 0, 0, time.FixedZone("CET", 3600)) // 22:30 UTC, the eve of a DST change in Europe
	pol := agents.Policy{Enforce: true, ExpiryDays: 90}
	exp := agents.PasswordExpiresAt(&changed, pol)
	if want := time.Date(2026, 6, 26, 22, 30, 0, 0, time.UTC); exp == nil || !exp.Equal(want) || exp.Location() != time.UTC {
		t.Errorf("expires %v; want %v (90 days of 24 hours, in UTC)", exp, want)
	}
	for name, c := range map[string]struct {
		at  *time.Time
		pol agents.Policy
	}{
		"not enforced":     {&changed, agents.Policy{ExpiryDays: 90}},
		"no password yet":  {nil, pol},
		"no expiry period": {&changed, agents.Policy{Enforce: true}},
	} {
		if got := agents.PasswordExpiresAt(c.at, c.pol); got != nil {
			t.Errorf("%s: expires %v; want never", name, got)
		}
	}
	a := sampleAgent()
	a.PasswordChangedAt = &changed
	if agents.PasswordExpired(a, pol, exp.Add(-time.Nanosecond)) || !agents.PasswordExpired(a, pol, *exp) {
		t.Error("a password must be valid until its expiry and expired from it on")
	}
	if agents.PasswordExpired(a, agents.Policy{ExpiryDays: 1}, exp.AddDate(1, 0, 0)) {
		t.Error("a password expired while the policy is not enforced")
	}
	if got := a.WithExpiry(agents.Policy{Enforce: true, ExpiryDays: 1}).PasswordExpiresAt; got == nil || !got.Equal(changed.Add(24*time.Hour)) {
		t.Errorf("WithExpiry: %v", got)
	}
}

// TestNoSecretInErrors runs every path that handles a password, hash or token with
// failing input and checks that no error, problem member or log attribute quotes one.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	const secret = "Zq9-SECRET-password-x"
	hash := mustHash(t, secret)
	token, inv := agents.NewInvitation(now)
	c := agents.Credentials{PasswordHash: hash, History: agents.History{hash}, Invitation: &inv}
	a := sampleAgent()
	var errs []error
	add := func(_ agents.Agent, _ agents.Credentials, err error) { errs = append(errs, err) }
	add(passwords.ChangePassword(a, c, secret+"x", secret, enforced(true), now))
	add(passwords.ChangePassword(a, c, secret, secret, enforced(true), now))
	add(passwords.ChangePassword(a, c, secret, "short", enforced(true), now))
	add(passwords.ChangePassword(a, c, secret, strings.Repeat(secret, 100), enforced(false), now))
	add(passwords.ChangePassword(a, agents.Credentials{PasswordHash: hash[:len(hash)-3]}, secret, secret, enforced(true), now))
	add(passwords.ResetPassword(a, c, strings.Repeat(secret, 10), enforced(true), now))
	add(passwords.AcceptPassword(a, c, secret, enforced(true), now))
	_, _, err := passwords.VerifyPassword(hash+"$", secret)
	errs = append(errs, err)
	_, err = passwords.HashPassword(strings.Repeat(secret, 100))
	errs = append(errs, err)
	_, err = passwords.Reused(secret, "$argon2id$v=19$"+secret, nil)
	errs = append(errs, err)
	_, err = agents.ParseToken(token + "A")
	errs = append(errs, err)
	other := token[:42] + map[bool]string{true: "E", false: "A"}[token[42] == 'A'] // another valid token
	errs = append(errs, inv.Check(other, now), inv.Check(token, now.Add(agents.InvitationTTL)))
	_, err = agents.InvitationEmail{From: "x", To: "y", BaseURL: "ftp://example.com", Token: token, ExpiresAt: now}.Message()
	errs = append(errs, err)
	_, err = agents.InvitationEmail{From: "noreply@example.com", To: "ana@example.com", BaseURL: "https://a.example", Token: token + "A", ExpiresAt: now}.Message()
	errs = append(errs, err)

	secrets := []string{secret, hash, hash[len(hash)-43:], token, inv.TokenHash}
	for i, err := range errs {
		if err == nil {
			t.Errorf("error %d: nil; every call above must fail", i)
			continue
		}
		text := err.Error()
		var pe *problem.Error
		if errors.As(err, &pe) {
			b, _ := json.Marshal(struct {
				F []problem.FieldError
				X map[string]any
			}{pe.Fields, pe.Extensions})
			text += string(b)
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("error %d quotes a secret: %s", i, text)
			}
		}
	}
	// Credentials print and log as redacted.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "credentials", c)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("Credentials printed a secret: %s", out)
		}
	}
}

// TestReuseMessageMatchesPolicy keeps the reuse violation word for word the check
// route's (passwordpolicy keeps its own unexported).
func TestReuseMessageMatchesPolicy(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "settings", "passwordpolicy", "evaluate.go"))
	if err != nil {
		t.Fatal(err)
	}
	if agents.RuleReuse != passwordpolicy.RuleReuse || !bytes.Contains(src, []byte(`Violation{RuleReuse, "must not be a password this agent has used before"}`)) {
		t.Error("passwordpolicy's reuse violation changed: change agents' reuseViolation to match")
	}
}

func TestVerifyNothing(t *testing.T) {
	t.Parallel()
	passwords.VerifyNothing("")
	passwords.VerifyNothing("anything") // matches nothing and does not fail
}
