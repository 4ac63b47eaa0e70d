// Package passwords hashes and checks agents' passwords: argon2id hashes in the PHC string
// format with strict bounded parsing, the reuse rule over the history (and History, the
// password-policy check's view of it), and the admin reset, the agent's own change and
// the acceptance of an invitation.
//
// It is apart from package agents (which keeps Credentials, History and Policy) because
// golang.org/x/crypto/argon2 and golang.org/x/text/unicode/norm bring init-time work
// (blake2b registers itself with crypto, norm builds its tables) into every binary that
// imports them, and package agents is linked by every function (app.Deps holds its
// store port). Only the functions that set or check passwords import this package: agents
// and password-policy (the check's reuse rule).
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/problem"
)

// Params are argon2id parameters: Memory in KiB, Time (passes over the memory), Threads
// (lanes), and the lengths in bytes of the random salt and of the derived key.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are the parameters of every new hash: m=46 MiB, t=1, p=1 (OWASP's
// first argon2id configuration, which it rates as strong as its minimum m=19 MiB, t=2),
// a 16-byte salt and a 32-byte key.
//
// Why these (figures in BENCHMARKS.md, "Agents: password hashing"): a sign-in runs one
// hash in a Lambda of 256-512 MB, which gets 0.14-0.29 of a vCPU (CPU comes in
// proportion to memory, a full vCPU at 1,769 MB), on arm64, where x/crypto's argon2 has
// no assembly (measured here with -tags purego). One hash costs about 58 ms on this
// machine's core with the assembly and 90 ms without, so about 0.3 s of sign-in latency
// at 512 MB and 0.6 s at 256 MB: the budget is a third of a second at 512 MB (the size
// functions that hash passwords should have), under a second at the smallest. Within
// it, memory is what costs an attacker most (an attacker's GPU or ASIC pays for memory
// on every guess it runs in parallel), so the budget goes to 46 MiB in one pass rather
// than OWASP's minimum of 19 MiB in two (66 ms here without assembly: cheaper for us,
// 2.4 times less memory per guess for an attacker) or 64 MiB in one (95 ms; 64 MiB in
// two passes, 215 ms, is over budget). The 46 MiB block is allocated per hash and is
// garbage afterwards: a process's peak resident set after hashing is 108 MiB (its
// baseline 14 MiB, plus twice the block, the collector's default target), which fits
// a 256 MB function. One lane: a function of this size has less than one vCPU, so more
// lanes would only add goroutines.
var DefaultParams = Params{Memory: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on what a stored hash may ask for. A hash is data: one that was tampered with
// (or written by a future version with heavier parameters) must not make a 256 MB
// function allocate gigabytes or spin for minutes. The ceilings allow raising
// DefaultParams up to what the smallest function can hold (64 MiB: a peak near 150 MiB)
// and a few passes more (the worst, 64 MiB in four passes, is about 0.4 s here without
// assembly, 3 s at 256 MB, within the functions' 10 s timeout), and no further.
const (
	MaxMemory  = 64 * 1024 // KiB
	MaxTime    = 4
	MaxThreads = 4
	// MinSaltLen..MaxSaltLen and MinKeyLen..MaxKeyLen bound the decoded salt and key.
	MinSaltLen, MaxSaltLen = 8, 64
	MinKeyLen, MaxKeyLen   = 16, 64
	// MaxHashLen bounds a stored hash string, in bytes, before it is parsed: above the
	// longest a hash within the bounds can be (204 bytes).
	MaxHashLen = 256
)

// phcPrefix starts every hash: the algorithm and version 19 (0x13, the current one).
const phcPrefix = "$argon2id$v=19$"

// b64 is the PHC string format's base64: standard alphabet, no padding; Strict refuses
// non-zero trailing bits, so that each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// ErrMalformedHash is returned for a stored hash that is not an argon2id PHC string
// within the bounds above. Its text never quotes the hash.
var ErrMalformedHash = errors.New("agents: the stored password hash is malformed or out of bounds")

// errParams is returned by Hash for parameters outside the bounds.
var errParams = errors.New("agents: argon2id parameters out of bounds")

// errTooLong is returned by Hash for a password over agents.MaxPasswordBytes.
var errTooLong = errors.New("agents: password longer than the hashing limit")

// valid reports whether p is within the bounds a stored hash may ask for.
func (p Params) valid() bool {
	return p.Memory >= 8*uint32(p.Threads) && p.Memory <= MaxMemory &&
		p.Time >= 1 && p.Time <= MaxTime &&
		p.Threads >= 1 && p.Threads <= MaxThreads &&
		p.SaltLen >= MinSaltLen && p.SaltLen <= MaxSaltLen &&
		p.KeyLen >= MinKeyLen && p.KeyLen <= MaxKeyLen
}

// normalize is what is hashed of a password: its NFC form, so that "é" typed as one
// code point on one device and as "e" plus a combining accent on another is the same
// password (passwordpolicy.Count counts the same form).
func normalize(password string) []byte {
	return []byte(norm.NFC.String(password))
}

// HashPassword returns the argon2id hash of password under DefaultParams, in the PHC
// string format: $argon2id$v=19$m=47104,t=1,p=1$<salt>$<key>. The error (only for a
// password over agents.MaxPasswordBytes) never quotes the password.
func HashPassword(password string) (string, error) { return DefaultParams.Hash(password) }

// Hash is HashPassword under p; it refuses parameters that Verify would refuse.
func (p Params) Hash(password string) (string, error) {
	if !p.valid() {
		return "", errParams
	}
	if len(password) > agents.MaxPasswordBytes {
		return "", errTooLong
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (it crashes the program instead)
	key := argon2.IDKey(normalize(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return p.encode(salt, key), nil
}

func (p Params) encode(salt, key []byte) string {
	var b strings.Builder
	b.Grow(len(phcPrefix) + 32 + b64.EncodedLen(len(salt)) + b64.EncodedLen(len(key)))
	b.WriteString(phcPrefix)
	b.WriteString("m=")
	b.WriteString(strconv.FormatUint(uint64(p.Memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(p.Time), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(p.Threads), 10))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(key))
	return b.String()
}

// ParseHash reads a stored hash strictly: exactly "$argon2id$v=19$m=M,t=T,p=P$SALT$KEY"
// with M, T, P decimal without sign or leading zeros, in that order, no other
// parameter, within the bounds above; SALT and KEY unpadded standard base64 with no
// stray bits. It returns the parameters (SaltLen and KeyLen from the decoded lengths),
// the salt and the key, or ErrMalformedHash.
func ParseHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	if len(encoded) > MaxHashLen {
		return p, nil, nil, ErrMalformedHash
	}
	rest, ok := strings.CutPrefix(encoded, phcPrefix)
	if !ok {
		return p, nil, nil, ErrMalformedHash
	}
	params, rest, ok1 := strings.Cut(rest, "$")
	salt64, key64, ok2 := strings.Cut(rest, "$")
	if !ok1 || !ok2 {
		return p, nil, nil, ErrMalformedHash
	}
	m, rest, ok1 := strings.Cut(params, ",")
	t, pp, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return p, nil, nil, ErrMalformedHash
	}
	mem, ok1 := decimal(m, "m=", MaxMemory)
	tm, ok2 := decimal(t, "t=", MaxTime)
	th, ok3 := decimal(pp, "p=", MaxThreads)
	if !ok1 || !ok2 || !ok3 {
		return p, nil, nil, ErrMalformedHash
	}
	if !b64Text(salt64) || !b64Text(key64) {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err1 := b64.DecodeString(salt64)
	key, err2 := b64.DecodeString(key64)
	if err1 != nil || err2 != nil {
		return p, nil, nil, ErrMalformedHash
	}
	p = Params{Memory: mem, Time: tm, Threads: uint8(th), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if !p.valid() {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

// b64Text reports whether s holds only characters of the standard base64 alphabet
// (encoding/base64 skips line breaks, which a strict parse must not).
func b64Text(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '+' && c != '/' {
			return false
		}
	}
	return true
}

// decimal reads "name=N" with N a decimal of 1 to max, without sign or leading zero.
func decimal(s, name string, max uint32) (uint32, bool) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok || digits == "" || len(digits) > 10 || digits[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > uint64(max) {
		return 0, false
	}
	return uint32(n), true
}

// VerifyPassword reports whether password is the one encoded hashes, comparing the
// derived keys in constant time, and whether the hash should be replaced by a new one
// (rehash: its parameters are not DefaultParams'; only meaningful when ok). A password
// over agents.MaxPasswordBytes is not a match and costs no hashing. The error is
// ErrMalformedHash for a hash ParseHash refuses; it quotes neither argument.
func VerifyPassword(encoded, password string) (ok, rehash bool, err error) {
	p, salt, key, err := ParseHash(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > agents.MaxPasswordBytes {
		return false, false, nil
	}
	got := argon2.IDKey(normalize(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != DefaultParams, nil
}

// dummyHash is a hash under DefaultParams of no password: its key is all zeros, which
// no password derives (finding one would break argon2id).
var dummyHash = DefaultParams.encode(make([]byte, DefaultParams.SaltLen), make([]byte, DefaultParams.KeyLen))

// VerifyNothing costs what VerifyPassword costs under DefaultParams and matches
// nothing: sign-in calls it for an email no agent has, so that the answer's timing does
// not tell which emails exist.
func VerifyNothing(password string) {
	_, _, _ = VerifyPassword(dummyHash, password)
}

// Reused reports whether candidate is the password current hashes ("" when the agent
// has none) or one of history's, verifying at most agents.HistorySize+1 hashes (the first
// agents.HistorySize of history) and stopping at the first match; a history entry ParseHash
// refuses cannot match and is skipped, so that one damaged entry does not block every
// password change. The error is ErrMalformedHash for a damaged current hash.
func Reused(candidate, current string, history agents.History) (bool, error) {
	return ReusedContext(context.Background(), candidate, current, history)
}

// ReusedContext is Reused that stops when ctx ends: before each hash it verifies (one
// argon2id run each, 55 ms here and about 0.3 s in a 512 MB function) it checks ctx, and
// returns ctx's error, not a match, once ctx is done, so that a request that timed out
// or was abandoned does not go on burning its function's CPU and 46 MiB per hash.
func ReusedContext(ctx context.Context, candidate, current string, history agents.History) (bool, error) {
	if current != "" {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		ok, _, err := VerifyPassword(current, candidate)
		if err != nil || ok {
			return ok, err
		}
	}
	for _, h := range history[:min(len(history), agents.HistorySize)] {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if ok, _, _ := VerifyPassword(h, candidate); ok {
			return true, nil
		}
	}
	return false, nil
}

// History is the password history of the agents in store as the password-policy check
// reads it (it implements passwordpolicy.History): each call is one read of the agent's
// credentials (Store.Credentials) and nothing else, so that the function holding it needs
// no read of profiles (app.Needs.AgentCredentials). The credentials exist exactly when
// the agent does (Create writes them with the profile; nothing deletes either), so their
// absence is the unknown agent. Neither method logs, keeps or returns the password, and
// no error quotes it.
type History struct {
	Store agents.Store
}

// Known returns nil when agentID is an agent of orgID (active or disabled), a
// problem.NotFound error when it is not (another organisation's agent included), else
// the store's error.
func (h History) Known(ctx context.Context, orgID, agentID string) error {
	_, err := h.credentials(ctx, orgID, agentID)
	return err
}

// Reused reports whether password is the agent's current password or one of its
// agents.HistorySize earlier ones, comparing as sign-in does (ReusedContext: the NFC
// form, at most agents.HistorySize+1 argon2id runs, stopping when ctx ends). An unknown
// agent is a problem.NotFound error, as for Known; a damaged current hash is
// ErrMalformedHash.
func (h History) Reused(ctx context.Context, orgID, agentID, password string) (bool, error) {
	c, err := h.credentials(ctx, orgID, agentID)
	if err != nil {
		return false, err
	}
	return ReusedContext(ctx, password, c.PasswordHash, c.History)
}

func (h History) credentials(ctx context.Context, orgID, agentID string) (agents.Credentials, error) {
	c, found, err := h.Store.Credentials(ctx, orgID, agentID)
	if err == nil && !found {
		err = problem.New(problem.NotFound, "agent not found")
	}
	return c, err
}

// reuseViolation is passwordpolicy's violation of the reuse rule, word for word.
var reuseViolation = agents.Violation{Rule: agents.RuleReuse, Message: "must not be a password this agent has used before"}

// passwordLength checks password's length against lo..hi characters (after NFC) and
// returns the field message, or "".
func passwordLength(password string, lo, hi int) string {
	n := hi + 1
	if len(password) <= agents.MaxPasswordBytes {
		n = utf8.RuneCountInString(norm.NFC.String(password))
	}
	switch {
	case n == 0:
		return "required"
	case n < lo || n > hi:
		return "must be between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi) + " characters"
	}
	return ""
}

// invalid returns a problem.Invalid error on field with message.
func invalid(field, message string) error {
	var f problem.Fields
	f.Add(field, "%s", message)
	return f.Err()
}

// setPassword returns a and c with password hash as the current one: the replaced hash
// joins the history, any invitation is spent, a suspension is lifted (the store resets
// the failure count with the credentials), and the change is dated now.
func setPassword(a agents.Agent, c agents.Credentials, hash string, mustChange bool, pol agents.Policy, now time.Time) (agents.Agent, agents.Credentials) {
	now = now.UTC()
	c.History = c.History.Push(c.PasswordHash)
	c.PasswordHash = hash
	c.Invitation = nil
	a.PasswordChangedAt = &now
	a.MustChangePassword = mustChange
	a.SuspendedAt = nil
	return a.WithExpiry(pol), c
}

// ResetPassword is an admin's reset (POST .../agents/{agentId}/password): password must
// be agents.MinPassword-agents.MaxPassword characters and is not subject to the policy; the agent
// must change it at next sign-in (mustChangePassword). pol only dates the expiry. The
// error is a problem.Invalid error on password; it never quotes the password.
func ResetPassword(a agents.Agent, c agents.Credentials, password string, pol agents.Policy, now time.Time) (agents.Agent, agents.Credentials, error) {
	if msg := passwordLength(password, agents.MinPassword, agents.MaxPassword); msg != "" {
		return a, c, invalid("password", msg)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return a, c, err
	}
	a, c = setPassword(a, c, hash, true, pol, now)
	return a, c, nil
}

// ChangePassword is an agent's own change (POST .../agents/me/password {current, new}).
// A current that does not verify is a problem.Forbidden error. Then, while pol is
// enforced, next must break none of its rules and, with PreventReuse, be none of the
// agent's passwords (the current one and its history): every broken rule is listed, as a
// field error on "new" each and in the extension member "violations" ([{rule,
// message}]), in one problem.Invalid error; while it is not enforced, next need only be
// agents.MinPassword-agents.MaxPassword characters. On success the agent's mustChangePassword is
// cleared. Errors never quote a password or hash; a damaged stored hash is
// ErrMalformedHash.
//
// Cost: argon2id runs to verify current, to compare next with the history (with
// PreventReuse; the current password is compared as text, already verified) and to hash
// next: agents.HistorySize + 2 at most.
func ChangePassword(a agents.Agent, c agents.Credentials, current, next string, pol agents.Policy, now time.Time) (agents.Agent, agents.Credentials, error) {
	if c.PasswordHash == "" {
		return a, c, problem.New(problem.Forbidden, "the current password is wrong")
	}
	ok, _, err := VerifyPassword(c.PasswordHash, current)
	if err != nil {
		return a, c, err
	}
	if !ok {
		return a, c, problem.New(problem.Forbidden, "the current password is wrong")
	}
	reused := func() (bool, error) {
		if subtle.ConstantTimeCompare(normalize(current), normalize(next)) == 1 {
			return true, nil
		}
		return Reused(next, "", c.History)
	}
	if err := checkNew("new", next, pol, reused); err != nil {
		return a, c, err
	}
	hash, err := HashPassword(next)
	if err != nil {
		return a, c, err
	}
	a, c = setPassword(a, c, hash, false, pol, now)
	return a, c, nil
}

// AcceptPassword sets the password of an agent who proved who they are some other way
// (an invitation's set-password link, POST /v1/auth/set-password {token, password}):
// the policy applies as for ChangePassword, reuse compared with the current hash and
// the history, errors on the field "password". It clears mustChangePassword and spends
// the invitation; checking the token is the caller's (Invitation.Check).
func AcceptPassword(a agents.Agent, c agents.Credentials, password string, pol agents.Policy, now time.Time) (agents.Agent, agents.Credentials, error) {
	reused := func() (bool, error) { return Reused(password, c.PasswordHash, c.History) }
	if err := checkNew("password", password, pol, reused); err != nil {
		return a, c, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return a, c, err
	}
	a, c = setPassword(a, c, hash, false, pol, now)
	return a, c, nil
}

// checkNew checks a password an agent chooses under pol and returns a problem.Invalid
// error on field listing every broken rule, or nil.
func checkNew(field, password string, pol agents.Policy, reused func() (bool, error)) error {
	if len(password) > agents.MaxPasswordBytes || !pol.Enforce {
		if msg := passwordLength(password, agents.MinPassword, agents.MaxPassword); msg != "" {
			return invalid(field, msg)
		}
		if !pol.Enforce {
			return nil
		}
	}
	var v []agents.Violation
	if pol.Evaluate != nil {
		v = pol.Evaluate(password)
	}
	if pol.PreventReuse {
		r, err := reused()
		if err != nil {
			return err
		}
		if r {
			v = append(v, reuseViolation)
		}
	}
	if len(v) == 0 {
		return nil
	}
	e := &problem.Error{Code: problem.Invalid, Message: "the password does not follow the organisation's password policy"}
	for _, x := range v {
		e.Fields = append(e.Fields, problem.FieldError{Field: field, Message: x.Message})
	}
	return e.With("violations", v)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
