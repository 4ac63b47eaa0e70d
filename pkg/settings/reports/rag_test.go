package reports_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/settings/reports"
)

const ragPath = "/v1/orgs/acme/reports/rag"

// TestRateBoundaries rates values at and just past each threshold, in both directions,
// with whole and decimal values, against the default thresholds.
func TestRateBoundaries(t *testing.T) {
	t.Parallel()
	th := reports.Defaults().Thresholds
	tests := []struct {
		kpi  reports.KPI
		v    float64
		want reports.Rating
	}{
		// Lower is better: wait 60/120.
		{reports.AverageWaitTime, 0, reports.Green},
		{reports.AverageWaitTime, 59.99, reports.Green},
		{reports.AverageWaitTime, 60, reports.Green},
		{reports.AverageWaitTime, 60.01, reports.Amber},
		{reports.AverageWaitTime, 61, reports.Amber},
		{reports.AverageWaitTime, 119.999, reports.Amber},
		{reports.AverageWaitTime, 120, reports.Amber},
		{reports.AverageWaitTime, 120.001, reports.Red},
		{reports.AverageWaitTime, 121, reports.Red},
		{reports.AverageWaitTime, 1e9, reports.Red},
		// Response 45/90.
		{reports.AverageResponseTime, 45, reports.Green},
		{reports.AverageResponseTime, 45.5, reports.Amber},
		{reports.AverageResponseTime, 46, reports.Amber},
		{reports.AverageResponseTime, 90, reports.Amber},
		{reports.AverageResponseTime, 90.5, reports.Red},
		{reports.AverageResponseTime, 91, reports.Red},
		// Higher is better: CSAT 4.0/3.5.
		{reports.CSATScore, 5, reports.Green},
		{reports.CSATScore, 4.01, reports.Green},
		{reports.CSATScore, 4.0, reports.Green},
		{reports.CSATScore, 3.99, reports.Amber},
		{reports.CSATScore, 3.5, reports.Amber},
		{reports.CSATScore, 3.49, reports.Red},
		{reports.CSATScore, 3, reports.Red},
		{reports.CSATScore, 1, reports.Red},
		// Sentiment 60/40.
		{reports.Sentiment, 100, reports.Green},
		{reports.Sentiment, 60, reports.Green},
		{reports.Sentiment, 59.9, reports.Amber},
		{reports.Sentiment, 59, reports.Amber},
		{reports.Sentiment, 40, reports.Amber},
		{reports.Sentiment, 39.9, reports.Red},
		{reports.Sentiment, 39, reports.Red},
		{reports.Sentiment, 0, reports.Red},
		// Containment 70/50.
		{reports.AIBotContainment, 70, reports.Green},
		{reports.AIBotContainment, 69.5, reports.Amber},
		{reports.AIBotContainment, 69, reports.Amber},
		{reports.AIBotContainment, 50, reports.Amber},
		{reports.AIBotContainment, 49.99, reports.Red},
		{reports.AIBotContainment, 49, reports.Red},
	}
	for _, tc := range tests {
		if got := th.Rate(tc.kpi, tc.v); got != tc.want {
			t.Errorf("%s %v: got %s, want %s", tc.kpi, tc.v, got, tc.want)
		}
	}
}

// With green equal to amber there is no amber band: at the threshold is green, one past
// it red.
func TestRateEqualThresholds(t *testing.T) {
	t.Parallel()
	th := reports.Thresholds{
		AverageWaitTime: reports.Threshold[int]{Green: 30, Amber: 30},
		CSATScore:       reports.Threshold[float64]{Green: 4.25, Amber: 4.25},
	}
	for _, tc := range []struct {
		kpi  reports.KPI
		v    float64
		want reports.Rating
	}{
		{reports.AverageWaitTime, 30, reports.Green}, {reports.AverageWaitTime, 30.5, reports.Red},
		{reports.CSATScore, 4.25, reports.Green}, {reports.CSATScore, 4.24, reports.Red},
	} {
		if got := th.Rate(tc.kpi, tc.v); got != tc.want {
			t.Errorf("%s %v: got %s, want %s", tc.kpi, tc.v, got, tc.want)
		}
	}
}

