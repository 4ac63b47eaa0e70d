package auth

import "slices"

// Permissions, as API.md "Permissions and roles" names them.
const (
	PermSettingsManage      = "settings.manage"
	PermAuditRead           = "audit.read"
	PermAgentsRead          = "agents.read"
	PermAgentsManage        = "agents.manage"
	PermRolesManage         = "roles.manage"
	PermBusinessUnitsManage = "business-units.manage"
	PermTagsManage          = "tags.manage"
	PermChatsRead           = "chats.read"
	PermChatsManage         = "chats.manage"
	PermSuborgsManage       = "suborgs.manage"
	PermNativeApp           = "NativeApp"
)

// AllPermissions lists every permission in catalogue order.
var AllPermissions = []string{
	PermSettingsManage, PermAuditRead, PermAgentsRead, PermAgentsManage, PermRolesManage,
	PermBusinessUnitsManage, PermTagsManage, PermChatsRead, PermChatsManage, PermSuborgsManage,
	PermNativeApp,
}

var descriptions = map[string]string{
	PermSettingsManage:      "read and write every settings area, the WebChat secret",
	PermAuditRead:           "the audit log",
	PermAgentsRead:          "list and read agents, the agent status board",
	PermAgentsManage:        "create, edit, disable, enable agents; reset passwords; force password changes",
	PermRolesManage:         "custom roles",
	PermBusinessUnitsManage: "business units",
	PermTagsManage:          "tags and tag groups",
	PermChatsRead:           "chat lists, chat detail, the queue",
	PermChatsManage:         "close or transfer a chat, unstick users",
	PermSuborgsManage:       "create and delete sub-organisations",
	PermNativeApp:           "use the native app when native-app access is permission",
}

// Describe says what a permission grants (API.md's catalogue), "" for an unknown one.
func Describe(perm string) string { return descriptions[perm] }

// predefined maps each predefined role to its permissions (API.md).
var predefined = map[string][]string{
	RoleAdmin:         AllPermissions,
	RoleAgentManager:  {PermAgentsRead, PermChatsRead, PermChatsManage, PermTagsManage, PermNativeApp},
	RoleClientManager: {PermAgentsRead, PermChatsRead, PermSuborgsManage},
	RoleMarketing:     {PermTagsManage, PermChatsRead},
	RoleCompliance:    {PermAuditRead, PermAgentsRead, PermChatsRead},
	RoleAgent:         {PermNativeApp},
}

// PredefinedPermissions returns the permissions of a predefined role, in catalogue order,
// and whether role is predefined. The caller must not change the slice.
func PredefinedPermissions(role string) ([]string, bool) {
	perms, ok := predefined[role]
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(perms))
	for _, p := range AllPermissions {
		if slices.Contains(perms, p) {
			out = append(out, p)
		}
	}
	return out, true
}
