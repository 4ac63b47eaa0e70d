package nativeapp_test

import (
	"net/http"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/settings/nativeapp"
)

const path = "/v1/orgs/acme/settings/native-app"

// What every settings area shares is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  nativeapp.AreaName,
		Valid: `{"access":"permission"}`,
		Field: "access", Patch: `{"access":"none"}`,
		Invalid: `{"access":"admins"}`, InvalidField: "access",
	})
}

func TestAccessValues(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	if m := s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t); m["access"] != "everyone" {
		t.Errorf("default access: got %v, want everyone", m["access"])
	}
	for _, tc := range []struct {
		access string
		status int
	}{
		{"none", 200}, {"everyone", 200}, {"permission", 200},
		{"", 422}, {"None", 422}, {" none", 422}, {"all", 422}, {"permissions", 422},
	} {
		r := s.Admin(http.MethodPut, path, []byte(`{"access":"`+tc.access+`"}`)).Expect(t, tc.status)
		if tc.status == 422 && r.FieldErrors(t)["access"] != "must be none, everyone or permission" {
			t.Errorf("access %q: got %s", tc.access, r.Body)
		}
	}
	s.Admin(http.MethodPut, path, []byte(`{"access":null}`)).Expect(t, 200) // null takes the default
	if m := s.Admin(http.MethodGet, path, nil).JSON(t); m["access"] != "everyone" {
		t.Errorf("PUT with null: got %v, want the default everyone", m["access"])
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	withPerm := []string{auth.PermChatsRead, auth.PermNativeApp}
	without := []string{auth.PermChatsRead}
	for _, tc := range []struct {
		access      string
		perms       []string
		want        bool
		description string
	}{
		{nativeapp.AccessNone, withPerm, false, "none allows nobody"},
		{nativeapp.AccessEveryone, nil, true, "everyone allows every agent"},
		{nativeapp.AccessPermission, withPerm, true, "permission allows holders of NativeApp"},
		{nativeapp.AccessPermission, without, false, "permission refuses the others"},
		{"garbage", withPerm, false, "an unknown value allows nobody"},
	} {
		if got := (nativeapp.Settings{Access: tc.access}).Allows(tc.perms); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.description, got, tc.want)
		}
	}
}

// TestEvents replays events/native-app/ through the function's Lambda entry point.
func TestEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, nativeapp.Function, nil,
		apitest.EventCase{File: "get.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 0, map[string]any{"access": "everyone"})
		}},
		apitest.EventCase{File: "put.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 1, map[string]any{"access": "permission"})
		}},
		apitest.EventCase{File: "patch.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantSettings(t, r, 2, map[string]any{"access": "none"})
		}},
		apitest.EventCase{File: "put-unknown-access.json", Status: http.StatusUnprocessableEntity, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"errors": []map[string]string{
				{"field": "access", "message": "must be none, everyone or permission"}}})
		}},
	)
}
