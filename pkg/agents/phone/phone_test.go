package phone_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/convrs/admin/pkg/agents/phone"
)

const (
	msgPhone     = "must be a phone number in international format: + and the country code, then the number (+44 20 7946 0958)"
	msgPhonePlus = "must be in international format, starting with + and the country code (+44 20 7946 0958)"
	msgPhoneChar = "must hold only digits, spaces and . - ( ) after the + (no letters or extensions)"
)

type parseCase struct {
	name, in, want, msg string
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []parseCase{
		{"UK landline", "+44 20 7946 0958", "+442079460958", ""},
		{"already E.164", "+442079460958", "+442079460958", ""},
		{"US with punctuation", "+1 (650) 253-0000", "+16502530000", ""},
		{"dots", "+33.1.42.68.53.00", "+33142685300", ""},
		{"Brazil mobile", "+55 11 91234-5678", "+5511912345678", ""},
		{"empty means none", "", "", ""},
		{"blank means none", "   ", "", ""},
		{"national format", "020 7946 0958", "", msgPhonePlus},
		{"international prefix 00", "0044 20 7946 0958", "", msgPhonePlus},
		{"digit missing", "+44 20 7946 095", "", "is not a valid number for country code +44: check the digits"},
		{"digit too many", "+44 20 7946 09581", "", "is not a valid number for country code +44: check the digits"},
		{"unassigned range", "+1 555 0100", "", "is not a valid number for country code +1: check the digits"},
		{"16 digits", "+49 30 123456789012", "", "must have at most 15 digits, the country code included (E.164)"},
		{"unknown country code", "+999 1234 5678", "", msgPhone},
		{"only a plus", "+", "", msgPhone},
		{"plus and spaces", "+ ( ) -", "", msgPhone},
		{"two pluses", "++44 20 7946 0958", "", msgPhoneChar},
		{"vanity letters", "+1 800 FLOWERS", "", msgPhoneChar},
		{"extension", "+44 20 7946 0958 ext. 12", "", msgPhoneChar},
		{"extension x", "+44 20 7946 0958x12", "", msgPhoneChar},
		{"RFC 3966 extension", "+44-20-7946-0958;ext=12", "", msgPhoneChar},
		{"tel URI", "tel:+44-20-7946-0958", "", msgPhonePlus},
		{"full-width digits", "+４４２０７９４６", "", msgPhoneChar},
		{"zero-width space", "+44\u200b2079460958", "", msgPhoneChar},
		{"NUL", "+442079460958\x00", "", msgPhoneChar},
		{"33 characters", "+44 20 7946 0958" + strings.Repeat(" ", 17) + "1", "", "must be at most 32 characters"},
		{"huge", "+" + strings.Repeat("4", 1<<16), "", "must be at most 32 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, msg := phone.Parse(c.in)
			if got != c.want || msg != c.msg {
				t.Errorf("Parse(%q) = %q, %q; want %q, %q", c.in, got, msg, c.want, c.msg)
			}
		})
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// FuzzParse: a number accepted is E.164 (+, then at most 15 digits, the first not
// 0) and stays itself when read again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"+44 20 7946 0958", "+1 (650) 253-0000", "+33.1.42.68.53.00", "020 7946 0958", "+1 800 FLOWERS", "+44\u200b2079460958",
		"+４４２０", "+", "", " ", "++44", "+44 20 7946 0958 ext. 12", "+999 1234", "+800 1234 5678", "+49 30 123456789012",
		"+0 123", "+1 555 0100", "+86 10 1234 5678", "+(44)(20)", "+44 0 20 7946 0958",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, msg := phone.Parse(s)
		if got != "" && msg != "" {
			t.Fatalf("Parse(%q) = %q, %q: both a value and a message", s, got, msg)
		}
		if got == "" {
			if msg == "" && strings.TrimFunc(s, unicode.IsSpace) != "" {
				t.Fatalf("Parse(%q): neither a number nor a message", s)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Errorf("Parse(%q) = %q: not E.164", s, got)
		}
		if again, msg := phone.Parse(got); again != got || msg != "" {
			t.Errorf("Parse(%q) = %q, but ParsePhone of that is %q, %q", s, got, again, msg)
		}
	})
}
