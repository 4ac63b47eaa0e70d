package roles_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/roles"
)

func TestNameKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Agent Manager": "agent manager", "agent_manager": "agent manager", "AGENT-MANAGER": "agent manager",
		"  Night\t\u00a0Shift  ": "night shift", "Σίσυφος": "σίσυφοσ", "ΣΊΣΥΦΟΣ": "σίσυφοσ", "a__b--c": "a b c", "": "",
	} {
		if got := roles.NameKey(in); got != want {
			t.Errorf("NameKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	name, perms, err := roles.Validate(roles.Input{Name: "\u200b Leads \t", Permissions: []string{auth.PermChatsRead, auth.PermAuditRead, auth.PermChatsRead}})
	if err != nil || name != "Leads" || !slices.Equal(perms, []string{auth.PermAuditRead, auth.PermChatsRead}) {
		t.Errorf("got %q %v %v", name, perms, err)
	}
	if _, perms, err := roles.Validate(roles.Input{Name: "Empty", Permissions: []string{}}); err != nil || perms == nil || len(perms) != 0 {
		t.Errorf("empty permissions: %#v %v", perms, err)
	}
	for _, tc := range []struct {
		in   roles.Input
		want map[string]string
	}{
		{roles.Input{Name: "", Permissions: nil}, map[string]string{"name": "is required", "permissions": "is required (an empty list is a role with no permission)"}},
		{roles.Input{Name: "Compliance", Permissions: []string{}}, map[string]string{"name": "is the name of a predefined role"}},
		{roles.Input{Name: "client-manager", Permissions: []string{}}, map[string]string{"name": "is the name of a predefined role"}},
		{roles.Input{Name: "x\x00y", Permissions: []string{}}, map[string]string{"name": "must not contain control characters"}},
		{roles.Input{Name: "ok", Permissions: make([]string, 65)}, map[string]string{"permissions": "must list at most 64 permissions"}},
		{roles.Input{Name: "ok", Permissions: []string{"a\"b\nc" + strings.Repeat("z", 100)}}, nil},
	} {
		_, _, err := roles.Validate(tc.in)
		pe, ok := err.(*problem.Error)
		if !ok || pe.Code != problem.Invalid {
			t.Errorf("%+v: %v, want a 422", tc.in, err)
			continue
		}
		if tc.want == nil {
			if len(pe.Fields) != 1 || strings.ContainsAny(pe.Fields[0].Message, "\n\x00") || !strings.Contains(pe.Fields[0].Message, `"a?b?c`) {
				t.Errorf("unknown permission message: %+v", pe.Fields)
			}
			continue
		}
		got := map[string]string{}
		for _, f := range pe.Fields {
			got[f.Field] = f.Message
		}
		if len(got) != len(tc.want) {
			t.Errorf("%+v: fields %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%+v: %s = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("Leads", "chats.read")
	f.Add("\u202eadmin", "NativeApp")
	f.Add("Agent\u00a0Manager", "x")
	f.Fuzz(func(t *testing.T, name, perm string) {
		n, perms, err := roles.Validate(roles.Input{Name: name, Permissions: []string{perm, perm}})
		if err != nil {
			if _, ok := err.(*problem.Error); !ok {
				t.Fatalf("not a problem: %v", err)
			}
			return
		}
		if utf8.RuneCountInString(n) < 1 || utf8.RuneCountInString(n) > roles.MaxNameLen || len(perms) != 1 || !slices.Contains(auth.AllPermissions, perms[0]) {
			t.Fatalf("accepted %q %v", n, perms)
		}
		if k := roles.NameKey(n); k != roles.NameKey(k) {
			t.Fatalf("NameKey is not idempotent on %q: %q then %q", n, k, roles.NameKey(k))
		}
	})
}
