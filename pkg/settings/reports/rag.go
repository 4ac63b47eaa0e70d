package reports

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/convrs/admin/pkg/problem"
)

// KPI is one reporting KPI with RAG thresholds.
type KPI int

// The KPIs, in document order.
const (
	AverageWaitTime KPI = iota
	AverageResponseTime
	CSATScore
	Sentiment
	AIBotContainment
	numKPIs
)

var kpiNames = [numKPIs]string{"averageWaitTime", "averageResponseTime", "csatScore", "sentiment", "aiBotContainment"}

// KPIs lists every KPI, in document order.
func KPIs() []KPI {
	return []KPI{AverageWaitTime, AverageResponseTime, CSATScore, Sentiment, AIBotContainment}
}

// String is the KPI's JSON name.
func (k KPI) String() string {
	if k < 0 || k >= numKPIs {
		return "KPI(" + strconv.Itoa(int(k)) + ")"
	}
	return kpiNames[k]
}

// ParseKPI returns the KPI of a JSON name; ok is false for any other name.
func ParseKPI(name string) (k KPI, ok bool) {
	for i, n := range kpiNames {
		if n == name {
			return KPI(i), true
		}
	}
	return 0, false
}

// LowerIsBetter reports whether a smaller value of k is better (the times).
func (k KPI) LowerIsBetter() bool { return k.kind() == kindSeconds }

type kind int

const (
	kindSeconds kind = iota
	kindScore
	kindPercent
)

func (k KPI) kind() kind {
	switch k {
	case AverageWaitTime, AverageResponseTime:
		return kindSeconds
	case CSATScore:
		return kindScore
	}
	return kindPercent
}

// For returns the green and amber thresholds of k (zeros for a KPI that does not exist).
func (t Thresholds) For(k KPI) (green, amber float64) {
	switch k {
	case AverageWaitTime:
		return float64(t.AverageWaitTime.Green), float64(t.AverageWaitTime.Amber)
	case AverageResponseTime:
		return float64(t.AverageResponseTime.Green), float64(t.AverageResponseTime.Amber)
	case CSATScore:
		return t.CSATScore.Green, t.CSATScore.Amber
	case Sentiment:
		return float64(t.Sentiment.Green), float64(t.Sentiment.Amber)
	case AIBotContainment:
		return float64(t.AIBotContainment.Green), float64(t.AIBotContainment.Amber)
	}
	return 0, 0
}

// Rating is a RAG rating.
type Rating string

// The ratings, best first.
const (
	Green Rating = "green"
	Amber Rating = "amber"
	Red   Rating = "red"
)

// Rate rates value v of k against t. Lower is better for the times: v <= green is green,
// v <= amber amber, anything else red; higher is better for the others: v >= green is
// green, v >= amber amber, anything else red. The comparisons are exact (no rounding of
// v), and a value that compares with nothing (NaN) is red.
func (t Thresholds) Rate(k KPI, v float64) Rating {
	green, amber := t.For(k)
	if k.LowerIsBetter() {
		switch {
		case v <= green:
			return Green
		case v <= amber:
			return Amber
		}
		return Red
	}
	switch {
	case v >= green:
		return Green
	case v >= amber:
		return Amber
	}
	return Red
}

// Values are measured KPI values, each KPI at most once.
type Values struct {
	given [numKPIs]bool
	v     [numKPIs]float64
}

// Set gives k the value v (a KPI that does not exist is ignored).
func (vs *Values) Set(k KPI, v float64) {
	if k >= 0 && k < numKPIs {
		vs.given[k], vs.v[k] = true, v
	}
}

// Get returns the value of k and whether it was given.
func (vs *Values) Get(k KPI) (float64, bool) {
	if k < 0 || k >= numKPIs || !vs.given[k] {
		return 0, false
	}
	return vs.v[k], true
}

// Ratings are ratings by KPI; a KPI without a value has none ("").
type Ratings [numKPIs]Rating

// RateAll rates every value given in vs against t.
func (t Thresholds) RateAll(vs *Values) Ratings {
	var out Ratings
	for k := range KPI(numKPIs) {
		if v, ok := vs.Get(k); ok {
			out[k] = t.Rate(k, v)
		}
	}
	return out
}

