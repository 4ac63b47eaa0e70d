// Package nativeapp is the native-app settings area: who may use the Convrs mobile app
// for the organisation: nobody, every agent, or the agents whose role has the NativeApp
// permission.
package nativeapp

import (
	"slices"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "native-app"

// Access values.
const (
	AccessNone       = "none"
	AccessEveryone   = "everyone"
	AccessPermission = "permission" // agents whose role has auth.PermNativeApp
)

// Accesses lists the access values in the order the API documents them.
var Accesses = []string{AccessNone, AccessEveryone, AccessPermission}

// Settings is the native-app document.
type Settings struct {
	Access string `json:"access"`
}

// Defaults returns the settings of an organisation that never saved this area: every
// agent may use the app.
func Defaults() Settings { return Settings{Access: AccessEveryone} }

// Validate returns a problem.Invalid error when access is not one of Accesses.
func (s Settings) Validate() error {
	var f problem.Fields
	if !slices.Contains(Accesses, s.Access) {
		f.Add("access", "must be none, everyone or permission")
	}
	return f.Err()
}

// Allows reports whether an agent whose role has the given permissions may use the app.
// (Disabled agents never may; the agents feature checks that.)
func (s Settings) Allows(permissions []string) bool {
	switch s.Access {
	case AccessEveryone:
		return true
	case AccessPermission:
		return slices.Contains(permissions, auth.PermNativeApp)
	}
	return false
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{Name: AreaName, Defaults: Defaults}

// Function is the native-app Lambda function.
var Function = app.SettingsArea(Area)
