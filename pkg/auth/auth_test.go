package auth

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/convrs/admin/pkg/problem"
)

func TestClaimsFromAPIGateway(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": "u9", "org_id": "acme", "role": "compliance", "permissions": "A B"},
		}},
	}}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Claims{}.Authenticate(r)
	if err != nil || p.Subject != "u9" || p.Role != "compliance" || len(p.Permissions) != 2 {
		t.Errorf("got %+v, %v", p, err)
	}
	// A raw Authorization header without authorizer claims is never trusted.
	raw := httptest.NewRequest("GET", "/", nil)
	raw.Header.Set("Authorization", "Bearer whatever")
	if _, err := (Claims{}).Authenticate(raw); !problem.Is(err, problem.Unauthenticated) {
		t.Errorf("raw header: got %v, want Unauthenticated", err)
	}
}

func TestPolicy(t *testing.T) {
	ctx := context.Background()
	agent, _ := Resolve(ctx, nil, Principal{Subject: "s", OrgID: "acme", Role: RoleAgent}, nil)
	admin, _ := Resolve(ctx, nil, Principal{Subject: "s", OrgID: "acme", Role: RoleAdmin}, nil)
	mid, _ := Resolve(ctx, nil, Principal{Subject: "s", OrgID: "org_mid", Role: RoleAdmin}, nil)
	tests := []struct {
		p    Principal
		pol  Policy
		path []string
		want problem.Code
	}{
		{agent, AnyRole, []string{"acme"}, ""},
		{agent, Permission(PermSettingsManage), []string{"acme"}, problem.Forbidden},
		{agent, Permission(PermNativeApp), []string{"acme"}, ""},
		{admin, Permission(PermSettingsManage), []string{"acme"}, ""},
		{agent, AnyRole, []string{"globex"}, problem.NotFound},
		{admin, Permission(PermSettingsManage), []string{"globex"}, problem.NotFound},
		{agent, AnyRole, []string{""}, problem.NotFound},
		{agent, AnyRole, nil, problem.NotFound},
		// A permission the token claims is not one the role has.
		{Principal{Subject: "s", OrgID: "acme", Role: "custom"}, Permission(PermSettingsManage), []string{"acme"}, problem.Forbidden},
		// The tree: a caller acts on its organisation's descendants with its own role,
		// never on an ancestor or a sibling.
		{admin, Permission(PermSettingsManage), []string{"acme", "org_mid", "org_leaf"}, ""},
		{agent, Permission(PermSettingsManage), []string{"acme", "org_mid"}, problem.Forbidden},
		{mid, AnyRole, []string{"acme", "org_mid", "org_leaf"}, ""},
		{mid, AnyRole, []string{"acme"}, problem.NotFound},
		{mid, AnyRole, []string{"acme", "org_sibling"}, problem.NotFound},
		{mid, AnyRole, []string{"acme", "org_sibling", "org_leaf"}, problem.NotFound},
	}
	for _, tc := range tests {
		err := tc.pol.Authorize(tc.p, tc.path)
		got := problem.Code("")
		if err != nil {
			got = problem.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("%s of %s %v on %q: got %q, want %q", tc.p.Role, tc.p.OrgID, tc.pol, tc.path, got, tc.want)
		}
	}
}

// fakeRoles is a custom-role lookup counting its reads.
type fakeRoles struct {
	perms map[string][]string
	reads int
	err   error
}

// RolePermissions finds the role in the organisation of the path nearest its end.
func (f *fakeRoles) RolePermissions(ctx context.Context, path []string, role string) ([]string, bool, error) {
	f.reads++
	for i := len(path) - 1; i >= 0; i-- {
		if p, ok := f.perms[path[i]+"/"+role]; ok {
			return p, ok, f.err
		}
	}
	return nil, false, f.err
}

// Resolve: predefined roles from the table without a read, custom roles with one (of
// any organisation of the caller's path), the token's permissions claim never.
func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	roles := &fakeRoles{perms: map[string][]string{"acme/role_1": {PermAuditRead}, "org_mid/role_3": {PermTagsManage}}}
	for _, tc := range []struct {
		p     Principal
		path  []string
		want  []string
		reads int
	}{
		{Principal{OrgID: "acme", Role: RoleCompliance, Permissions: []string{PermSettingsManage}}, nil, []string{PermAuditRead, PermAgentsRead, PermChatsRead}, 0},
		{Principal{OrgID: "acme", Role: "role_1", Permissions: []string{PermSettingsManage}}, nil, []string{PermAuditRead}, 1},
		{Principal{OrgID: "globex", Role: "role_1"}, nil, nil, 1},
		{Principal{OrgID: "acme", Role: "role_2", Permissions: []string{PermSettingsManage}}, nil, nil, 1},
		// Inherited: a role of an ancestor.
		{Principal{OrgID: "org_leaf", Role: "role_1"}, []string{"acme", "org_mid", "org_leaf"}, []string{PermAuditRead}, 1},
		{Principal{OrgID: "org_leaf", Role: "role_3"}, []string{"acme", "org_mid", "org_leaf"}, []string{PermTagsManage}, 1},
		// Never a descendant's role: the path ends at the caller's organisation.
		{Principal{OrgID: "acme", Role: "role_3"}, []string{"acme"}, nil, 1},
		// A path that is not the caller's is the caller's organisation alone.
		{Principal{OrgID: "globex", Role: "role_1"}, []string{"acme", "org_mid"}, nil, 1},
	} {
		roles.reads = 0
		got, err := Resolve(ctx, roles, tc.p, tc.path)
		if err != nil || !slices.Equal(got.Permissions, tc.want) || roles.reads != tc.reads {
			t.Errorf("%s/%s on %v: %v, %v after %d reads; want %v after %d", tc.p.OrgID, tc.p.Role, tc.path, got.Permissions, err, roles.reads, tc.want, tc.reads)
		}
	}
	roles.err = errors.New("table down")
	if _, err := Resolve(ctx, roles, Principal{OrgID: "acme", Role: "role_1"}, nil); err == nil {
		t.Error("a failed read resolved")
	}
	if got, err := Resolve(ctx, nil, Principal{OrgID: "acme", Role: "role_1", Permissions: []string{PermSettingsManage}}, nil); err != nil || got.Permissions != nil {
		t.Errorf("without a custom-role store: %v, %v", got.Permissions, err)
	}
}