// MarshalJSON encodes the ratings as an object of the KPIs rated, in KPI order:
// {"averageWaitTime":"amber","csatScore":"green"}.
func (r Ratings) MarshalJSON() ([]byte, error) { return r.appendJSON(make([]byte, 0, 128)), nil }

// appendJSON appends the JSON object of r to b. KPI names and ratings need no escaping.
func (r Ratings) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for k, rating := range r {
		if rating == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(append(append(append(append(b, '"'), kpiNames[k]...), `":"`...), rating...), '"')
	}
	return append(b, '}')
}

// RAGRequest is the body of the rating route: measured values by KPI name, kept as JSON
// text until Parse so that every wrong value can be named.
type RAGRequest struct {
	Values map[string]json.RawMessage `json:"values"`
}

// RAGResponse is the answer of the rating route: a rating for exactly the KPIs given.
type RAGResponse struct {
	Ratings Ratings `json:"ratings"`
}

// MarshalJSON encodes the response as {"ratings":{...}}; it is what encoding/json makes
// of it, written without reflection (the route's answer).
func (r RAGResponse) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 160), `{"ratings":`...)
	return append(r.Ratings.appendJSON(b), '}'), nil
}

// Parse returns the values of the request. A value that is not a number (null, a string,
// an object, a number beyond float64) is a problem.BadRequest, a wrong type, naming every
// such values.<name>. Otherwise every failure is listed in one problem.Invalid: no values
// at all (on values), a name that is not a KPI, and a value outside its KPI's domain
// (seconds at least 0, a CSAT score from 1 to 5, a percentage from 0 to 100).
func (r RAGRequest) Parse() (*Values, error) {
	names := make([]string, 0, len(r.Values))
	for name := range r.Values {
		names = append(names, name)
	}
	slices.Sort(names)
	nums := make([]float64, len(names))
	var wrong []problem.FieldError
	for i, name := range names {
		v, msg := parseNumber(r.Values[name])
		if msg != "" {
			wrong = append(wrong, problem.FieldError{Field: "values." + name, Message: msg})
		}
		nums[i] = v
	}
	if len(wrong) > 0 {
		return nil, &problem.Error{Code: problem.BadRequest, Message: "a field has the wrong type", Fields: wrong}
	}
	var f problem.Fields
	if len(names) == 0 {
		f.Add("values", "must give at least one KPI (%s)", kpiList)
	}
	out := new(Values)
	for i, name := range names {
		k, ok := ParseKPI(name)
		if !ok {
			f.Add("values."+name, "unknown KPI; the KPIs are %s", kpiList)
			continue
		}
		checkValue(&f, k, nums[i])
		out.Set(k, nums[i])
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseNumber reads one JSON value (already checked to be valid JSON) as a number, or
// says why it is not one, as the strict decoder words wrong types.
func parseNumber(raw json.RawMessage) (float64, string) {
	if len(raw) == 0 {
		return 0, "must be a number"
	}
	switch raw[0] {
	case '"':
		return 0, "must be a number, not string"
	case '{':
		return 0, "must be a number, not object"
	case '[':
		return 0, "must be a number, not array"
	case 't', 'f':
		return 0, "must be a number, not bool"
	case 'n':
		return 0, "must be a number, not null"
	}
	// JSON number syntax is a subset of what ParseFloat reads, and encoding/json parses
	// numbers with it too.
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, "must be a number within range"
	}
	return v, ""
}

var kpiList = strings.Join(kpiNames[:], ", ")

// valueFields are the field names of the values in problems (values.csatScore).
var valueFields = func() (out [numKPIs]string) {
	for k, name := range kpiNames {
		out[k] = "values." + name
	}
	return out
}()

// checkValue records what is wrong with measured value v of k, if anything, on
// values.<k>.
func checkValue(f *problem.Fields, k KPI, v float64) {
	field := valueFields[k]
	switch k.kind() {
	case kindSeconds:
		if !(v >= 0) {
			f.Add(field, "must be at least 0 (seconds)")
		}
	case kindScore:
		if !(v >= minCSAT && v <= maxCSAT) {
			f.Add(field, "must be between %d and %d", minCSAT, maxCSAT)
		}
	case kindPercent:
		if !(v >= 0 && v <= maxPercent) {
			f.Add(field, "must be between 0 and %d (percent)", maxPercent)
		}
	}
}
