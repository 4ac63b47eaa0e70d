// Package locale is the locale settings area: the organisation's language (one BCP 47
// tag) and time zone (one IANA zone), the defaults for what it shows and when.
//
// Languages are read as agents' languages are (pkg/agents/langtag: canonical, "pt-br" is
// pt-BR) and zones as office hours' are (pkg/timezone: spelt as the embedded zone
// database spells it, "europe/london" is Europe/London); both are saved in that form.
package locale

import (
	"github.com/convrs/admin/pkg/agents/langtag"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/timezone"
)

// AreaName is the URL segment and audit area.
const AreaName = "locale"

// Settings is the locale document.
type Settings struct {
	// Language is one BCP 47 language tag in canonical form, such as en or pt-BR.
	Language string `json:"language"`
	// TimeZone is an IANA time zone name, such as Europe/London.
	TimeZone string `json:"timeZone"`
}

// Defaults returns the settings of an organisation that never saved this area: English,
// UTC.
func Defaults() Settings { return Settings{Language: "en", TimeZone: "UTC"} }

// Normalize puts a valid language tag in canonical form and spells a valid zone as the
// zone database does; it leaves invalid values for Validate to report. It runs before
// Validate on every write.
func (s *Settings) Normalize() {
	if tag, msg := langtag.Parse(s.Language); msg == "" {
		s.Language = tag
	}
	if zone, msg := timezone.Parse(s.TimeZone); msg == "" {
		s.TimeZone = zone
	}
}

// Validate returns a problem.Invalid error naming every field that is not a language tag
// (langtag.Parse) or a time zone (timezone.Parse), with their messages.
func (s Settings) Validate() error {
	var f problem.Fields
	if _, msg := langtag.Parse(s.Language); msg != "" {
		f.Add("language", "%s", msg)
	}
	if _, msg := timezone.Parse(s.TimeZone); msg != "" {
		f.Add("timeZone", "%s", msg)
	}
	return f.Err()
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{
	Name:     AreaName,
	Defaults: Defaults,
	Prepare:  func(_ Settings, next *Settings) { next.Normalize() },
}

// Function is the locale Lambda function.
var Function = app.SettingsArea(Area)
