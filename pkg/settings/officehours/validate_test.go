package officehours

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/problem"
)

// fe builds an expected field error.
func fe(field, message string) problem.FieldError {
	return problem.FieldError{Field: field, Message: message}
}

// checkFields asserts that err is an Invalid *problem.Error listing exactly want (in the
// order problem.Fields.Err produces: sorted by field, stable), or nil when want is empty.
func checkFields(t *testing.T, err error, want []problem.FieldError) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("got error %v, want nil", err)
		}
		return
	}
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("got error %v (%T), want *problem.Error", err, err)
	}
	if pe.Code != problem.Invalid {
		t.Errorf("got code %q, want %q", pe.Code, problem.Invalid)
	}
	if !reflect.DeepEqual(pe.Fields, want) {
		t.Errorf("got fields\n  %v\nwant\n  %v", pe.Fields, want)
	}
}

// intervals builds a day's intervals from "HH:MM:SS-HH:MM:SS" strings.
func intervals(t testing.TB, specs ...string) []Interval {
	t.Helper()
	out := make([]Interval, 0, len(specs))
	for _, s := range specs {
		o, c, ok := strings.Cut(s, "-")
		if !ok {
			t.Fatalf("bad interval spec %q", s)
		}
		out = append(out, Interval{Open: o, Close: c})
	}
	return out
}

func TestDefaultsValid(t *testing.T) {
	d := Defaults()
	checkFields(t, d.Validate(), nil)
	if got, want := d.OpenTime+"-"+d.CloseTime+" "+d.TimeZone, "09:00:00-17:00:00 UTC"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := strings.Join(d.Days, ","), "monday,tuesday,wednesday,thursday,friday"; got != want {
		t.Errorf("got days %s, want %s", got, want)
	}
	if d.MissedChatReport.Enabled {
		t.Errorf("got missedChatReport.enabled true, want false")
	}
	// Each call returns its own slice.
	d.Days[0] = "sunday"
	if got := Defaults().Days[0]; got != "monday" {
		t.Errorf("got Defaults().Days[0] %q after mutating a copy, want monday", got)
	}
}

