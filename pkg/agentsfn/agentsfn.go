// Package agentsfn serves the agents of organisations (API.md "Agents"): functions/agents.
//
// It is the only function that validates agents' profiles, so it alone links
// pkg/agents/phone and pkg/agents/langtag and their data (see agents.Parsers).
package agentsfn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/langtag"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/agents/phone"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/nativeapp"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
	"github.com/convrs/admin/pkg/sticky"
)

// Function is the agents function.
var Function = app.Function{Name: "agents",
	Needs: app.Needs{Agents: app.Write, Roles: app.Read, Orgs: app.Read, BusinessUnits: app.Read, Chats: app.ChatAgentLoad, Sticky: app.Write, Events: true, Cursors: true, Mail: true, BaseURL: true,
		ReadSettings: []string{passwordpolicy.AreaName, chathandling.AreaName, nativeapp.AreaName}},
	HTTP: func(api *httpx.API, d app.Deps) {
		handling := settings.NewService(chathandling.Area, d.Settings, d.Now)
		native := settings.NewService(nativeapp.Area, d.Settings, d.Now)
		Register(api, Deps{Agents: d.Agents, Roles: d.Roles, BusinessUnits: d.BusinessUnits, Chats: d.Chats, Sticky: d.Sticky, Bus: d.Bus, Cursors: d.Cursors, Mail: d.Mail,
			NativeApp: func(ctx context.Context, org string) (string, error) {
				cur, err := native.Read(ctx, org, settings.Eventual)
				return cur.Doc.Access, err
			},
			Handling: func(ctx context.Context, org string) (int, error) {
				cur, err := handling.Read(ctx, org, settings.Eventual)
				return cur.Doc.MaxChatsPerAgent, err
			},
			MailFrom: d.MailFrom, BaseURL: d.BaseURL, Now: d.Now,
			Policy: settings.NewService(passwordpolicy.Area, d.Settings, d.Now)})
	}}

// Deps are the ports the routes use.
type Deps struct {
	Agents agents.Store
	Sticky sticky.Store
	Bus    bus.Publisher
	// NativeApp reads the organisation's native-app access (none, everyone, permission).
	NativeApp func(ctx context.Context, orgID string) (string, error)
	// Handling reads the organisation's maxChatsPerAgent (chat-handling), the chat limit
	// of agents without their own.
	Handling func(ctx context.Context, orgID string) (int, error)
	Roles    roles.Store
	// BusinessUnits answers whether the units an agent is to join exist.
	BusinessUnits businessunits.Store
	Chats         chats.Store
	Cursors       audit.Cursors
	Mail          mail.Mailer
	MailFrom      string
	BaseURL       string
	Now           func() time.Time
	// Policy reads the organisation's password policy (it dates password expiry).
	Policy *settings.Service[passwordpolicy.Settings]
}

// Created is the answer of POST .../agents: the agent, and whether the set-password
// email went out (false when it was not asked for, or when sending failed: the agent
// exists either way).
type Created struct {
	agents.Agent
	CredentialsEmailSent bool `json:"credentialsEmailSent"`
}

