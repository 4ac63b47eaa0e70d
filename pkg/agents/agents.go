// Package agents is the domain of the people who answer chats (API.md "Agents"): the
// agent and the rules of its fields, the create request and the merge patch that edits
// an agent, status changes, the credentials (the password hash, the bounded history the
// reuse rule reads, expiry: hashing and the password rules are in pkg/agents/passwords),
// invitations (a single-use set-password token and the email that carries its link),
// and the Store port of agents (store.go, with its item layout), adapted by package
// dynamo and package bolt, both passing the contract suite in pkg/agents/agentstest.
//
// Secrets (password hashes, the history, the invitation's token hash) are kept apart
// from the Agent type, in Credentials and Invitation, so that the agent's representation
// cannot carry them.
//
// It must not import package app (even indirectly, as the settings areas' packages do):
// the org's password policy reaches it as a Policy value the caller builds from
// passwordpolicy.Settings. app.Deps holds this package's Store port, so every function
// links this package, and it must stay small: what needs large data or init-time work
// lives in sub-packages that only the agents function imports: phone numbers
// (pkg/agents/phone) and language tags (pkg/agents/langtag), passed in as Parsers, and
// argon2id (pkg/agents/passwords). No package-level map or table here is built at init.
package agents

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Status is whether an agent may sign in and get chats.
type Status string

// The statuses of an agent. A disabled agent cannot sign in, gets no chats and keeps
// every conversation; agents are never deleted.
const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// MaxBusinessUnits bounds the business units of one agent. Each unit counts its members,
// and the agent's write updates the count of every unit it joins or leaves in the same
// DynamoDB transaction, which takes at most 100 items: replacing 40 units by 40 others is
// 80 of them, leaving room for the profile, two roles' holders and the audit entry. The
// list is also an agent manager's chat filter (a DynamoDB IN list takes at most 100
// values). An agent in more than 40 units is a sign that units are used for something
// else.
const MaxBusinessUnits = 40

// Profile is what an admin edits of an agent: every field a merge patch may name.
type Profile struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language"`
	// BusinessUnitIDs lists at least one and at most MaxBusinessUnits units, each once.
	BusinessUnitIDs []string `json:"businessUnitIds"`
	// MaxChats overrides the organisation's maxChatsPerAgent (chat-handling) for this
	// agent in the busy rule; nil means the organisation's default.
	MaxChats *int `json:"maxChats"`
	// Landline and Mobile are E.164 numbers, nil when not given.
	Landline *string `json:"landline"`
	Mobile   *string `json:"mobile"`
}

// Agent is an agent as the API shows it. It holds no secret: see Credentials.
type Agent struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Profile
	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// LastLoginAt is the agent's last sign-in to this product (Store.LoginSucceeded).
	LastLoginAt *time.Time `json:"lastLoginAt"`
	// SuspendedAt is when security.loginAttempts consecutive failed sign-ins suspended
	// the agent (Store.LoginFailed); nil when not suspended. A suspended agent cannot sign
	// in until an admin enables it or resets its password, which clears it.
	SuspendedAt        *time.Time `json:"suspendedAt"`
	PasswordChangedAt  *time.Time `json:"passwordChangedAt"`
	PasswordExpiresAt  *time.Time `json:"passwordExpiresAt"`
	MustChangePassword bool       `json:"mustChangePassword"`
	Version            int64      `json:"version"`
	// RoleOrgID is the organisation that holds Role when Role is a custom role of an
	// ancestor (custom roles are inherited down the tree); "" means the agent's own
	// organisation. It is neither shown nor stored: the service sets it, from the role's
	// lookup, on both sides of a write that moves a holder (Store.Create, and Update
	// when the role changes), and the stores count the holder on the role's item in that
	// organisation's partition.
	RoleOrgID string `json:"-"`
}

// RoleOwner is the organisation whose custom role a.Role is: RoleOrgID, or orgID, the
// agent's own, when it is "".
func (a Agent) RoleOwner(orgID string) string {
	if a.RoleOrgID != "" {
		return a.RoleOrgID
	}
	return orgID
}

// EffectiveMaxChats is the most chats the busy rule lets the agent hold: its own
// MaxChats, or orgDefault (chat-handling's maxChatsPerAgent) when it has none.
func (a Agent) EffectiveMaxChats(orgDefault int) int {
	if a.MaxChats != nil {
		return *a.MaxChats
	}
	return orgDefault
}

