package auth

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/convrs/admin/pkg/problem"
)

// Claims authenticates requests that came through the API Gateway HTTP API JWT
// authorizer: the authorizer has verified the token, and its claims are in the request
// context put there by the Lambda adapter. A raw Authorization header is never trusted.
type Claims struct{}

var _ Authenticator = Claims{}

// Authenticate returns problem.Unauthenticated when the request carries no authorizer
// claims (for example when it did not come through API Gateway).
func (Claims) Authenticate(r *http.Request) (Principal, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Principal{}, problem.New(problem.Unauthenticated, "missing or invalid bearer token")
	}
	c := rc.Authorizer.JWT.Claims
	p, err := FromClaims(c["sub"], c["org_id"], c["role"], c["permissions"])
	if err != nil {
		return Principal{}, err
	}
	if p.Scope, err = ParseScope(c["scope"]); err != nil {
		return Principal{}, err
	}
	return p, nil
}
