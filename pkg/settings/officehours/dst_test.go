package officehours

import (
	"testing"
	"time"

	"github.com/convrs/admin/pkg/timezone"
)

// resolveWall maps a wall-clock time ("2006-01-02T15:04:05") of zone to an instant with
// the package's policy.
func resolveWall(t *testing.T, zone, wall string) time.Time {
	t.Helper()
	loc, ok := timezone.Load(zone)
	if !ok {
		t.Fatalf("zone %q did not load", zone)
	}
	w, err := time.Parse("2006-01-02T15:04:05", wall)
	if err != nil {
		t.Fatalf("bad wall time %q: %v", wall, err)
	}
	ev := evaluator{loc: loc}
	return time.Unix(ev.resolve(w.Unix()), 0).UTC()
}

func TestResolveWallClock(t *testing.T) {
	tests := []struct {
		name, zone, wall, want string
	}{
		{"plain", "America/New_York", "2026-06-01T09:00:00", "2026-06-01T13:00:00Z"},
		{"UTC", "UTC", "2026-03-08T02:30:00", "2026-03-08T02:30:00Z"},

		{"NY before gap", "America/New_York", "2026-03-08T01:59:59", "2026-03-08T06:59:59Z"},
		{"NY gap start", "America/New_York", "2026-03-08T02:00:00", "2026-03-08T07:00:00Z"},
		{"NY in gap", "America/New_York", "2026-03-08T02:30:00", "2026-03-08T07:00:00Z"},
		{"NY gap end", "America/New_York", "2026-03-08T02:59:59", "2026-03-08T07:00:00Z"},
		{"NY after gap", "America/New_York", "2026-03-08T03:00:00", "2026-03-08T07:00:00Z"},
		{"NY after gap +1s", "America/New_York", "2026-03-08T03:00:01", "2026-03-08T07:00:01Z"},
		{"NY before repeat", "America/New_York", "2026-11-01T00:59:59", "2026-11-01T04:59:59Z"},
		{"NY repeat start is EDT", "America/New_York", "2026-11-01T01:00:00", "2026-11-01T05:00:00Z"},
		{"NY repeated is EDT", "America/New_York", "2026-11-01T01:30:00", "2026-11-01T05:30:00Z"},
		{"NY repeat end is EDT", "America/New_York", "2026-11-01T01:59:59", "2026-11-01T05:59:59Z"},
		{"NY after repeat", "America/New_York", "2026-11-01T02:00:00", "2026-11-01T07:00:00Z"},

		{"London in gap", "Europe/London", "2026-03-29T01:30:00", "2026-03-29T01:00:00Z"},
		{"London after gap", "Europe/London", "2026-03-29T02:00:00", "2026-03-29T01:00:00Z"},
		{"London repeated is BST", "Europe/London", "2026-10-25T01:30:00", "2026-10-25T00:30:00Z"},
		{"London after repeat", "Europe/London", "2026-10-25T02:00:00", "2026-10-25T02:00:00Z"},

		{"Sydney in gap", "Australia/Sydney", "2026-10-04T02:30:00", "2026-10-03T16:00:00Z"},
		{"Sydney repeated is AEDT", "Australia/Sydney", "2026-04-05T02:30:00", "2026-04-04T15:30:00Z"},
		{"Lord Howe half-hour gap", "Australia/Lord_Howe", "2026-10-04T02:15:00", "2026-10-03T15:30:00Z"},
		{"Lord Howe half-hour repeat", "Australia/Lord_Howe", "2026-04-05T01:45:00", "2026-04-04T14:45:00Z"},
		{"Santiago midnight gap", "America/Santiago", "2026-09-06T00:00:00", "2026-09-06T04:00:00Z"},
		{"Santiago before midnight gap", "America/Santiago", "2026-09-05T23:59:59", "2026-09-06T03:59:59Z"},
		{"Santiago repeated before midnight", "America/Santiago", "2026-04-04T23:30:00", "2026-04-05T02:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveWall(t, tt.zone, tt.wall).Format(time.RFC3339); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

type dstCase struct {
	name      string
	at        string // UTC instant
	local     string // expected localTime, "" to skip
	open      bool
	nextOpen  string
	nextClose string
}

// dstSchedule builds settings open only on the given days with the given hours.
func dstSchedule(t *testing.T, zone string, hours map[string][]Interval) Settings {
	t.Helper()
	s := Defaults()
	s.TimeZone = zone
	s.Days = []string{}
	for _, d := range dayNames {
		if _, ok := hours[d]; ok {
			s.Days = append(s.Days, d)
		}
	}
	s.Hours = hours
	if err := s.Validate(); err != nil {
		t.Fatalf("settings invalid: %v", err)
	}
	return s
}

func runDST(t *testing.T, s Settings, cases []dstCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.Status(ts(t, c.at))
			checkStatus(t, got, c.open, c.nextOpen, c.nextClose)
			if c.local != "" && got.LocalTime != c.local {
				t.Errorf("got localTime %s, want %s", got.LocalTime, c.local)
			}
		})
	}
}

