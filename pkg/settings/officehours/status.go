package officehours

import (
	"math"
	"time"

	"github.com/convrs/admin/pkg/timezone"
)

// Status is whether an org is open at an instant, and when it next opens and closes.
type Status struct {
	Open      bool       `json:"open"`
	At        time.Time  `json:"at"`        // at, in UTC
	TimeZone  string     `json:"timeZone"`  // the org's zone
	LocalTime string     `json:"localTime"` // at in the zone, RFC 3339 with the zone's offset
	NextOpen  *time.Time `json:"nextOpen"`  // UTC; nil if none within the horizon
	NextClose *time.Time `json:"nextClose"` // UTC; nil if none within the horizon
}

// horizonDays is how far ahead Status looks for the next opening or closing.
const horizonDays = 400

// localLayout is RFC 3339 that always spells the offset numerically (+00:00, not Z).
const localLayout = "2006-01-02T15:04:05-07:00"

// Status evaluates the settings at instant at. The settings are assumed valid (an
// unknown zone is taken as UTC and malformed times are ignored).
//
// Every local calendar date D has intervals: those of an exception for D (none when
// closed), else, when D's weekday is in Days, Hours[weekday] or openTime-closeTime,
// else none. An interval starts at wall clock D+open and ends at D+close, or at
// (D+1)+close when close <= open. Touching or overlapping intervals, also across
// midnight, merge into one open period. The org is open when a period contains at
// (start <= at < end). When open, NextClose is the end of that period and NextOpen the
// start of the period after it; when closed, NextOpen and NextClose are the start and
// end of the next period. Looking ends 400 days after at's local date.
func (s Settings) Status(at time.Time) Status {
	loc, ok := timezone.Load(s.TimeZone)
	if !ok {
		loc = time.UTC
	}
	local := at.In(loc)
	st := Status{At: at.UTC(), TimeZone: loc.String(), LocalTime: local.Format(localLayout)}

	y, m, d := local.Date()
	ev := evaluator{loc: loc, first: civilDay(y, m, d) - 1}
	ev.init(&s)
	sw := sweep{at: at.Unix()}

	for k := int64(0); k < dayWindow && !sw.done; k++ {
		ev.day(k, &sw)
	}
	if !sw.done && sw.have {
		// A period still growing at the horizon is final only if no interval of a later
		// date, which starts at or after the next midnight, can touch it.
		limit := ev.resolve((ev.first + dayWindow) * secondsPerDay)
		sw.finish(sw.pe < limit)
	}

	st.Open = sw.open
	if sw.hasNextOpen {
		t := time.Unix(sw.nextOpen, 0).UTC()
		st.NextOpen = &t
	}
	if sw.hasNextClose {
		t := time.Unix(sw.nextClose, 0).UTC()
		st.NextClose = &t
	}
	return st
}

// dayWindow is the number of dates evaluated: the day before at's local date (for
// intervals that run past midnight), that date and horizonDays more.
const dayWindow = horizonDays + 2

// span is an interval as unix seconds, [s, e).
type span struct{ s, e int64 }

// evaluator turns dates into intervals; it lives on the stack of Status.
type evaluator struct {
	loc        *time.Location
	first      int64 // day number of window offset 0
	exceptions []Exception

	defOpen, defClose int
	defOK             bool
	on                [7]bool
	hours             [7][]Interval
	hasHours          [7]bool
	exc               [dayWindow]int32 // 1 + index into s.Exceptions of the exception for the date, or 0
	buf               [maxIntervalsPerDay]span
}

func (ev *evaluator) init(s *Settings) {
	ev.exceptions = s.Exceptions
	o, okO := parseClock(s.OpenTime)
	c, okC := parseClock(s.CloseTime)
	ev.defOpen, ev.defClose, ev.defOK = o, c, okO && okC && o != c
	for _, d := range s.Days {
		if i := dayIndex(d); i >= 0 {
			ev.on[i] = true
		}
	}
	if len(s.Hours) > 0 {
		for i, name := range dayNames {
			ev.hours[i], ev.hasHours[i] = s.Hours[name]
		}
	}
	for i, e := range s.Exceptions {
		day, ok := parseDate(e.Date)
		if !ok {
			continue
		}
		if k := day - ev.first; k >= 0 && k < dayWindow && ev.exc[k] == 0 {
			ev.exc[k] = int32(i + 1)
		}
	}
}

