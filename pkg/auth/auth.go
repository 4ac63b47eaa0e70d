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
}

// Authenticator extracts the caller of a request. It returns a problem.Unauthenticated
// error when the request carries no acceptable credentials.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// fromClaims builds a principal from raw claim values and checks that the claims every
// route relies on are present and sane.
func fromClaims(sub, org, role, permissions string) (Principal, error) {
	p := Principal{Subject: strings.TrimSpace(sub), OrgID: strings.TrimSpace(org), Role: strings.TrimSpace(role)}
	if p.Subject == "" || p.OrgID == "" || p.Role == "" {
		return Principal{}, problem.New(problem.Unauthenticated, "token lacks the sub, org_id or role claim")
	}
	if len(p.Subject) > maxClaimLength || len(p.OrgID) > maxClaimLength || len(p.Role) > maxClaimLength || len(permissions) > maxClaimLength*maxPermissionCount {
		return Principal{}, problem.New(problem.Unauthenticated, "token claims are too long")
	}
	p.Permissions = strings.Fields(permissions)
	return p, nil
}

// Policy says which roles may use a route. An empty Roles list means any role of the org.
type Policy struct {
	Roles []string
}

// AnyRole allows every authenticated member of the organisation.
var AnyRole = Policy{}

// Roles allows only the listed roles.
func Roles(roles ...string) Policy { return Policy{Roles: roles} }

// Authorize checks p against the path organisation orgID: an organisation outside the
// caller's tree is problem.NotFound (its existence is not revealed), a role the policy
// does not allow is problem.Forbidden.
func (pol Policy) Authorize(p Principal, orgID string) error {
	if orgID == "" || p.OrgID != orgID {
		return problem.New(problem.NotFound, "organisation not found")
	}
	if len(pol.Roles) > 0 && !slices.Contains(pol.Roles, p.Role) {
		return problem.New(problem.Forbidden, "role %q may not do this", p.Role)
	}
	return nil
}
