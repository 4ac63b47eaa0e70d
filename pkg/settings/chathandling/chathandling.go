// Package chathandling is the chat-handling settings area: how many chats an agent takes
// at once and when chats are closed or moved back to the queue.
package chathandling

import (
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "chat-handling"

// Settings is the chat-handling document.
type Settings struct {
	// MaxChatsPerAgent is the number of concurrent chats at which an agent is busy.
	MaxChatsPerAgent int `json:"maxChatsPerAgent"`
	// MoveToQueueWhenAgentOffline reallocates a chat whose agent is offline.
	MoveToQueueWhenAgentOffline bool `json:"moveToQueueWhenAgentOffline"`
	// AutoCloseAfterDays closes chats inactive this many days; 0 never.
	AutoCloseAfterDays int `json:"autoCloseAfterDays"`
	// MoveToQueueAfterNoLoginDays queues chats of agents who have not logged in this many
	// days; 0 keeps chats with the agent.
	MoveToQueueAfterNoLoginDays int `json:"moveToQueueAfterNoLoginDays"`
}

// Defaults returns the settings of an organisation that never saved this area.
func Defaults() Settings {
	return Settings{MaxChatsPerAgent: 3}
}

// Validate returns a problem.Invalid error listing every field out of range.
func (s Settings) Validate() error {
	var f problem.Fields
	if s.MaxChatsPerAgent < 1 || s.MaxChatsPerAgent > 9 {
		f.Add("maxChatsPerAgent", "must be between 1 and 9")
	}
	if s.AutoCloseAfterDays < 0 || s.AutoCloseAfterDays > 60 {
		f.Add("autoCloseAfterDays", "must be between 0 and 60 (0 = never)")
	}
	if s.MoveToQueueAfterNoLoginDays < 0 || s.MoveToQueueAfterNoLoginDays > 60 {
		f.Add("moveToQueueAfterNoLoginDays", "must be between 0 and 60 (0 = keep chats with the agent)")
	}
	return f.Err()
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{Name: AreaName, Defaults: Defaults}

// Register serves the area's routes (admin only); now may be nil for time.Now.
func Register(api *httpx.API, store settings.Store, now func() time.Time) *settings.Service[Settings] {
	svc := settings.NewService(Area, store, now)
	svc.Register(api, auth.Permission(auth.PermSettingsManage))
	return svc
}

// Function is the chat-handling Lambda function.
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.Now)
}}