// checkLength asserts the real duration of the open period that contains at.
func checkLength(t *testing.T, s Settings, start string, want time.Duration) {
	t.Helper()
	st := s.Status(ts(t, start))
	if !st.Open || st.NextClose == nil {
		t.Fatalf("at %s: got open %v nextClose %s, want open with a close", start, st.Open, fmtPtr(st.NextClose))
	}
	if got := st.NextClose.Sub(ts(t, start)); got != want {
		t.Errorf("got open period of %v, want %v", got, want)
	}
}

// America/New_York: 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00Z); 2026-11-01 02:00
// EDT falls back to 01:00 EST (06:00Z).
func TestStatusDSTNewYork(t *testing.T) {
	const zone = "America/New_York"

	t.Run("spring forward, hours across the gap", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "01:30:00-03:30:00")})
		runDST(t, s, []dstCase{
			{"before opening", "2026-03-08T06:29:59Z", "2026-03-08T01:29:59-05:00", false, "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"},
			{"at opening", "2026-03-08T06:30:00Z", "2026-03-08T01:30:00-05:00", true, "2026-03-15T05:30:00Z", "2026-03-08T07:30:00Z"},
			{"last second before the jump", "2026-03-08T06:59:59Z", "2026-03-08T01:59:59-05:00", true, "2026-03-15T05:30:00Z", "2026-03-08T07:30:00Z"},
			{"right after the jump", "2026-03-08T07:00:00Z", "2026-03-08T03:00:00-04:00", true, "2026-03-15T05:30:00Z", "2026-03-08T07:30:00Z"},
			{"last second", "2026-03-08T07:29:59Z", "2026-03-08T03:29:59-04:00", true, "2026-03-15T05:30:00Z", "2026-03-08T07:30:00Z"},
			{"after closing", "2026-03-08T07:30:00Z", "2026-03-08T03:30:00-04:00", false, "2026-03-15T05:30:00Z", "2026-03-15T07:30:00Z"},
		})
		checkLength(t, s, "2026-03-08T06:30:00Z", time.Hour)
	})

	t.Run("spring forward, opening inside the gap", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "02:30:00-04:00:00")})
		runDST(t, s, []dstCase{
			{"before the jump", "2026-03-08T06:59:59Z", "", false, "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
			{"opens at the jump", "2026-03-08T07:00:00Z", "", true, "2026-03-15T06:30:00Z", "2026-03-08T08:00:00Z"},
		})
	})

	t.Run("spring forward, hours inside the gap never open", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "02:10:00-02:50:00")})
		runDST(t, s, []dstCase{
			{"skipped that sunday", "2026-03-08T06:00:00Z", "", false, "2026-03-15T06:10:00Z", "2026-03-15T06:50:00Z"},
		})
	})

	t.Run("spring forward night", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"saturday": intervals(t, "22:00:00-06:00:00")})
		runDST(t, s, []dstCase{
			{"before opening", "2026-03-08T02:59:59Z", "2026-03-07T21:59:59-05:00", false, "2026-03-08T03:00:00Z", "2026-03-08T10:00:00Z"},
			{"before the jump", "2026-03-08T06:59:59Z", "2026-03-08T01:59:59-05:00", true, "2026-03-15T02:00:00Z", "2026-03-08T10:00:00Z"},
			{"after the jump", "2026-03-08T07:00:00Z", "2026-03-08T03:00:00-04:00", true, "2026-03-15T02:00:00Z", "2026-03-08T10:00:00Z"},
			{"last second", "2026-03-08T09:59:59Z", "2026-03-08T05:59:59-04:00", true, "2026-03-15T02:00:00Z", "2026-03-08T10:00:00Z"},
			{"closed at 06:00 EDT", "2026-03-08T10:00:00Z", "2026-03-08T06:00:00-04:00", false, "2026-03-15T02:00:00Z", "2026-03-15T10:00:00Z"},
		})
		checkLength(t, s, "2026-03-08T03:00:00Z", 7*time.Hour)
	})

	t.Run("fall back night", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"saturday": intervals(t, "22:00:00-06:00:00")})
		runDST(t, s, []dstCase{
			{"opening", "2026-11-01T02:00:00Z", "2026-10-31T22:00:00-04:00", true, "2026-11-08T03:00:00Z", "2026-11-01T11:00:00Z"},
			{"first 01:30", "2026-11-01T05:30:00Z", "2026-11-01T01:30:00-04:00", true, "2026-11-08T03:00:00Z", "2026-11-01T11:00:00Z"},
			{"last EDT second", "2026-11-01T05:59:59Z", "2026-11-01T01:59:59-04:00", true, "2026-11-08T03:00:00Z", "2026-11-01T11:00:00Z"},
			{"first EST second", "2026-11-01T06:00:00Z", "2026-11-01T01:00:00-05:00", true, "2026-11-08T03:00:00Z", "2026-11-01T11:00:00Z"},
			{"second 01:30", "2026-11-01T06:30:00Z", "2026-11-01T01:30:00-05:00", true, "2026-11-08T03:00:00Z", "2026-11-01T11:00:00Z"},
			{"closed at 06:00 EST", "2026-11-01T11:00:00Z", "2026-11-01T06:00:00-05:00", false, "2026-11-08T03:00:00Z", "2026-11-08T11:00:00Z"},
		})
		checkLength(t, s, "2026-11-01T02:00:00Z", 9*time.Hour)
	})

	t.Run("fall back, opening in the repeated hour", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "01:30:00-03:00:00")})
		runDST(t, s, []dstCase{
			{"before the first 01:30", "2026-11-01T05:29:59Z", "", false, "2026-11-01T05:30:00Z", "2026-11-01T08:00:00Z"},
			{"first 01:30", "2026-11-01T05:30:00Z", "", true, "2026-11-08T06:30:00Z", "2026-11-01T08:00:00Z"},
			{"second 01:30", "2026-11-01T06:30:00Z", "", true, "2026-11-08T06:30:00Z", "2026-11-01T08:00:00Z"},
		})
		checkLength(t, s, "2026-11-01T05:30:00Z", 150*time.Minute)
	})

	t.Run("fall back, closing in the repeated hour", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "00:00:00-01:30:00")})
		runDST(t, s, []dstCase{
			{"first 01:00", "2026-11-01T05:00:00Z", "2026-11-01T01:00:00-04:00", true, "2026-11-08T05:00:00Z", "2026-11-01T05:30:00Z"},
			{"first 01:30", "2026-11-01T05:30:00Z", "2026-11-01T01:30:00-04:00", false, "2026-11-08T05:00:00Z", "2026-11-08T06:30:00Z"},
			{"second 01:15 is closed", "2026-11-01T06:15:00Z", "2026-11-01T01:15:00-05:00", false, "2026-11-08T05:00:00Z", "2026-11-08T06:30:00Z"},
		})
	})
}

