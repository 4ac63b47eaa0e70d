package passwordpolicy_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

const path = "/v1/orgs/acme/settings/password-policy"

// fieldErrors returns Validate's field errors as field -> message (empty when valid).
func fieldErrors(t *testing.T, s passwordpolicy.Settings) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := s.Validate()
	if err == nil {
		return got
	}
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Invalid {
		t.Fatalf("got %v, want an Invalid problem", err)
	}
	for _, f := range pe.Fields {
		if _, dup := got[f.Field]; dup {
			t.Errorf("field %s is listed twice: %v", f.Field, pe.Fields)
		}
		got[f.Field] = f.Message
	}
	return got
}

// loose is a policy far from every cross-field rule, so that each range is tested alone.
func loose() passwordpolicy.Settings {
	s := passwordpolicy.Defaults()
	s.MinLength, s.MinMixedCase, s.MinDigits = 1, 0, 0
	return s
}

// Every range at min-1, min, max and max+1.
func TestValidateRanges(t *testing.T) {
	t.Parallel()
	fields := []struct {
		name   string
		lo, hi int
		set    func(*passwordpolicy.Settings, int)
	}{
		{"minLength", 1, 30, func(s *passwordpolicy.Settings, v int) { s.MinLength = v }},
		{"maxLength", 1, 30, func(s *passwordpolicy.Settings, v int) { s.MaxLength = v }},
		{"minMixedCase", 0, 10, func(s *passwordpolicy.Settings, v int) { s.MinMixedCase = v }},
		{"minDigits", 0, 10, func(s *passwordpolicy.Settings, v int) { s.MinDigits = v }},
		{"minSpecial", 0, 10, func(s *passwordpolicy.Settings, v int) { s.MinSpecial = v }},
		{"expiryDays", 1, 180, func(s *passwordpolicy.Settings, v int) { s.ExpiryDays = v }},
	}
	for _, f := range fields {
		for _, tc := range []struct {
			v     int
			valid bool
		}{{f.lo - 1, false}, {f.lo, true}, {f.hi, true}, {f.hi + 1, false}} {
			t.Run(fmt.Sprintf("%s=%d", f.name, tc.v), func(t *testing.T) {
				t.Parallel()
				s := loose()
				f.set(&s, tc.v)
				want := map[string]string{}
				if !tc.valid {
					want[f.name] = fmt.Sprintf("must be between %d and %d", f.lo, f.hi)
				}
				if got := fieldErrors(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	if err := passwordpolicy.Defaults().Validate(); err != nil {
		t.Errorf("got %v, want the defaults valid", err)
	}
	want := passwordpolicy.Settings{Enforce: false, MinLength: 8, MaxLength: 30, MinMixedCase: 1, MinDigits: 1, MinSpecial: 0, ExpiryDays: 90, PreventReuse: false}
	if got := passwordpolicy.Defaults(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// Both cross-field rules at their edges: equal is accepted, one over is refused with an
// error on every field the rule names.
func TestValidateCrossField(t *testing.T) {
	t.Parallel()
	sum := func(n, m int) string {
		return fmt.Sprintf("2*minMixedCase + minDigits + minSpecial (%d) must be at most maxLength (%d)", n, m)
	}
	tests := []struct {
		name                                   string
		minLen, maxLen, mixed, digits, special int
		want                                   map[string]string
	}{
		{"minLength equal to maxLength", 12, 12, 1, 1, 0, nil},
		{"minLength one over maxLength", 13, 12, 1, 1, 0, map[string]string{
			"minLength": "must be at most maxLength (12)",
			"maxLength": "must be at least minLength (13)",
		}},
		{"both 1", 1, 1, 0, 1, 0, nil},
		{"both 30", 30, 30, 10, 10, 0, nil},
		{"sum equal to maxLength", 1, 16, 5, 4, 2, nil},
		{"sum one over maxLength", 1, 16, 5, 4, 3, map[string]string{
			"minMixedCase": sum(17, 16), "minDigits": sum(17, 16), "minSpecial": sum(17, 16),
			"maxLength": "must be at least 2*minMixedCase + minDigits + minSpecial (17)",
		}},
		{"sum at its largest, 30", 1, 30, 10, 10, 0, nil},
		{"sum over 30 is never reachable", 1, 30, 10, 10, 1, map[string]string{
			"minMixedCase": sum(31, 30), "minDigits": sum(31, 30), "minSpecial": sum(31, 30),
			"maxLength": "must be at least 2*minMixedCase + minDigits + minSpecial (31)",
		}},
		{"mixed case counts twice", 1, 3, 2, 0, 0, map[string]string{
			"minMixedCase": sum(4, 3), "minDigits": sum(4, 3), "minSpecial": sum(4, 3),
			"maxLength": "must be at least 2*minMixedCase + minDigits + minSpecial (4)",
		}},
		{"both rules broken", 20, 16, 5, 6, 2, map[string]string{
			"minLength":    "must be at most maxLength (16)",
			"minMixedCase": sum(18, 16), "minDigits": sum(18, 16), "minSpecial": sum(18, 16),
			"maxLength": "must be at least minLength (20) and at least 2*minMixedCase + minDigits + minSpecial (18)",
		}},
		// A cross-field rule is checked only when every field it names is in range: the
		// range error alone says what to fix.
		{"maxLength out of range", 12, 0, 1, 1, 0, map[string]string{"maxLength": "must be between 1 and 30"}},
		{"minLength out of range", 31, 12, 1, 1, 0, map[string]string{"minLength": "must be between 1 and 30"}},
		{"minDigits out of range", 1, 12, 1, 11, 0, map[string]string{"minDigits": "must be between 0 and 10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := passwordpolicy.Defaults()
			s.MinLength, s.MaxLength, s.MinMixedCase, s.MinDigits, s.MinSpecial = tc.minLen, tc.maxLen, tc.mixed, tc.digits, tc.special
			want := tc.want
			if want == nil {
				want = map[string]string{}
			}
			if got := fieldErrors(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

// What every settings area shares (ETag, If-Match, PATCH, audit, strict decoding, the
// authorisation matrix) is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  passwordpolicy.AreaName,
		Valid: `{"enforce":true,"minLength":12,"maxLength":24,"minMixedCase":2,"minDigits":2,"minSpecial":1,"expiryDays":60,"preventReuse":true}`,
		Field: "minLength", Patch: `{"minLength":14}`,
		Invalid: `{"minLength":0}`, InvalidField: "minLength",
	})
}

func TestGetDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"enforce":"default","expiryDays":"default","maxLength":"default","minDigits":"default","minLength":"default","minMixedCase":"default","minSpecial":"default","preventReuse":"default"},"lockedBy":{},"enforce":false,"minLength":8,"maxLength":30,"minMixedCase":1,"minDigits":1,"minSpecial":0,"expiryDays":90,"preventReuse":false}`
	if string(r.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", r.Body, want)
	}
}

// A PATCH is judged on the whole resulting document: lowering maxLength under the stored
// minLength is refused on both fields, and nothing changes.
func TestPatchCrossFieldAgainstStored(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"minLength":12}`)).Expect(t, http.StatusOK)
	r := s.Admin(http.MethodPatch, path, []byte(`{"maxLength":11}`), "Content-Type", "application/merge-patch+json").Expect(t, http.StatusUnprocessableEntity)
	want := map[string]string{"minLength": "must be at most maxLength (11)", "maxLength": "must be at least minLength (12)"}
	if got := r.FieldErrors(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	s.Admin(http.MethodPatch, path, []byte(`{"maxLength":12}`), "Content-Type", "application/merge-patch+json").Expect(t, http.StatusOK)
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK).JSON(t); m["version"] != 2.0 || m["maxLength"] != 12.0 {
		t.Errorf("got %v, want version 2 with maxLength 12", m)
	}
}

func TestEveryFailingFieldIsListed(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"minLength":0,"maxLength":31,"minMixedCase":-1,"minDigits":11,"minSpecial":11,"expiryDays":181}`)).Expect(t, http.StatusUnprocessableEntity)
	want := map[string]string{
		"minLength": "must be between 1 and 30", "maxLength": "must be between 1 and 30",
		"minMixedCase": "must be between 0 and 10", "minDigits": "must be between 0 and 10",
		"minSpecial": "must be between 0 and 10", "expiryDays": "must be between 1 and 180",
	}
	if got := r.FieldErrors(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func ExampleSettings_Validate() {
	s := passwordpolicy.Defaults()
	s.MinLength, s.MaxLength = 12, 10
	fmt.Println(s.Validate())
	// Output: invalid: one or more fields are invalid; maxLength: must be at least minLength (12); minLength: must be at most maxLength (10)
}
