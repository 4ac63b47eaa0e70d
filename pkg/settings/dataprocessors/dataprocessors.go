// Package dataprocessors is the data-processors settings area: whether the organisation's
// chats may be sent to the optional processors (machine translation of messages, the AI
// writing assistant, AI sentiment and summaries). Every change is audited with who made
// it and when, as for every area.
package dataprocessors

import (
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "data-processors"

// Settings is the data-processors document. Every processor is off until an admin turns
// it on.
type Settings struct {
	MessageTranslation    bool `json:"messageTranslation"`
	AIWritingAssistant    bool `json:"aiWritingAssistant"`
	AISentimentAndSummary bool `json:"aiSentimentAndSummary"`
}

// Defaults returns the settings of an organisation that never saved this area.
func Defaults() Settings { return Settings{} }

// Validate accepts every combination: the fields are independent switches.
func (s Settings) Validate() error { return nil }

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{Name: AreaName, Defaults: Defaults}

// Register serves the area's routes (admin only); now may be nil for time.Now.
func Register(api *httpx.API, store settings.Store, now func() time.Time) *settings.Service[Settings] {
	svc := settings.NewService(Area, store, now)
	svc.Register(api, auth.Permission(auth.PermSettingsManage))
	return svc
}

// Function is the data-processors Lambda function.
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.Now)
}}
