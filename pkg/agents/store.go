package agents

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// The store of agents. Item layout in the single table (see package dynamo):
//
//	agent profile   pk=PEOPLE#<orgId>         sk=AGENT#<agentId>   data (the Agent, JSON), version,
//	                                                                searchKey, status, role, units (string set)
//	agent counter   pk=PEOPLE#<orgId>         sk=COUNT             agents (never decreases:
//	                                                                agents are never deleted)
//	email claim     pk=EMAIL#<email>          sk=EMAIL             orgId, agentId
//	credentials     pk=CREDS#<orgId>          sk=<agentId>         data (Credentials, JSON),
//	                                                                failures (number: consecutive
//	                                                                failed sign-ins; absent = 0)
//	invitation      pk=INVITE#<token sha256>  sk=INVITE            orgId, agentId, expiresAt
//	                                                                (epoch seconds: the table's TTL)
//
// An email signs in to one agent in the whole product: its claim is written in the
// create's transaction on condition that it does not exist, so two creates of one email
// at once, in one organisation or two, give one agent and one ErrEmailTaken. Emails
// never change, and agents are never deleted, so a claim is never removed.
//
// The failure count is beside the credentials, never in the profile, so that no read of
// profiles shows it and a failed sign-in counts with one atomic ADD on one item (racing
// failures are each counted) without moving the profile's version. Only the failure that
// suspends the agent writes the profile (SuspendedAt), with its audit entry. Writes that
// re-enable a suspended agent reset the count in their transaction: SetCredentials (every
// new password replaces the credentials item, count included), and Update when it
// clears SuspendedAt (enable).
//
// Credentials are apart from the profile so that no read of profiles (Get, Search) can
// return a password hash, the history or an invitation's token hash, and so that IAM can
// grant reading profiles without reading credentials.
//
// A custom role counts its holders (package roles): a create adds 1 to its role's
// holders on condition that the role exists (ErrNoSuchRole otherwise: deleted since the
// request was validated), and an update that changes the role moves the count, all in
// the write's transaction with the audit entry. Predefined roles have no item and no count.
// The role may be an ancestor organisation's (custom roles are inherited): its item, and
// so its count, is in that organisation's partition, which the agent's RoleOrgID names
// (Agent.RoleOwner).
// A business unit counts its members the same way (the member contract of package
// businessunits): a create counts the agent in each of its units, on condition that each
// exists (ErrNoSuchBusinessUnit otherwise), and an update counts it in the units it joins
// and out of those it leaves, so a unit that agents belong to cannot be deleted.
const (
	// AuditArea is the audit log area of agent changes.
	AuditArea = "agents"
	// IDPrefix starts every agent id.
	IDPrefix = "agent"
	// MaxAgents bounds an organisation's agents (an exact limit: the counter item is
	// written on condition in the create's transaction). Searching reads the whole
	// partition (see Store.Search): about 0.5 KB per agent, so 5,000 agents are 2.5 MB,
	// three Query pages of 1 MB, about 310 read units eventually consistent. A product
	// with larger organisations would index the search key elsewhere (OpenSearch) rather
	// than scan.
	MaxAgents = 5000
	// MaxQuery is the longest search text, in bytes; MaxLimit the largest page.
	MaxQuery     = 100
	MaxLimit     = 100
	DefaultLimit = 25
)

// Errors of the Store.
var (
	// ErrEmailTaken: an agent of some organisation already has the email.
	ErrEmailTaken = errors.New("agents: the email is taken")
	// ErrConflict: the agent changed since the version the caller read, is gone, or (on
	// create) the id is taken.
	ErrConflict = errors.New("agents: the agent changed")
	// ErrNoSuchRole: the custom role given to the agent does not exist (any more).
	ErrNoSuchRole = errors.New("agents: no such role")
	// ErrTooMany: the organisation has MaxAgents agents.
	ErrTooMany = errors.New("agents: too many agents")
	// ErrNoSuchBusinessUnit: a business unit the agent is to join does not exist (any
	// more): the member contract of package businessunits.
	ErrNoSuchBusinessUnit = businessunits.ErrNoSuchUnit
	// ErrSuspended: LoginSucceeded found the agent suspended (a racing sign-in reached
	// the limit while this one checked its password): the sign-in must be refused.
	ErrSuspended = errors.New("agents: the agent is suspended")
	// ErrDisabled: LoginSucceeded found the agent disabled (an admin disabled it while the
	// sign-in checked its password): the sign-in must be refused.
	ErrDisabled = errors.New("agents: the agent is disabled")
)