// day feeds the intervals of the date at window offset k to sw, in start order.
func (ev *evaluator) day(k int64, sw *sweep) {
	dn := ev.first + k
	spans := ev.buf[:0]
	add := func(o, c int) {
		if o == c {
			return
		}
		start := ev.resolve(dn*secondsPerDay + int64(o))
		endDay := dn
		if c < o {
			endDay++
		}
		end := ev.resolve(endDay*secondsPerDay + int64(c))
		if end > start { // a DST gap can swallow an interval whole
			spans = append(spans, span{start, end})
		}
	}
	if x := ev.exc[k]; x > 0 {
		e := ev.exceptions[x-1]
		if e.Closed {
			return
		}
		o, okO := parseClock(e.Open)
		c, okC := parseClock(e.Close)
		if okO && okC {
			add(o, c)
		}
	} else if wd := weekdayOf(dn); !ev.on[wd] {
		return
	} else if ev.hasHours[wd] {
		for _, iv := range ev.hours[wd] {
			o, okO := parseClock(iv.Open)
			c, okC := parseClock(iv.Close)
			if okO && okC {
				add(o, c)
			}
		}
	} else if ev.defOK {
		add(ev.defOpen, ev.defClose)
	}
	// Insertion sort: a day has few intervals and they are usually in order already.
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].s < spans[j-1].s; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	for _, sp := range spans {
		if sw.feed(sp); sw.done {
			return
		}
	}
}

// offset returns the UTC offset of the zone at unix second u.
func (ev *evaluator) offset(u int64) int64 {
	_, off := time.Unix(u, 0).In(ev.loc).Zone()
	return int64(off)
}

// resolve maps a wall-clock time of the zone, given as the unix second it would be in
// UTC, to an instant. A wall time in a gap (spring forward) maps to the end of the gap,
// the transition instant; a wall time that happens twice (fall back) maps to the earlier
// instant. time.Date leaves both choices unspecified, so they are made here: the
// candidates are the wall time read with the offsets in effect a day before and a day
// after, and with the offsets found at those candidates; a candidate is real when the
// zone's offset at it is the offset it was read with.
func (ev *evaluator) resolve(wall int64) int64 {
	before := ev.offset(wall - secondsPerDay)
	after := ev.offset(wall + secondsPerDay)
	if before == after {
		if t := wall - before; ev.offset(t) == before {
			return t // no transition near: the common case
		}
	}
	offsets := [4]int64{before, after, ev.offset(wall - before), ev.offset(wall - after)}
	best, found := int64(math.MaxInt64), false
	latest := int64(math.MinInt64)
	for _, o := range offsets {
		t := wall - o
		if ev.offset(t) == o && t < best {
			best, found = t, true
		}
		latest = max(latest, t)
	}
	if found {
		return best
	}
	// In a gap: read with the offset before the jump, the wall time lands after the
	// transition, inside the new zone period, which starts at the transition.
	start, _ := time.Unix(latest, 0).In(ev.loc).ZoneBounds()
	if start.IsZero() {
		return latest
	}
	return start.Unix()
}

// sweep merges intervals, fed in start order, into periods and finds the answer.
type sweep struct {
	at     int64
	have   bool  // a period is being built
	ps, pe int64 // that period
	open   bool  // at is inside a finished period; looking for the next one
	done   bool

	nextOpen, nextClose       int64
	hasNextOpen, hasNextClose bool
}

func (sw *sweep) feed(sp span) {
	if sw.have && sp.s <= sw.pe {
		sw.pe = max(sw.pe, sp.e)
		return
	}
	if sw.have {
		sw.finish(true)
		if sw.done {
			return
		}
	}
	sw.have, sw.ps, sw.pe = true, sp.s, sp.e
}

// finish takes the period being built as complete; endKnown is false when it may go on
// past the horizon, so that its end is not reported.
func (sw *sweep) finish(endKnown bool) {
	sw.have = false
	switch {
	case sw.open:
		sw.nextOpen, sw.hasNextOpen, sw.done = sw.ps, true, true
	case sw.ps <= sw.at && sw.at < sw.pe:
		sw.open = true
		sw.nextClose, sw.hasNextClose = sw.pe, endKnown
		sw.done = !endKnown
	case sw.ps > sw.at:
		sw.nextOpen, sw.hasNextOpen = sw.ps, true
		sw.nextClose, sw.hasNextClose = sw.pe, endKnown
		sw.done = true
	}
}
