package officehours

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// ts parses an RFC 3339 instant.
func ts(t testing.TB, v string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("bad instant %q: %v", v, err)
	}
	return at
}

// fmtPtr renders an optional instant in UTC RFC 3339, "nil" when absent.
func fmtPtr(p *time.Time) string {
	if p == nil {
		return "nil"
	}
	return p.UTC().Format(time.RFC3339)
}

// checkStatus asserts the open flag and the next instants; nextOpen and nextClose are
// RFC 3339 UTC instants or "nil".
func checkStatus(t *testing.T, got Status, open bool, nextOpen, nextClose string) {
	t.Helper()
	if got.Open != open {
		t.Errorf("got open %v, want %v (localTime %s)", got.Open, open, got.LocalTime)
	}
	if g := fmtPtr(got.NextOpen); g != nextOpen {
		t.Errorf("got nextOpen %s, want %s", g, nextOpen)
	}
	if g := fmtPtr(got.NextClose); g != nextClose {
		t.Errorf("got nextClose %s, want %s", g, nextClose)
	}
	for _, p := range []*time.Time{got.NextOpen, got.NextClose} {
		if p != nil && p.Location() != time.UTC {
			t.Errorf("got location %v, want UTC", p.Location())
		}
	}
}

type statusCase struct {
	name      string
	at        string
	open      bool
	nextOpen  string
	nextClose string
}

// runStatus evaluates s at every case's instant.
func runStatus(t *testing.T, s Settings, cases []statusCase) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatalf("settings invalid: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkStatus(t, s.Status(ts(t, c.at)), c.open, c.nextOpen, c.nextClose)
		})
	}
}

// 2026-06-01 is a Monday.

