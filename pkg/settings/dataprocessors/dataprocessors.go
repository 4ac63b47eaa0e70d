// Package dataprocessors is the data-processors settings area: whether the organisation's
// chats may be sent to the optional processors (machine translation of messages, the AI
// writing assistant, AI sentiment and summaries). Every change is audited with who made
// it and when, as for every area.
package dataprocessors

import (
	"github.com/convrs/admin/pkg/app"
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

// Function is the data-processors Lambda function.
var Function = app.SettingsArea(Area)
