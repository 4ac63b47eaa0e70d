// Package passwordpolicy is the password-policy settings area: the rules an agent's
// password must follow (length, upper- and lower-case letters, digits, special
// characters), how long a password lasts, and whether earlier passwords may be reused;
// and the check route, which tells an admin what a candidate password breaks.
//
// How characters are counted is in evaluate.go (Count); the check route and its History
// port (the agents' password history, which reuse needs) are in check.go.
package passwordpolicy

import (
	"fmt"
	"strings"

	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "password-policy"

// The ranges of the fields (API.md).
const (
	MinLengthLow, MinLengthHigh   = 1, 30
	MaxLengthLow, MaxLengthHigh   = 1, 30
	MinCountLow, MinCountHigh     = 0, 10 // minMixedCase, minDigits, minSpecial
	ExpiryDaysLow, ExpiryDaysHigh = 1, 180
)

// Settings is the password-policy document.
type Settings struct {
	// Enforce applies the policy when agents set their own passwords. The check route
	// evaluates the policy either way.
	Enforce bool `json:"enforce"`
	// MinLength and MaxLength bound the length in characters (see Count).
	MinLength int `json:"minLength"`
	MaxLength int `json:"maxLength"`
	// MinMixedCase is the least number of upper-case letters, and separately of
	// lower-case letters, a password holds.
	MinMixedCase int `json:"minMixedCase"`
	// MinDigits is the least number of decimal digits.
	MinDigits int `json:"minDigits"`
	// MinSpecial is the least number of ASCII punctuation characters.
	MinSpecial int `json:"minSpecial"`
	// ExpiryDays is how long a password lasts while the policy is enforced.
	ExpiryDays int `json:"expiryDays"`
	// PreventReuse refuses a password the agent has used before.
	PreventReuse bool `json:"preventReuse"`
}

// Defaults returns the settings of an organisation that never saved this area.
func Defaults() Settings {
	return Settings{MinLength: 8, MaxLength: 30, MinMixedCase: 1, MinDigits: 1, ExpiryDays: 90}
}

// required is the least length the character rules alone call for.
func (s Settings) required() int { return 2*s.MinMixedCase + s.MinDigits + s.MinSpecial }

// sumRule names the cross-field sum in messages.
const sumRule = "2*minMixedCase + minDigits + minSpecial"

// Validate returns a problem.Invalid error listing every failing field. Each field must be
// in its range; then minLength <= maxLength, and 2*minMixedCase + minDigits + minSpecial
// <= maxLength (a password must be able to satisfy every rule at once). A cross-field rule
// is checked only when every field it names is in range, and its failure is reported on
// every field it names, so that a form can mark them all: on minLength "must be at most
// maxLength (M)" and on maxLength "must be at least minLength (N)"; on minMixedCase,
// minDigits and minSpecial "2*minMixedCase + minDigits + minSpecial (S) must be at most
// maxLength (M)" and on maxLength "must be at least 2*minMixedCase + minDigits +
// minSpecial (S)" (both clauses, joined, when maxLength breaks both rules).
func (s Settings) Validate() error {
	var f problem.Fields
	between := func(field string, v, lo, hi int) bool {
		if v < lo || v > hi {
			f.Add(field, "must be between %d and %d", lo, hi)
			return false
		}
		return true
	}
	minOK := between("minLength", s.MinLength, MinLengthLow, MinLengthHigh)
	maxOK := between("maxLength", s.MaxLength, MaxLengthLow, MaxLengthHigh)
	mixedOK := between("minMixedCase", s.MinMixedCase, MinCountLow, MinCountHigh)
	digitsOK := between("minDigits", s.MinDigits, MinCountLow, MinCountHigh)
	specialOK := between("minSpecial", s.MinSpecial, MinCountLow, MinCountHigh)
	between("expiryDays", s.ExpiryDays, ExpiryDaysLow, ExpiryDaysHigh)

	var maxNeeds []string // what maxLength must be at least
	if minOK && maxOK && s.MinLength > s.MaxLength {
		f.Add("minLength", "must be at most maxLength (%d)", s.MaxLength)
		maxNeeds = append(maxNeeds, fmt.Sprintf("at least minLength (%d)", s.MinLength))
	}
	if maxOK && mixedOK && digitsOK && specialOK && s.required() > s.MaxLength {
		msg := fmt.Sprintf("%s (%d) must be at most maxLength (%d)", sumRule, s.required(), s.MaxLength)
		for _, field := range []string{"minMixedCase", "minDigits", "minSpecial"} {
			f.Add(field, "%s", msg)
		}
		maxNeeds = append(maxNeeds, fmt.Sprintf("at least %s (%d)", sumRule, s.required()))
	}
	if len(maxNeeds) > 0 {
		f.Add("maxLength", "must be %s", strings.Join(maxNeeds, " and "))
	}
	return f.Err()
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{Name: AreaName, Defaults: Defaults}

// Function is the password-policy Lambda function. The check's History is the agents'
// stored credentials (passwords.History over Deps.Agents), so the function reads agents'
// credentials items and nothing else of agents (Needs.AgentCredentials).
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, Roles: app.Read, Orgs: app.Read, AgentCredentials: true},
	HTTP: func(api *httpx.API, d app.Deps) {
		Register(api, d.Settings, passwords.History{Store: d.Agents}, d.Now)
	}}