// List is the answer of GET .../agents.
type List struct {
	Items      []agents.Agent `json:"items"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// parsers read phone numbers and language tags (their data lives only in this function).
var parsers = agents.Parsers{Phone: phone.Parse, Language: langtag.Parse}

// maxTries bounds the retries of a write without If-Match that lost a race.
const maxTries = 5

type service struct {
	Deps
}

// refs answers agents.References from the role and business-unit stores, for one
// request. Custom roles are inherited down the tree, so a role may be an ancestor's: refs
// remembers which organisation holds each custom role it found, for the write that
// counts the holder on the role's item (agents.Agent.RoleOrgID).
type refs struct {
	roles  roles.Store
	units  businessunits.Store
	owners map[string]string // custom role id -> the organisation that holds it
}

// newRefs returns the references of one request.
func (s *service) newRefs() *refs {
	return &refs{roles: s.Roles, units: s.BusinessUnits, owners: map[string]string{}}
}

// RoleExists implements agents.References: a predefined role, or a custom role of orgID
// or one of its ancestors.
func (r *refs) RoleExists(ctx context.Context, orgID, role string) (bool, error) {
	if _, ok := auth.PredefinedPermissions(role); ok {
		return true, nil
	}
	if !ids.Valid(role) {
		return false, nil
	}
	_, found, err := r.owner(ctx, orgID, role)
	return found, err
}

// owner returns the organisation of orgID's path (the one the HTTP front put in the
// context; [orgID] without it) that holds the custom role: one batched read of the path,
// none for a role this request has looked up already.
func (r *refs) owner(ctx context.Context, orgID, role string) (string, bool, error) {
	if o, ok := r.owners[role]; ok {
		return o, true, nil
	}
	path, ok := orgs.PathFrom(ctx, orgID)
	if !ok {
		path = []string{orgID}
	}
	found, ok, err := r.roles.Find(ctx, path, role)
	if err != nil || !ok {
		return "", false, err
	}
	r.owners[role] = found.OrgID
	return found.OrgID, true, nil
}

// setOwners names, on the agents a write moves a holder between, the organisations that
// hold their custom roles (agents.Agent.RoleOrgID): next's (a create, or an update that
// changes the role) and, when it changes, prev's.
func (r *refs) setOwners(ctx context.Context, orgID string, next, prev *agents.Agent) error {
	for _, a := range []*agents.Agent{next, prev} {
		if a == nil || !agents.CustomRole(a.Role) || (prev != nil && next.Role == prev.Role) {
			continue
		}
		owner, found, err := r.owner(ctx, orgID, a.Role)
		if err != nil {
			return err
		}
		if found && owner != orgID {
			a.RoleOrgID = owner
		}
	}
	return nil
}

// MissingBusinessUnits implements agents.References with one read: the organisation's
// units (one Query of at most businessunits.MaxUnits small items), whatever the number
// asked. The store's write checks again (a unit deleted meanwhile fails the transaction).
func (r *refs) MissingBusinessUnits(ctx context.Context, orgID string, unitIDs []string) ([]string, error) {
	units, err := r.units.List(ctx, orgID)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(units))
	for _, u := range units {
		known[u.ID] = true
	}
	var missing []string
	for _, id := range unitIDs {
		if !known[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// Register serves the routes on api.
func Register(api *httpx.API, d Deps) {
	s := &service{Deps: d}
	read, manage := auth.Permission(auth.PermAgentsRead), auth.Permission(auth.PermAgentsManage)
	const one = "/v1/orgs/{orgId}/agents/{agentId}"
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/agents", read, s.list)
	api.Handle(http.MethodPost, "/v1/orgs/{orgId}/agents", manage, s.create)
	api.Handle(http.MethodGet, one, read, s.get)
	api.Handle(http.MethodPatch, one, manage, s.patch)
	api.Handle(http.MethodDelete, one, manage, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD, PATCH")
		httpx.WriteError(w, r, agents.DeleteRefused())
	})
	api.Handle(http.MethodPost, one+"/disable", manage, s.status(agents.StatusDisabled))
	api.Handle(http.MethodPost, one+"/enable", manage, s.status(agents.StatusActive))
	api.Handle(http.MethodPost, one+"/password", manage, s.resetPassword)
	api.Handle(http.MethodPost, one+"/force-password-change", manage, s.forcePasswordChange)
	api.Handle(http.MethodPost, "/v1/orgs/{orgId}/agents/me/password", auth.AnyRole.AllowingPasswordScope(), s.changeOwnPassword)
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/agent-status", read, s.board)
	api.Handle(http.MethodGet, one+"/native-app-access", read, s.nativeAppAccess)
	api.Handle(http.MethodDelete, one+"/sticky-users", auth.Permission(auth.PermChatsManage), s.unstick)
}

var errNotFound = problem.New(problem.NotFound, "agent not found")

func (s *service) load(ctx context.Context, org, id string) (agents.Agent, error) {
	if !ids.Valid(id) {
		return agents.Agent{}, errNotFound
	}
	a, found, err := s.Agents.Get(ctx, org, id)
	if err == nil && !found {
		err = errNotFound
	}
	return a, err
}

func writeAgent(w http.ResponseWriter, r *http.Request, status int, org string, body any, version int64, id string) {
	w.Header().Set("ETag", settings.ETag(version))
	if status == http.StatusCreated {
		w.Header().Set("Location", "/v1/orgs/"+org+"/agents/"+id)
	}
	httpx.WriteJSON(w, r, status, body)
}

// audited is what the audit log records of an agent: its profile, email and status;
// never a password, hash or token (the Agent type holds none).
type audited struct {
	ID                 *string         `json:"id"`
	Email              *string         `json:"email"`
	Profile            *agents.Profile `json:"profile"`
	Status             *agents.Status  `json:"status"`
	MustChangePassword *bool           `json:"mustChangePassword"`
	PasswordChangedAt  *time.Time      `json:"passwordChangedAt"`
	// SuspendedAt: enable and a password reset lift a suspension (sign-in audits the
	// suspension itself, through agents.Store.LoginFailed).
	SuspendedAt *time.Time `json:"suspendedAt"`
}

func auditedOf(a *agents.Agent) audited {
	if a == nil {
		return audited{}
	}
	return audited{ID: &a.ID, Email: &a.Email, Profile: &a.Profile, Status: &a.Status, MustChangePassword: &a.MustChangePassword,
		PasswordChangedAt: a.PasswordChangedAt, SuspendedAt: a.SuspendedAt}
}

func (s *service) entry(ctx context.Context, org, action string, before, after *agents.Agent, now time.Time) (audit.Entry, error) {
	p, _ := auth.FromContext(ctx)
	b, err := json.Marshal(auditedOf(before))
	if err != nil {
		return audit.Entry{}, err
	}
	a, err := json.Marshal(auditedOf(after))
	if err != nil {
		return audit.Entry{}, err
	}
	changes, err := audit.Diff(b, a)
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{ID: audit.NewID(now), OrgID: org, At: now, Actor: p.Subject, Area: agents.AuditArea, Action: action,
		Changes: changes, RequestID: httpx.RequestID(ctx)}, nil
}

func (s *service) get(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("orgId")
	a, err := s.load(r.Context(), org, r.PathValue("agentId"))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	writeAgent(w, r, http.StatusOK, org, a, a.Version, a.ID)
}

func (s *service) list(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("orgId")
	v := r.URL.Query()
	q := agents.Query{Text: v.Get("search"), Status: agents.Status(v.Get("status")), BusinessUnitID: v.Get("businessUnitId")}
	for _, k := range []string{"search", "status", "businessUnitId", "limit", "cursor"} {
		if len(v[k]) > 1 {
			httpx.WriteError(w, r, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
				Fields: []problem.FieldError{{Field: k, Message: "must be given at most once"}}})
			return
		}
	}
	if v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil {
			httpx.WriteError(w, r, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
				Fields: []problem.FieldError{{Field: "limit", Message: "must be an integer between 1 and 100"}}})
			return
		}
		q.Limit = n
		if n == 0 {
			q.Limit = -1 // 0 is out of range, not the default
		}
	}
	if err := agents.Normalize(&q); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	scope := "agents/" + string(q.Status) + "/" + q.BusinessUnitID + "\n" + q.Text
	if v.Has("cursor") {
		after, err := s.Cursors.Open(org, scope, v.Get("cursor"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		q.After = after
	}
	page, err := s.Agents.Search(r.Context(), org, q)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	out := List{Items: page.Agents}
	if out.Items == nil {
		out.Items = []agents.Agent{}
	}
	if page.Next != "" {
		out.NextCursor = s.Cursors.Seal(org, scope, page.Next)
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}

func emailTaken() error {
	return &problem.Error{Code: problem.Conflict, Message: "an agent may need a different email for each dashboard: this email already signs in to an agent (of this or another organisation)",
		Fields: []problem.FieldError{{Field: "email", Message: "is taken"}}}
}

// unitGone is the 422 of a write whose business unit was deleted after the check.
func unitGone(field string) error {
	return &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
		Fields: []problem.FieldError{{Field: field, Message: "no such business unit (it was deleted meanwhile)"}}}
}

func roleGone() error {
	return &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
		Fields: []problem.FieldError{{Field: "role", Message: "no such role: use a predefined role (admin, agent_manager, client_manager, marketing, compliance, agent) or a custom role of the organisation or one of its ancestors"}}}
}

func (s *service) create(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	data, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var req agents.CreateRequest
	if err := httpx.Unmarshal(data, &req); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if err := agents.CheckIDs(org, ""); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	rf := s.newRefs()
	email, profile, err := req.Validate(ctx, org, rf, parsers)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	a := agents.New(ids.New(agents.IDPrefix), email, profile, now)
	if err := rf.setOwners(ctx, org, &a, nil); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var creds agents.Credentials
	var token string
	if *req.SendCredentialsEmail {
		var inv agents.Invitation
		token, inv = agents.NewInvitation(now)
		creds.Invitation = &inv
	}
	entry, err := s.entry(ctx, org, "create", nil, &a, now)
	if err == nil {
		err = s.Agents.Create(ctx, org, a, creds, entry)
	}
	switch {
	case errors.Is(err, agents.ErrEmailTaken):
		err = emailTaken()
	case errors.Is(err, agents.ErrNoSuchBusinessUnit):
		err = unitGone("businessUnitId")
	case errors.Is(err, agents.ErrNoSuchRole):
		err = roleGone()
	case errors.Is(err, agents.ErrTooMany):
		err = problem.New(problem.Conflict, "the organisation has %d agents, the most it may have; disable and reuse, or ask support", agents.MaxAgents)
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	out := Created{Agent: a}
	if token != "" {
		out.CredentialsEmailSent = s.invite(ctx, a, token, creds.Invitation.ExpiresAt)
	}
	writeAgent(w, r, http.StatusCreated, org, out, a.Version, a.ID)
}

// invite sends the set-password email; a failure is logged (never with the token) and
// reported in the answer: the agent exists either way.
func (s *service) invite(ctx context.Context, a agents.Agent, token string, expires time.Time) bool {
	m, err := agents.InvitationEmail{From: s.MailFrom, To: a.Email, Name: a.Name, BaseURL: s.BaseURL, Token: token, ExpiresAt: expires}.Message()
	if err == nil {
		_, err = s.Mail.Send(ctx, m)
	}
	if err != nil {
		slog.ErrorContext(ctx, "agents: the set-password email was not sent", "agentId", a.ID, "error", err.Error())
		return false
	}
	return true
}

func preconditionFailed(ifMatch string, version int64) error {
	return problem.New(problem.PreconditionFailed, "If-Match %s does not match the current version %s", ifMatch, settings.ETag(version))
}

// write runs change on the current agent and stores the result, retrying a lost race
// when the request has no If-Match. change returns the new agent and whether it differs.
// rf (the references change validated with; nil: new ones) names the organisations that
// hold the custom roles when the role changes.
func (s *service) write(w http.ResponseWriter, r *http.Request, action string, rf *refs, change func(cur agents.Agent) (agents.Agent, bool, error)) {
	if rf == nil {
		rf = s.newRefs()
	}
	ctx, org, id := r.Context(), r.PathValue("orgId"), r.PathValue("agentId")
	ifMatch := httpx.IfMatch(r)
	for try := 1; ; try++ {
		cur, err := s.load(ctx, org, id)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if ifMatch != "" && !settings.ETagMatches(ifMatch, settings.ETag(cur.Version)) {
			httpx.WriteError(w, r, preconditionFailed(ifMatch, cur.Version))
			return
		}
		next, changed, err := change(cur)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if !changed {
			writeAgent(w, r, http.StatusOK, org, cur, cur.Version, cur.ID) // unchanged: not a write
			return
		}
		now := s.Now().UTC().Truncate(time.Millisecond)
		next.Version, next.UpdatedAt = cur.Version+1, now
		entry, err := s.entry(ctx, org, action, &cur, &next, now)
		if err == nil {
			err = rf.setOwners(ctx, org, &next, &cur)
		}
		if err == nil {
			err = s.Agents.Update(ctx, org, next, cur, entry)
		}
		switch {
		case err == nil:
			writeAgent(w, r, http.StatusOK, org, next, next.Version, next.ID)
			return
		case errors.Is(err, agents.ErrNoSuchRole):
			err = roleGone()
		case errors.Is(err, agents.ErrNoSuchBusinessUnit) && try < maxTries:
			continue // a unit was deleted after the check: the next try's check names it
		case errors.Is(err, agents.ErrNoSuchBusinessUnit):
			err = unitGone("businessUnitIds")
		case errors.Is(err, agents.ErrConflict) && ifMatch != "":
			err = problem.New(problem.PreconditionFailed, "the agent changed after If-Match %s was read", ifMatch)
		case errors.Is(err, agents.ErrConflict) && try < maxTries:
			continue
		case errors.Is(err, agents.ErrConflict):
			err = problem.New(problem.Conflict, "the agent is being changed by someone else; try again")
		}
		httpx.WriteError(w, r, err)
		return
	}
}

func (s *service) patch(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadJSON(r, httpx.MediaMergePatch, httpx.MediaJSON)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	org := r.PathValue("orgId")
	rf := s.newRefs()
	s.write(w, r, "patch", rf, func(cur agents.Agent) (agents.Agent, bool, error) {
		next, err := cur.Patch(r.Context(), org, body, rf, parsers)
		if err != nil {
			return agents.Agent{}, false, err
		}
		a, _ := json.Marshal(cur.Profile)
		b, _ := json.Marshal(next.Profile)
		return next, string(a) != string(b), nil
	})
}

func (s *service) status(to agents.Status) http.HandlerFunc {
	action := "enable"
	if to == agents.StatusDisabled {
		action = "disable"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("orgId")
		s.write(w, r, action, nil, func(cur agents.Agent) (agents.Agent, bool, error) {
			next, changed, err := cur.SetStatus(to)
			if err == nil && to == agents.StatusActive && cur.SuspendedAt != nil {
				// Enable re-enables a suspended agent too (active or disabled): the store
				// resets its failure count with the write.
				next.SuspendedAt, changed = nil, true
			}
			if err != nil || !changed || to != agents.StatusDisabled {
				return next, changed, err
			}
			open, err := s.Chats.OpenChats(r.Context(), org, cur.ID, agents.MaxListed)
			if err != nil {
				return agents.Agent{}, false, err
			}
			stuck, err := s.Sticky.Users(r.Context(), org, cur.ID, min(agents.MaxListed, sticky.MaxUsers))
			if err != nil {
				return agents.Agent{}, false, err
			}
			if err := agents.DisableConflict(open, stuck); err != nil {
				return agents.Agent{}, false, err
			}
			return next, true, nil
		})
	}
}

// forcePasswordChange makes the agent change its password at next sign-in.
func (s *service) forcePasswordChange(w http.ResponseWriter, r *http.Request) {
	s.write(w, r, "force-password-change", nil, func(cur agents.Agent) (agents.Agent, bool, error) {
		next := cur
		next.MustChangePassword = true
		return next, !cur.MustChangePassword, nil
	})
}

// PasswordReset is the body of POST .../agents/{agentId}/password.
type PasswordReset struct {
	Password *string `json:"password"`
}

// policy is the organisation's password policy as agents needs it.
func (s *service) policy(ctx context.Context, org string) (agents.Policy, error) {
	cur, err := s.Policy.Read(ctx, org, settings.Eventual)
	if err != nil {
		return agents.Policy{}, err
	}
	p := cur.Doc
	return agents.Policy{Enforce: p.Enforce, PreventReuse: p.PreventReuse, ExpiryDays: p.ExpiryDays,
		Evaluate: func(password string) []agents.Violation {
			vs := p.Evaluate(password)
			out := make([]agents.Violation, len(vs))
			for i, v := range vs {
				out[i] = agents.Violation(v)
			}
			return out
		}}, nil
}

// resetPassword is an admin's reset: the new password (not subject to the policy) must
// be changed at next sign-in; a pending invitation is spent; a suspension is lifted (the
// store resets the failure count). Audited without the
// password or its hash (the audited view has neither).
func (s *service) resetPassword(w http.ResponseWriter, r *http.Request) {
	ctx, org, id := r.Context(), r.PathValue("orgId"), r.PathValue("agentId")
	data, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var in PasswordReset
	if err := httpx.Unmarshal(data, &in); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if in.Password == nil {
		httpx.WriteError(w, r, &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
			Fields: []problem.FieldError{{Field: "password", Message: "required"}}})
		return
	}
	ifMatch := httpx.IfMatch(r)
	for try := 1; ; try++ {
		cur, err := s.load(ctx, org, id)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if ifMatch != "" && !settings.ETagMatches(ifMatch, settings.ETag(cur.Version)) {
			httpx.WriteError(w, r, preconditionFailed(ifMatch, cur.Version))
			return
		}
		creds, _, err := s.Agents.Credentials(ctx, org, id)
		var pol agents.Policy
		if err == nil {
			pol, err = s.policy(ctx, org)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		now := s.Now().UTC().Truncate(time.Millisecond)
		next, nextCreds, err := passwords.ResetPassword(cur, creds, *in.Password, pol, now)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		next.Version, next.UpdatedAt = cur.Version+1, now
		entry, err := s.entry(ctx, org, "password-reset", &cur, &next, now)
		if err == nil {
			err = s.Agents.SetCredentials(ctx, org, next, nextCreds, creds, entry)
		}
		switch {
		case err == nil:
			writeAgent(w, r, http.StatusOK, org, next, next.Version, next.ID)
			return
		case errors.Is(err, agents.ErrConflict) && ifMatch != "":
			err = problem.New(problem.PreconditionFailed, "the agent changed after If-Match %s was read", ifMatch)
		case errors.Is(err, agents.ErrConflict) && try < maxTries:
			continue
		case errors.Is(err, agents.ErrConflict):
			err = problem.New(problem.Conflict, "the agent is being changed by someone else; try again")
		}
		httpx.WriteError(w, r, err)
		return
	}
}
