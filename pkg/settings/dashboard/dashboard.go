// Package dashboard is the dashboard settings area of client organisations: the
// dashboard's language and layout, chat handoff and its options, canned responses, and
// the billing switch and state.
//
// Like every area it inherits down the organisation tree, so an organisation above its
// clients sets what they start from, and its admins may lock fields (billing, say) that
// the clients' own admins must not change. Billing is otherwise writable with
// settings.manage, as every field of every area is: API.md makes no field of it
// read-only.
package dashboard

import (
	"slices"

	"github.com/convrs/admin/pkg/agents/langtag"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "dashboard"

// Layouts, in the order the API documents them.
const (
	LayoutVertical   = "vertical"
	LayoutHorizontal = "horizontal"
)

// Layouts lists the layout values.
var Layouts = []string{LayoutVertical, LayoutHorizontal}

// Billing states, in the order the API documents them.
const (
	BillingNone     = "none"
	BillingTrial    = "trial"
	BillingActive   = "active"
	BillingPastDue  = "past_due"
	BillingCanceled = "canceled"
)

// BillingStates lists the billing states.
var BillingStates = []string{BillingNone, BillingTrial, BillingActive, BillingPastDue, BillingCanceled}

// Settings is the dashboard document.
type Settings struct {
	// Language is the dashboard's language: one BCP 47 tag in canonical form.
	Language string `json:"language"`
	// Layout is vertical or horizontal.
	Layout string `json:"layout"`
	// Handoff is the handoff of chats and its options.
	Handoff Handoff `json:"handoff"`
	// CannedResponses offers the organisation's canned responses in the dashboard.
	CannedResponses bool `json:"cannedResponses"`
	// Billing is whether billing applies to the organisation, and its state.
	Billing Billing `json:"billing"`
}

// Handoff is the handoff switch and its two options, which need it on.
type Handoff struct {
	Enabled      bool `json:"enabled"`
	SmartHandoff bool `json:"smartHandoff"`
	ShowMessages bool `json:"showMessages"`
}

// Billing is the billing switch and state.
type Billing struct {
	Enabled bool   `json:"enabled"`
	State   string `json:"state"`
}

// Defaults returns the settings of an organisation that never saved this area: English,
// vertical, everything off, billing state none.
func Defaults() Settings {
	return Settings{Language: "en", Layout: LayoutVertical, Billing: Billing{State: BillingNone}}
}

// Normalize puts a valid language tag in canonical form ("pt-br" is pt-BR) and leaves an
// invalid one for Validate to report. Layout and billing state are taken exactly as
// sent. It runs before Validate on every write.
func (s *Settings) Normalize() {
	if tag, msg := langtag.Parse(s.Language); msg == "" {
		s.Language = tag
	}
}

// Messages of Validate.
const (
	msgLayout  = "must be vertical or horizontal"
	msgState   = "must be none, trial, active, past_due or canceled"
	msgNeedsOn = "requires handoff.enabled to be true"
)

// Validate returns a problem.Invalid error naming every failing field: language not one
// language tag (langtag.Parse's messages), layout or billing.state not one of their
// values, and handoff.smartHandoff or handoff.showMessages on while handoff.enabled is
// off.
func (s Settings) Validate() error {
	var f problem.Fields
	if _, msg := langtag.Parse(s.Language); msg != "" {
		f.Add("language", "%s", msg)
	}
	if !slices.Contains(Layouts, s.Layout) {
		f.Add("layout", msgLayout)
	}
	if !s.Handoff.Enabled {
		if s.Handoff.SmartHandoff {
			f.Add("handoff.smartHandoff", msgNeedsOn)
		}
		if s.Handoff.ShowMessages {
			f.Add("handoff.showMessages", msgNeedsOn)
		}
	}
	if !slices.Contains(BillingStates, s.Billing.State) {
		f.Add("billing.state", msgState)
	}
	return f.Err()
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{
	Name:     AreaName,
	Defaults: Defaults,
	Prepare:  func(_ Settings, next *Settings) { next.Normalize() },
}

// Function is the dashboard Lambda function.
var Function = app.SettingsArea(Area)
