package agents

import (
	"log/slog"
	"time"
)

// Password limits.
const (
	// MinPassword and MaxPassword bound a password an admin sets, in characters (code
	// points after NFC, as passwordpolicy.Count counts them), and a password an agent
	// sets while the organisation does not enforce its policy (which allows at most 30).
	MinPassword, MaxPassword = 1, 128
	// MaxPasswordBytes is the longest password hashed or verified, in bytes: MaxPassword
	// characters of four bytes each. Longer input is refused before any work.
	MaxPasswordBytes = 4 * MaxPassword
)

// HistorySize is how many earlier password hashes an agent's history keeps, besides the
// current one: the reuse rule refuses the current password and these five.
//
// Why five: each entry costs one argon2id run to compare a candidate with (a hash has
// its own salt; that is the point of one), so a check's worst case (no match) is
// HistorySize runs plus one for the current hash: 0.33 s on this machine (6 x 55 ms),
// about 1.9 s in a 512 MB Lambda on arm64 and 3.7 s at 256 MB; a self-service change
// (verify the current password, compare the new one with the history, hash it) is
// HistorySize + 2 runs, about 2.2 s at 512 MB and 4.3 s at 256 MB, within the
// functions' 10 s timeout. Five exceeds PCI DSS 4.0's requirement 8.3.7 (not any of the last four). More
// would buy little: the policy has no minimum password age, so an agent determined to
// reuse a password can change it HistorySize+1 times in a row whatever the size; the
// history only has to make reuse deliberate, not impossible.
const HistorySize = 5

// History is an agent's earlier password hashes (PHC strings), newest first, at most
// HistorySize of them. It holds hashes only, never passwords.
type History []string

// Push returns h with hash (the password being replaced) first, the oldest beyond
// HistorySize dropped; an empty hash (no password yet) leaves h as it is. h itself is
// not changed.
func (h History) Push(hash string) History {
	if hash == "" {
		return h
	}
	out := make(History, 0, min(len(h)+1, HistorySize))
	out = append(out, hash)
	return append(out, h[:min(len(h), HistorySize-1)]...)
}

// Credentials are an agent's secrets, kept by the store beside the agent and never
// shown, logged or audited: the current password hash ("" before the first password),
// the earlier ones, and a pending invitation. Its String, GoString and LogValue hide
// them, so that a stray %v or slog attribute prints nothing secret.
type Credentials struct {
	PasswordHash string      `json:"passwordHash,omitempty"`
	History      History     `json:"history,omitempty"`
	Invitation   *Invitation `json:"invitation,omitempty"`
}

// String hides every secret.
func (c Credentials) String() string { return "agents.Credentials{redacted}" }

// GoString hides every secret (%#v).
func (c Credentials) GoString() string { return c.String() }

// LogValue hides every secret from slog.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Violation is one rule of the password policy a password breaks (as
// passwordpolicy.Violation, to which it converts).
type Violation struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// RuleReuse names the reuse rule, as passwordpolicy.RuleReuse does.
const RuleReuse = "reuse"

// Policy is the organisation's password policy as setting a password needs it. The
// caller builds it from passwordpolicy.Settings (this package cannot import that one:
// see the package comment): Enforce, PreventReuse and ExpiryDays as they are, Evaluate
// as the settings' Evaluate with its violations converted.
type Policy struct {
	// Enforce applies the rules below when agents set their own passwords.
	Enforce bool
	// PreventReuse refuses the agent's current and HistorySize earlier passwords.
	PreventReuse bool
	// ExpiryDays is how long a password lasts while the policy is enforced.
	ExpiryDays int
	// Evaluate returns every rule password breaks (length, character classes).
	Evaluate func(password string) []Violation
}

// PasswordExpiresAt is when a password set at changedAt expires under pol: changedAt
// plus ExpiryDays days (of 24 hours: times are UTC) while the policy is enforced; nil
// when it is not, when the agent has no password or ExpiryDays is not positive. It is
// derived, not stored: a change to the policy applies to every agent at once.
func PasswordExpiresAt(changedAt *time.Time, pol Policy) *time.Time {
	if changedAt == nil || !pol.Enforce || pol.ExpiryDays <= 0 {
		return nil
	}
	t := changedAt.UTC().Add(time.Duration(pol.ExpiryDays) * 24 * time.Hour)
	return &t
}

// PasswordExpired reports whether a's password has expired at now under pol (then
// sign-in succeeds with mustChangePassword and allows only the change).
func PasswordExpired(a Agent, pol Policy, now time.Time) bool {
	exp := PasswordExpiresAt(a.PasswordChangedAt, pol)
	return exp != nil && !now.Before(*exp)
}

// WithExpiry returns a with PasswordExpiresAt derived under pol, for showing it.
func (a Agent) WithExpiry(pol Policy) Agent {
	a.PasswordExpiresAt = PasswordExpiresAt(a.PasswordChangedAt, pol)
	return a
}
