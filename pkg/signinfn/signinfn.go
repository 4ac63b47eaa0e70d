// Package signinfn is the sign-in function (API.md "Sign-in"): password login with the
// organisation's security rules, sessions with an idle timeout, logout, and the
// set-password links of invitations. Every route is public (no authorizer): login and
// set-password take credentials in the body; refresh and logout take the session's
// bearer token, which they verify themselves, because an expired access token must still
// refresh (or end) a session that is within its idle timeout.
//
// Tokens: RS256 JWTs minted through the signer port (AWS KMS in AWS, the dev key
// locally) with sub (the agent), org_id, role, iss, aud, iat, exp, sid and, for an agent
// who must change the password, scope "password" (only that change and GET /v1/me
// accept it). An access token lives AccessTokenLifetime (15 minutes), or the
// organisation's session timeout when that is shorter: that is the most a stolen access
// token is worth after a logout or a disable, since API Gateway's authorizer checks the
// signature and expiry, not the session. The session (package sessions) is what lasts: a
// refresh checks it (not ended, the agent still active and not suspended, less than
// security.sessionTimeoutMinutes since its last activity) and re-reads the agent, so a
// role change, a disable or a suspension takes effect at the next refresh.
package signinfn

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/ratelimit"
	"github.com/convrs/admin/pkg/sessions"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
	"github.com/convrs/admin/pkg/settings/security"
	"github.com/convrs/admin/pkg/settings/sso"
	"github.com/convrs/admin/pkg/signer"
)

// The routes.
const (
	LoginPath       = "/v1/auth/login"
	RefreshPath     = "/v1/auth/refresh"
	LogoutPath      = "/v1/auth/logout"
	SetPasswordPath = "/v1/auth/set-password"
)

// AccessTokenLifetime is the longest life of an access token. Fifteen minutes: a stolen
// token (a logged browser, a leaked header) is worth at most that after the session ends,
// and the dashboard refreshes about four times an hour while in use (one session read,
// one write and one KMS Sign each: about 30 ms).
const AccessTokenLifetime = 15 * time.Minute

// SuspensionActor is the actor of the audit entries the sign-in routes write on their
// own: a suspension after failed sign-ins (no person did it; the attempts may have been
// anyone's) and a password hash upgraded to the current parameters.
const SuspensionActor = "sign-in"

// Leeway is the clock skew allowed on a token's iat and exp.
const Leeway = 30 * time.Second

// Function is the sign-in function.
var Function = app.Function{Name: "signin",
	Needs: app.Needs{AgentSignIn: true, Orgs: app.Read, Signer: app.Write, Sessions: app.Write,
		ReadSettings: []string{security.AreaName, sso.AreaName, passwordpolicy.AreaName}},
	HTTP: func(api *httpx.API, d app.Deps) {
		Register(api, Deps{Agents: d.Agents, Sessions: d.Sessions, Signer: d.Signer, Orgs: d.Orgs,
			Issuer: d.Issuer, Audience: d.Audience, Now: d.Now,
			Security: settings.NewService(security.Area, d.Settings, d.Now),
			// Only the sign-in switches are read: the area without its certificate checks,
			// which would link crypto/x509 for nothing.
			SSO:    settings.NewService(settings.Area[sso.Settings]{Name: sso.AreaName, Defaults: sso.Defaults}, d.Settings, d.Now),
			Policy: settings.NewService(passwordpolicy.Area, d.Settings, d.Now),
			Limits: NewLimits(d.Now)})
	}}

// Deps are the ports the routes use.
type Deps struct {
	Agents           agents.Store
	Sessions         sessions.Store
	Signer           signer.Signer
	Orgs             orgs.Lookup
	Issuer, Audience string
	Now              func() time.Time
	Security         *settings.Service[security.Settings]
	SSO              *settings.Service[sso.Settings]
	Policy           *settings.Service[passwordpolicy.Settings]
	Limits           *Limits
}

// Limits are the per-container rate limiters of the public routes (package ratelimit
// says what AWS does in front of them).
type Limits struct {
	// Addresses limits every route per source address; Accounts limits login per email.
	Addresses, Accounts *ratelimit.Limiter
}