// References answers what validation cannot tell from a value alone: whether a role or
// business units exist for the organisation. Errors other than the answer (a throttled
// or unavailable store) are returned by the validation as they are.
type References interface {
	// RoleExists reports whether role is a predefined role or a custom role the
	// organisation orgID may give its agents: its own or an ancestor's (custom roles are
	// inherited down the tree).
	RoleExists(ctx context.Context, orgID, role string) (bool, error)
	// MissingBusinessUnits returns those of unitIDs (at most MaxBusinessUnits valid ids,
	// each once) that are not business units of orgID, in the order given; none: empty.
	MissingBusinessUnits(ctx context.Context, orgID string, unitIDs []string) ([]string, error)
}

// CreateRequest is the body of POST /v1/orgs/{orgId}/agents. Pointers tell a missing
// field from an empty one.
type CreateRequest struct {
	Email                *string `json:"email"`
	Name                 *string `json:"name"`
	Role                 *string `json:"role"`
	Language             *string `json:"language"`
	BusinessUnitID       *string `json:"businessUnitId"`
	Landline             *string `json:"landline"`
	Mobile               *string `json:"mobile"`
	SendCredentialsEmail *bool   `json:"sendCredentialsEmail"`
}

// Validate checks r for the organisation orgID and returns the new agent's email and
// profile, normalised as stored (see ParseEmail, ParseName and parse, the Parsers of phone
// numbers and language tags).
// email, name, role, language, businessUnitId and sendCredentialsEmail are required;
// landline and mobile are optional (absent, null or empty: none). The role and the
// business unit must exist (refs), checked only when they are well-formed ids.
//
// It returns a problem.Invalid error listing every failing field, or the error refs
// returned. Whether the email is already taken (by any organisation) is the store's to
// tell, atomically with the create.
func (r CreateRequest) Validate(ctx context.Context, orgID string, refs References, parse Parsers) (string, Profile, error) {
	var f problem.Fields
	var p Profile
	var email string
	if r.Email == nil {
		f.Add("email", msgRequired)
	} else if v, msg := ParseEmail(*r.Email); msg != "" {
		f.Add("email", "%s", msg)
	} else {
		email = v
	}
	for _, v := range []struct {
		from *string
		to   *string
	}{{r.Name, &p.Name}, {r.Role, &p.Role}, {r.Language, &p.Language}} {
		if v.from != nil {
			*v.to = *v.from
		}
	}
	unit := ""
	if r.BusinessUnitID == nil {
		f.Add("businessUnitId", msgRequired)
	} else if unit = *r.BusinessUnitID; !ids.Valid(unit) {
		f.Add("businessUnitId", "must be a business unit id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)")
		unit = ""
	}
	if r.SendCredentialsEmail == nil {
		f.Add("sendCredentialsEmail", "required (true emails the agent a link to set a password, valid %d hours)", InvitationTTL/time.Hour)
	}
	p.Landline, p.Mobile = r.Landline, r.Mobile
	if unit != "" {
		p.BusinessUnitIDs = []string{unit}
	}
	roleOK := p.check(&f, parse, checkAll, r.Name != nil, r.Role != nil, r.Language != nil)
	if err := refsCheck(ctx, refs, orgID, &f, roleOK, p.Role, p.BusinessUnitIDs, "businessUnitId"); err != nil {
		return "", Profile{}, err
	}
	if err := f.Err(); err != nil {
		return "", Profile{}, err
	}
	return email, p, nil
}

// checks says which profile fields check looks at.
type checks struct {
	name, role, language, maxChats, landline, mobile bool
}

var checkAll = checks{name: true, role: true, language: true, landline: true, mobile: true}

// check normalises p's fields that c names in place and records what fails. given*
// say whether name, role and language were present at all (a missing field is
// "required"). It returns whether the role is a well-formed id worth looking up.
func (p *Profile) check(f *problem.Fields, parse Parsers, c checks, givenName, givenRole, givenLang bool) (roleOK bool) {
	if c.name {
		if !givenName {
			f.Add("name", msgRequired)
		} else if v, msg := ParseName(p.Name); msg != "" {
			f.Add("name", "%s", msg)
		} else {
			p.Name = v
		}
	}
	if c.role {
		switch {
		case !givenRole || p.Role == "":
			f.Add("role", msgRequired)
		case !ids.Valid(p.Role):
			f.Add("role", "must be a role id: a predefined role such as agent, or a custom role's id")
		default:
			roleOK = true
		}
	}
	if c.language {
		if !givenLang {
			f.Add("language", msgRequired)
		} else if v, msg := parse.Language(p.Language); msg != "" {
			f.Add("language", "%s", msg)
		} else {
			p.Language = v
		}
	}
	if c.maxChats && p.MaxChats != nil && (*p.MaxChats < MinMaxChats || *p.MaxChats > MaxMaxChats) {
		f.Add("maxChats", "must be between %d and %d, or null for the organisation's maxChatsPerAgent", MinMaxChats, MaxMaxChats)
	}
	phone := func(field string, v **string) {
		if *v == nil {
			return
		}
		e164, msg := parse.Phone(**v)
		switch {
		case msg != "":
			f.Add(field, "%s", msg)
		case e164 == "":
			*v = nil
		default:
			*v = &e164
		}
	}
	if c.landline {
		phone("landline", &p.Landline)
	}
	if c.mobile {
		phone("mobile", &p.Mobile)
	}
	return roleOK
}

