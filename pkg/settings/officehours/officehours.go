// Package officehours is the office-hours settings area of Convrs Admin: when an org
// answers chats (weekly hours, several intervals a day, overnight intervals, holidays and
// special days, all in the org's IANA time zone), whether a missed-chat report is mailed,
// and the evaluation of "are we open at instant t, and when do we next open or close".
//
// Times of day are wall-clock times of the org's zone. On daylight-saving days a wall
// time that does not exist (spring-forward gap) is taken as the first instant after the
// gap, and a wall time that happens twice (fall-back) as the earlier of the two instants.
package officehours

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/timezone"
)

// Settings are the office hours of one org.
type Settings struct {
	OpenTime         string                `json:"openTime"`
	CloseTime        string                `json:"closeTime"`
	TimeZone         string                `json:"timeZone"`
	Days             []string              `json:"days"`
	Hours            map[string][]Interval `json:"hours,omitempty"`
	Exceptions       []Exception           `json:"exceptions,omitempty"`
	MissedChatReport MissedChatReport      `json:"missedChatReport"`
}

// Interval is one open period of a day, HH:MM:SS wall-clock times of the org's zone.
// A Close earlier than Open runs past midnight into the next day.
type Interval struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Exception replaces the hours of one calendar date: closed all day, or open from Open
// to Close.
type Exception struct {
	Date   string `json:"date"`
	Closed bool   `json:"closed,omitempty"`
	Open   string `json:"open,omitempty"`
	Close  string `json:"close,omitempty"`
}

// MissedChatReport says whether, and to whom, the report of missed chats is mailed.
type MissedChatReport struct {
	Enabled bool   `json:"enabled"`
	Email   string `json:"email,omitempty"`
}

// Limits of the settings.
const (
	maxExceptions      = 366
	maxIntervalsPerDay = 24
	maxEmailLen        = 254
)

// dayNames are the day names in week order, Monday first; a day's index in it is used
// throughout the package.
var dayNames = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// dayIndex returns the index of a (normalized) day name, or -1.
func dayIndex(name string) int {
	for i, d := range dayNames {
		if d == name {
			return i
		}
	}
	return -1
}

// Defaults returns the settings of an org that never saved office hours.
func Defaults() Settings {
	return Settings{
		OpenTime:  "09:00:00",
		CloseTime: "17:00:00",
		TimeZone:  "UTC",
		Days:      []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
	}
}

// Normalize trims whitespace of string fields, spells a known time zone as the zone
// database does, lower-cases day names (in days and as hours keys), sorts days into monday..sunday order (unknown names last, in their
// order) and sorts exceptions by date. The email is kept as typed apart from trimming.
// It is called before Validate on every write.
func (s *Settings) Normalize() {
	s.OpenTime = strings.TrimSpace(s.OpenTime)
	s.CloseTime = strings.TrimSpace(s.CloseTime)
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	if zone, msg := timezone.Parse(s.TimeZone); msg == "" {
		s.TimeZone = zone // as the zone database spells it: "europe/london" is Europe/London
	}

	if s.Days == nil {
		s.Days = []string{}
	}
	for i, d := range s.Days {
		s.Days[i] = strings.ToLower(strings.TrimSpace(d))
	}
	slices.SortStableFunc(s.Days, func(a, b string) int {
		return dayRank(a) - dayRank(b)
	})

	if s.Hours != nil {
		keys := make([]string, 0, len(s.Hours))
		for k := range s.Hours {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hours := make(map[string][]Interval, len(s.Hours))
		for _, k := range keys {
			list := s.Hours[k]
			for i := range list {
				list[i].Open = strings.TrimSpace(list[i].Open)
				list[i].Close = strings.TrimSpace(list[i].Close)
			}
			nk := strings.ToLower(strings.TrimSpace(k))
			if prev, ok := hours[nk]; ok {
				// "Monday" and "monday" both given: keep every interval so that
				// validation sees them all.
				hours[nk] = append(slices.Clip(prev), list...)
				continue
			}
			hours[nk] = list
		}
		s.Hours = hours
	}

	for i := range s.Exceptions {
		e := &s.Exceptions[i]
		e.Date = strings.TrimSpace(e.Date)
		e.Open = strings.TrimSpace(e.Open)
		e.Close = strings.TrimSpace(e.Close)
	}
	slices.SortStableFunc(s.Exceptions, func(a, b Exception) int {
		return strings.Compare(a.Date, b.Date)
	})

	s.MissedChatReport.Email = strings.TrimSpace(s.MissedChatReport.Email)
}

// dayRank orders day names for sorting: week order, unknown names after sunday.
func dayRank(name string) int {
	if i := dayIndex(name); i >= 0 {
		return i
	}
	return len(dayNames)
}

// parseClock parses an exactly 8-character HH:MM:SS time of day into seconds since
// midnight; ok is false for anything else.
func parseClock(v string) (sec int, ok bool) {
	if len(v) != 8 || v[2] != ':' || v[5] != ':' {
		return 0, false
	}
	h, ok1 := twoDigits(v[0], v[1])
	m, ok2 := twoDigits(v[3], v[4])
	sc, ok3 := twoDigits(v[6], v[7])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sc > 59 {
		return 0, false
	}
	return h*3600 + m*60 + sc, true
}

func twoDigits(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

// parseDate parses a YYYY-MM-DD calendar date into days since 1970-01-01; ok is false
// for anything else, including dates that do not exist such as 2026-02-30.
func parseDate(v string) (day int64, ok bool) {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return 0, false
	}
	y1, ok1 := twoDigits(v[0], v[1])
	y2, ok2 := twoDigits(v[2], v[3])
	m, ok3 := twoDigits(v[5], v[6])
	d, ok4 := twoDigits(v[8], v[9])
	if !ok1 || !ok2 || !ok3 || !ok4 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	y := y1*100 + y2
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return 0, false
	}
	return civilDay(y, time.Month(m), d), true
}

// civilDay returns the number of days from 1970-01-01 to the given calendar date.
func civilDay(y int, m time.Month, d int) int64 {
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
	return floorDiv(u, secondsPerDay)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// weekdayOf returns the index into dayNames of the weekday of a day number
// (1970-01-01 was a Thursday).
func weekdayOf(day int64) int {
	return int(((day+3)%7 + 7) % 7)
}

const secondsPerDay = 86400