// MinLoginAttempts and MaxLoginAttempts bound the limit LoginFailed takes (the security
// settings' loginAttempts).
const MinLoginAttempts, MaxLoginAttempts = 1, 20

// Query selects a page of an organisation's agents, in agent id order.
type Query struct {
	// Text, when not empty, keeps the agents whose name or email contains it, compared
	// in lower case (Normalize lower-cases it).
	Text string
	// Status, when not empty, keeps the agents of that status.
	Status Status
	// BusinessUnitID, when not empty, keeps the agents who belong to that unit.
	BusinessUnitID string
	// Limit is the page size, 1-MaxLimit.
	Limit int
	// After is the id of the last agent of the previous page ("" for the first). Clients
	// hold it sealed in an opaque cursor (audit.Cursors).
	After string
}

// Page is a page of agents; Next is the After of the next page, "" when there is none.
type Page struct {
	Agents []Agent
	Next   string
}

// InvitationRef is what the invitation index tells of a token: whose it is and until when.
type InvitationRef struct {
	OrgID     string
	AgentID   string
	ExpiresAt time.Time
}

// Store is the port of agents. Writes store their audit entry (area AuditArea, which
// must name no password material) in the same transaction. Every method refuses an
// organisation or agent id that is not valid (package ids) with a problem.NotFound error.
type Store interface {
	// Get returns an agent's profile, strongly consistent.
	Get(ctx context.Context, orgID, agentID string) (Agent, bool, error)
	// Credentials returns an agent's secrets, strongly consistent. They are found exactly
	// when the agent is (Create writes them with the profile; nothing deletes either),
	// so a reader of credentials alone (passwords.History) can tell an unknown agent.
	Credentials(ctx context.Context, orgID, agentID string) (Credentials, bool, error)
	// Search returns a page of the agents q selects (q normalised: see Normalize).
	Search(ctx context.Context, orgID string, q Query) (Page, error)
	// Create stores a new agent (Version 1), its email claim, its credentials (and the
	// invitation's index entry when c has one), adds 1 to a custom role's holders, counts
	// the agent in the organisation and in each of its business units. ErrEmailTaken,
	// ErrNoSuchRole, ErrNoSuchBusinessUnit, ErrTooMany or ErrConflict (the id is taken).
	Create(ctx context.Context, orgID string, a Agent, c Credentials, entry audit.Entry) error
	// Update replaces prev, the agent stored at version a.Version-1, with a (derived by
	// the caller from prev: the email never changes; the credentials are kept), moving
	// one holder from prev's role to a's when they differ and counting a in the business
	// units it joins and out of those it leaves (UnitMoves). ErrConflict when the stored
	// version differs, ErrNoSuchRole when the new custom role does not exist,
	// ErrNoSuchBusinessUnit when a unit it joins does not. When prev is suspended and a
	// is not (enable clears SuspendedAt), the failure count is reset to 0 in the same
	// transaction.
	Update(ctx context.Context, orgID string, a, prev Agent, entry audit.Entry) error
	// SetCredentials is Update (the role is kept) that also replaces the credentials,
	// prev being those read at version a.Version-1: the invitation index follows
	// (prev's entry removed, c's written). A new password re-enables a suspended agent
	// (API.md: until an admin resets the password): the failure count is reset to 0 and
	// a is stored with SuspendedAt nil whatever the caller set (passwords' setters clear
	// it too, so the caller's copy agrees).
	SetCredentials(ctx context.Context, orgID string, a Agent, c, prev Credentials, entry audit.Entry) error
	// Invitation looks an invitation up by its token hash (ParseToken). An entry past its
	// ExpiresAt may still be found (TTL deletes it within days): the caller compares.
	Invitation(ctx context.Context, tokenHash string) (InvitationRef, bool, error)

	// ByEmail finds the agent an email signs in to: email as Create stores it (trimmed,
	// lower-cased: normalise with the package's own email rule before the lookup, so
	// " Ann@Example.com" finds ann@example.com). Strongly consistent. An email that
	// ParseEmail refuses is not found (no error, no read).
	ByEmail(ctx context.Context, email string) (orgID, agentID string, found bool, err error)
	// LoginFailed counts one more consecutive failed sign-in of the agent, atomically
	// (racing failures are each counted, none lost). When the count after it is >= limit
	// (MinLoginAttempts-MaxLoginAttempts) and the agent is not suspended, it also sets the
	// profile's SuspendedAt = at (and UpdatedAt = at, Version+1) and stores entry (the
	// audit entry, area agents) in the same transaction, on condition that the count is
	// still >= limit (a password reset in between wins: no suspension). It returns the
	// count after this failure and whether the agent is suspended now (including when it
	// already was). It does not look at the status: sign-in does not call it for a
	// disabled agent (whose password is not checked); were it called, a disabled agent
	// would be counted and suspended like an active one, and enabling it clears both.
	// An agent that does not exist is a problem.NotFound error; a limit out of range or an
	// entry of another area is an error, and nothing is counted.
	LoginFailed(ctx context.Context, orgID, agentID string, limit int, at time.Time, entry audit.Entry) (failures int, suspended bool, err error)
	// LoginSucceeded resets the failure count to 0 and sets the profile's LastLoginAt =
	// at (Version+1, UpdatedAt kept, no audit entry: a sign-in is not an admin's change;
	// the session record is its trace), in one transaction. When the stored agent is
	// suspended (ErrSuspended) or disabled (ErrDisabled), as a racing write may have made
	// it after the caller read it, it changes nothing: the sign-in must be refused. An
	// agent that does not exist is a problem.NotFound error.
	LoginSucceeded(ctx context.Context, orgID, agentID string, at time.Time) error
}

