package langtag_test

import (
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/agents/langtag"
)

const (
	msgLanguage = "must be one BCP 47 language tag such as en or pt-BR"
	msgNoLang   = "must name a language (und and private-use tags name none), such as en or pt-BR"
)

type parseCase struct {
	name, in, want, msg string
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []parseCase{
		{"en", "en", "en", ""},
		{"pt-BR", "pt-BR", "pt-BR", ""},
		{"wrong case", "pt-br", "pt-BR", ""},
		{"upper case", "EN", "en", ""},
		{"script and region", "zh-hant-tw", "zh-Hant-TW", ""},
		{"UN M.49 region", "es-419", "es-419", ""},
		{"deprecated code", "iw", "he", ""},
		{"trimmed", " de-CH ", "de-CH", ""},
		{"empty", "", "", "required"},
		{"not well-formed", "xx-!!", "", msgLanguage},
		{"unknown subtag", "xx", "", msgLanguage},
		{"underscore", "en_US", "", msgLanguage},
		{"list", "en, pt-BR", "", msgLanguage},
		{"two tags", "en pt", "", msgLanguage},
		{"undetermined", "und", "", msgNoLang},
		{"private use only", "x-klingon", "", msgNoLang},
		{"36 characters", "en-" + strings.Repeat("a1b2c3d4-", 3) + "abcdefgh-a", "", "must be at most 35 characters"},
		{"huge", strings.Repeat("en-", 1<<16), "", "must be at most 35 characters"},
		{"NUL", "en\x00", "", msgLanguage},
		{"zero-width space", "en\u200b", "", msgLanguage},
		{"full-width letters", "ｅｎ", "", msgLanguage},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, msg := langtag.Parse(c.in)
			if got != c.want || msg != c.msg {
				t.Errorf("Parse(%q) = %q, %q; want %q, %q", c.in, got, msg, c.want, c.msg)
			}
		})
	}
}

// FuzzParse: a tag accepted is canonical (reading it again gives it back) and
// short.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"en", "pt-br", "EN", "zh-hant-tw", "iw", "und", "x-klingon", "xx-!!", "en_US", "en, pt", "sh",
		"i-klingon", "en-GB-oed", "de-DE-1996", "en-a-bbb-x-a-ccc", "es-419", "en-u-co-phonebk", "qaa", "en\x00", "root"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, msg := langtag.Parse(s)
		if (got == "") == (msg == "") {
			t.Fatalf("Parse(%q) = %q, %q: exactly one of value and message", s, got, msg)
		}
		if msg != "" {
			return
		}
		if again, msg := langtag.Parse(got); again != got || msg != "" {
			t.Errorf("Parse(%q) = %q, but ParseLanguage of that is %q, %q", s, got, again, msg)
		}
		if len(got) > 2*langtag.MaxLen {
			t.Errorf("Parse(%q) = %q: canonical form too long", s, got)
		}
	})
}
