package locale_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/agents/langtag"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/locale"
	"github.com/convrs/admin/pkg/timezone"
)

const path = "/v1/orgs/acme/settings/locale"

const msgLanguage = "must be one BCP 47 language tag such as en or pt-BR"

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  locale.AreaName,
		Valid: `{"language":"pt-BR","timeZone":"America/Sao_Paulo"}`,
		Field: "language", Patch: `{"language":"de"}`,
		Invalid: `{"language":"klingon"}`, InvalidField: "language",
	})
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)
	if m["language"] != "en" || m["timeZone"] != "UTC" {
		t.Errorf("defaults: got %v, want language en and timeZone UTC", m)
	}
}

// Values are saved in their canonical form, whatever case and white space they came in.
func TestSavedCanonical(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, tc := range []struct{ field, in, want string }{
		{"language", "pt-br", "pt-BR"},
		{"language", " EN ", "en"},
		{"language", "zh-hant-tw", "zh-Hant-TW"},
		{"language", "iw", "he"}, // deprecated code: its replacement
		{"language", "es-419", "es-419"},
		{"timeZone", "europe/london", "Europe/London"},
		{"timeZone", " AMERICA/NEW_YORK\t", "America/New_York"},
		{"timeZone", "utc", "UTC"},
		{"timeZone", "US/Eastern", "US/Eastern"}, // an alias stays the alias
	} {
		body, _ := json.Marshal(map[string]string{tc.field: tc.in})
		m := s.Admin(http.MethodPatch, path, body, "Content-Type", "application/merge-patch+json").Expect(t, 200).JSON(t)
		if m[tc.field] != tc.want {
			t.Errorf("%s %q: saved %v, want %s", tc.field, tc.in, m[tc.field], tc.want)
		}
	}
}

// Sending again what is saved, in another spelling, is no change: no new version, no
// audit entry. The audit entry of a change shows the canonical values.
func TestSpellingIsNoChange(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"language":"pt-br","timeZone":"europe/lisbon"}`)).Expect(t, 200)
	r := s.Admin(http.MethodPut, path, []byte(`{"language":"PT-BR","timeZone":"EUROPE/LISBON"}`)).Expect(t, 200)
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("a respelling made a new version: ETag %s", r.Header.Get("ETag"))
	}
	var page struct{ Items []map[string]any }
	if err := json.Unmarshal(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=locale", nil).Expect(t, 200).Body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("audit entries: got %d, want 1", len(page.Items))
	}
	got, _ := json.Marshal(page.Items[0]["changes"])
	if want := `[{"field":"language","from":"en","to":"pt-BR"},{"field":"timeZone","from":"UTC","to":"Europe/Lisbon"}]`; string(got) != want {
		t.Errorf("audit changes:\n got %s\nwant %s", got, want)
	}
}

// Hostile and mistaken values are 422s with a message on the field, and nothing is saved.
func TestRefused(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, tc := range []struct{ field, in, msg string }{
		{"language", "", "required"},
		{"language", "   ", "required"},
		{"language", "en_US", msgLanguage},
		{"language", "en, pt-BR", msgLanguage},
		{"language", "english", msgLanguage},
		{"language", "en\u200b", msgLanguage},
		{"language", "\ufeffen", msgLanguage},
		{"language", "ｅｎ", msgLanguage},
		{"language", "und", "must name a language (und and private-use tags name none), such as en or pt-BR"},
		{"language", "x-klingon", "must name a language (und and private-use tags name none), such as en or pt-BR"},
		{"language", strings.Repeat("en-", 12), "must be at most 35 characters"},
		{"language", strings.Repeat("a", 60000), "must be at most 35 characters"},
		{"timeZone", "", "required"},
		{"timeZone", "Local", `unknown time zone "Local"`},
		{"timeZone", "localtime", `unknown time zone "localtime"`},
		{"timeZone", "posix/Europe/London", `unknown time zone "posix/Europe/London"`},
		{"timeZone", "Mars/Olympus_Mons", `unknown time zone "Mars/Olympus_Mons"`},
		{"timeZone", "+02:00", `unknown time zone "+02:00"`},
		{"timeZone", "Europe/London\u200b", `unknown time zone "Europe/London\u200b"`},
		{"timeZone", "Asia/\u212Aolkata", `unknown time zone "Asia/\u212aolkata"`},
		{"timeZone", strings.Repeat("Europe/London", 4000), "must be at most 64 characters"},
	} {
		body, _ := json.Marshal(map[string]string{tc.field: tc.in})
		got := s.Admin(http.MethodPut, path, body).Expect(t, 422).FieldErrors(t)
		if len(got) != 1 || got[tc.field] != tc.msg {
			t.Errorf("%s %.40q: got %v, want %s", tc.field, tc.in, got, tc.msg)
		}
	}
	got := s.Admin(http.MethodPut, path, []byte(`{"language":"en_GB","timeZone":"GMT+1"}`)).Expect(t, 422).FieldErrors(t)
	if len(got) != 2 || got["language"] != msgLanguage || got["timeZone"] != `unknown time zone "GMT+1"` {
		t.Errorf("both fields wrong: got %v", got)
	}
	if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["version"] != 0.0 {
		t.Errorf("refused writes changed the settings: %v", m)
	}
}

// FuzzValidate: whatever the two values, Normalize then Validate accepts exactly what
// both parsers accept, saves their canonical forms, and a saved document normalises to
// itself.
func FuzzValidate(f *testing.F) {
	for _, s := range [][2]string{{"en", "UTC"}, {"pt-br", "europe/london"}, {" EN ", " utc "}, {"iw", "US/Eastern"},
		{"en_US", "Local"}, {"und", "localtime"}, {"en\u200b", "Europe/London\u200b"}, {"", ""}, {"\xff", "\xff"},
		{strings.Repeat("en-", 20), strings.Repeat("a/", 40)}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, language, zone string) {
		s := locale.Settings{Language: language, TimeZone: zone}
		s.Normalize()
		err := s.Validate()
		tag, langMsg := langtag.Parse(language)
		name, zoneMsg := timezone.Parse(zone)
		if (err == nil) != (langMsg == "" && zoneMsg == "") {
			t.Fatalf("(%q, %q): Validate %v, but the parsers say %q, %q", language, zone, err, langMsg, zoneMsg)
		}
		if err != nil {
			return
		}
		if s.Language != tag || s.TimeZone != name {
			t.Errorf("(%q, %q) normalised to %+v, want %q, %q", language, zone, s, tag, name)
		}
		again := s
		again.Normalize()
		if again != s {
			t.Errorf("%+v normalises to %+v", s, again)
		}
	})
}

// TestEvents replays events/locale/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, locale.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"language": "en", "timeZone": "UTC"})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"language": "pt-BR", "timeZone": "America/Sao_Paulo"})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"language": "pt-BR", "timeZone": "Europe/Lisbon"})
		}},
		apitest.EventCase{File: "put-unknown-zone.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "language", "message": msgLanguage},
				{"field": "timeZone", "message": `unknown time zone "Europe/Londres"`}}})
		}},
	)
}