// CheckLogin checks LoginFailed's arguments (ids, limit, entry's area) for the stores.
func CheckLogin(orgID, agentID string, limit int, entry audit.Entry) error {
	if err := CheckAgent(orgID, agentID); err != nil {
		return err
	}
	if limit < MinLoginAttempts || limit > MaxLoginAttempts {
		return fmt.Errorf("agents: login attempt limit %d is not %d-%d", limit, MinLoginAttempts, MaxLoginAttempts)
	}
	if !audit.ValidID(entry.ID) || entry.Area != AuditArea {
		return fmt.Errorf("agents: audit entry %q area %q is not an agent change's", entry.ID, entry.Area)
	}
	return nil
}

// CheckAgent is CheckIDs for a call that names one agent: "" is not an agent id either.
func CheckAgent(orgID, agentID string) error {
	if agentID == "" {
		return NoAgent()
	}
	return CheckIDs(orgID, agentID)
}

// MaySignIn is LoginSucceeded's check of the agent it read (found tells whether it
// exists): NoAgent, ErrSuspended, ErrDisabled, or nil.
func MaySignIn(a Agent, found bool) error {
	switch {
	case !found:
		return NoAgent()
	case a.SuspendedAt != nil:
		return ErrSuspended
	case a.Status == StatusDisabled:
		return ErrDisabled
	}
	return nil
}

// NoAgent is the error of a sign-in write (LoginFailed, LoginSucceeded) for an agent that
// does not exist.
func NoAgent() error { return problem.New(problem.NotFound, "agent not found") }