// The limiters' figures. Per address: a burst of 30, then one request every 2 seconds
// (30 a minute): an office of agents behind one NAT address signing in at nine o'clock
// gets through; a password sprayer gets 30 guesses a minute per container. Per account:
// a burst of 10, then one attempt every 6 seconds, which bounds the argon2id work one
// email can cost; guessing is bounded anyway by security.loginAttempts and the suspension.
// 10,000 keys each: about 4 MB at most.
var (
	addressLimit = ratelimit.Config{Rate: 0.5, Burst: 30, MaxKeys: 10_000}
	accountLimit = ratelimit.Config{Rate: 1.0 / 6, Burst: 10, MaxKeys: 10_000}
)

// NewLimits returns the limiters with the production figures; now may be nil.
func NewLimits(now func() time.Time) *Limits {
	return &Limits{Addresses: ratelimit.New(addressLimit, now), Accounts: ratelimit.New(accountLimit, now)}
}

// Token is the answer of login and refresh.
type Token struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	// MustChangePassword says the token only allows changing the password (its scope).
	MustChangePassword bool `json:"mustChangePassword"`
}

// Login is the body of POST /v1/auth/login.
type Login struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

// SetPassword is the body of POST /v1/auth/set-password.
type SetPassword struct {
	Token    *string `json:"token"`
	Password *string `json:"password"`
}

type service struct {
	Deps
	hashes chan struct{} // bounds the argon2id runs at once (each takes 46 MiB)
}

// maxHashes bounds the argon2id runs one process does at once: 4 x 46 MiB. A Lambda
// container serves one request at a time; the local server serves many.
const maxHashes = 4

// Register serves the sign-in routes.
func Register(api *httpx.API, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Limits == nil {
		d.Limits = NewLimits(d.Now)
	}
	d.Security.UseOrgs(d.Orgs)
	d.SSO.UseOrgs(d.Orgs)
	d.Policy.UseOrgs(d.Orgs)
	s := &service{Deps: d, hashes: make(chan struct{}, maxHashes)}
	api.Handle(http.MethodPost, LoginPath, auth.Public, s.login)
	api.Handle(http.MethodPost, RefreshPath, auth.Public, s.refresh)
	api.Handle(http.MethodPost, LogoutPath, auth.Public, s.logout)
	api.Handle(http.MethodPost, SetPasswordPath, auth.Public, s.setPassword)
}

// Answers that say no more than they must.
var (
	errCredentials = func() error {
		return problem.New(problem.Unauthenticated, "the email or password is wrong")
	}
	errDisabled = func() error {
		return problem.New(problem.Forbidden, "this account is disabled; ask an administrator to enable it")
	}
	errSession = func() error {
		return problem.New(problem.Unauthenticated, "the session has ended; sign in again")
	}
)

// allow applies the per-address limiter, and the per-account one when account is not "".
func (s *service) allow(r *http.Request, account string) error {
	if ok, wait := s.Limits.Addresses.Allow("addr " + sourceAddress(r)); !ok {
		return &problem.Error{Code: problem.Throttled, Message: "too many requests from this address; retry later", RetryAfter: wait}
	}
	if account == "" {
		return nil
	}
	if ok, wait := s.Limits.Accounts.Allow(account); !ok {
		return &problem.Error{Code: problem.Throttled, Message: "too many sign-in attempts for this account; retry later", RetryAfter: wait}
	}
	return nil
}

