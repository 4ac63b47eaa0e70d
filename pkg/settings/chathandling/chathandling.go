// Package chathandling is the chat-handling settings area: how many chats an agent takes
// at once and when chats are closed or moved back to the queue.
package chathandling

import (
	"github.com/convrs/admin/pkg/app"
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

// Function is the chat-handling Lambda function.
var Function = app.SettingsArea(Area)
