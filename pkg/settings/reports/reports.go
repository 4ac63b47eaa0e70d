// Package reports is the reports settings area of Convrs Admin: the red/amber/green (RAG)
// thresholds of the reporting KPIs (average wait and response times, CSAT score,
// sentiment and AI bot containment), and the rating of measured KPI values against an
// organisation's current thresholds (POST /v1/orgs/{orgId}/reports/rag, any role).
//
// Precision: thresholds of times are whole seconds and thresholds of percentages whole
// percents (a fraction is a wrong type, 400); CSAT thresholds are scores with at most two
// decimals (4, 3.5, 4.25; 4.125 is a 422). Measured values may be any number in the KPI's
// domain (an average wait of 61.5 seconds, a CSAT of 3.99).
package reports

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "reports"

// Settings is the reports document.
type Settings struct {
	Thresholds Thresholds `json:"thresholds"`
}

// Thresholds are the RAG thresholds of every KPI.
type Thresholds struct {
	// AverageWaitTime and AverageResponseTime are in seconds; lower is better, so
	// Green <= Amber.
	AverageWaitTime     Threshold[int] `json:"averageWaitTime"`
	AverageResponseTime Threshold[int] `json:"averageResponseTime"`
	// CSATScore is a score from 1 to 5; higher is better, so Green >= Amber.
	CSATScore Threshold[float64] `json:"csatScore"`
	// Sentiment and AIBotContainment are percentages; higher is better.
	Sentiment        Threshold[int] `json:"sentiment"`
	AIBotContainment Threshold[int] `json:"aiBotContainment"`
}

// Threshold is the pair of limits of one KPI. For a KPI where lower is better, a value
// at most Green is green, at most Amber amber, else red; where higher is better, at least
// Green is green, at least Amber amber, else red.
type Threshold[N int | float64] struct {
	Green N `json:"green"`
	Amber N `json:"amber"`
}

// Defaults returns the thresholds of an organisation that never saved this area.
func Defaults() Settings {
	return Settings{Thresholds: Thresholds{
		AverageWaitTime:     Threshold[int]{Green: 60, Amber: 120},
		AverageResponseTime: Threshold[int]{Green: 45, Amber: 90},
		CSATScore:           Threshold[float64]{Green: 4.0, Amber: 3.5},
		Sentiment:           Threshold[int]{Green: 60, Amber: 40},
		AIBotContainment:    Threshold[int]{Green: 70, Amber: 50},
	}}
}

// Limits of the thresholds.
const (
	MaxSeconds     = 86400 // a day
	CSATDecimals   = 2     // decimal places of a CSAT threshold
	csatScale      = 100   // 10^CSATDecimals
	minCSAT        = 1
	maxCSAT        = 5
	maxPercent     = 100
	thresholdsPath = "thresholds."
)

// Validate returns a problem.Invalid error listing every failing field by its dotted
// name (thresholds.csatScore.green): a threshold outside its KPI's range, a CSAT
// threshold with more than two decimals, and an amber on the wrong side of green (named
// on amber; judged only when both are in range).
func (s Settings) Validate() error {
	var f problem.Fields
	for k := range KPI(numKPIs) {
		green, amber := s.Thresholds.For(k)
		name := thresholdsPath + k.String()
		okG := checkThreshold(&f, k, name+".green", green)
		okA := checkThreshold(&f, k, name+".amber", amber)
		if !okG || !okA {
			continue
		}
		if k.LowerIsBetter() && amber < green {
			f.Add(name+".amber", "must be at least green (%s)", formatNumber(green))
		}
		if !k.LowerIsBetter() && amber > green {
			f.Add(name+".amber", "must be at most green (%s)", formatNumber(green))
		}
	}
	return f.Err()
}

// checkThreshold records what is wrong with threshold v of k, if anything, and reports
// whether v is acceptable.
func checkThreshold(f *problem.Fields, k KPI, field string, v float64) bool {
	switch k.kind() {
	case kindSeconds:
		if v < 0 || v > MaxSeconds {
			f.Add(field, "must be between 0 and %d (seconds)", MaxSeconds)
			return false
		}
	case kindScore:
		if !(v >= minCSAT && v <= maxCSAT) {
			f.Add(field, "must be between %d and %d", minCSAT, maxCSAT)
			return false
		}
		// Exact for every number written with at most two decimals: the division is
		// correctly rounded, so it gives back the very float64 the JSON text decoded to.
		if math.Round(v*csatScale)/csatScale != v {
			f.Add(field, "must have at most %d decimals", CSATDecimals)
			return false
		}
	case kindPercent:
		if v < 0 || v > maxPercent {
			f.Add(field, "must be between 0 and %d (percent)", maxPercent)
			return false
		}
	}
	return true
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{Name: AreaName, Defaults: Defaults}

// RAGPath is the rating route.
const RAGPath = "/v1/orgs/{orgId}/reports/rag"

// Register serves the area's settings routes (admin only) and the rating route (any role
// of the organisation). now may be nil for time.Now.
func Register(api *httpx.API, store settings.Store, now func() time.Time) *settings.Service[Settings] {
	svc := settings.NewService(Area, store, now)
	svc.Register(api, auth.Permission(auth.PermSettingsManage))
	api.Handle(http.MethodPost, RAGPath, auth.AnyRole, func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadJSON(r, httpx.MediaJSON)
		var req RAGRequest
		var values *Values
		if err == nil {
			err = httpx.Unmarshal(body, &req)
		}
		if err == nil {
			values, err = req.Parse()
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		// Dashboards ask often and a threshold change may show a second late: an
		// eventually consistent read is enough and costs half a strongly consistent one.
		cur, err := svc.Read(r.Context(), r.PathValue("orgId"), settings.Eventual)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out, _ := RAGResponse{Ratings: cur.Doc.Thresholds.RateAll(values)}.MarshalJSON()
		httpx.WriteRawJSON(w, http.StatusOK, out)
	})
	return svc
}

// Function is the reports Lambda function.
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.Now)
}}
