package reports_test

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/settings/reports"
)

var rank = map[reports.Rating]int{reports.Green: 0, reports.Amber: 1, reports.Red: 2}

// FuzzRate rates two values of one KPI under arbitrary thresholds (valid or not, NaN and
// infinities included): the rating is always green, amber or red, and it is monotonic: for
// a KPI where lower is better a larger value never rates better, where higher is better a
// larger value never rates worse. Under valid thresholds, a value exactly at green is
// green and exactly at amber is amber or better.
func FuzzRate(f *testing.F) {
	f.Add(uint8(0), 60.0, 120.0, 60.0, 61.0)
	f.Add(uint8(1), 45.0, 90.0, 90.0, 90.5)
	f.Add(uint8(2), 4.0, 3.5, 3.49, 3.99)
	f.Add(uint8(3), 60.0, 40.0, 40.0, 39.9)
	f.Add(uint8(4), 70.0, 50.0, 100.0, 0.0)
	f.Add(uint8(2), 3.5, 4.0, math.NaN(), math.Inf(1))
	f.Add(uint8(0), -1.0, 1e300, math.Inf(-1), math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, which uint8, green, amber, a, b float64) {
		k := reports.KPIs()[int(which)%len(reports.KPIs())]
		th := thresholdsFor(k, green, amber)
		g, am := th.For(k)
		ra, rb := th.Rate(k, a), th.Rate(k, b)
		for _, r := range []reports.Rating{ra, rb} {
			if _, ok := rank[r]; !ok {
				t.Fatalf("%s under %v/%v: rating %q is not green, amber or red", k, g, am, r)
			}
		}
		if a > b {
			a, b, ra, rb = b, a, rb, ra
		}
		if a < b { // a is the smaller value (NaN compares with nothing)
			if k.LowerIsBetter() && rank[rb] < rank[ra] {
				t.Errorf("%s under %v/%v: %v is %s but the larger %v is better, %s", k, g, am, a, ra, b, rb)
			}
			if !k.LowerIsBetter() && rank[rb] > rank[ra] {
				t.Errorf("%s under %v/%v: %v is %s but the larger %v is worse, %s", k, g, am, a, ra, b, rb)
			}
		}
		if (reports.Settings{Thresholds: th}).Validate() == nil {
			if r := th.Rate(k, g); r != reports.Green {
				t.Errorf("%s under %v/%v: green itself is %s", k, g, am, r)
			}
			if r := th.Rate(k, am); r == reports.Red {
				t.Errorf("%s under %v/%v: amber itself is red", k, g, am)
			}
		}
	})
}

// thresholdsFor returns the defaults with k's thresholds set to green and amber (as the
// KPI's type holds them: whole numbers are truncated, and saturate for huge values).
func thresholdsFor(k reports.KPI, green, amber float64) reports.Thresholds {
	th := reports.Defaults().Thresholds
	whole := func(v float64) int {
		switch {
		case math.IsNaN(v):
			return 0
		case v > 1e15:
			return 1e15
		case v < -1e15:
			return -1e15
		}
		return int(v)
	}
	pair := reports.Threshold[int]{Green: whole(green), Amber: whole(amber)}
	switch k {
	case reports.AverageWaitTime:
		th.AverageWaitTime = pair
	case reports.AverageResponseTime:
		th.AverageResponseTime = pair
	case reports.CSATScore:
		th.CSATScore = reports.Threshold[float64]{Green: green, Amber: amber}
	case reports.Sentiment:
		th.Sentiment = pair
	case reports.AIBotContainment:
		th.AIBotContainment = pair
	}
	return th
}

// FuzzRAGBody sends arbitrary bodies to the rating route: the answer is a 200 or a 4xx
// problem, never a 5xx or a crash; a 200 rates exactly the names the body gave, each
// green, amber or red, and only for bodies whose every name is a KPI.
func FuzzRAGBody(f *testing.F) {
	for _, seed := range []string{
		`{"values":{"averageWaitTime":75,"averageResponseTime":20,"csatScore":4.1,"sentiment":44.5,"aiBotContainment":50}}`,
		`{"values":{"csatScore":3.49}}`, `{"values":{"averageWaitTime":-0}}`, `{"values":{"averageWaitTime":1e308}}`,
		`{"values":{"averageWaitTime":1e999}}`, `{"values":{"nps":1}}`, `{"values":{}}`, `{"values":null}`, `{}`,
		`{"values":{"csatScore":null}}`, `{"values":{"csatScore":"4"}}`, `{"values":{"csatScore":4,"csatScore":4}}`,
		`{"values":[1]}`, `{"values":{"a":{"b":[null]}}}`, `{"x":1}`, `[]`, `{`, "\x00", `{"values":{"\u0000":1}}`,
	} {
		f.Add([]byte(seed))
	}
	s := apitest.New(f)
	s.Admin(http.MethodPut, path, []byte(`{"thresholds":{"csatScore":{"green":4.25,"amber":3.75}}}`)).Expect(f, 200)
	tok := s.Token("acme", auth.RoleAgent)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := s.Do(apitest.Request{Method: http.MethodPost, Path: ragPath, Token: tok, Body: body})
		if r.Status >= 500 || r.Status == 0 {
			t.Fatalf("%q: status %d\n%s", body, r.Status, r.Body)
		}
		if r.Status != http.StatusOK {
			return
		}
		var req struct{ Values map[string]json.RawMessage }
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("%q was rated, but is not a JSON object with values: %v", body, err)
		}
		var resp struct{ Ratings map[string]reports.Rating }
		if err := json.Unmarshal(r.Body, &resp); err != nil {
			t.Fatalf("%q: the answer is not a rating: %v\n%s", body, err, r.Body)
		}
		if len(resp.Ratings) == 0 || len(resp.Ratings) != len(req.Values) {
			t.Errorf("%q: got ratings %v, want one for each of %d values", body, resp.Ratings, len(req.Values))
		}
		for name, rating := range resp.Ratings {
			if _, ok := reports.ParseKPI(name); !ok {
				t.Errorf("%q: rated %q, which is not a KPI", body, name)
			}
			if _, ok := req.Values[name]; !ok {
				t.Errorf("%q: rated %q, which the body did not give", body, name)
			}
			if _, ok := rank[rating]; !ok {
				t.Errorf("%q: %s rated %q", body, name, rating)
			}
		}
	})
}
