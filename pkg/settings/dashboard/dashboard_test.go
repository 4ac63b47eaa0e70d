package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/agents/langtag"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/dashboard"
)

const path = "/v1/orgs/acme/settings/dashboard"

var merge = []string{"Content-Type", "application/merge-patch+json"}

const (
	msgLayout  = "must be vertical or horizontal"
	msgState   = "must be none, trial, active, past_due or canceled"
	msgNeedsOn = "requires handoff.enabled to be true"
)

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name: dashboard.AreaName,
		Valid: `{"language":"de","layout":"horizontal","handoff":{"enabled":true,"smartHandoff":true},"cannedResponses":true,` +
			`"billing":{"enabled":true,"state":"trial"}}`,
		Field: "layout", Patch: `{"layout":"vertical","billing":{"state":"active"}}`,
		Invalid: `{"layout":"grid"}`, InvalidField: "layout",
	})
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"billing":"default","cannedResponses":"default","handoff":"default","language":"default","layout":"default"},"lockedBy":{},"language":"en","layout":"vertical",` +
		`"handoff":{"enabled":false,"smartHandoff":false,"showMessages":false},"cannedResponses":false,` +
		`"billing":{"enabled":false,"state":"none"}}`
	if string(r.Body) != want {
		t.Errorf("defaults:\n got %s\nwant %s", r.Body, want)
	}
}

// smartHandoff and showMessages need handoff on: every combination, through a PUT.
func TestHandoffOptionsNeedHandoff(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, enabled := range []bool{false, true} {
		for _, smart := range []bool{false, true} {
			for _, show := range []bool{false, true} {
				body := fmt.Sprintf(`{"handoff":{"enabled":%v,"smartHandoff":%v,"showMessages":%v}}`, enabled, smart, show)
				r := s.Admin(http.MethodPut, path, []byte(body))
				want := map[string]string{}
				if !enabled && smart {
					want["handoff.smartHandoff"] = msgNeedsOn
				}
				if !enabled && show {
					want["handoff.showMessages"] = msgNeedsOn
				}
				if len(want) == 0 {
					r.Expect(t, 200)
					continue
				}
				if got := r.Expect(t, 422).FieldErrors(t); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: got %v, want %v", body, got, want)
				}
			}
		}
	}
}

// A merge patch is judged on the document it makes: switching handoff off while an
// option is on is refused, naming the option; switching all three off at once is not.
func TestHandoffPatch(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"handoff":{"enabled":true,"showMessages":true}}`)).Expect(t, 200)
	got := s.Admin(http.MethodPatch, path, []byte(`{"handoff":{"enabled":false}}`), merge...).Expect(t, 422).FieldErrors(t)
	if len(got) != 1 || got["handoff.showMessages"] != msgNeedsOn {
		t.Errorf("handoff off with showMessages on: got %v", got)
	}
	s.Admin(http.MethodPatch, path, []byte(`{"handoff":{"smartHandoff":true}}`), merge...).Expect(t, 200)
	m := s.Admin(http.MethodPatch, path, []byte(`{"handoff":{"enabled":false,"smartHandoff":false,"showMessages":null}}`), merge...).Expect(t, 200).JSON(t)
	if h, _ := json.Marshal(m["handoff"]); string(h) != `{"enabled":false,"showMessages":false,"smartHandoff":false}` {
		t.Errorf("all off: handoff %s", h)
	}
	// null resets the whole object.
	s.Admin(http.MethodPatch, path, []byte(`{"handoff":{"enabled":true,"smartHandoff":true}}`), merge...).Expect(t, 200)
	m = s.Admin(http.MethodPatch, path, []byte(`{"handoff":null}`), merge...).Expect(t, 200).JSON(t)
	if h, _ := json.Marshal(m["handoff"]); string(h) != `{"enabled":false,"showMessages":false,"smartHandoff":false}` {
		t.Errorf("handoff null: %s, want the defaults", h)
	}
}