// checkUnits checks p.BusinessUnitIDs and returns the well-formed ones to look up.
func (p *Profile) checkUnits(f *problem.Fields) []string {
	units := p.BusinessUnitIDs
	switch {
	case len(units) == 0:
		f.Add("businessUnitIds", "must list at least one business unit")
		return nil
	case len(units) > MaxBusinessUnits:
		f.Add("businessUnitIds", "must list at most %d business units", MaxBusinessUnits)
		return nil
	}
	seen := make(map[string]int, len(units))
	var lookup []string
	for i, u := range units {
		field := "businessUnitIds[" + strconv.Itoa(i) + "]"
		if !ids.Valid(u) {
			f.Add(field, "must be a business unit id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)")
			continue
		}
		if j, dup := seen[u]; dup {
			f.Add(field, "repeats businessUnitIds[%d]", j)
			continue
		}
		seen[u] = i
		lookup = append(lookup, u)
	}
	return lookup
}

// refsCheck looks up the role (when roleOK) and the units, and records what does not
// exist: the units on unitField, or on businessUnitIds[i] when unitField is "".
func refsCheck(ctx context.Context, refs References, orgID string, f *problem.Fields, roleOK bool, role string, units []string, unitField string) error {
	if roleOK {
		ok, err := refs.RoleExists(ctx, orgID, role)
		if err != nil {
			return err
		}
		if !ok {
			f.Add("role", "no such role: use a predefined role (admin, agent_manager, client_manager, marketing, compliance, agent) or a custom role of the organisation or one of its ancestors")
		}
	}
	if len(units) == 0 {
		return nil
	}
	missing, err := refs.MissingBusinessUnits(ctx, orgID, units)
	if err != nil {
		return err
	}
	gone := make(map[string]bool, len(missing))
	for _, m := range missing {
		gone[m] = true
	}
	for i, u := range units {
		if !gone[u] {
			continue
		}
		field := unitField
		if field == "" {
			field = "businessUnitIds[" + strconv.Itoa(i) + "]"
		}
		f.Add(field, "no such business unit")
	}
	return nil
}

// New returns a new active agent of the given id and profile, created at now, with
// version 1. It has no password yet (PasswordChangedAt nil): an invitation sets the
// first one, or an admin does.
func New(id, email string, p Profile, now time.Time) Agent {
	now = now.UTC()
	return Agent{ID: id, Email: email, Profile: p, Status: StatusActive, CreatedAt: now, UpdatedAt: now, Version: 1}
}

// readOnly returns what to do instead for a field of the agent that a merge patch may
// not name, and whether k is one. (A switch, not a map: a map would be built at init in
// every function, since every function links this package.)
func readOnly(k string) (string, bool) {
	switch k {
	case "email":
		return "cannot be changed: an agent's email is fixed; create an agent with the new address (and disable this one) instead", true
	case "id":
		return "is read-only", true
	case "status":
		return "is read-only: use POST .../agents/{agentId}/disable or .../enable", true
	case "createdAt":
		return "is read-only", true
	case "updatedAt":
		return "is read-only", true
	case "lastLoginAt":
		return "is read-only", true
	case "suspendedAt":
		return "is read-only: POST .../agents/{agentId}/enable or .../password lifts a suspension", true
	case "passwordChangedAt":
		return "is read-only: use POST .../agents/{agentId}/password", true
	case "passwordExpiresAt":
		return "is read-only: it follows from passwordChangedAt and the password policy", true
	case "mustChangePassword":
		return "is read-only: use POST .../agents/{agentId}/force-password-change", true
	case "version":
		return "is read-only: send the ETag in If-Match", true
	}
	return "", false
}

