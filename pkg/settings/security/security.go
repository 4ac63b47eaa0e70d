// Package security is the security settings area: how many failed sign-ins in a row
// suspend an agent's account, and how long an idle session lasts before the agent is
// signed out. Sign-in (issue 12) reads it through a settings.Service of Area.
package security

import (
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "security"

// The ranges of the fields (API.md "Organisations and inheritance").
const (
	LoginAttemptsLow, LoginAttemptsHigh                 = 1, 20
	SessionTimeoutMinutesLow, SessionTimeoutMinutesHigh = 5, 1440
)

// Settings is the security document.
type Settings struct {
	// LoginAttempts is the number of consecutive failed sign-ins after which the agent's
	// account is suspended.
	LoginAttempts int `json:"loginAttempts"`
	// SessionTimeoutMinutes is the idle time after which a session ends.
	SessionTimeoutMinutes int `json:"sessionTimeoutMinutes"`
}

// Defaults returns the settings of an organisation that never saved this area: five
// attempts, an hour of idle time.
func Defaults() Settings { return Settings{LoginAttempts: 5, SessionTimeoutMinutes: 60} }

// Validate returns a problem.Invalid error naming every field out of its range.
func (s Settings) Validate() error {
	var f problem.Fields
	if s.LoginAttempts < LoginAttemptsLow || s.LoginAttempts > LoginAttemptsHigh {
		f.Add("loginAttempts", "must be between %d and %d", LoginAttemptsLow, LoginAttemptsHigh)
	}
	if s.SessionTimeoutMinutes < SessionTimeoutMinutesLow || s.SessionTimeoutMinutes > SessionTimeoutMinutesHigh {
		f.Add("sessionTimeoutMinutes", "must be between %d and %d (minutes)", SessionTimeoutMinutesLow, SessionTimeoutMinutesHigh)
	}
	return f.Err()
}

// SessionTimeout is SessionTimeoutMinutes as a duration.
func (s Settings) SessionTimeout() time.Duration {
	return time.Duration(s.SessionTimeoutMinutes) * time.Minute
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{Name: AreaName, Defaults: Defaults}

// Function is the security Lambda function.
var Function = app.SettingsArea(Area)