// sourceAddress is the caller's address: in Lambda the adapter sets RemoteAddr to API
// Gateway's sourceIp (no port); locally it is host:port.
func sourceAddress(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// hash runs f (an argon2id verify or hash) when a slot is free, or returns the context's
// error when the request ends first.
func (s *service) hash(ctx context.Context, f func()) error {
	select {
	case s.hashes <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashes }()
	f()
	return nil
}

// account is what sign-in knows of an email: the agent, its credentials, its
// organisation's rules. found is false for an email no live agent of a live organisation
// has.
type account struct {
	found    bool
	org      orgs.Org
	agent    agents.Agent
	creds    agents.Credentials
	security security.Settings
	sso      sso.Settings
	policy   agents.Policy
}

// lookup reads what login needs of email: its agent, credentials and organisation, and
// the organisation's effective security, SSO and password-policy settings (inherited
// down the tree: the organisation's record is read once and its path reused).
func (s *service) lookup(ctx context.Context, email string) (context.Context, account, error) {
	orgID, agentID, found, err := s.Agents.ByEmail(ctx, email)
	if err != nil || !found {
		return ctx, account{}, err
	}
	var acc account
	if ctx, acc.org, found, err = s.organisation(ctx, orgID); err != nil || !found {
		return ctx, account{}, err
	}
	if acc.agent, found, err = s.Agents.Get(ctx, orgID, agentID); err != nil || !found {
		return ctx, account{}, err
	}
	if acc.creds, _, err = s.Agents.Credentials(ctx, orgID, agentID); err != nil {
		return ctx, account{}, err
	}
	if acc.security, acc.sso, acc.policy, err = s.rules(ctx, orgID); err != nil {
		return ctx, account{}, err
	}
	acc.found = true
	return ctx, acc, nil
}

// organisation reads an organisation's record and returns ctx carrying it (so the
// settings reads reuse its path); found is false for a deleted organisation.
func (s *service) organisation(ctx context.Context, orgID string) (context.Context, orgs.Org, bool, error) {
	o, found, err := s.Orgs.Org(ctx, orgID)
	switch {
	case err != nil:
		return ctx, orgs.Org{}, false, err
	case !found:
		o = orgs.Root(orgID)
	case o.Deleted():
		return ctx, orgs.Org{}, false, nil
	}
	return orgs.WithOrg(ctx, o), o, true, nil
}

// rules reads the organisation's effective security, SSO and password-policy settings.
func (s *service) rules(ctx context.Context, orgID string) (security.Settings, sso.Settings, agents.Policy, error) {
	sec, err := s.Security.Read(ctx, orgID, settings.Eventual)
	if err != nil {
		return security.Settings{}, sso.Settings{}, agents.Policy{}, err
	}
	so, err := s.SSO.Read(ctx, orgID, settings.Eventual)
	if err != nil {
		return security.Settings{}, sso.Settings{}, agents.Policy{}, err
	}
	pol, err := s.Policy.Read(ctx, orgID, settings.Eventual)
	if err != nil {
		return security.Settings{}, sso.Settings{}, agents.Policy{}, err
	}
	return sec.Doc, so.Doc, pol.Doc.ForAgents(), nil
}

// decoyID names no organisation or agent (sign-in reads it for an unknown email).
const decoyID = "signin-decoy"

// decoy makes the reads a wrong password makes after its email was found, on ids that
// hold nothing: the organisation, the agent, the credentials, the three settings areas,
// and two more agent reads for the failure's count and suspension check (a write and a
// read there: in DynamoDB a round trip each, as these are). In AWS each is a few
// milliseconds, beside an argon2id run of about 0.2 s; without them an unknown email
// would answer some 30 ms sooner. Errors are ignored: only the time matters.
func (s *service) decoy(ctx context.Context) {
	ctx, _, _, _ = s.organisation(ctx, decoyID)
	_, _, _ = s.Agents.Get(ctx, decoyID, decoyID)
	_, _, _ = s.Agents.Credentials(ctx, decoyID, decoyID)
	_, _, _, _ = s.rules(ctx, decoyID)
	for range 2 {
		_, _, _ = s.Agents.Get(ctx, decoyID, decoyID)
	}
}

// ssoOnly reports whether the organisation refuses password sign-in.
func ssoOnly(s sso.Settings) bool { return s.Enabled && !s.AllowPasswordLogin }

func (s *service) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in Login
	if err := decode(r, &in); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var f problem.Fields
	email := ""
	if in.Email == nil || strings.TrimSpace(*in.Email) == "" {
		f.Add("email", "is required")
	} else if len(*in.Email) > 320 {
		f.Add("email", "must be at most 320 characters")
	} else {
		email = strings.ToLower(strings.TrimSpace(*in.Email))
	}
	if in.Password == nil || *in.Password == "" {
		f.Add("password", "is required")
	} else if len(*in.Password) > agents.MaxPasswordBytes {
		f.Add("password", "must be at most %d characters", agents.MaxPassword)
	}
	if err := f.Err(); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if err := s.allow(r, email); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	password := *in.Password
	ctx, acc, err := s.lookup(ctx, email)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	now := s.Now().UTC().Truncate(time.Second)
	switch {
	case !acc.found:
		// The same store round trips and argon2id work as a wrong password, so the
		// answer's timing does not tell whether the email exists.
		s.decoy(ctx)
		err = s.hash(ctx, func() { passwords.VerifyNothing(password) })
		if err == nil {
			err = errCredentials()
		}
	case ssoOnly(acc.sso):
		err = s.hash(ctx, func() { passwords.VerifyNothing(password) })
		if err == nil {
			err = problem.New(problem.Forbidden, "this organisation signs in with single sign-on: use it instead of a password")
		}
	case acc.agent.SuspendedAt != nil:
		err = suspended(acc.security.LoginAttempts)
	default:
		var rehash bool
		if rehash, err = s.check(ctx, acc, password, now); err == nil && rehash {
			s.rehash(ctx, acc, password, now)
		}
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	// The store refuses when a racing failure suspended the agent, or an admin disabled
	// it, while the password was being checked.
	switch err := s.Agents.LoginSucceeded(ctx, acc.org.ID, acc.agent.ID, now); {
	case errors.Is(err, agents.ErrSuspended):
		httpx.WriteError(w, r, suspended(acc.security.LoginAttempts))
		return
	case errors.Is(err, agents.ErrDisabled):
		httpx.WriteError(w, r, errDisabled())
		return
	case err != nil:
		httpx.WriteError(w, r, err)
		return
	}
	sess := sessions.Session{ID: sessions.NewID(), OrgID: acc.org.ID, AgentID: acc.agent.ID, CreatedAt: now, LastActivity: now, Version: 1}
	if err := s.Sessions.Create(ctx, sess); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.issue(w, r, sess, acc, now)
}

// check verifies the password of an agent that may sign in with one: a wrong one (or
// none set yet) counts a failure, and the failure that reaches security.loginAttempts
// suspends the agent (423); a disabled agent never signs in (403, told only to whoever
// knows the password; its failures are not counted, since it cannot sign in anyway).
//
// rehash reports, for the right password, that its hash was made with other parameters
// than passwords.DefaultParams (see rehash).
func (s *service) check(ctx context.Context, acc account, password string, now time.Time) (rehash bool, err error) {
	var ok bool
	var verr error
	err = s.hash(ctx, func() {
		if acc.creds.PasswordHash == "" {
			passwords.VerifyNothing(password)
			return
		}
		ok, rehash, verr = passwords.VerifyPassword(acc.creds.PasswordHash, password)
	})
	switch {
	case err != nil:
		return false, err
	case verr != nil:
		return false, verr // a damaged hash: a 500, logged without the hash
	case acc.agent.Status == agents.StatusDisabled:
		if ok {
			return false, errDisabled()
		}
		return false, errCredentials()
	case ok:
		return rehash, nil
	case acc.creds.PasswordHash == "":
		return false, errCredentials() // nothing to guess: an invitation not yet accepted
	}
	limit := acc.security.LoginAttempts
	entry, err := agents.AuditEntry(acc.org.ID, SuspensionActor, "suspended", &acc.agent, suspendedCopy(acc.agent, now), now, httpx.RequestID(ctx))
	if err != nil {
		return false, err
	}
	_, locked, err := s.Agents.LoginFailed(ctx, acc.org.ID, acc.agent.ID, limit, now, entry)
	switch {
	case err != nil:
		return false, err
	case locked:
		return false, suspended(limit)
	}
	return false, errCredentials()
}

// rehash replaces the hash of the password just verified, made with older parameters,
// by one under passwords.DefaultParams, so that stronger parameters reach every agent
// who signs in. The history is kept, the password is the same (nothing an admin sees
// changes but the version); the audit entry says the hash was upgraded. A failure (an
// admin's change racing it, the store) leaves the old hash for the next sign-in: it is
// logged, never the sign-in's error.
func (s *service) rehash(ctx context.Context, acc account, password string, now time.Time) {
	var hash string
	var err error
	if err = s.hash(ctx, func() { hash, err = passwords.HashPassword(password) }); err == nil {
		next := acc.agent
		next.Version, next.UpdatedAt = acc.agent.Version+1, now
		creds := acc.creds
		creds.PasswordHash = hash
		var entry audit.Entry
		if entry, err = agents.AuditEntry(acc.org.ID, SuspensionActor, "password-rehashed", &acc.agent, &next, now, httpx.RequestID(ctx)); err == nil {
			err = s.Agents.SetCredentials(ctx, acc.org.ID, next, creds, acc.creds, entry)
		}
	}
	if err != nil {
		slog.WarnContext(ctx, "signin: the password hash was not upgraded; the next sign-in tries again", "agentId", acc.agent.ID, "error", err.Error())
	}
}

// suspendedCopy is a as a suspension at now leaves it (for the audit entry).
func suspendedCopy(a agents.Agent, now time.Time) *agents.Agent {
	a.SuspendedAt = &now
	a.Version++
	return &a
}

// suspended is the 423 of a suspended agent.
func suspended(limit int) error {
	return problem.New(problem.Locked, "this account is suspended after %d failed sign-ins; ask an administrator to enable it or reset the password", limit)
}

// issue mints a token for the session and answers it: scope "password" when the agent
// must change the password (an admin set it, or it expired under the policy).
func (s *service) issue(w http.ResponseWriter, r *http.Request, sess sessions.Session, acc account, now time.Time) {
	must := acc.agent.MustChangePassword || agents.PasswordExpired(acc.agent, acc.policy, now)
	life := min(AccessTokenLifetime, time.Duration(acc.security.SessionTimeoutMinutes)*time.Minute)
	c := signer.Claims{Subject: acc.agent.ID, OrgID: acc.org.ID, Role: acc.agent.Role, Issuer: s.Issuer, Audience: s.Audience,
		SessionID: sess.ID, IssuedAt: now, ExpiresAt: now.Add(life)}
	if must {
		c.Scope = auth.ScopePassword
	}
	tok, err := signer.Mint(r.Context(), s.Signer, c)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, r, http.StatusOK, Token{Token: tok, ExpiresAt: c.ExpiresAt, MustChangePassword: must})
}