// CheckIDs refuses ids that cannot be stored (problem.NotFound: a path naming no agent).
func CheckIDs(orgID, agentID string) error {
	if !ids.Valid(orgID) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	if agentID != "" && !ids.Valid(agentID) {
		return problem.New(problem.NotFound, "agent not found")
	}
	return nil
}

// CustomRole reports whether role is not a predefined role: a custom role, whose item
// counts its holders.
func CustomRole(role string) bool {
	_, predefined := auth.PredefinedPermissions(role)
	return !predefined && role != ""
}

// SearchKey is what Search matches text against: the name and the email, lower-cased,
// separated by a line feed (which no normalised query holds, so no match spans both).
func SearchKey(a Agent) string {
	return strings.ToLower(a.Name) + "\n" + a.Email
}

// Normalize checks q and lower-cases its text: the text is trimmed and must be at most
// MaxQuery bytes without control or invisible characters; Status "", active or
// disabled; BusinessUnitID "" or an id; Limit 0 (DefaultLimit) or 1-MaxLimit; After "" or an agent id. Errors are
// problem.Invalid on search, status, businessUnitId, limit or cursor.
func Normalize(q *Query) error {
	var f problem.Fields
	q.Text = strings.ToLower(strings.TrimFunc(q.Text, unicode.IsSpace))
	switch {
	case len(q.Text) > MaxQuery:
		f.Add("search", "must be at most %d characters", MaxQuery)
	case strings.ContainsFunc(q.Text, hidden):
		f.Add("search", "must not contain control, invisible or formatting characters")
	}
	switch q.Status {
	case "", StatusActive, StatusDisabled:
	default:
		f.Add("status", "must be active or disabled")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		f.Add("limit", "must be between 1 and %d", MaxLimit)
	}
	if q.BusinessUnitID != "" && !ids.Valid(q.BusinessUnitID) {
		f.Add("businessUnitId", "must be a business unit id")
	}
	if q.After != "" && !ids.Valid(q.After) {
		f.Add("cursor", "is not a cursor of this listing")
	}
	return f.Err()
}

// Matches reports whether a is selected by q's text and status (q normalised).
func (q Query) Matches(a Agent) bool {
	return (q.Status == "" || a.Status == q.Status) && (q.Text == "" || strings.Contains(SearchKey(a), q.Text)) &&
		(q.BusinessUnitID == "" || slices.Contains(a.BusinessUnitIDs, q.BusinessUnitID))
}

// UnitMoves returns the business units a joins that prev did not list, and those prev
// listed that a leaves: the units whose members counts an update moves.
func UnitMoves(a, prev Agent) (joined, left []string) {
	for _, u := range a.BusinessUnitIDs {
		if !slices.Contains(prev.BusinessUnitIDs, u) {
			joined = append(joined, u)
		}
	}
	for _, u := range prev.BusinessUnitIDs {
		if !slices.Contains(a.BusinessUnitIDs, u) {
			left = append(left, u)
		}
	}
	return joined, left
}

// Members lists the agents of a business unit from a Store (businessunits.Members, for
// the refusal to delete a unit that agents belong to): it searches the organisation's
// agents for the unit's, page after page, so it reads the organisation's agents once
// at most (MaxAgents/MaxLimit pages).
type Members struct{ Store Store }

var _ businessunits.Members = Members{}

// BusinessUnitMembers implements businessunits.Members: the ids of up to limit agents
// of the unit, in id order, disabled agents included (they keep their units).
func (m Members) BusinessUnitMembers(ctx context.Context, orgID, unitID string, limit int) ([]string, error) {
	var out []string
	q := Query{BusinessUnitID: unitID, Limit: min(limit, MaxLimit)}
	for range MaxAgents/MaxLimit + 1 {
		page, err := m.Store.Search(ctx, orgID, q)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Agents {
			out = append(out, a.ID)
		}
		if page.Next == "" || len(out) >= limit {
			break
		}
		q.After, q.Limit = page.Next, min(limit-len(out), MaxLimit)
	}
	return out, nil
}
