package agents_test

import (
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/agents"
)

// parseCase is one input of a field parser: the value stored, or the field message.
type parseCase struct {
	name, in, want, msg string
}

func runParse(t *testing.T, parse func(string) (string, string), cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, msg := parse(c.in)
			if got != c.want || msg != c.msg {
				t.Errorf("parse(%q) = %q, %q; want %q, %q", c.in, got, msg, c.want, c.msg)
			}
		})
	}
}

const (
	msgEmail     = "must be an email address such as name@example.com"
	msgBare      = "must be a bare address such as name@example.com, without a display name or angle brackets"
	msgHidden    = "must not contain control, invisible or formatting characters"
	msgASCII     = "must be ASCII: give an internationalised domain in Punycode (xn--...)"
	msgLocal     = "the part before the @ must be letters, digits and !#$%&'*+/=?^_`{|}~- separated by single dots (no quotes, spaces or comments)"
	msgDomain    = "must have a domain name such as example.com after the @"
	msgLanguage  = "must be one BCP 47 language tag such as en or pt-BR"
	msgPhonePlus = "must be in international format, starting with + and the country code (+44 20 7946 0958)"
	msgPhoneChar = "must hold only digits, spaces and . - ( ) after the + (no letters or extensions)"
)

func TestParseEmail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com" // 254
	runParse(t, agents.ParseEmail, []parseCase{
		{"plain", "ana@example.com", "ana@example.com", ""},
		{"trimmed and lower-cased", "  Ana.Silva@Example.COM\t\n", "ana.silva@example.com", ""},
		{"plus and subdomain", "ana+chat@mail.example.co.uk", "ana+chat@mail.example.co.uk", ""},
		{"atext specials", "o'neil!#$%&*/=?^_`{|}~-@example.org", "o'neil!#$%&*/=?^_`{|}~-@example.org", ""},
		{"punycode domain", "ana@xn--bcher-kva.example", "ana@xn--bcher-kva.example", ""},
		{"254 bytes", long, long, ""},
		{"255 bytes", "a" + long, "", "must be at most 254 characters"},
		{"huge", strings.Repeat("a", 1<<20) + "@example.com", "", "must be at most 254 characters"},
		{"missing", "", "", "required"},
		{"blank", " \t ", "", "required"},
		{"no at", "ana.example.com", "", msgEmail},
		{"two ats", "ana@b@example.com", "", msgEmail},
		{"display name", "Ana <ana@example.com>", "", msgBare},
		{"angle brackets", "<ana@example.com>", "", msgBare},
		{"comment", "(work)ana@example.com", "", msgEmail},
		{"comment after", "ana(work)@example.com", "", msgEmail},
		{"quoted local part", `"ana silva"@example.com`, "", msgLocal},
		{"leading dot", ".ana@example.com", "", msgEmail},
		{"double dot", "ana..silva@example.com", "", msgEmail},
		{"local part 65", strings.Repeat("a", 65) + "@example.com", "", "the part before the @ must be at most 64 characters"},
		{"no dot in domain", "ana@localhost", "", msgDomain},
		{"address literal", "ana@[192.0.2.1]", "", msgDomain},
		{"ipv4 domain", "ana@192.0.2.1", "", msgDomain},
		{"hyphen label", "ana@-example.com", "", msgDomain},
		{"label 64", "ana@" + strings.Repeat("a", 64) + ".com", "", msgDomain},
		{"underscore domain", "ana@ex_ample.com", "", msgDomain},
		{"space around at", "ana @example.com", "", msgEmail},
		{"two addresses", "ana@example.com, bo@example.com", "", msgEmail},
		{"zero-width space", "ana\u200b@example.com", "", msgHidden},
		{"zero-width space at the end", "ana@example.com\u200b", "", msgHidden},
		{"right-to-left override", "ana@\u202Emoc.elpmaxe", "", msgHidden},
		{"NUL", "ana\x00@example.com", "", msgHidden},
		{"line break inside", "ana@exa\r\nmple.com", "", msgHidden},
		{"NEL", "ana@example.com\u0085bcc", "", msgHidden},
		{"invalid UTF-8", "ana\xff@example.com", "", msgHidden},
		{"Kelvin sign is not k", "\u212Aate@example.com", "", msgASCII},
		{"unicode domain", "ana@bücher.example", "", msgASCII},
		{"full-width at", "ana\uff20example.com", "", msgASCII},
		{"cyrillic look-alike", "аna@example.com", "", msgASCII},
	})
}

func TestParseName(t *testing.T) {
	t.Parallel()
	runParse(t, agents.ParseName, []parseCase{
		{"plain", "Ana Silva", "Ana Silva", ""},
		{"trimmed", "  Ana Silva \u200b", "Ana Silva", ""},
		{"unicode", "José Núñez 李雷", "José Núñez 李雷", ""},
		{"100 characters", strings.Repeat("é", 100), strings.Repeat("é", 100), ""},
		{"101 characters", strings.Repeat("é", 101), "", "must be at most 100 characters"},
		{"huge", strings.Repeat("a", 1<<20), "", "must be at most 100 characters"},
		{"empty", "", "", "is required"},
		{"only invisible", "\u200b\u2060\ufeff ", "", "is required"},
		{"NUL", "Ana\x00Silva", "", "must not contain control characters"},
		{"line break", "Ana\nSilva", "", "must not contain control characters"},
		{"right-to-left override", "Ana \u202Eavlis", "", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"invalid UTF-8", "Ana\xff", "", "must be valid UTF-8 text"},
	})
}