// Layout and billing state are one of their values exactly, as sent: no other case, no
// white space.
func TestEnums(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for _, tc := range []struct {
		field, value, msg string
	}{
		{"layout", "vertical", ""}, {"layout", "horizontal", ""},
		{"layout", "Vertical", msgLayout}, {"layout", " horizontal", msgLayout}, {"layout", "", msgLayout}, {"layout", "grid", msgLayout},
		{"billing.state", "none", ""}, {"billing.state", "trial", ""}, {"billing.state", "active", ""},
		{"billing.state", "past_due", ""}, {"billing.state", "canceled", ""},
		{"billing.state", "cancelled", msgState}, {"billing.state", "past-due", msgState}, {"billing.state", "ACTIVE", msgState},
		{"billing.state", "", msgState}, {"billing.state", "active\u200b", msgState},
	} {
		var body []byte
		if head, tail, nested := strings.Cut(tc.field, "."); nested {
			body, _ = json.Marshal(map[string]any{head: map[string]string{tail: tc.value}})
		} else {
			body, _ = json.Marshal(map[string]string{tc.field: tc.value})
		}
		r := s.Admin(http.MethodPatch, path, body, merge...)
		if tc.msg == "" {
			r.Expect(t, 200)
			continue
		}
		if got := r.Expect(t, 422).FieldErrors(t); len(got) != 1 || got[tc.field] != tc.msg {
			t.Errorf("%s %q: got %v, want %s", tc.field, tc.value, got, tc.msg)
		}
	}
}

// The language is read as agents' and locale's are: saved canonical, refused otherwise.
func TestLanguage(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	m := s.Admin(http.MethodPatch, path, []byte(`{"language":" pt-br "}`), merge...).Expect(t, 200).JSON(t)
	if m["language"] != "pt-BR" {
		t.Errorf("pt-br saved as %v", m["language"])
	}
	for _, v := range []string{"", "en_US", "en\u200b", strings.Repeat("en-", 30)} {
		body, _ := json.Marshal(map[string]string{"language": v})
		if got := s.Admin(http.MethodPatch, path, body, merge...).Expect(t, 422).FieldErrors(t); got["language"] == "" || len(got) != 1 {
			t.Errorf("language %.30q: got %v", v, got)
		}
	}
}

