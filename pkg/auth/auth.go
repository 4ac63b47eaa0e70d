// Package auth turns a request into a Principal (who is calling, for which organisation,
// with which role) and decides whether that principal may act on a path organisation.
//
// Two authenticators yield the same Principal: Claims reads the claims that the API
// Gateway JWT authorizer has already verified (Lambda), and DevKeys verifies RS256 bearer
// tokens signed by the local development key (cmd/local). Neither logs a token.
package auth

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Predefined roles.
const (
	RoleAdmin          = "admin"
	RoleAgentManager   = "agent_manager"
	RoleClientManager  = "client_manager"
	RoleMarketing      = "marketing"
	RoleCompliance     = "compliance"
	RoleAgent          = "agent"
	maxClaimLength     = 256
	maxPermissionCount = 64
)

// Principal is the authenticated caller.
type Principal struct {
	Subject     string   `json:"sub"`
	OrgID       string   `json:"org_id"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions,omitempty"`
	// Scope is "" (the role's permissions apply) or ScopePassword (the token only allows
	// changing the password: routes whose policy AllowsPasswordScope).
	Scope string `json:"scope,omitempty"`
}

// ScopePassword is the scope claim of a token issued to an agent who must change the
// password (it expired, or an admin set it): such a token only allows the routes whose
// policy AllowsPasswordScope (POST /v1/orgs/{orgId}/agents/me/password, GET /v1/me).
const ScopePassword = "password"

// ParseScope reads a scope claim: "" or ScopePassword; anything else is
// problem.Unauthenticated (a token this deployment did not issue).
func ParseScope(v string) (string, error) {
	if v != "" && v != ScopePassword {
		return "", problem.New(problem.Unauthenticated, "token scope claim is not one this API issues")
	}
	return v, nil
}

// Authenticator extracts the caller of a request. It returns a problem.Unauthenticated
// error when the request carries no acceptable credentials.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

type ctxKey struct{}

type scopeKey struct{}

// scope is the mutable per-request slot the HTTP front puts in a request's context once
// (NewScope), so that it can record the caller after authenticating without copying the
// request again.
type scope struct {
	p         Principal
	ok        bool
	requestID string
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// NewScope returns ctx with an empty principal slot for SetPrincipal, carrying the
// request's id (read back with ScopeRequestID): one context value for both, since every
// request needs them.
func NewScope(ctx context.Context, requestID string) context.Context {
	return context.WithValue(ctx, scopeKey{}, &scope{requestID: requestID})
}

// ScopeRequestID returns the request id NewScope put in ctx, or "".
func ScopeRequestID(ctx context.Context) string {
	if s, ok := ctx.Value(scopeKey{}).(*scope); ok {
		return s.requestID
	}
	return ""
}

// SetPrincipal records p in the slot NewScope put in ctx; it reports false when ctx has no
// slot. Only the request's own goroutine may call it, before the handler runs.
func SetPrincipal(ctx context.Context, p Principal) bool {
	s, ok := ctx.Value(scopeKey{}).(*scope)
	if ok {
		s.p, s.ok = p, true
	}
	return ok
}

// FromContext returns the principal stored by WithPrincipal or SetPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	if p, ok := ctx.Value(ctxKey{}).(Principal); ok {
		return p, true
	}
	if s, ok := ctx.Value(scopeKey{}).(*scope); ok && s.ok {
		return s.p, true
	}
	return Principal{}, false
}

// FromClaims builds a principal from raw claim values as the authorizer or the dev-token
// check passed them, and refuses claims that routes cannot rely on: a missing claim, one
// with leading or trailing white space (refused rather than trimmed: a token that says
// " acme" was not issued for "acme"), control characters, an org_id that is not a valid
// organisation id (package ids), or claims that are too long.
func FromClaims(sub, org, role, permissions string) (Principal, error) {
	if sub == "" || org == "" || role == "" {
		return Principal{}, problem.New(problem.Unauthenticated, "token lacks the sub, org_id or role claim")
	}
	if len(sub) > maxClaimLength || len(role) > maxClaimLength || len(permissions) > maxClaimLength*maxPermissionCount {
		return Principal{}, problem.New(problem.Unauthenticated, "token claims are too long")
	}
	if !cleanClaim(sub) || !cleanClaim(role) || !cleanClaim(permissions) {
		return Principal{}, problem.New(problem.Unauthenticated, "token claims must not have surrounding white space or control characters")
	}
	if !ids.Valid(org) {
		return Principal{}, problem.New(problem.Unauthenticated, "token org_id claim is not a valid organisation id")
	}
	perms, err := parseList(permissions)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Subject: sub, OrgID: org, Role: role, Permissions: perms}, nil
}