// bearer verifies the request's bearer token as one this deployment issued, expired
// ones included for up to sessions.MaxIdle (the session decides).
func (s *service) bearer(r *http.Request) (signer.Claims, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > signer.MaxTokenLen {
		return signer.Claims{}, problem.New(problem.Unauthenticated, "missing or invalid bearer token")
	}
	keys, err := s.Signer.PublicKeys(r.Context())
	if err != nil {
		return signer.Claims{}, err
	}
	c, err := signer.Verify(strings.TrimSpace(token), keys, signer.Expect{Issuer: s.Issuer, Audience: s.Audience,
		Now: s.Now(), Leeway: Leeway, ExpiredFor: sessions.MaxIdle})
	if err != nil {
		return signer.Claims{}, problem.Wrap(problem.Unauthenticated, err, "missing or invalid bearer token")
	}
	return c, nil
}

// maxTouches bounds the retries of a refresh racing another refresh of its session.
const maxTouches = 3

func (s *service) refresh(w http.ResponseWriter, r *http.Request) {
	if err := s.allow(r, ""); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	c, err := s.bearer(r)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	for try := 1; ; try++ {
		now := s.Now().UTC().Truncate(time.Second)
		sess, acc, err := s.live(ctx, c, now)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		err = s.Sessions.Touch(ctx, sess.ID, sess.Version, now)
		switch {
		case err == nil:
			sess.LastActivity, sess.Version = now, sess.Version+1
			s.issue(w, r, sess, acc, now)
			return
		case errors.Is(err, sessions.ErrConflict) && try < maxTouches:
			continue // another refresh of the session won: read it again
		case errors.Is(err, sessions.ErrConflict):
			err = &problem.Error{Code: problem.Conflict, Message: "the session is being refreshed elsewhere; retry", RetryAfter: time.Second}
		case errors.Is(err, sessions.ErrEnded):
			err = errSession()
		}
		httpx.WriteError(w, r, err)
		return
	}
}

