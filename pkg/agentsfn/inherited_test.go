package agentsfn_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
)

// Custom roles are inherited: an agent of a sub-organisation may hold a custom role of
// any ancestor, given by the sub-organisation's admins or by an ancestor's; the role's
// holders count (in its own organisation) keeps it from being deleted while held; a
// sibling's role is not the sub-organisation's; the holder gets the role's permissions.
func TestInheritedCustomRoles(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	retail := s.SubOrg("acme", "Retail")
	uk := s.SubOrg(retail, "Retail UK")
	sibling := s.SubOrg("acme", "Wholesale")
	s.BusinessUnits(uk, "bu_uk")
	role := func(org, name string, perms ...string) string {
		t.Helper()
		return s.As(org, auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+org+"/roles", body(map[string]any{"name": name, "permissions": append([]string{}, perms...)})).
			Expect(t, 201).JSON(t)["id"].(string)
	}
	top := role("acme", "Regional leads", auth.PermAgentsRead)
	mid := role(retail, "Store leads", auth.PermAgentsRead, auth.PermChatsRead)
	own := role(uk, "Shift leads")
	other := role(sibling, "Wholesale leads", auth.PermAgentsRead)
	holders := func(org, id string) int {
		t.Helper()
		r, found, err := s.Deps.Roles.Get(context.Background(), org, id)
		if err != nil || !found {
			t.Fatalf("role %s of %s: %v %v", id, org, found, err)
		}
		return r.Holders
	}
	agent := func(email, role string) map[string]any {
		m := valid(email)
		m["role"], m["businessUnitId"] = role, "bu_uk"
		return m
	}
	// The grandparent's role, by the root's admin acting on the grandchild.
	a := s.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+uk+"/agents", body(agent("ivy@example.com", top))).Expect(t, 201).JSON(t)
	// The parent's role, by the sub-organisation's own admin.
	s.As(uk, auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+uk+"/agents", body(agent("jo@example.com", mid))).Expect(t, 201)
	if got := [3]int{holders("acme", top), holders(retail, mid), holders(uk, own)}; got != [3]int{1, 1, 0} {
		t.Errorf("holders after the creates: %v, want [1 1 0]", got)
	}
	// A sibling's role, and a descendant's for the parent, are not theirs.
	for _, c := range []struct{ org, role string }{{uk, other}, {retail, own}} {
		m := agent("kim@example.com", c.role)
		if c.org == retail {
			s.BusinessUnits(retail, "bu_retail")
			m["businessUnitId"] = "bu_retail"
		}
		r := s.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/"+c.org+"/agents", body(m)).Expect(t, 422)
		if !strings.Contains(fields(t, r)["role"], "no such role") {
			t.Errorf("role %s in %s: %s", c.role, c.org, r.Body)
		}
	}
	// Held: the ancestor cannot delete its role.
	s.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/acme/roles/"+top, nil).Expect(t, 409)
	// A change of role moves the holder between partitions.
	id := a["id"].(string)
	patch := func(role string) {
		t.Helper()
		s.As(uk, auth.RoleAdmin, http.MethodPatch, "/v1/orgs/"+uk+"/agents/"+id, body(map[string]any{"role": role}), "Content-Type", "application/merge-patch+json").Expect(t, 200)
	}
	patch(own)
	if got := [3]int{holders("acme", top), holders(retail, mid), holders(uk, own)}; got != [3]int{0, 1, 1} {
		t.Errorf("holders after the change to the own role: %v, want [0 1 1]", got)
	}
	patch(mid)
	if got := [3]int{holders("acme", top), holders(retail, mid), holders(uk, own)}; got != [3]int{0, 2, 0} {
		t.Errorf("holders after the change to the parent's role: %v, want [0 2 0]", got)
	}
	patch(auth.RoleAgent)
	if got := holders(retail, mid); got != 1 {
		t.Errorf("holders of the parent's role after the change to a predefined role: %d, want 1", got)
	}
	s.As("acme", auth.RoleAdmin, http.MethodDelete, "/v1/orgs/acme/roles/"+top, nil).Expect(t, 204)
	// The holder of an inherited role has its permissions, on its organisation and below.
	me := s.As(uk, mid, http.MethodGet, "/v1/me", nil).Expect(t, 200).JSON(t)
	perms, _ := me["permissions"].([]any)
	if !slices.Equal(perms, []any{auth.PermAgentsRead, auth.PermChatsRead}) {
		t.Errorf("GET /v1/me with the parent's role: %v", me)
	}
	s.As(uk, mid, http.MethodGet, "/v1/orgs/"+uk+"/agents", nil).Expect(t, 200)
	s.As(retail, mid, http.MethodGet, "/v1/orgs/"+uk+"/agents", nil).Expect(t, 200)
	s.As(uk, mid, http.MethodGet, "/v1/orgs/"+retail+"/agents", nil).Expect(t, 404)
	// Another tree's role of that id is nobody's here.
	s.As(sibling, mid, http.MethodGet, "/v1/orgs/"+sibling+"/agents", nil).Expect(t, 403)
}