func TestKPINames(t *testing.T) {
	t.Parallel()
	var names []string
	for _, k := range reports.KPIs() {
		names = append(names, k.String())
		if got, ok := reports.ParseKPI(k.String()); !ok || got != k {
			t.Errorf("ParseKPI(%q): got %v %v, want %v", k, got, ok, k)
		}
	}
	if got, want := strings.Join(names, " "), "averageWaitTime averageResponseTime csatScore sentiment aiBotContainment"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, name := range []string{"", "AverageWaitTime", "csatscore", "nps"} {
		if _, ok := reports.ParseKPI(name); ok {
			t.Errorf("ParseKPI(%q) is a KPI", name)
		}
	}
}

func rag(t *testing.T, s *apitest.Server, role, body string, want int) apitest.Response {
	t.Helper()
	return s.As("acme", role, http.MethodPost, ragPath, []byte(body)).Expect(t, want)
}

func ratings(t *testing.T, r apitest.Response) map[string]string {
	t.Helper()
	var out struct {
		Ratings map[string]string `json:"ratings"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("not a rating response: %v\n%s", err, r.Body)
	}
	return out.Ratings
}

// TestRAGRoute rates through HTTP: the defaults of an organisation that never saved the
// area, exactly the KPIs given, and the new thresholds once the admin changes them.
func TestRAGRoute(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	all := `{"values":{"averageWaitTime":61,"averageResponseTime":45,"csatScore":3.49,"sentiment":40,"aiBotContainment":70.5}}`
	got := ratings(t, rag(t, s, auth.RoleAgent, all, 200))
	want := map[string]string{"averageWaitTime": "amber", "averageResponseTime": "green", "csatScore": "red", "sentiment": "amber", "aiBotContainment": "green"}
	if !maps.Equal(got, want) {
		t.Errorf("defaults: got %v, want %v", got, want)
	}
	got = ratings(t, rag(t, s, auth.RoleAgent, "{ \"values\" : {\n\t\"csatScore\" :  4 } }", 200))
	if want := map[string]string{"csatScore": "green"}; !maps.Equal(got, want) {
		t.Errorf("one KPI: got %v, want exactly %v", got, want)
	}

	s.Admin(http.MethodPut, path, []byte(`{"thresholds":{
		"averageWaitTime":{"green":61,"amber":61},"averageResponseTime":{"green":30,"amber":44},
		"csatScore":{"green":3.49,"amber":3},"sentiment":{"green":41,"amber":41},"aiBotContainment":{"green":71,"amber":70}}}`)).Expect(t, 200)
	got = ratings(t, rag(t, s, auth.RoleAgent, all, 200))
	want = map[string]string{"averageWaitTime": "green", "averageResponseTime": "red", "csatScore": "green", "sentiment": "red", "aiBotContainment": "amber"}
	if !maps.Equal(got, want) {
		t.Errorf("after the admin's change: got %v, want %v", got, want)
	}
	// A patch of one threshold shows at the next rating.
	s.Admin(http.MethodPatch, path, []byte(`{"thresholds":{"sentiment":{"amber":40}}}`), "Content-Type", mergePatch).Expect(t, 200)
	if got := ratings(t, rag(t, s, auth.RoleAgent, `{"values":{"sentiment":40}}`, 200)); got["sentiment"] != "amber" {
		t.Errorf("after the patch: got %v, want sentiment amber", got)
	}
	// Another organisation keeps the defaults.
	r := s.As("globex", auth.RoleAgent, http.MethodPost, "/v1/orgs/globex/reports/rag", []byte(all)).Expect(t, 200)
	if got, want := ratings(t, r)["averageWaitTime"], "amber"; got != want {
		t.Errorf("another organisation: got %s, want %s (the defaults)", got, want)
	}
}

// TestRAGBoundariesOverHTTP sends the boundary values as JSON text (whole and decimal)
// against the defaults.
func TestRAGBoundariesOverHTTP(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	tests := []struct{ kpi, value, want string }{
		{"averageWaitTime", "60", "green"}, {"averageWaitTime", "61", "amber"}, {"averageWaitTime", "60.0001", "amber"},
		{"averageWaitTime", "120", "amber"}, {"averageWaitTime", "120.0", "amber"}, {"averageWaitTime", "121", "red"},
		{"averageWaitTime", "0", "green"}, {"averageWaitTime", "1e6", "red"},
		{"averageResponseTime", "45", "green"}, {"averageResponseTime", "45.01", "amber"}, {"averageResponseTime", "90", "amber"}, {"averageResponseTime", "90.01", "red"},
		{"csatScore", "4.0", "green"}, {"csatScore", "4", "green"}, {"csatScore", "3.99", "amber"}, {"csatScore", "3.5", "amber"},
		{"csatScore", "3.50", "amber"}, {"csatScore", "3.49", "red"}, {"csatScore", "5", "green"}, {"csatScore", "1", "red"},
		{"sentiment", "60", "green"}, {"sentiment", "59.99", "amber"}, {"sentiment", "40", "amber"}, {"sentiment", "39.99", "red"},
		{"aiBotContainment", "70", "green"}, {"aiBotContainment", "69", "amber"}, {"aiBotContainment", "50", "amber"}, {"aiBotContainment", "49", "red"},
		{"aiBotContainment", "100", "green"}, {"aiBotContainment", "0", "red"},
	}
	for _, tc := range tests {
		got := ratings(t, rag(t, s, auth.RoleAgent, `{"values":{"`+tc.kpi+`":`+tc.value+`}}`, 200))
		if got[tc.kpi] != tc.want || len(got) != 1 {
			t.Errorf("%s %s: got %v, want only %s", tc.kpi, tc.value, got, tc.want)
		}
	}
}

// TestRAGRefused: unknown KPIs, values outside their domain and an empty request are 422
// listing every failing field; wrong types, null values, unknown top-level fields,
// duplicates and malformed JSON are 400; other media types 415.
func TestRAGRefused(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	kpis := "averageWaitTime, averageResponseTime, csatScore, sentiment, aiBotContainment"
	tests := []struct {
		name, body string
		status     int
		want       map[string]string
	}{
		{"unknown KPI", `{"values":{"averageWaitTime":75,"nps":30}}`, 422,
			map[string]string{"values.nps": "unknown KPI; the KPIs are " + kpis}},
		{"wrongly cased KPI", `{"values":{"CSATScore":4}}`, 422,
			map[string]string{"values.CSATScore": "unknown KPI; the KPIs are " + kpis}},
		{"empty values", `{"values":{}}`, 422, map[string]string{"values": "must give at least one KPI (" + kpis + ")"}},
		{"no values", `{}`, 422, map[string]string{"values": "must give at least one KPI (" + kpis + ")"}},
		{"null values", `{"values":null}`, 422, map[string]string{"values": "must give at least one KPI (" + kpis + ")"}},
		{"every value out of its domain", `{"values":{"averageWaitTime":-1,"averageResponseTime":-0.001,"csatScore":0.99,"sentiment":100.01,"aiBotContainment":-5,"x":1}}`, 422,
			map[string]string{
				"values.averageWaitTime":     "must be at least 0 (seconds)",
				"values.averageResponseTime": "must be at least 0 (seconds)",
				"values.csatScore":           "must be between 1 and 5",
				"values.sentiment":           "must be between 0 and 100 (percent)",
				"values.aiBotContainment":    "must be between 0 and 100 (percent)",
				"values.x":                   "unknown KPI; the KPIs are " + kpis,
			}},
		{"csat above 5", `{"values":{"csatScore":5.01}}`, 422, map[string]string{"values.csatScore": "must be between 1 and 5"}},
		{"percent below 0", `{"values":{"sentiment":-0.5}}`, 422, map[string]string{"values.sentiment": "must be between 0 and 100 (percent)"}},
		{"null value", `{"values":{"csatScore":null,"sentiment":50}}`, 400, map[string]string{"values.csatScore": "must be a number, not null"}},
		{"string value", `{"values":{"csatScore":"4"}}`, 400, map[string]string{"values.csatScore": "must be a number, not string"}},
		{"unknown top-level field", `{"values":{"csatScore":4},"at":"2026-01-01"}`, 400, map[string]string{"at": "unknown field"}},
		{"wrongly cased top-level field", `{"Values":{"csatScore":4}}`, 400, map[string]string{"Values": "unknown field"}},
		{"duplicate KPI", `{"values":{"csatScore":4,"csatScore":3}}`, 400, map[string]string{"values.csatScore": "duplicate field"}},
		{"values not an object", `{"values":[75]}`, 400, map[string]string{"values": "must be an object, not array"}},
		{"number too large", `{"values":{"averageWaitTime":1e999}}`, 400, map[string]string{"values.averageWaitTime": "must be a number within range"}},
		{"every wrong type named", `{"values":{"csatScore":true,"sentiment":{},"averageWaitTime":[1],"nps":"x","aiBotContainment":50}}`, 400,
			map[string]string{
				"values.csatScore":       "must be a number, not bool",
				"values.sentiment":       "must be a number, not object",
				"values.averageWaitTime": "must be a number, not array",
				"values.nps":             "must be a number, not string",
			}},
		{"malformed", `{"values":`, 400, nil},
		{"not an object", `[]`, 400, nil},
		{"trailing data", `{"values":{"csatScore":4}}{}`, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rag(t, s, auth.RoleAgent, tc.body, tc.status)
			if tc.want != nil {
				if got := r.FieldErrors(t); !maps.Equal(got, tc.want) {
					t.Errorf("got %v\nwant %v", got, tc.want)
				}
			}
		})
	}
	s.As("acme", auth.RoleAgent, http.MethodPost, ragPath, []byte(`{"values":{"csatScore":4}}`), "Content-Type", "text/plain").Expect(t, 415)
	s.As("acme", auth.RoleAgent, http.MethodPost, ragPath, []byte(`{"values":{"csatScore":4}}`), "Content-Type", mergePatch).Expect(t, 415)
	big := `{"values":{"csatScore":4` + strings.Repeat(" ", 65<<10) + `}}`
	s.As("acme", auth.RoleAgent, http.MethodPost, ragPath, []byte(big)).Expect(t, 400)
}

// TestRAGAuthorisation: every role of the organisation may rate; another organisation is
// 404; no token or a bad one 401; other methods 405.
func TestRAGAuthorisation(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	body := []byte(`{"values":{"averageWaitTime":75}}`)
	for _, role := range []string{auth.RoleAdmin, auth.RoleAgentManager, auth.RoleClientManager, auth.RoleMarketing, auth.RoleCompliance, auth.RoleAgent, "custom-role"} {
		r := s.As("acme", role, http.MethodPost, ragPath, body).Expect(t, 200)
		if got := ratings(t, r); got["averageWaitTime"] != "amber" {
			t.Errorf("%s: got %v, want averageWaitTime amber", role, got)
		}
	}
	s.As("globex", auth.RoleAdmin, http.MethodPost, ragPath, body).Expect(t, 404)
	s.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/globex/reports/rag", body).Expect(t, 404)
	s.As("acme", auth.RoleAdmin, http.MethodPost, "/v1/orgs/-acme/reports/rag", body).Expect(t, 404)
	r := s.Do(apitest.Request{Method: http.MethodPost, Path: ragPath, Body: body}).Expect(t, 401)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
	s.Do(apitest.Request{Method: http.MethodPost, Path: ragPath, Body: body, Token: "abc.def.ghi"}).Expect(t, 401)
	// Authorisation comes before the body is read: a stranger learns nothing from it.
	s.As("globex", auth.RoleAdmin, http.MethodPost, ragPath, []byte(`{"values":{"nps":1}}`)).Expect(t, 404)
	s.Do(apitest.Request{Method: http.MethodPost, Path: ragPath, Body: []byte(`{`)}).Expect(t, 401)
	r = s.As("acme", auth.RoleAgent, http.MethodGet, ragPath, nil).Expect(t, 405)
	if got := r.Header.Get("Allow"); got != "POST" {
		t.Errorf("Allow: got %q, want POST", got)
	}
	// Rating changes nothing and is not audited.
	if a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t); len(a["items"].([]any)) != 0 {
		t.Errorf("rating was audited: %v", a)
	}
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t); m["version"] != 0.0 {
		t.Errorf("rating saved the settings: %v", m)
	}
}

// The hand-written encoding of the answer is valid JSON holding exactly the ratings
// given, for every combination.
func TestRatingsJSON(t *testing.T) {
	t.Parallel()
	choices := []reports.Rating{"", reports.Green, reports.Amber, reports.Red}
	kpis := reports.KPIs()
	n := 1
	for range kpis {
		n *= len(choices)
	}
	for i := range n {
		var r reports.Ratings
		want := map[string]string{}
		for j, k := range kpis {
			c := choices[i/pow(len(choices), j)%len(choices)]
			r[k] = c
			if c != "" {
				want[k.String()] = string(c)
			}
		}
		b, err := json.Marshal(reports.RAGResponse{Ratings: r})
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Ratings map[string]string }
		if err := json.Unmarshal(b, &got); err != nil || !maps.Equal(got.Ratings, want) || got.Ratings == nil {
			t.Fatalf("%v: got %s (%v), want %v", r, b, err, want)
		}
	}
}

func pow(b, e int) int {
	out := 1
	for range e {
		out *= b
	}
	return out
}