// live returns the token's session and its agent's account when the session may go on:
// not ended, of the token's agent and organisation, active within the organisation's
// session timeout, the organisation not deleted and not SSO-only, the agent active and
// not suspended. A session found dead for any reason but its end is ended here, so that
// it stays dead (a re-enabled agent signs in again).
func (s *service) live(ctx context.Context, c signer.Claims, now time.Time) (sessions.Session, account, error) {
	sess, found, err := s.Sessions.Get(ctx, c.SessionID)
	switch {
	case err != nil:
		return sessions.Session{}, account{}, err
	case !found || sess.EndedAt != nil || sess.AgentID != c.Subject || sess.OrgID != c.OrgID:
		return sessions.Session{}, account{}, errSession()
	}
	end := func(e error) (sessions.Session, account, error) {
		if err := s.Sessions.End(ctx, sess.ID, now); err != nil {
			return sessions.Session{}, account{}, err
		}
		return sessions.Session{}, account{}, e
	}
	var acc account
	if ctx, acc.org, found, err = s.organisation(ctx, sess.OrgID); err != nil {
		return sessions.Session{}, account{}, err
	} else if !found {
		return end(errSession())
	}
	if acc.security, acc.sso, acc.policy, err = s.rules(ctx, sess.OrgID); err != nil {
		return sessions.Session{}, account{}, err
	}
	timeout := time.Duration(acc.security.SessionTimeoutMinutes) * time.Minute
	if now.Sub(sess.LastActivity) >= timeout {
		return end(problem.New(problem.Unauthenticated, "the session timed out after %d minutes without activity; sign in again", acc.security.SessionTimeoutMinutes))
	}
	if ssoOnly(acc.sso) {
		return end(problem.New(problem.Unauthenticated, "this organisation now signs in with single sign-on; sign in with it"))
	}
	if acc.agent, found, err = s.Agents.Get(ctx, sess.OrgID, sess.AgentID); err != nil {
		return sessions.Session{}, account{}, err
	}
	if !found || acc.agent.Status != agents.StatusActive || acc.agent.SuspendedAt != nil {
		return end(errSession())
	}
	acc.found = true
	return sess, acc, nil
}