func TestStatusDefaults(t *testing.T) {
	runStatus(t, Defaults(), []statusCase{
		{"monday during hours", "2026-06-01T10:00:00Z", true, "2026-06-02T09:00:00Z", "2026-06-01T17:00:00Z"},
		{"monday at opening", "2026-06-01T09:00:00Z", true, "2026-06-02T09:00:00Z", "2026-06-01T17:00:00Z"},
		{"monday before hours", "2026-06-01T08:59:59Z", false, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z"},
		{"monday last second", "2026-06-01T16:59:59.999Z", true, "2026-06-02T09:00:00Z", "2026-06-01T17:00:00Z"},
		{"monday at closing", "2026-06-01T17:00:00Z", false, "2026-06-02T09:00:00Z", "2026-06-02T17:00:00Z"},
		{"monday midnight", "2026-06-01T00:00:00Z", false, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z"},
		{"friday during hours", "2026-06-05T12:00:00Z", true, "2026-06-08T09:00:00Z", "2026-06-05T17:00:00Z"},
		{"friday after hours", "2026-06-05T18:00:00Z", false, "2026-06-08T09:00:00Z", "2026-06-08T17:00:00Z"},
		{"saturday", "2026-06-06T12:00:00Z", false, "2026-06-08T09:00:00Z", "2026-06-08T17:00:00Z"},
		{"sunday late", "2026-06-07T23:59:59Z", false, "2026-06-08T09:00:00Z", "2026-06-08T17:00:00Z"},
	})
}

func TestStatusFields(t *testing.T) {
	s := Defaults()
	s.TimeZone = "America/New_York"
	at := time.Date(2026, 3, 8, 6, 59, 59, 0, time.FixedZone("X", 3600))
	got := s.Status(at)
	if want := at.UTC(); !got.At.Equal(want) || got.At.Location() != time.UTC {
		t.Errorf("got at %v, want %v in UTC", got.At, want)
	}
	if got.TimeZone != "America/New_York" {
		t.Errorf("got timeZone %q, want America/New_York", got.TimeZone)
	}
	if want := "2026-03-08T00:59:59-05:00"; got.LocalTime != want {
		t.Errorf("got localTime %s, want %s", got.LocalTime, want)
	}
	if got := Defaults().Status(ts(t, "2026-06-01T10:00:00Z")).LocalTime; got != "2026-06-01T10:00:00+00:00" {
		t.Errorf("got UTC localTime %s, want 2026-06-01T10:00:00+00:00", got)
	}

	b, err := json.Marshal(Settings{TimeZone: "UTC", Days: []string{}}.Status(ts(t, "2026-06-01T10:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"open":false,"at":"2026-06-01T10:00:00Z","timeZone":"UTC","localTime":"2026-06-01T10:00:00+00:00","nextOpen":null,"nextClose":null}`
	if string(b) != want {
		t.Errorf("got JSON %s, want %s", b, want)
	}
}

func TestStatusLunchBreak(t *testing.T) {
	s := Defaults()
	s.TimeZone = "Asia/Tokyo" // +09:00, no daylight saving
	s.Hours = map[string][]Interval{
		// Out of order on purpose.
		"monday": intervals(t, "13:00:00-17:00:00", "09:00:00-12:00:00"),
	}
	runStatus(t, s, []statusCase{
		{"morning", "2026-06-01T01:00:00Z", true, "2026-06-01T04:00:00Z", "2026-06-01T03:00:00Z"},
		{"lunch", "2026-06-01T03:30:00Z", false, "2026-06-01T04:00:00Z", "2026-06-01T08:00:00Z"},
		{"afternoon", "2026-06-01T07:00:00Z", true, "2026-06-02T00:00:00Z", "2026-06-01T08:00:00Z"},
		{"before", "2026-05-31T23:00:00Z", false, "2026-06-01T00:00:00Z", "2026-06-01T03:00:00Z"},
		{"tuesday uses openTime", "2026-06-02T05:00:00Z", true, "2026-06-03T00:00:00Z", "2026-06-02T08:00:00Z"},
	})
}

func TestStatusTouchingIntervalsMerge(t *testing.T) {
	s := Defaults()
	s.Hours = map[string][]Interval{
		"monday":  intervals(t, "09:00:00-12:00:00", "12:00:00-18:00:00", "20:00:00-00:00:00"),
		"tuesday": intervals(t, "00:00:00-02:00:00", "09:00:00-10:00:00"),
	}
	runStatus(t, s, []statusCase{
		{"morning runs into afternoon", "2026-06-01T11:00:00Z", true, "2026-06-01T20:00:00Z", "2026-06-01T18:00:00Z"},
		{"evening runs past midnight", "2026-06-01T21:00:00Z", true, "2026-06-02T09:00:00Z", "2026-06-02T02:00:00Z"},
		{"closed before evening", "2026-06-01T19:00:00Z", false, "2026-06-01T20:00:00Z", "2026-06-02T02:00:00Z"},
		{"after midnight", "2026-06-02T01:00:00Z", true, "2026-06-02T09:00:00Z", "2026-06-02T02:00:00Z"},
	})
}

func TestStatusOvernight(t *testing.T) {
	s := Defaults()
	s.Days = []string{"friday"}
	s.Hours = map[string][]Interval{"friday": intervals(t, "22:00:00-06:00:00")}
	runStatus(t, s, []statusCase{
		{"friday evening before", "2026-06-05T21:00:00Z", false, "2026-06-05T22:00:00Z", "2026-06-06T06:00:00Z"},
		{"friday night", "2026-06-05T23:00:00Z", true, "2026-06-12T22:00:00Z", "2026-06-06T06:00:00Z"},
		{"saturday 03:00", "2026-06-06T03:00:00Z", true, "2026-06-12T22:00:00Z", "2026-06-06T06:00:00Z"},
		{"saturday 06:00", "2026-06-06T06:00:00Z", false, "2026-06-12T22:00:00Z", "2026-06-13T06:00:00Z"},
		{"friday morning", "2026-06-05T03:00:00Z", false, "2026-06-05T22:00:00Z", "2026-06-06T06:00:00Z"},
	})

	t.Run("exception on the next day does not cut it short", func(t *testing.T) {
		s := s
		s.Exceptions = []Exception{{Date: "2026-06-06", Closed: true}}
		checkStatus(t, s.Status(ts(t, "2026-06-06T03:00:00Z")), true, "2026-06-12T22:00:00Z", "2026-06-06T06:00:00Z")
	})
	t.Run("default overnight", func(t *testing.T) {
		s := Defaults()
		s.OpenTime, s.CloseTime = "22:00:00", "06:00:00"
		// Friday night runs into saturday; sunday night is closed.
		checkStatus(t, s.Status(ts(t, "2026-06-06T05:00:00Z")), true, "2026-06-08T22:00:00Z", "2026-06-06T06:00:00Z")
		checkStatus(t, s.Status(ts(t, "2026-06-08T05:00:00Z")), false, "2026-06-08T22:00:00Z", "2026-06-09T06:00:00Z")
		checkStatus(t, s.Status(ts(t, "2026-06-09T05:00:00Z")), true, "2026-06-09T22:00:00Z", "2026-06-09T06:00:00Z")
	})
}

func TestStatusExceptions(t *testing.T) {
	s := Defaults()
	s.TimeZone = "Europe/Berlin" // +02:00 in June
	// Status must not depend on the order of exceptions or on every one being well formed.
	s.Exceptions = []Exception{
		{Date: "2026-06-03", Open: "10:00:00", Close: "14:00:00"}, // short wednesday
		{Date: "2026-06-01", Closed: true},                        // monday holiday
		{Date: "2026-05-31", Open: "23:00:00", Close: "01:00:00"}, // sunday night into the holiday
		{Date: "2026-06-06", Open: "11:00:00", Close: "13:00:00"}, // open saturday
		{Date: "2026-06-12", Open: "20:00:00", Close: "02:00:00"}, // friday late shift
		{Date: "2026-06-13", Open: "01:00:00", Close: "03:00:00"}, // overlaps the late shift
		{Date: "not a date", Open: "00:00:00", Close: "23:00:00"}, // ignored
		{Date: "2026-06-15", Open: "", Close: "x"},                // malformed: no interval
		{Date: "2026-06-16", Closed: true},
		{Date: "2026-06-17", Closed: true},
		{Date: "2026-06-18", Closed: true},
		{Date: "2026-06-19", Closed: true},
	}
	for _, c := range []statusCase{
		{"sunday night runs into the holiday", "2026-05-31T22:30:00Z", true, "2026-06-02T07:00:00Z", "2026-05-31T23:00:00Z"},
		{"holiday", "2026-06-01T10:00:00Z", false, "2026-06-02T07:00:00Z", "2026-06-02T15:00:00Z"},
		{"short day before", "2026-06-03T07:30:00Z", false, "2026-06-03T08:00:00Z", "2026-06-03T12:00:00Z"},
		{"short day during", "2026-06-03T09:00:00Z", true, "2026-06-04T07:00:00Z", "2026-06-03T12:00:00Z"},
		{"short day after", "2026-06-03T13:00:00Z", false, "2026-06-04T07:00:00Z", "2026-06-04T15:00:00Z"},
		{"open saturday", "2026-06-06T09:30:00Z", true, "2026-06-08T07:00:00Z", "2026-06-06T11:00:00Z"},
		{"late shift merges with the next day's exception", "2026-06-12T19:00:00Z", true, "2026-06-22T07:00:00Z", "2026-06-13T01:00:00Z"},
		{"malformed exception and closed week", "2026-06-15T08:00:00Z", false, "2026-06-22T07:00:00Z", "2026-06-22T15:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkStatus(t, s.Status(ts(t, c.at)), c.open, c.nextOpen, c.nextClose)
		})
	}
}

func TestStatusNeverOpen(t *testing.T) {
	s := Defaults()
	s.Days = []string{}
	runStatus(t, s, []statusCase{
		{"no days", "2026-06-01T10:00:00Z", false, "nil", "nil"},
	})

	s.Exceptions = []Exception{{Date: "2027-07-05", Open: "09:00:00", Close: "10:00:00"}}
	runStatus(t, s, []statusCase{
		// 2026-06-01 + 399 days = 2027-07-05: within the horizon.
		{"exception at 399 days", "2026-06-01T10:00:00Z", false, "2027-07-05T09:00:00Z", "2027-07-05T10:00:00Z"},
		{"exception beyond 400 days", "2026-05-01T10:00:00Z", false, "nil", "nil"},
		{"during the exception", "2027-07-05T09:30:00Z", true, "nil", "2027-07-05T10:00:00Z"},
	})
}

func TestStatusAlwaysOpen(t *testing.T) {
	s := Defaults()
	s.Days = dayNames[:]
	s.Hours = map[string][]Interval{}
	for _, d := range dayNames {
		s.Hours[d] = intervals(t, "00:00:00-12:00:00", "12:00:00-00:00:00")
	}
	runStatus(t, s, []statusCase{
		{"always", "2026-06-01T10:00:00Z", true, "nil", "nil"},
	})

	s.Exceptions = []Exception{{Date: "2026-12-25", Closed: true}}
	runStatus(t, s, []statusCase{
		{"until christmas", "2026-06-01T10:00:00Z", true, "2026-12-26T00:00:00Z", "2026-12-25T00:00:00Z"},
		{"christmas", "2026-12-25T10:00:00Z", false, "2026-12-26T00:00:00Z", "nil"},
	})
}

func TestStatusUnknownZoneIsUTC(t *testing.T) {
	s := Defaults()
	s.TimeZone = "Mars/Base"
	got := s.Status(ts(t, "2026-06-01T10:00:00Z"))
	checkStatus(t, got, true, "2026-06-02T09:00:00Z", "2026-06-01T17:00:00Z")
	if got.TimeZone != "UTC" {
		t.Errorf("got timeZone %q, want UTC", got.TimeZone)
	}
}

// TestStatusConsistent walks a year of instants in zones with and without daylight
// saving and checks that the reported next instants are really where the state flips.
func TestStatusConsistent(t *testing.T) {
	schedules := map[string]func(s *Settings){
		"defaults": func(s *Settings) {},
		"overnight": func(s *Settings) {
			s.OpenTime, s.CloseTime = "22:00:00", "06:00:00"
			s.Days = dayNames[:]
		},
		"around transitions": func(s *Settings) {
			s.Days = []string{"saturday", "sunday"}
			s.Hours = map[string][]Interval{
				"saturday": intervals(t, "01:30:00-02:30:00", "22:00:00-01:15:00"),
				"sunday":   intervals(t, "01:30:00-02:15:00", "02:45:00-03:30:00", "23:00:00-00:00:00"),
			}
			s.Exceptions = []Exception{{Date: "2026-03-08", Open: "02:10:00", Close: "02:20:00"}}
		},
	}
	zones := []string{"UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago"}
	step := 97*time.Minute + 13*time.Second
	for name, mutate := range schedules {
		for _, zone := range zones {
			t.Run(name+"/"+zone, func(t *testing.T) {
				s := Defaults()
				s.TimeZone = zone
				mutate(&s)
				if err := s.Validate(); err != nil {
					t.Fatalf("settings invalid: %v", err)
				}
				start := ts(t, "2026-01-01T00:00:00Z")
				for at := start; at.Before(start.AddDate(1, 0, 0)); at = at.Add(step) {
					checkFlip(t, s, at)
				}
			})
		}
	}
}

// checkFlip asserts that the state flips exactly at the reported next instants.
func checkFlip(t *testing.T, s Settings, at time.Time) {
	t.Helper()
	st := s.Status(at)
	if st.NextClose == nil || st.NextOpen == nil {
		t.Fatalf("at %s: got nextOpen %s nextClose %s, want both", at, fmtPtr(st.NextOpen), fmtPtr(st.NextClose))
	}
	no, nc := *st.NextOpen, *st.NextClose
	if !no.After(at) || !nc.After(at) {
		t.Fatalf("at %s: got nextOpen %s nextClose %s, want both after at", at, no, nc)
	}
	if st.Open && !no.After(nc) || !st.Open && !nc.After(no) {
		t.Fatalf("at %s open %v: got nextOpen %s nextClose %s in the wrong order", at, st.Open, no, nc)
	}
	flip := no
	if st.Open {
		flip = nc
	}
	if got := s.Status(flip.Add(-time.Second)).Open; got != st.Open {
		t.Fatalf("at %s: got open %v a second before the flip at %s, want %v", at, got, flip, st.Open)
	}
	if got := s.Status(flip).Open; got == st.Open {
		t.Fatalf("at %s: got open %v at the flip %s, want %v", at, got, flip, !st.Open)
	}
}

func BenchmarkStatus(b *testing.B) {
	s := Defaults()
	s.TimeZone = "America/New_York"
	s.Days = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	s.Hours = map[string][]Interval{
		"monday":   intervals(b, "09:00:00-12:00:00", "13:00:00-17:00:00"),
		"friday":   intervals(b, "09:00:00-12:00:00", "22:00:00-02:00:00"),
		"saturday": intervals(b, "10:00:00-14:00:00"),
	}
	for m := 1; m <= 12; m++ {
		s.Exceptions = append(s.Exceptions, Exception{Date: fmt.Sprintf("2026-%02d-01", m), Closed: true})
	}
	if err := s.Validate(); err != nil {
		b.Fatal(err)
	}
	instants := make([]time.Time, 64)
	for i := range instants {
		instants[i] = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Hour)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = s.Status(instants[i%len(instants)])
		i++
	}
}

func BenchmarkStatusNeverOpen(b *testing.B) {
	s := Defaults()
	s.TimeZone = "Europe/London"
	s.Days = []string{}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Status(at)
	}
}