// Europe/London: 2026-03-29 01:00 GMT jumps to 02:00 BST (01:00Z); 2026-10-25 02:00 BST
// falls back to 01:00 GMT (01:00Z).
func TestStatusDSTLondon(t *testing.T) {
	const zone = "Europe/London"

	t.Run("spring forward, closing in the gap", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "00:30:00-01:30:00")})
		runDST(t, s, []dstCase{
			{"before the jump", "2026-03-29T00:59:59Z", "2026-03-29T00:59:59+00:00", true, "2026-04-04T23:30:00Z", "2026-03-29T01:00:00Z"},
			{"at the jump", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00+01:00", false, "2026-04-04T23:30:00Z", "2026-04-05T00:30:00Z"},
		})
	})

	t.Run("spring forward, opening in the gap", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "01:30:00-03:30:00")})
		runDST(t, s, []dstCase{
			{"before the jump", "2026-03-29T00:59:59Z", "", false, "2026-03-29T01:00:00Z", "2026-03-29T02:30:00Z"},
			{"at the jump", "2026-03-29T01:00:00Z", "", true, "2026-04-05T00:30:00Z", "2026-03-29T02:30:00Z"},
			{"after closing", "2026-03-29T02:30:00Z", "2026-03-29T03:30:00+01:00", false, "2026-04-05T00:30:00Z", "2026-04-05T02:30:00Z"},
		})
	})

	t.Run("spring forward night", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"saturday": intervals(t, "22:00:00-06:00:00")})
		runDST(t, s, []dstCase{
			{"before the jump", "2026-03-29T00:59:59Z", "", true, "2026-04-04T21:00:00Z", "2026-03-29T05:00:00Z"},
			{"at the jump", "2026-03-29T01:00:00Z", "", true, "2026-04-04T21:00:00Z", "2026-03-29T05:00:00Z"},
			{"closed", "2026-03-29T05:00:00Z", "2026-03-29T06:00:00+01:00", false, "2026-04-04T21:00:00Z", "2026-04-05T05:00:00Z"},
		})
		checkLength(t, s, "2026-03-28T22:00:00Z", 7*time.Hour)
	})

	t.Run("fall back, opening in the repeated hour", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "01:30:00-02:30:00")})
		runDST(t, s, []dstCase{
			{"before the first 01:30", "2026-10-25T00:29:59Z", "2026-10-25T01:29:59+01:00", false, "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z"},
			{"first 01:30", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00+01:00", true, "2026-11-01T01:30:00Z", "2026-10-25T02:30:00Z"},
			{"second 01:30", "2026-10-25T01:30:00Z", "2026-10-25T01:30:00+00:00", true, "2026-11-01T01:30:00Z", "2026-10-25T02:30:00Z"},
			{"closed", "2026-10-25T02:30:00Z", "2026-10-25T02:30:00+00:00", false, "2026-11-01T01:30:00Z", "2026-11-01T02:30:00Z"},
		})
		checkLength(t, s, "2026-10-25T00:30:00Z", 2*time.Hour)
	})

	t.Run("fall back night", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"saturday": intervals(t, "22:00:00-06:00:00")})
		runDST(t, s, []dstCase{
			{"first 01:30", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00+01:00", true, "2026-10-31T22:00:00Z", "2026-10-25T06:00:00Z"},
			{"second 01:30", "2026-10-25T01:30:00Z", "2026-10-25T01:30:00+00:00", true, "2026-10-31T22:00:00Z", "2026-10-25T06:00:00Z"},
			{"closed", "2026-10-25T06:00:00Z", "", false, "2026-10-31T22:00:00Z", "2026-11-01T06:00:00Z"},
		})
		checkLength(t, s, "2026-10-24T21:00:00Z", 9*time.Hour)
	})
}