func (s *service) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.allow(r, ""); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	c, err := s.bearer(r)
	if err == nil {
		err = s.Sessions.End(r.Context(), c.SessionID, s.Now().UTC().Truncate(time.Second))
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *service) setPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in SetPassword
	if err := decode(r, &in); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var f problem.Fields
	if in.Token == nil || *in.Token == "" {
		f.Add("token", "is required")
	}
	if in.Password == nil {
		f.Add("password", "is required")
	}
	if err := f.Err(); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if err := s.allow(r, ""); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	hash, err := agents.ParseToken(*in.Token)
	if err != nil {
		httpx.WriteError(w, r, agents.InvalidToken())
		return
	}
	ref, found, err := s.Agents.Invitation(ctx, hash)
	if err == nil && !found {
		err = agents.InvalidToken()
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	for try := 1; ; try++ {
		err := s.accept(ctx, ref, *in.Token, *in.Password)
		if errors.Is(err, agents.ErrConflict) && try < maxTouches {
			continue // the agent changed meanwhile (an admin's edit): read it again
		}
		if errors.Is(err, agents.ErrConflict) {
			err = agents.InvalidToken() // spent by a racing set-password
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
}

// accept sets the password of the invitation ref names, when token is still its pending
// invitation (single use: the write removes it on condition of the agent's version).
func (s *service) accept(ctx context.Context, ref agents.InvitationRef, token, password string) error {
	ctx, o, found, err := s.organisation(ctx, ref.OrgID)
	if err != nil {
		return err
	}
	if !found {
		return agents.InvalidToken()
	}
	a, found, err := s.Agents.Get(ctx, o.ID, ref.AgentID)
	if err != nil {
		return err
	}
	c, _, err := s.Agents.Credentials(ctx, o.ID, ref.AgentID)
	if err != nil {
		return err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	if !found || c.Invitation == nil {
		return agents.InvalidToken()
	}
	if err := c.Invitation.Check(token, now); err != nil {
		return err
	}
	pol, err := s.Policy.Read(ctx, o.ID, settings.Eventual)
	if err != nil {
		return err
	}
	var next agents.Agent
	var nextCreds agents.Credentials
	if err := s.hash(ctx, func() {
		next, nextCreds, err = passwords.AcceptPassword(a, c, password, pol.Doc.ForAgents(), now)
	}); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	next.Version, next.UpdatedAt = a.Version+1, now
	entry, err := agents.AuditEntry(o.ID, a.ID, "password-set", &a, &next, now, httpx.RequestID(ctx))
	if err != nil {
		return err
	}
	return s.Agents.SetCredentials(ctx, o.ID, next, nextCreds, c, entry)
}

// decode reads a JSON body strictly.
func decode(r *http.Request, dst any) error {
	data, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		return err
	}
	return httpx.Unmarshal(data, dst)
}
