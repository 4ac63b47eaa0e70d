package conformance_test

import (
	"testing"

	"github.com/convrs/admin/pkg/timezone"
)

// The patterns openapi.yaml states for time zones and language tags hold every value the
// server saves: every zone name of the embedded database, and canonical tags of every
// shape (language, script, region, variant, extension, private use).
func TestOpenAPIZoneAndLanguagePatterns(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	for _, area := range []string{"locale", "dashboard"} {
		put, ok := s.requestSchema("put", "/v1/orgs/{orgId}/settings/"+area, "application/json")
		if !ok {
			t.Errorf("%s: no PUT schema", area)
			continue
		}
		props, _ := s.flat(put)["properties"].(map[string]any)
		if zone, ok := props["timeZone"]; ok {
			for _, name := range timezone.Names() {
				if errs := s.v.validate(zone, name, inRequest); len(errs) > 0 {
					t.Errorf("%s timeZone: %s is refused:\n%s", area, name, schemaErrors(errs))
				}
			}
		}
		lang, ok := props["language"]
		if !ok {
			t.Errorf("%s: no language field", area)
			continue
		}
		for _, tag := range []string{"en", "pt-BR", "zh-Hant-TW", "es-419", "de-DE-1996", "sl-rozaj-biske", "en-u-co-phonebk",
			"en-x-private", "ast", "yue-Hant-HK", "en-GB-oxendict"} {
			if errs := s.v.validate(lang, tag, inRequest); len(errs) > 0 {
				t.Errorf("%s language: %s is refused:\n%s", area, tag, schemaErrors(errs))
			}
		}
		for _, bad := range []string{"en_US", "en, pt", "en ", "en--GB", "-en", "e\u0301n"} {
			if s.v.valid(lang, bad, inRequest) {
				t.Errorf("%s language: the schema accepts %q", area, bad)
			}
		}
	}
}