// Patch applies body, an RFC 7396 merge patch of the agent's profile (name, role,
// language, businessUnitIds, maxChats, landline, mobile), to a and returns the agent it
// describes, normalised; version, updatedAt and the audit are the caller's. null
// removes maxChats (the organisation's default), landline or mobile; null for another
// field is "required". Values are checked as by CreateRequest.Validate (parse reads
// landline, mobile and language), and
// businessUnitIds must list 1-MaxBusinessUnits existing units, each once; references
// are looked up only when they change.
//
// Errors: problem.BadRequest for a body that is not one JSON object, has duplicate or
// unknown keys (exact names: "Name" is unknown) or a value of the wrong type;
// problem.Invalid listing every failing field, a field of the agent that is not in the
// profile included (email: "cannot be changed", id, status, ...: "is read-only"); or the
// error refs returned.
func (a Agent) Patch(ctx context.Context, orgID string, body []byte, refs References, parse Parsers) (Agent, error) {
	doc, err := json.Marshal(a.Profile)
	if err != nil {
		return Agent{}, err
	}
	// MergePatch checks the body first: one object, no duplicate keys, bounded depth.
	if _, err := httpx.MergePatch(doc, body); err != nil {
		return Agent{}, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return Agent{}, problem.Wrap(problem.BadRequest, err, "malformed JSON")
	}
	var f problem.Fields
	for k := range keys {
		if msg, ok := readOnly(k); ok {
			f.Add(k, "%s", msg)
			delete(keys, k)
		}
	}
	rest, err := json.Marshal(keys)
	if err != nil {
		return Agent{}, err
	}
	merged, err := httpx.MergePatch(doc, rest)
	if err != nil {
		return Agent{}, err
	}
	var p Profile
	if err := httpx.Unmarshal(merged, &p); err != nil {
		return Agent{}, err
	}
	_, nameGiven := keys["name"]
	_, roleGiven := keys["role"]
	_, langGiven := keys["language"]
	_, unitsGiven := keys["businessUnitIds"]
	c := checks{name: nameGiven, role: roleGiven, language: langGiven, maxChats: true, landline: hasKey(keys, "landline"), mobile: hasKey(keys, "mobile")}
	roleOK := p.check(&f, parse, c, string(keys["name"]) != "null", string(keys["role"]) != "null", string(keys["language"]) != "null")
	var units []string
	if unitsGiven {
		units = p.checkUnits(&f)
		units = changed(units, a.BusinessUnitIDs)
	}
	if roleOK && p.Role == a.Role {
		roleOK = false // unchanged: no lookup
	}
	if err := refsCheck(ctx, refs, orgID, &f, roleOK, p.Role, units, ""); err != nil {
		return Agent{}, err
	}
	if err := f.Err(); err != nil {
		return Agent{}, err
	}
	out := a
	out.Profile = p
	return out, nil
}

func hasKey(m map[string]json.RawMessage, k string) bool { _, ok := m[k]; return ok }

// changed returns those of units that are not in before, keeping their positions out
// of the lookup's way: the result is nil when every unit was there already.
func changed(units, before []string) []string {
	had := make(map[string]bool, len(before))
	for _, u := range before {
		had[u] = true
	}
	for _, u := range units {
		if !had[u] {
			return units // look all up, so that messages name positions of the new list
		}
	}
	return nil
}

// SetStatus returns a with status to and whether that changes it. Active and disabled
// agents may each become the other; setting the status an agent has changes nothing.
// Whether an agent may be disabled now (open chats, sticky users) is the caller's to
// know: see DisableConflict. An unknown status is a problem.Invalid error on status.
func (a Agent) SetStatus(to Status) (Agent, bool, error) {
	switch to {
	case StatusActive, StatusDisabled:
	default:
		return a, false, &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
			Fields: []problem.FieldError{{Field: "status", Message: "must be active or disabled"}}}
	}
	if a.Status == to {
		return a, false, nil
	}
	a.Status = to
	return a, true, nil
}

// MaxListed bounds each list of a DisableConflict problem.
const MaxListed = 100

// DisableConflict returns the 409 problem of a disable refused because the agent has
// open chats or sticky users, with the extension members chats and stickyUsers (each
// an array, never null, of at most MaxListed ids; the message gives the totals), or nil
// when both lists are empty.
func DisableConflict(openChats, stickyUsers []string) error {
	if len(openChats) == 0 && len(stickyUsers) == 0 {
		return nil
	}
	e := problem.New(problem.Conflict, "the agent has %d open chat(s) and %d sticky user(s): close or transfer the chats and unstick the users (the agent status board lists them), then disable the agent",
		len(openChats), len(stickyUsers))
	list := func(s []string) []string {
		out := make([]string, 0, min(len(s), MaxListed))
		return append(out, s[:min(len(s), MaxListed)]...)
	}
	return e.With("chats", list(openChats)).With("stickyUsers", list(stickyUsers))
}

// DeleteRefused is the answer to DELETE on an agent (405): agents are never deleted.
func DeleteRefused() error {
	return problem.New(problem.MethodNotAllowed, "agents are never deleted: disable the agent instead (POST .../agents/{agentId}/disable); a disabled agent cannot sign in or get chats and keeps every conversation")
}