// Australia/Sydney (southern hemisphere): 2026-04-05 03:00 AEDT falls back to 02:00 AEST
// (16:00Z the day before); 2026-10-04 02:00 AEST jumps to 03:00 AEDT (16:00Z the day
// before).
func TestStatusDSTSydney(t *testing.T) {
	const zone = "Australia/Sydney"

	t.Run("fall back night", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"saturday": intervals(t, "22:00:00-06:00:00")})
		runDST(t, s, []dstCase{
			{"first 02:30", "2026-04-04T15:30:00Z", "2026-04-05T02:30:00+11:00", true, "2026-04-11T12:00:00Z", "2026-04-04T20:00:00Z"},
			{"second 02:30", "2026-04-04T16:30:00Z", "2026-04-05T02:30:00+10:00", true, "2026-04-11T12:00:00Z", "2026-04-04T20:00:00Z"},
			{"closed", "2026-04-04T20:00:00Z", "2026-04-05T06:00:00+10:00", false, "2026-04-11T12:00:00Z", "2026-04-11T20:00:00Z"},
		})
		checkLength(t, s, "2026-04-04T11:00:00Z", 9*time.Hour)
	})

	t.Run("spring forward night", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"saturday": intervals(t, "22:00:00-06:00:00")})
		runDST(t, s, []dstCase{
			{"before the jump", "2026-10-03T15:59:59Z", "2026-10-04T01:59:59+10:00", true, "2026-10-10T11:00:00Z", "2026-10-03T19:00:00Z"},
			{"after the jump", "2026-10-03T16:00:00Z", "2026-10-04T03:00:00+11:00", true, "2026-10-10T11:00:00Z", "2026-10-03T19:00:00Z"},
			{"closed", "2026-10-03T19:00:00Z", "2026-10-04T06:00:00+11:00", false, "2026-10-10T11:00:00Z", "2026-10-10T19:00:00Z"},
		})
		checkLength(t, s, "2026-10-03T12:00:00Z", 7*time.Hour)
	})

	t.Run("spring forward, hours across the gap", func(t *testing.T) {
		s := dstSchedule(t, zone, map[string][]Interval{"sunday": intervals(t, "01:30:00-03:30:00")})
		runDST(t, s, []dstCase{
			{"before the jump", "2026-10-03T15:59:59Z", "", true, "2026-10-10T14:30:00Z", "2026-10-03T16:30:00Z"},
			{"after the jump", "2026-10-03T16:00:00Z", "", true, "2026-10-10T14:30:00Z", "2026-10-03T16:30:00Z"},
			{"closed", "2026-10-03T16:30:00Z", "", false, "2026-10-10T14:30:00Z", "2026-10-10T16:30:00Z"},
		})
	})
}

// An exception on the day of the change is evaluated the same way.
func TestStatusDSTException(t *testing.T) {
	s := Defaults()
	s.TimeZone = "America/New_York"
	s.Days = []string{}
	s.Exceptions = []Exception{{Date: "2026-11-01", Open: "01:30:00", Close: "01:15:00"}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// 01:30 EDT (05:30Z) to 01:15 EST on 2026-11-02 (06:15Z): nearly a day, plus the hour.
	runDST(t, s, []dstCase{
		{"second 01:15 on the day is open", "2026-11-01T06:15:00Z", "2026-11-01T01:15:00-05:00", true, "nil", "2026-11-02T06:15:00Z"},
		{"before", "2026-11-01T05:29:59Z", "", false, "2026-11-01T05:30:00Z", "2026-11-02T06:15:00Z"},
	})
}