func TestValidate(t *testing.T) {
	many := func(n int) []Exception {
		out := make([]Exception, n)
		for i := range out {
			out[i] = Exception{Date: time.Date(2027, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), Closed: true}
		}
		return out
	}
	hourly := func(n int) []Interval {
		out := make([]Interval, n)
		for i := range out {
			out[i] = Interval{Open: fmt.Sprintf("%02d:00:00", i%24), Close: fmt.Sprintf("%02d:30:00", i%24)}
		}
		return out
	}
	long := strings.Repeat("a", 245) + "@example.com" // 257 characters

	tests := []struct {
		name   string
		mutate func(s *Settings)
		want   []problem.FieldError
	}{
		{"defaults", func(s *Settings) {}, nil},
		{"full valid", func(s *Settings) {
			s.TimeZone = "America/New_York"
			s.Days = []string{"monday", "tuesday", "friday", "saturday", "sunday"}
			s.Hours = map[string][]Interval{
				"monday":   intervals(t, "09:00:00-12:00:00", "12:00:00-13:00:00", "14:00:00-18:00:00"),
				"friday":   intervals(t, "22:00:00-06:00:00"),
				"saturday": intervals(t, "10:00:00-14:00:00"),
				"sunday":   intervals(t, "20:00:00-00:00:00"),
			}
			s.Exceptions = []Exception{
				{Date: "2026-12-25", Closed: true},
				{Date: "2026-12-24", Open: "09:00:00", Close: "12:00:00"},
				{Date: "2026-12-31", Open: "20:00:00", Close: "02:00:00"},
			}
			s.MissedChatReport = MissedChatReport{Enabled: true, Email: "ops@example.com"}
		}, nil},
		{"overnight default", func(s *Settings) { s.OpenTime, s.CloseTime = "22:00:00", "06:00:00" }, nil},
		{"empty days", func(s *Settings) { s.Days = []string{} }, nil},
		{"nil days", func(s *Settings) { s.Days = nil }, nil},
		{"all days", func(s *Settings) { s.Days = dayNames[:] }, nil},
		{"email set while disabled", func(s *Settings) { s.MissedChatReport.Email = "a@b.co" }, nil},
		{"24 intervals", func(s *Settings) { s.Hours = map[string][]Interval{"monday": hourly(24)} }, nil},
		{"empty hours list", func(s *Settings) { s.Hours = map[string][]Interval{"monday": {}} }, nil},
		{"366 exceptions", func(s *Settings) { s.Exceptions = many(366) }, nil},
		{"touching across days", func(s *Settings) {
			s.Hours = map[string][]Interval{
				"monday":  intervals(t, "18:00:00-00:00:00"),
				"tuesday": intervals(t, "00:00:00-02:00:00"),
			}
		}, nil},
		{"overnight on a day not open the next", func(s *Settings) {
			s.Hours = map[string][]Interval{"friday": intervals(t, "00:00:00-06:00:00", "22:00:00-06:00:00")}
		}, nil},

		{"openTime short", func(s *Settings) { s.OpenTime = "9:00:00" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime no seconds", func(s *Settings) { s.OpenTime = "09:00" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime hour 24", func(s *Settings) { s.OpenTime = "24:00:00" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime minute 60", func(s *Settings) { s.OpenTime = "09:60:00" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime second 60", func(s *Settings) { s.OpenTime = "09:00:60" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime suffix", func(s *Settings) { s.OpenTime = "09:00:00Z" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime signs", func(s *Settings) { s.OpenTime = "+9:00:00" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"openTime empty", func(s *Settings) { s.OpenTime = "" }, []problem.FieldError{fe("openTime", "must be HH:MM:SS")}},
		{"closeTime bad", func(s *Settings) { s.CloseTime = "17-00-00" }, []problem.FieldError{fe("closeTime", "must be HH:MM:SS")}},
		{"open equals close", func(s *Settings) { s.CloseTime = "09:00:00" }, []problem.FieldError{fe("closeTime", "must differ from openTime")}},

		{"unknown zone", func(s *Settings) { s.TimeZone = "Mars/Base" }, []problem.FieldError{fe("timeZone", `unknown time zone "Mars/Base"`)}},
		{"Local zone", func(s *Settings) { s.TimeZone = "Local" }, []problem.FieldError{fe("timeZone", `unknown time zone "Local"`)}},
		{"path zone", func(s *Settings) { s.TimeZone = "../etc/passwd" }, []problem.FieldError{fe("timeZone", `unknown time zone "../etc/passwd"`)}},
		{"empty zone", func(s *Settings) { s.TimeZone = "" }, []problem.FieldError{fe("timeZone", "required")}},

		{"unknown day", func(s *Settings) { s.Days = []string{"monday", "tuesday", "funday"} },
			[]problem.FieldError{fe("days[2]", "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday")}},
		{"duplicate day", func(s *Settings) { s.Days = []string{"monday", "monday", "tuesday", "monday"} },
			[]problem.FieldError{fe("days", `must not repeat "monday"`)}},
		{"two duplicate days", func(s *Settings) { s.Days = []string{"monday", "monday", "tuesday", "tuesday"} },
			[]problem.FieldError{fe("days", `must not repeat "monday"`), fe("days", `must not repeat "tuesday"`)}},

		{"hours unknown day", func(s *Settings) { s.Hours = map[string][]Interval{"caturday": intervals(t, "09:00:00-10:00:00")} },
			[]problem.FieldError{fe("hours.caturday", "not a day of the week")}},
		{"hours day not in days", func(s *Settings) { s.Hours = map[string][]Interval{"saturday": intervals(t, "09:00:00-10:00:00")} },
			[]problem.FieldError{fe("hours.saturday", "day is not in days")}},
		{"hours bad times", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "09:00:00-10:00:00", "11:00-12:00:00", "13:00:00-25:00:00")}
		}, []problem.FieldError{fe("hours.monday[1].open", "must be HH:MM:SS"), fe("hours.monday[2].close", "must be HH:MM:SS")}},
		{"hours equal", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "09:00:00-10:00:00", "11:00:00-11:00:00")}
		}, []problem.FieldError{fe("hours.monday[1]", "open and close must differ")}},
		{"hours overlap", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "09:00:00-13:00:00", "12:00:00-17:00:00")}
		}, []problem.FieldError{fe("hours.monday[1]", "overlaps hours.monday[0]")}},
		{"hours overlap out of order", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "13:00:00-17:00:00", "09:00:00-14:00:00")}
		}, []problem.FieldError{fe("hours.monday[1]", "overlaps hours.monday[0]")}},
		{"hours contained", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "09:00:00-17:00:00", "10:00:00-11:00:00", "12:00:00-13:00:00")}
		}, []problem.FieldError{fe("hours.monday[1]", "overlaps hours.monday[0]"), fe("hours.monday[2]", "overlaps hours.monday[0]")}},
		{"hours overnight overlaps same day", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "22:00:00-08:00:00", "21:00:00-23:00:00")}
		}, []problem.FieldError{fe("hours.monday[1]", "overlaps hours.monday[0]")}},
		{"hours overnight overlaps next day", func(s *Settings) {
			s.Hours = map[string][]Interval{
				"monday":  intervals(t, "22:00:00-02:00:00"),
				"tuesday": intervals(t, "01:00:00-05:00:00"),
			}
		}, []problem.FieldError{fe("hours.tuesday[0]", "overlaps hours.monday[0]")}},
		{"hours overnight sunday overlaps monday", func(s *Settings) {
			s.Days = dayNames[:]
			s.Hours = map[string][]Interval{
				"monday": intervals(t, "01:00:00-05:00:00"),
				"sunday": intervals(t, "22:00:00-02:00:00"),
			}
		}, []problem.FieldError{fe("hours.sunday[0]", "overlaps hours.monday[0]")}},
		{"hours overnight overlaps default next day", func(s *Settings) {
			s.Hours = map[string][]Interval{"monday": intervals(t, "22:00:00-10:00:00")}
		}, []problem.FieldError{fe("hours.monday[0]", "overlaps openTime/closeTime on tuesday")}},
		{"hours overnight into default of a later listed day", func(s *Settings) {
			s.Hours = map[string][]Interval{"tuesday": intervals(t, "08:00:00-10:00:00", "20:00:00-09:30:00")}
		}, []problem.FieldError{fe("hours.tuesday[1]", "overlaps openTime/closeTime on wednesday")}},
		{"hours too many", func(s *Settings) { s.Hours = map[string][]Interval{"monday": hourly(25)} },
			[]problem.FieldError{fe("hours.monday", "at most 24 intervals a day")}},

		{"too many exceptions", func(s *Settings) { s.Exceptions = many(367) },
			[]problem.FieldError{fe("exceptions", "at most 366 exceptions")}},
		{"exception bad dates", func(s *Settings) {
			s.Exceptions = []Exception{
				{Date: "2026-02-30", Closed: true},
				{Date: "2026-1-01", Closed: true},
				{Date: "", Closed: true},
				{Date: "2026-13-01", Closed: true},
				{Date: "2026-12-25T00:00:00Z", Closed: true},
			}
		}, []problem.FieldError{
			fe("exceptions[0].date", "must be a date YYYY-MM-DD"),
			fe("exceptions[1].date", "must be a date YYYY-MM-DD"),
			fe("exceptions[2].date", "must be a date YYYY-MM-DD"),
			fe("exceptions[3].date", "must be a date YYYY-MM-DD"),
			fe("exceptions[4].date", "must be a date YYYY-MM-DD"),
		}},
		{"exception leap day", func(s *Settings) { s.Exceptions = []Exception{{Date: "2028-02-29", Closed: true}} }, nil},
		{"exception duplicate date", func(s *Settings) {
			s.Exceptions = []Exception{{Date: "2026-12-25", Closed: true}, {Date: "2026-12-25", Open: "10:00:00", Close: "12:00:00"}}
		}, []problem.FieldError{fe("exceptions[1].date", "duplicate date")}},
		{"exception closed with times", func(s *Settings) {
			s.Exceptions = []Exception{{Date: "2026-12-25", Closed: true, Open: "10:00:00"}}
		}, []problem.FieldError{fe("exceptions[0]", "closed exceptions take no open/close")}},
		{"exception open without times", func(s *Settings) { s.Exceptions = []Exception{{Date: "2026-12-25"}} },
			[]problem.FieldError{fe("exceptions[0].close", "required unless closed"), fe("exceptions[0].open", "required unless closed")}},
		{"exception open without close", func(s *Settings) { s.Exceptions = []Exception{{Date: "2026-12-25", Open: "10:00:00"}} },
			[]problem.FieldError{fe("exceptions[0].close", "required unless closed")}},
		{"exception bad time", func(s *Settings) {
			s.Exceptions = []Exception{{Date: "2026-12-25", Open: "10am", Close: "12:00:00"}}
		}, []problem.FieldError{fe("exceptions[0].open", "must be HH:MM:SS")}},
		{"exception equal times", func(s *Settings) {
			s.Exceptions = []Exception{{Date: "2026-12-25", Open: "10:00:00", Close: "10:00:00"}}
		}, []problem.FieldError{fe("exceptions[0]", "open and close must differ")}},

		{"email required", func(s *Settings) { s.MissedChatReport.Enabled = true },
			[]problem.FieldError{fe("missedChatReport.email", "required when the report is enabled")}},
		{"email too long", func(s *Settings) { s.MissedChatReport = MissedChatReport{Enabled: true, Email: long} },
			[]problem.FieldError{fe("missedChatReport.email", "must be a valid email address")}},

		{"several at once", func(s *Settings) {
			s.OpenTime = "9"
			s.TimeZone = "Mars/Base"
			s.Days = []string{"someday", "monday", "monday"}
			s.Hours = map[string][]Interval{"monday": intervals(t, "09:00:00-09:00:00")}
			s.Exceptions = []Exception{{Date: "x", Closed: true}}
			s.MissedChatReport.Enabled = true
		}, []problem.FieldError{
			fe("days", `must not repeat "monday"`),
			fe("days[0]", "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday"),
			fe("exceptions[0].date", "must be a date YYYY-MM-DD"),
			fe("hours.monday[0]", "open and close must differ"),
			fe("missedChatReport.email", "required when the report is enabled"),
			fe("openTime", "must be HH:MM:SS"),
			fe("timeZone", `unknown time zone "Mars/Base"`),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			tt.mutate(&s)
			checkFields(t, s.Validate(), tt.want)
		})
	}
}