// cleanClaim reports whether a claim value has no leading or trailing white space and no
// control characters.
func cleanClaim(s string) bool {
	if strings.TrimSpace(s) != s {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// parseList reads a list claim. Dev tokens carry a space-separated string ("a b"); the API
// Gateway HTTP API JWT authorizer flattens a JSON array claim into "[a b]" (elements joined
// by spaces inside brackets). Both shapes give the same list; more than
// maxPermissionCount elements is refused.
func parseList(v string) ([]string, error) {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		v = v[1 : len(v)-1]
	}
	list := strings.Fields(v)
	if len(list) > maxPermissionCount {
		return nil, problem.New(problem.Unauthenticated, "token lists too many permissions")
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// Policy says who may use a route: nobody needs a token for a Public route; any caller
// with a valid token may use an Authenticated route (one with no organisation in its path,
// such as GET /v1/me); otherwise the caller's organisation must be the path's and, when
// the policy names a permission, the caller's role must have it (API.md "Permissions and
// roles"). AnyRole is any member of the organisation.
type Policy struct {
	// Permission, when set, is the permission the caller's role must have.
	Permission string
	public     bool
	anyOrg     bool
	// passwordScope lets a token of scope ScopePassword use the route.
	passwordScope bool
}

// AnyRole allows every authenticated member of the path's organisation.
var AnyRole = Policy{}

// Public marks a route that needs no token (health checks, WebChat identify, sign-in,
// published keys). The template may leave the JWT authorizer off only for such routes.
var Public = Policy{public: true}

// Authenticated allows any caller with a valid token, whatever its organisation; for
// routes whose path names no organisation.
var Authenticated = Policy{anyOrg: true}

// Permission allows the members of the path's organisation whose role has perm.
func Permission(perm string) Policy { return Policy{Permission: perm} }

// AllowingPasswordScope returns pol that also lets a token of scope ScopePassword (an
// agent who must change the password) use the route.
func (pol Policy) AllowingPasswordScope() Policy {
	pol.passwordScope = true
	return pol
}

// AllowsPasswordScope reports whether a token of scope ScopePassword may use the route.
func (pol Policy) AllowsPasswordScope() bool { return pol.passwordScope }

// IsPublic reports whether the route needs no token.
func (pol Policy) IsPublic() bool { return pol.public }

// String describes the policy for logs and tests.
func (pol Policy) String() string {
	switch {
	case pol.public:
		return "public"
	case pol.anyOrg:
		return "authenticated"
	case pol.Permission != "":
		return "permission " + pol.Permission
	}
	return "any role of the organisation"
}

// IsAuthenticated reports whether the policy is Authenticated (any caller with a token,
// whatever its organisation).
func (pol Policy) IsAuthenticated() bool { return pol.anyOrg }

// NeedsPermission reports whether the policy names a permission (so the caller's role
// must be resolved before Authorize).
func (pol Policy) NeedsPermission() bool { return pol.Permission != "" }

// Authorize checks p against the path organisation, whose path in the tree (root first,
// the organisation last; [orgId] for a root) is path: a malformed or empty path, or one
// the caller's organisation is not on (a sibling, an ancestor, another tree) is
// problem.NotFound (its existence is not revealed); a caller whose role lacks the
// policy's permission is problem.Forbidden. A caller acts on its own organisation and
// every descendant, with its own role. p.Permissions must be the role's permissions as
// Resolve gives them. Public and Authenticated routes have no organisation to check.
//
// A principal of scope ScopePassword is problem.Forbidden on every route whose policy
// does not AllowsPasswordScope, after the organisation check (so another organisation's
// route stays 404).
func (pol Policy) Authorize(p Principal, path []string) error {
	if pol.public {
		return nil
	}
	if pol.anyOrg {
		return pol.scope(p)
	}
	if len(path) == 0 || !ids.Valid(path[len(path)-1]) || !slices.Contains(path, p.OrgID) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	if err := pol.scope(p); err != nil {
		return err
	}
	if pol.Permission != "" && !slices.Contains(p.Permissions, pol.Permission) {
		return problem.New(problem.Forbidden, "role %q lacks the %s permission", p.Role, pol.Permission)
	}
	return nil
}

// scope refuses a principal of scope ScopePassword on a route that does not allow it.
func (pol Policy) scope(p Principal) error {
	if p.Scope != "" && !pol.passwordScope {
		return problem.New(problem.Forbidden, "your password must be changed before anything else: POST /v1/orgs/%s/agents/me/password, then refresh the session", p.OrgID)
	}
	return nil
}

// Roles finds the permissions of the custom roles of organisations (package roles keeps
// them). Custom roles are inherited: the role may belong to any organisation of path (an
// organisation's path in the tree, root first). A role that does not exist there is not
// found, which gives no permissions.
type Roles interface {
	RolePermissions(ctx context.Context, path []string, roleID string) (perms []string, found bool, err error)
}

// Resolve sets p.Permissions to those of p's role: a predefined role's from the table of
// API.md at no cost, a custom role's from roles (one read) when some organisation of path
// holds it, none for a role that exists nowhere or when roles is nil. path is the path of
// p's own organisation (root first, p.OrgID last); a nil path, or one that does not end
// in p.OrgID, is taken as [p.OrgID] (a root, or a deployment without sub-organisations).
// The token's own permissions claim is not consulted. The slice must not be changed.
func Resolve(ctx context.Context, roles Roles, p Principal, path []string) (Principal, error) {
	if perms, ok := PredefinedPermissions(p.Role); ok {
		p.Permissions = perms
		return p, nil
	}
	p.Permissions = nil
	if roles == nil {
		return p, nil
	}
	if len(path) == 0 || path[len(path)-1] != p.OrgID {
		path = []string{p.OrgID}
	}
	perms, found, err := roles.RolePermissions(ctx, path, p.Role)
	if err != nil {
		return p, err
	}
	if found {
		p.Permissions = perms
	}
	return p, nil
}
