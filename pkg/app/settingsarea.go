package app

import (
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/settings"
)

// SettingsArea is the function of a settings area that serves its routes and nothing
// else: named after the area, writing its documents (every write audited), resolving
// custom roles and reading the organisation tree, as every function with organisation
// routes that need a permission does; the routes need settings.manage.
func SettingsArea[T settings.Doc](area settings.Area[T]) Function {
	return Function{Name: area.Name, Needs: Needs{Settings: []string{area.Name}, Roles: Read, Orgs: Read},
		HTTP: func(api *httpx.API, d Deps) {
			settings.NewService(area, d.Settings, d.Now).Register(api, auth.Permission(auth.PermSettingsManage))
		}}
}
