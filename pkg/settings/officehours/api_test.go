package officehours_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/settings/officehours"
)

const (
	path       = "/v1/orgs/acme/settings/office-hours"
	statusPath = "/v1/orgs/acme/office-hours/status"
)

func TestDefaultsOverHTTP(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"closeTime":"default","days":"default","exceptions":"default","hours":"default","missedChatReport":"default","openTime":"default","timeZone":"default"},"lockedBy":{},"openTime":"09:00:00","closeTime":"17:00:00","timeZone":"UTC","days":["monday","tuesday","wednesday","thursday","friday"],"missedChatReport":{"enabled":false}}`
	if string(r.Body) != want {
		t.Errorf("defaults:\n got %s\nwant %s", r.Body, want)
	}
}

func TestPutReportsEveryField(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{
		"openTime":"9am","closeTime":"17:00:00","timeZone":"Mars/Olympus_Mons","days":["monday","funday"],
		"missedChatReport":{"enabled":true}}`)).Expect(t, 422)
	got := r.FieldErrors(t)
	for _, f := range []string{"openTime", "timeZone", "days[1]", "missedChatReport.email"} {
		if got[f] == "" {
			t.Errorf("no error for %s; got %v", f, got)
		}
	}
	s.Admin(http.MethodPut, path, []byte(`{"openTime":"10:00:00","closeTime":"10:00:00"}`)).Expect(t, 422)
	s.Admin(http.MethodPut, path, []byte(`{"hours":{"monday":[{"open":"09:00:00","close":"12:00:00"},{"open":"11:00:00","close":"13:00:00"}]}}`)).Expect(t, 422)
	if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["version"] != 0.0 {
		t.Errorf("rejected PUTs changed the settings: %v", m)
	}
}

// The zone is one of the zone database embedded in the binary, spelt as it spells it,
// whatever the machine's own zoneinfo folder holds (Lambda's runtime has none).
func TestTimeZoneIsOfTheEmbeddedDatabase(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	m := s.Admin(http.MethodPut, path, []byte(`{"timeZone":" europe/london "}`)).Expect(t, 200).JSON(t)
	if m["timeZone"] != "Europe/London" {
		t.Errorf("europe/london saved as %v, want Europe/London", m["timeZone"])
	}
	for _, zone := range []string{"localtime", "posix/Europe/London", "right/UTC", "Europe/London\u200b"} {
		r := s.Admin(http.MethodPut, path, []byte(`{"timeZone":"`+zone+`"}`)).Expect(t, 422)
		if got := r.FieldErrors(t)["timeZone"]; !strings.HasPrefix(got, "unknown time zone ") {
			t.Errorf("%s: got %q", zone, got)
		}
	}
}

func TestStatusForEveryRoleAndDST(t *testing.T) {
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"openTime":"22:00:00","closeTime":"06:00:00","timeZone":"America/New_York",
		"days":["saturday"],"missedChatReport":{"enabled":true,"email":"reports@acme.example"}}`)).Expect(t, 200)
	// Saturday 31 October 2026 22:00 EDT; clocks fall back at 02:00 on Sunday, so the
	// night lasts 9 real hours and closes at 06:00 EST = 11:00 UTC.
	r := s.As("acme", "agent", http.MethodGet, statusPath+"?at=2026-11-01T05:30:00Z", nil).Expect(t, 200)
	m := r.JSON(t)
	if m["open"] != true || m["nextClose"] != "2026-11-01T11:00:00Z" || m["localTime"] != "2026-11-01T01:30:00-04:00" || m["timeZone"] != "America/New_York" {
		t.Errorf("first 01:30 of the fall-back night: got %s", r.Body)
	}
	m = s.As("acme", "agent", http.MethodGet, statusPath+"?at=2026-11-01T06:30:00Z", nil).Expect(t, 200).JSON(t)
	if m["open"] != true || m["localTime"] != "2026-11-01T01:30:00-05:00" {
		t.Errorf("second 01:30 of the fall-back night: got %v", m)
	}
	m = s.As("acme", "marketing", http.MethodGet, statusPath+"?at=2026-11-01T11:00:00Z", nil).Expect(t, 200).JSON(t)
	if m["open"] != false || m["nextOpen"] != "2026-11-08T03:00:00Z" {
		t.Errorf("after the night: got %v", m)
	}
}

func TestStatusDefaultsToNow(t *testing.T) {
	s := apitest.New(t) // the test clock is Wednesday 2026-11-25 10:00 UTC
	m := s.As("acme", "agent", http.MethodGet, statusPath, nil).Expect(t, 200).JSON(t)
	if m["open"] != true || m["at"] != "2026-11-25T10:00:00Z" || m["nextClose"] != "2026-11-25T17:00:00Z" {
		t.Errorf("got %v", m)
	}
}

func TestStatusBadInput(t *testing.T) {
	s := apitest.New(t)
	r := s.As("acme", "agent", http.MethodGet, statusPath+"?at=yesterday", nil).Expect(t, 400)
	if r.FieldErrors(t)["at"] == "" {
		t.Errorf("want an error on field at: %s", r.Body)
	}
	s.As("globex", "agent", http.MethodGet, statusPath, nil).Expect(t, 404)
	s.Do(apitest.Request{Method: http.MethodGet, Path: statusPath}).Expect(t, 401)
}

// A far-future at was a 500 (year 10000 cannot be encoded); instants outside 1970-2999 are
// a 400 on at, the edges included as the message says.
func TestStatusAtRange(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"timeZone":"Pacific/Kiritimati","days":["saturday"]}`)).Expect(t, 200)
	tests := []struct {
		at     string
		status int
	}{
		{"9999-12-31T23:59:59Z", 400},
		{"3000-01-01T00:00:00Z", 400},
		{"2999-12-31T23:59:59-10:00", 400}, // 3000-01-01T09:59:59Z
		{"2999-12-31T23:59:59Z", 200},
		{"1970-01-01T00:00:00Z", 200},
		{"1970-01-01T00:00:00+00:01", 400}, // 1969-12-31T23:59:00Z
		{"1969-12-31T23:59:59Z", 400},
		{"0001-01-01T00:00:00Z", 400},
		{"", 400},
		{"2026-11-25T10:00:00.123456789Z", 200},
	}
	for _, tc := range tests {
		r := s.As("acme", "agent", http.MethodGet, statusPath+"?at="+url.QueryEscape(tc.at), nil).Expect(t, tc.status)
		if tc.status == 400 && r.FieldErrors(t)["at"] == "" {
			t.Errorf("at=%s: want an error on field at, got %s", tc.at, r.Body)
		}
		if tc.status == 200 {
			m := r.JSON(t)
			if m["nextOpen"] == nil || m["nextClose"] == nil {
				t.Errorf("at=%s: got %s, want both next instants", tc.at, r.Body)
			}
		}
	}
}

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  officehours.AreaName,
		Valid: `{"openTime":"08:00:00","closeTime":"16:00:00","timeZone":"Europe/London"}`,
		Field: "timeZone", Patch: `{"timeZone":"Asia/Tokyo"}`,
		Invalid: `{"timeZone":"Mars/Olympus_Mons"}`, InvalidField: "timeZone",
	})
}