func claimsRequest(t *testing.T, claims map[string]string) *http.Request {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: claims,
		}},
	}}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The HTTP API JWT authorizer passes an array claim flattened to "[a b]"; a space-separated
// string (dev tokens) gives the same list.
func TestListClaimShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		permissions string
		want        []string
	}{
		{"[settings.manage audit.read]", []string{"settings.manage", "audit.read"}},
		{"settings.manage audit.read", []string{"settings.manage", "audit.read"}},
		{"[NativeApp]", []string{"NativeApp"}},
		{"[]", nil},
		{"", nil},
	}
	for _, tc := range tests {
		p, err := Claims{}.Authenticate(claimsRequest(t, map[string]string{"sub": "u", "org_id": "acme", "role": "admin", "permissions": tc.permissions}))
		if err != nil {
			t.Errorf("permissions %q: %v", tc.permissions, err)
			continue
		}
		if !slices.Equal(p.Permissions, tc.want) {
			t.Errorf("permissions %q: got %q, want %q", tc.permissions, p.Permissions, tc.want)
		}
	}
}

// Claims are taken exactly as issued: surrounding white space, control characters and
// malformed organisation ids are refused, never trimmed or repaired.
func TestClaimsRefusedNotRepaired(t *testing.T) {
	t.Parallel()
	base := map[string]string{"sub": "u1", "org_id": "acme", "role": "admin"}
	tests := []struct {
		claim, value string
	}{
		{"sub", " u1"}, {"sub", "u1\n"}, {"org_id", "acme "}, {"org_id", "\tacme"}, {"role", "admin "},
		{"sub", "u\x001"}, {"role", "ad\x7fmin"}, {"permissions", " a b"},
		{"org_id", "a/b"}, {"org_id", "a\x00b"}, {"org_id", "a#b"}, {"org_id", "-acme"}, {"org_id", strings.Repeat("a", 65)},
		{"org_id", "acmé"}, {"org_id", ""}, {"sub", ""}, {"role", ""},
		{"permissions", "[" + strings.Repeat("p ", 65) + "]"},
	}
	for _, tc := range tests {
		claims := maps.Clone(base)
		claims[tc.claim] = tc.value
		if p, err := (Claims{}).Authenticate(claimsRequest(t, claims)); !problem.Is(err, problem.Unauthenticated) {
			t.Errorf("%s=%q: got %+v, %v; want Unauthenticated", tc.claim, tc.value, p, err)
		}
	}
}

func TestPolicyRefusesMalformedPathOrgs(t *testing.T) {
	t.Parallel()
	p := Principal{Subject: "s", OrgID: "acme", Role: RoleAdmin}
	for _, org := range []string{"acme/x", "acme\x00", "acme#", "ACME", "", "acme "} {
		if err := AnyRole.Authorize(p, []string{org}); !problem.Is(err, problem.NotFound) {
			t.Errorf("path org %q: got %v, want NotFound", org, err)
		}
	}
}

// A token of scope "password" (an agent who must change the password) is refused on
// every route but those that allow it, after the organisation check; any other scope
// value is a token this API did not issue.
func TestPasswordScope(t *testing.T) {
	p := Principal{Subject: "agent1", OrgID: "acme", Role: RoleAdmin, Scope: ScopePassword}
	p.Permissions, _ = PredefinedPermissions(RoleAdmin)
	for name, c := range map[string]struct {
		pol  Policy
		path []string
		want problem.Code
	}{
		"permission route":          {Permission(PermSettingsManage), []string{"acme"}, problem.Forbidden},
		"any role route":            {AnyRole, []string{"acme"}, problem.Forbidden},
		"authenticated route":       {Authenticated, nil, problem.Forbidden},
		"other organisation":        {AnyRole, []string{"globex"}, problem.NotFound},
		"own password change":       {AnyRole.AllowingPasswordScope(), []string{"acme"}, ""},
		"own password, other org":   {AnyRole.AllowingPasswordScope(), []string{"globex"}, problem.NotFound},
		"who am I":                  {Authenticated.AllowingPasswordScope(), nil, ""},
		"public route":              {Public, nil, ""},
		"descendant, password only": {AnyRole.AllowingPasswordScope(), []string{"acme", "acme-eu"}, ""},
	} {
		err := c.pol.Authorize(p, c.path)
		if c.want == "" && err != nil || c.want != "" && !problem.Is(err, c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	full := p
	full.Scope = ""
	if err := Permission(PermSettingsManage).Authorize(full, []string{"acme"}); err != nil {
		t.Errorf("the same principal without the scope: %v", err)
	}
	for _, v := range []string{"Password", "password ", "admin", "openid"} {
		if _, err := ParseScope(v); !problem.Is(err, problem.Unauthenticated) {
			t.Errorf("scope %q: got %v, want Unauthenticated", v, err)
		}
	}
	req := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": "u9", "org_id": "acme", "role": "admin", "scope": "password"},
		}},
	}}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := (Claims{}).Authenticate(r); err != nil || got.Scope != ScopePassword {
		t.Errorf("authorizer claims with scope: got %+v, %v", got, err)
	}
}
