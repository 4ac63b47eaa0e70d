package chathandling_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

const path = "/v1/orgs/acme/settings/chat-handling"

func TestValidateRanges(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*chathandling.Settings)
		want map[string]string
	}{
		{"defaults", func(*chathandling.Settings) {}, nil},
		{"max 1", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 1 }, nil},
		{"max 9", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 9 }, nil},
		{"max 0", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 0 }, map[string]string{"maxChatsPerAgent": "must be between 1 and 9"}},
		{"max 10", func(s *chathandling.Settings) { s.MaxChatsPerAgent = 10 }, map[string]string{"maxChatsPerAgent": "must be between 1 and 9"}},
		{"days 60", func(s *chathandling.Settings) { s.AutoCloseAfterDays, s.MoveToQueueAfterNoLoginDays = 60, 60 }, nil},
		{"days 61 and -1", func(s *chathandling.Settings) { s.AutoCloseAfterDays, s.MoveToQueueAfterNoLoginDays = 61, -1 }, map[string]string{
			"autoCloseAfterDays":          "must be between 0 and 60 (0 = never)",
			"moveToQueueAfterNoLoginDays": "must be between 0 and 60 (0 = keep chats with the agent)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := chathandling.Defaults()
			tc.mod(&s)
			got := map[string]string{}
			if err := s.Validate(); err != nil {
				var pe *problem.Error
				if !asProblem(err, &pe) || pe.Code != problem.Invalid {
					t.Fatalf("got %v, want an Invalid problem", err)
				}
				for _, f := range pe.Fields {
					got[f.Field] = f.Message
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(orEmpty(tc.want)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func asProblem(err error, pe **problem.Error) bool {
	p, ok := err.(*problem.Error)
	*pe = p
	return ok
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// What every settings area shares (ETag, If-Match, PATCH, audit, strict decoding, the
// authorisation matrix) is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  chathandling.AreaName,
		Valid: `{"maxChatsPerAgent":5,"moveToQueueWhenAgentOffline":true,"autoCloseAfterDays":7,"moveToQueueAfterNoLoginDays":2}`,
		Field: "maxChatsPerAgent", Patch: `{"maxChatsPerAgent":7}`,
		Invalid: `{"maxChatsPerAgent":12}`, InvalidField: "maxChatsPerAgent",
	})
}

func TestGetDefaults(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
	if got := r.Header.Get("ETag"); got != `"0"` {
		t.Errorf("ETag: got %s, want \"0\"", got)
	}
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"autoCloseAfterDays":"default","maxChatsPerAgent":"default","moveToQueueAfterNoLoginDays":"default","moveToQueueWhenAgentOffline":"default"},"lockedBy":{},"maxChatsPerAgent":3,"moveToQueueWhenAgentOffline":false,"autoCloseAfterDays":0,"moveToQueueAfterNoLoginDays":0}`
	if string(r.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", r.Body, want)
	}
}

func TestPutMissingFieldsTakeDefaults(t *testing.T) {
	s := apitest.New(t)
	m := s.Admin(http.MethodPut, path, []byte(`{"autoCloseAfterDays":3}`)).Expect(t, http.StatusOK).JSON(t)
	if m["maxChatsPerAgent"] != 3.0 || m["autoCloseAfterDays"] != 3.0 {
		t.Errorf("got %v, want maxChatsPerAgent default 3 and autoCloseAfterDays 3", m)
	}
}

func TestEveryFailingFieldIsListed(t *testing.T) {
	s := apitest.New(t)
	r := s.Admin(http.MethodPut, path, []byte(`{"maxChatsPerAgent":0,"autoCloseAfterDays":61,"moveToQueueAfterNoLoginDays":-1}`)).Expect(t, 422)
	want := map[string]string{
		"maxChatsPerAgent":            "must be between 1 and 9",
		"autoCloseAfterDays":          "must be between 0 and 60 (0 = never)",
		"moveToQueueAfterNoLoginDays": "must be between 0 and 60 (0 = keep chats with the agent)",
	}
	if got := r.FieldErrors(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestConcurrentWritesWithoutIfMatchAllLand(t *testing.T) {
	s := apitest.New(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Admin(http.MethodPatch, path, []byte(fmt.Sprintf(`{"autoCloseAfterDays":%d}`, 10+i)), "Content-Type", "application/merge-patch+json").Expect(t, 200)
		}()
	}
	wg.Wait()
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t)
	if n := len(a["items"].([]any)); n != 4 {
		t.Errorf("audit entries: got %d, want 4 (one per change, none lost)", n)
	}
}