func TestValidateEmail(t *testing.T) {
	tests := []struct {
		email string
		valid bool
	}{
		{"ops@example.com", true},
		{"Ops.Team+chat@Example.co.uk", true},
		{"a@b.co", true},
		{"ops", false},
		{"ops@localhost", false},
		{"@example.com", false},
		{"ops@", false},
		{"ops@example.", false},
		{"ops@.example.com", false},
		{"ops@example..com", false},
		{"Ops <ops@example.com>", false},
		{"<ops@example.com>", false},
		{"ops@example.com, dev@example.com", false},
		{"ops @example.com", false},
		{`"ops team"@example.com`, false},
		{strings.Repeat("a", 242) + "@example.com", true}, // 254
		{strings.Repeat("a", 243) + "@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			s := Defaults()
			s.MissedChatReport = MissedChatReport{Enabled: true, Email: tt.email}
			var want []problem.FieldError
			if !tt.valid {
				want = []problem.FieldError{fe("missedChatReport.email", "must be a valid email address")}
			}
			checkFields(t, s.Validate(), want)
		})
	}
}

func TestNormalize(t *testing.T) {
	s := Settings{
		OpenTime:  " 09:00:00 ",
		CloseTime: "\t17:00:00\n",
		TimeZone:  " Europe/London ",
		Days:      []string{" Sunday", "FRIDAY", "funday", "monday ", "Wednesday"},
		Hours: map[string][]Interval{
			" Monday ": {{Open: " 09:00:00", Close: "12:00:00 "}},
			"monday":   {{Open: "13:00:00", Close: "17:00:00"}},
			"Friday":   {{Open: "22:00:00", Close: "06:00:00"}},
		},
		Exceptions: []Exception{
			{Date: "2026-12-31 ", Open: " 09:00:00", Close: "12:00:00 "},
			{Date: " 2026-01-01", Closed: true},
			{Date: "2026-12-25", Closed: true},
		},
		MissedChatReport: MissedChatReport{Enabled: true, Email: "  Ops.Team@Example.COM "},
	}
	s.Normalize()
	want := Settings{
		OpenTime:  "09:00:00",
		CloseTime: "17:00:00",
		TimeZone:  "Europe/London",
		Days:      []string{"monday", "wednesday", "friday", "sunday", "funday"},
		Hours: map[string][]Interval{
			"monday": {{Open: "09:00:00", Close: "12:00:00"}, {Open: "13:00:00", Close: "17:00:00"}},
			"friday": {{Open: "22:00:00", Close: "06:00:00"}},
		},
		Exceptions: []Exception{
			{Date: "2026-01-01", Closed: true},
			{Date: "2026-12-25", Closed: true},
			{Date: "2026-12-31", Open: "09:00:00", Close: "12:00:00"},
		},
		MissedChatReport: MissedChatReport{Enabled: true, Email: "Ops.Team@Example.COM"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got\n  %+v\nwant\n  %+v", s, want)
	}
	checkFields(t, s.Validate(), []problem.FieldError{
		fe("days[4]", "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday"),
	})

	var empty Settings
	empty.Normalize()
	if empty.Days == nil || len(empty.Days) != 0 {
		t.Errorf("got days %#v, want empty non-nil list", empty.Days)
	}
}
