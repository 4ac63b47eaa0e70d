package officehours

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/timezone"
)

const (
	msgClock      = "must be HH:MM:SS"
	msgDay        = "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday"
	msgRequired   = "required unless closed"
	msgDiffer     = "open and close must differ"
	weekSeconds   = 7 * secondsPerDay
	defaultSource = -1 // weekSpan.index of an interval that comes from openTime/closeTime
)

// Validate reports every failing field at once as a *problem.Error with Code
// problem.Invalid; nil if the settings are valid. Fields are dotted JSON paths.
func (s Settings) Validate() error {
	var f problem.Fields

	openSec, openOK := parseClock(s.OpenTime)
	if !openOK {
		f.Add("openTime", msgClock)
	}
	closeSec, closeOK := parseClock(s.CloseTime)
	if !closeOK {
		f.Add("closeTime", msgClock)
	}
	if openOK && closeOK && openSec == closeSec {
		f.Add("closeTime", "must differ from openTime")
	}

	if _, msg := timezone.Parse(s.TimeZone); msg != "" {
		f.Add("timeZone", "%s", msg)
	}

	var inDays, repeated [7]bool
	for i, d := range s.Days {
		di := dayIndex(d)
		switch {
		case di < 0:
			f.Add(fmt.Sprintf("days[%d]", i), msgDay)
		case inDays[di] && !repeated[di]: // a day given three times is reported once
			repeated[di] = true
			f.Add("days", "must not repeat %q", d)
		default:
			inDays[di] = true
		}
	}

	s.validateHours(&f, inDays, openSec, closeSec, openOK && closeOK && openSec != closeSec)
	s.validateExceptions(&f)

	if r := s.MissedChatReport; r.Email == "" {
		if r.Enabled {
			f.Add("missedChatReport.email", "required when the report is enabled")
		}
	} else if !validEmail(r.Email) {
		f.Add("missedChatReport.email", "must be a valid email address")
	}

	return f.Err()
}

// weekSpan is one interval of the weekly schedule placed on the week: seconds from
// Monday 00:00, end after start, less than a day long.
type weekSpan struct {
	start, end int64
	day        int
	index      int // index in hours[day], or defaultSource
}

func (w weekSpan) label() string {
	if w.index == defaultSource {
		return "openTime/closeTime on " + dayNames[w.day]
	}
	return fmt.Sprintf("hours.%s[%d]", dayNames[w.day], w.index)
}

// overlaps reports whether two spans share an instant on the cyclic week.
func (w weekSpan) overlaps(o weekSpan) bool {
	for _, k := range [3]int64{-weekSeconds, 0, weekSeconds} {
		if w.start < o.end+k && o.start+k < w.end {
			return true
		}
	}
	return false
}

func (s Settings) validateHours(f *problem.Fields, inDays [7]bool, openSec, closeSec int, defaultOK bool) {
	var hoursOK [7]bool // the day's hours are all well formed and take part in the overlap check
	for key, list := range s.Hours {
		field := "hours." + key
		di := dayIndex(key)
		if di < 0 {
			f.Add(field, "not a day of the week")
			continue
		}
		if !inDays[di] {
			f.Add(field, "day is not in days")
		}
		if len(list) > maxIntervalsPerDay {
			f.Add(field, "at most %d intervals a day", maxIntervalsPerDay)
			continue
		}
		ok := true
		for i, iv := range list {
			p := fmt.Sprintf("%s[%d]", field, i)
			o, okO := parseClock(iv.Open)
			if !okO {
				f.Add(p+".open", msgClock)
			}
			c, okC := parseClock(iv.Close)
			if !okC {
				f.Add(p+".close", msgClock)
			}
			if okO && okC && o == c {
				f.Add(p, msgDiffer)
			}
			ok = ok && okO && okC && o != c
		}
		hoursOK[di] = ok && inDays[di]
	}

	// The effective weekly schedule, in list order: days Monday first, then index.
	var spans []weekSpan
	for di := range dayNames {
		if !inDays[di] {
			continue
		}
		base := int64(di) * secondsPerDay
		list, has := s.Hours[dayNames[di]]
		switch {
		case has && hoursOK[di]:
			for i, iv := range list {
				o, _ := parseClock(iv.Open)
				c, _ := parseClock(iv.Close)
				spans = append(spans, placeSpan(base, o, c, di, i))
			}
		case !has && defaultOK:
			spans = append(spans, placeSpan(base, openSec, closeSec, di, defaultSource))
		}
	}
	reported := make(map[int]bool)
	for j := range spans {
		for i := range j {
			if !spans[i].overlaps(spans[j]) {
				continue
			}
			// Report on the later one; openTime/closeTime intervals never overlap each
			// other, so when the later one is one of them the earlier one is from hours.
			target, other := j, i
			if spans[j].index == defaultSource {
				target, other = i, j
			}
			if reported[target] {
				continue
			}
			reported[target] = true
			f.Add(spans[target].label(), "overlaps %s", spans[other].label())
		}
	}
}

func placeSpan(base int64, open, close, day, index int) weekSpan {
	w := weekSpan{start: base + int64(open), end: base + int64(close), day: day, index: index}
	if close <= open {
		w.end += secondsPerDay
	}
	return w
}

func (s Settings) validateExceptions(f *problem.Fields) {
	if len(s.Exceptions) > maxExceptions {
		f.Add("exceptions", "at most %d exceptions", maxExceptions)
		return
	}
	seen := make(map[int64]bool, len(s.Exceptions))
	for i, e := range s.Exceptions {
		p := fmt.Sprintf("exceptions[%d]", i)
		if day, ok := parseDate(e.Date); !ok {
			f.Add(p+".date", "must be a date YYYY-MM-DD")
		} else if seen[day] {
			f.Add(p+".date", "duplicate date")
		} else {
			seen[day] = true
		}
		if e.Closed {
			if e.Open != "" || e.Close != "" {
				f.Add(p, "closed exceptions take no open/close")
			}
			continue
		}
		o, okO := checkClock(f, p+".open", e.Open)
		c, okC := checkClock(f, p+".close", e.Close)
		if okO && okC && o == c {
			f.Add(p, msgDiffer)
		}
	}
}

// checkClock validates a required HH:MM:SS field of an exception.
func checkClock(f *problem.Fields, field, v string) (int, bool) {
	if v == "" {
		f.Add(field, msgRequired)
		return 0, false
	}
	sec, ok := parseClock(v)
	if !ok {
		f.Add(field, msgClock)
	}
	return sec, ok
}

// validEmail accepts a bare address (no display name, no angle brackets) that
// net/mail parses back to itself, with a dotted domain, of at most 254 characters.
func validEmail(v string) bool {
	if len(v) > maxEmailLen {
		return false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return false
	}
	at := strings.LastIndexByte(v, '@')
	if at <= 0 {
		return false
	}
	domain := v[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	return true
}