// Every failing field at once, nested ones by their dotted names; a field the area does
// not have, at any depth, is a 400 naming it.
func TestEveryFailingField(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	got := s.Admin(http.MethodPut, path, []byte(`{"language":"klingon","layout":"grid",`+
		`"handoff":{"smartHandoff":true,"showMessages":true},"billing":{"state":"free"}}`)).Expect(t, 422).FieldErrors(t)
	want := map[string]string{
		"language":             "must be one BCP 47 language tag such as en or pt-BR",
		"layout":               msgLayout,
		"handoff.smartHandoff": msgNeedsOn,
		"handoff.showMessages": msgNeedsOn,
		"billing.state":        msgState,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for body, field := range map[string]string{
		`{"handoff":{"smart":true}}`:                   "handoff.smart",
		`{"billing":{"State":"trial"}}`:                "billing.State",
		`{"handoff":{"Enabled":true}}`:                 "handoff.Enabled",
		`{"billing":{"enabled":"yes"}}`:                "billing.enabled",
		`{"handoff":true}`:                             "handoff",
		`{"cannedResponses":"true"}`:                   "cannedResponses",
		`{"billing":{"state":["trial"]}}`:              "billing.state",
		`{"billing":{"enabled":true,"enabled":false}}`: "billing.enabled",
	} {
		r := s.Admin(http.MethodPut, path, []byte(body)).Expect(t, 400)
		if _, ok := r.FieldErrors(t)[field]; !ok {
			t.Errorf("%s: the 400 does not name %s: %s", body, field, r.Body)
		}
	}
	if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["version"] != 0.0 {
		t.Errorf("refused writes changed the settings: %v", m)
	}
}

// A merge patch of one nested field keeps its siblings; the audit entry names nested
// fields by their dotted paths.
func TestNestedChangesAudited(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"billing":{"enabled":true,"state":"trial"}}`)).Expect(t, 200)
	m := s.Admin(http.MethodPatch, path, []byte(`{"billing":{"state":"past_due"},"handoff":{"enabled":true}}`), merge...).Expect(t, 200).JSON(t)
	if b, _ := json.Marshal(m["billing"]); string(b) != `{"enabled":true,"state":"past_due"}` {
		t.Errorf("billing after the patch: %s", b)
	}
	var page struct{ Items []map[string]any }
	if err := json.Unmarshal(s.Admin(http.MethodGet, "/v1/orgs/acme/audit?area=dashboard", nil).Expect(t, 200).Body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("audit entries: got %d, want 2", len(page.Items))
	}
	got, _ := json.Marshal(page.Items[0]["changes"])
	want := `[{"field":"billing.state","from":"trial","to":"past_due"},{"field":"handoff.enabled","from":false,"to":true}]`
	if string(got) != want {
		t.Errorf("the patch's changes:\n got %s\nwant %s", got, want)
	}
}

// FuzzValidate: Validate names exactly the fields the rules refuse, whatever the values.
func FuzzValidate(f *testing.F) {
	f.Add("en", "vertical", "none", false, false, false)
	f.Add("pt-br", "horizontal", "past_due", true, true, true)
	f.Add("en_US", "Vertical", "cancelled", false, true, true)
	f.Add("en\u200b", "vertical\x00", "active ", false, false, true)
	f.Add(strings.Repeat("a", 100), "", "", true, false, false)
	f.Fuzz(func(t *testing.T, language, layout, state string, enabled, smart, show bool) {
		s := dashboard.Settings{Language: language, Layout: layout, Handoff: dashboard.Handoff{Enabled: enabled, SmartHandoff: smart, ShowMessages: show},
			Billing: dashboard.Billing{State: state}}
		s.Normalize()
		want := map[string]bool{}
		if _, msg := langtag.Parse(language); msg != "" {
			want["language"] = true
		}
		if !slices.Contains(dashboard.Layouts, layout) {
			want["layout"] = true
		}
		if !slices.Contains(dashboard.BillingStates, state) {
			want["billing.state"] = true
		}
		if smart && !enabled {
			want["handoff.smartHandoff"] = true
		}
		if show && !enabled {
			want["handoff.showMessages"] = true
		}
		got := map[string]bool{}
		if err := s.Validate(); err != nil {
			var pe *problem.Error
			if !asProblem(err, &pe) || pe.Code != problem.Invalid {
				t.Fatalf("Validate: %v, want an Invalid problem", err)
			}
			for _, fe := range pe.Fields {
				got[fe.Field] = true
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%+v: refused %v, want %v", s, got, want)
		}
		if len(want) == 0 {
			again := s
			again.Normalize()
			if again != s {
				t.Errorf("%+v normalises to %+v", s, again)
			}
		}
	})
}

func asProblem(err error, pe **problem.Error) bool {
	p, ok := err.(*problem.Error)
	*pe = p
	return ok
}

// TestEvents replays events/dashboard/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, dashboard.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"language": "en", "layout": "vertical", "handoff.enabled": false,
				"cannedResponses": false, "billing.state": "none"})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"language": "es-419", "layout": "horizontal", "handoff.enabled": true,
				"handoff.smartHandoff": true, "handoff.showMessages": false, "cannedResponses": true,
				"billing.enabled": true, "billing.state": "trial"})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"handoff.enabled": true, "handoff.showMessages": true,
				"billing.enabled": true, "billing.state": "active"})
		}},
		apitest.EventCase{File: "patch-handoff-off.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "handoff.showMessages", "message": msgNeedsOn},
				{"field": "handoff.smartHandoff", "message": msgNeedsOn}}})
		}},
	)
}
