package agentsfn

import (
	"net/http"
	"slices"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/settings/nativeapp"
)

// NativeAppAccess is the answer of GET .../agents/{agentId}/native-app-access.
type NativeAppAccess struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// nativeAppAccess says whether the agent may use the native app: never when disabled;
// else as the organisation's native-app setting says (none, everyone, or the agents
// whose role, predefined or custom, has the NativeApp permission).
func (s *service) nativeAppAccess(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	a, err := s.load(ctx, org, r.PathValue("agentId"))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	access, err := s.NativeApp(ctx, org)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	out := NativeAppAccess{}
	switch {
	case a.Status == agents.StatusDisabled:
		out.Reason = "the agent is disabled"
	case access == nativeapp.AccessNone:
		out.Reason = "native-app access is none: nobody may use the app"
	case access == nativeapp.AccessEveryone:
		out.Allowed, out.Reason = true, "native-app access is everyone"
	default:
		// The role may be a custom role of an ancestor: the organisation's path is in the
		// context (the HTTP front read it).
		path, _ := orgs.PathFrom(ctx, org)
		p, err := auth.Resolve(ctx, roles.Resolver{Store: s.Roles}, auth.Principal{OrgID: org, Role: a.Role}, path)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if slices.Contains(p.Permissions, auth.PermNativeApp) {
			out.Allowed, out.Reason = true, "native-app access is permission, and the role "+a.Role+" has NativeApp"
		} else {
			out.Reason = "native-app access is permission, and the role " + a.Role + " lacks NativeApp"
		}
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}
