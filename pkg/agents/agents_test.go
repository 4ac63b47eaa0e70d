package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/problem"
)

// refs is a hand-written References: the roles and units that exist, an error to
// return, and the lookups made.
type refs struct {
	roles map[string]bool
	units map[string]bool
	err   error

	mu      sync.Mutex
	lookups []string
}

func newRefs() *refs {
	return &refs{
		roles: map[string]bool{"admin": true, "agent": true, "agent_manager": true, "role_custom1": true},
		units: map[string]bool{"bu_sales": true, "bu_support": true, "bu_vip": true},
	}
}

func (r *refs) RoleExists(_ context.Context, orgID, role string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, "role:"+orgID+"/"+role)
	return r.roles[role], r.err
}

func (r *refs) MissingBusinessUnits(_ context.Context, orgID string, ids []string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, "units:"+orgID+"/"+strings.Join(ids, ","))
	var missing []string
	for _, id := range ids {
		if !r.units[id] {
			missing = append(missing, id)
		}
	}
	return missing, r.err
}

func ptr[T any](v T) *T { return &v }

// fieldsOf returns the field errors of err as "field: message" lines, or fails.
func fieldsOf(t *testing.T, err error, code problem.Code) []string {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("error %v; want a problem %s", err, code)
	}
	var out []string
	for _, f := range pe.Fields {
		out = append(out, f.Field+": "+f.Message)
	}
	return out
}

func validCreate() agents.CreateRequest {
	return agents.CreateRequest{
		Email: ptr(" Ana.Silva@Example.com "), Name: ptr(" Ana Silva "), Role: ptr("agent"), Language: ptr("pt-br"),
		BusinessUnitID: ptr("bu_sales"), Landline: ptr("+44 20 7946 0958"), Mobile: ptr(""), SendCredentialsEmail: ptr(true),
	}
}

func TestCreateValid(t *testing.T) {
	t.Parallel()
	r := newRefs()
	email, p, err := validCreate().Validate(context.Background(), "org1", r, parsers)
	if err != nil {
		t.Fatal(err)
	}
	want := agents.Profile{Name: "Ana Silva", Role: "agent", Language: "pt-BR", BusinessUnitIDs: []string{"bu_sales"}, Landline: ptr("+442079460958")}
	if email != "ana.silva@example.com" || !reflect.DeepEqual(p, want) {
		t.Errorf("got %q %+v; want ana.silva@example.com %+v", email, p, want)
	}
	if want := []string{"role:org1/agent", "units:org1/bu_sales"}; !slices.Equal(r.lookups, want) {
		t.Errorf("lookups %q; want %q", r.lookups, want)
	}
}

func TestCreateEveryFieldAtOnce(t *testing.T) {
	t.Parallel()
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, _, err := agents.CreateRequest{}.Validate(context.Background(), "org1", newRefs(), parsers)
		got := fieldsOf(t, err, problem.Invalid)
		want := []string{
			"businessUnitId: required",
			"email: required",
			"language: required",
			"name: required",
			"role: required",
			"sendCredentialsEmail: required (true emails the agent a link to set a password, valid 72 hours)",
		}
		if !slices.Equal(got, want) {
			t.Errorf("fields\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		r := newRefs()
		req := agents.CreateRequest{
			Email: ptr("Ana <ana@example.com>"), Name: ptr("\u200b"), Role: ptr("no such/role"), Language: ptr("xx-!!"),
			BusinessUnitID: ptr("#1"), Landline: ptr("020 7946 0958"), Mobile: ptr("+44 7946"), SendCredentialsEmail: ptr(false),
		}
		_, _, err := req.Validate(context.Background(), "org1", r, parsers)
		got := fieldsOf(t, err, problem.Invalid)
		want := []string{
			"businessUnitId: must be a business unit id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)",
			"email: " + msgBare,
			"landline: " + msgPhonePlus,
			"language: " + msgLanguage,
			"mobile: is not a valid number for country code +44: check the digits",
			"name: is required",
			"role: must be a role id: a predefined role such as agent, or a custom role's id",
		}
		if !slices.Equal(got, want) {
			t.Errorf("fields\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(r.lookups) != 0 {
			t.Errorf("looked up %q for malformed ids", r.lookups)
		}
	})
	t.Run("unknown references with other failures", func(t *testing.T) {
		t.Parallel()
		req := validCreate()
		req.Role, req.BusinessUnitID, req.Name = ptr("role_gone"), ptr("bu_gone"), ptr(strings.Repeat("n", 101))
		_, _, err := req.Validate(context.Background(), "org1", newRefs(), parsers)
		got := fieldsOf(t, err, problem.Invalid)
		want := []string{
			"businessUnitId: no such business unit",
			"name: must be at most 100 characters",
			"role: no such role: use a predefined role (admin, agent_manager, client_manager, marketing, compliance, agent) or a custom role of the organisation or one of its ancestors",
		}
		if !slices.Equal(got, want) {
			t.Errorf("fields\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestCreateStoreErrorIsNotValidation(t *testing.T) {
	t.Parallel()
	r := newRefs()
	r.err = problem.New(problem.Throttled, "slow down")
	_, _, err := validCreate().Validate(context.Background(), "org1", r, parsers)
	if !problem.Is(err, problem.Throttled) {
		t.Errorf("error %v; want the references' throttling error", err)
	}
}

func sampleAgent() agents.Agent {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	return agents.New("agt_1", "ana@example.com", agents.Profile{
		Name: "Ana", Role: "agent", Language: "en", BusinessUnitIDs: []string{"bu_sales"}, MaxChats: ptr(3), Mobile: ptr("+442079460958"),
	}, at)
}

func TestPatch(t *testing.T) {
	t.Parallel()
	base := sampleAgent()
	cases := []struct {
		name    string
		body    string
		check   func(t *testing.T, a agents.Agent)
		lookups []string
	}{
		{"empty patch changes nothing", `{}`, func(t *testing.T, a agents.Agent) {
			if !reflect.DeepEqual(a, base) {
				t.Errorf("got %+v; want %+v", a, base)
			}
		}, nil},
		{"name and language normalised", `{"name": "  Ana Maria ", "language": "PT-br"}`, func(t *testing.T, a agents.Agent) {
			if a.Name != "Ana Maria" || a.Language != "pt-BR" || a.Role != "agent" || *a.MaxChats != 3 {
				t.Errorf("got %+v", a.Profile)
			}
		}, nil},
		{"maxChats null is the org default", `{"maxChats": null}`, func(t *testing.T, a agents.Agent) {
			if a.MaxChats != nil || a.EffectiveMaxChats(5) != 5 {
				t.Errorf("maxChats %v; want nil (org default 5)", a.MaxChats)
			}
		}, nil},
		{"maxChats set", `{"maxChats": 9}`, func(t *testing.T, a agents.Agent) {
			if a.EffectiveMaxChats(5) != 9 {
				t.Errorf("effective maxChats %d; want 9", a.EffectiveMaxChats(5))
			}
		}, nil},
		{"phones normalised and removed", `{"landline": "+1 (650) 253-0000", "mobile": null}`, func(t *testing.T, a agents.Agent) {
			if a.Landline == nil || *a.Landline != "+16502530000" || a.Mobile != nil {
				t.Errorf("landline %v mobile %v", a.Landline, a.Mobile)
			}
		}, nil},
		{"empty phone removes it", `{"mobile": ""}`, func(t *testing.T, a agents.Agent) {
			if a.Mobile != nil {
				t.Errorf("mobile %q; want none", *a.Mobile)
			}
		}, nil},
		{"new units looked up", `{"businessUnitIds": ["bu_sales", "bu_vip"], "role": "role_custom1"}`, func(t *testing.T, a agents.Agent) {
			if !slices.Equal(a.BusinessUnitIDs, []string{"bu_sales", "bu_vip"}) || a.Role != "role_custom1" {
				t.Errorf("got %+v", a.Profile)
			}
		}, []string{"role:org1/role_custom1", "units:org1/bu_sales,bu_vip"}},
		{"unchanged references not looked up", `{"businessUnitIds": ["bu_sales"], "role": "agent"}`, nil, nil},
		{"email and status untouched", `{"name": "B"}`, func(t *testing.T, a agents.Agent) {
			if a.Email != base.Email || a.Status != base.Status || a.ID != base.ID || a.Version != base.Version {
				t.Errorf("got %+v", a)
			}
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRefs()
			got, err := base.Patch(context.Background(), "org1", []byte(c.body), r, parsers)
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, got)
			}
			if !slices.Equal(r.lookups, c.lookups) {
				t.Errorf("lookups %q; want %q", r.lookups, c.lookups)
			}
		})
	}
}

func TestPatchInvalid(t *testing.T) {
	t.Parallel()
	base := sampleAgent()
	cases := []struct {
		name, body string
		want       []string
	}{
		{"email is never editable", `{"email": "other@example.com"}`, []string{
			"email: cannot be changed: an agent's email is fixed; create an agent with the new address (and disable this one) instead"}},
		{"email even unchanged", `{"email": "ana@example.com", "name": "Ana"}`, []string{
			"email: cannot be changed: an agent's email is fixed; create an agent with the new address (and disable this one) instead"}},
		{"read-only fields", `{"status": "disabled", "version": 7, "id": "x", "mustChangePassword": false}`, []string{
			"id: is read-only",
			"mustChangePassword: is read-only: use POST .../agents/{agentId}/force-password-change",
			"status: is read-only: use POST .../agents/{agentId}/disable or .../enable",
			"version: is read-only: send the ETag in If-Match",
		}},
		{"a suspension is lifted elsewhere", `{"suspendedAt": null, "lastLoginAt": null}`, []string{
			"lastLoginAt: is read-only",
			"suspendedAt: is read-only: POST .../agents/{agentId}/enable or .../password lifts a suspension",
		}},
		{"every field at once", `{"email": "x@example.com", "name": "", "role": "", "language": "xx-!!", "maxChats": 0,
			"landline": "+1 800 FLOWERS", "mobile": "12345", "businessUnitIds": ["bu_sales", "bu_gone", "bu_sales", "bad id"]}`, []string{
			"businessUnitIds[1]: no such business unit",
			"businessUnitIds[2]: repeats businessUnitIds[0]",
			"businessUnitIds[3]: must be a business unit id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)",
			"email: cannot be changed: an agent's email is fixed; create an agent with the new address (and disable this one) instead",
			"landline: " + msgPhoneChar,
			"language: " + msgLanguage,
			"maxChats: must be between 1 and 9, or null for the organisation's maxChatsPerAgent",
			"mobile: " + msgPhonePlus,
			"name: is required",
			"role: required",
		}},
		{"null for a required field", `{"name": null, "role": null, "language": null, "businessUnitIds": null}`, []string{
			"businessUnitIds: must list at least one business unit",
			"language: required",
			"name: required",
			"role: required",
		}},
		{"no units", `{"businessUnitIds": []}`, []string{"businessUnitIds: must list at least one business unit"}},
		{"too many units", `{"businessUnitIds": [` + strings.TrimSuffix(strings.Repeat(`"bu_sales",`, 41), ",") + `]}`, []string{
			"businessUnitIds: must list at most 40 business units"}},
		{"maxChats 10", `{"maxChats": 10}`, []string{"maxChats: must be between 1 and 9, or null for the organisation's maxChatsPerAgent"}},
		{"unknown role", `{"role": "role_gone"}`, []string{
			"role: no such role: use a predefined role (admin, agent_manager, client_manager, marketing, compliance, agent) or a custom role of the organisation or one of its ancestors"}},
		{"invisible name", `{"name": "\u200b\u200b"}`, []string{"name: is required"}},
		{"bidi name", `{"name": "Ana \u202Egnp.exe"}`, []string{"name: must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := base.Patch(context.Background(), "org1", []byte(c.body), newRefs(), parsers)
			got := fieldsOf(t, err, problem.Invalid)
			if !slices.Equal(got, c.want) {
				t.Errorf("fields\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestPatchMalformed(t *testing.T) {
	t.Parallel()
	base := sampleAgent()
	for _, body := range []string{
		``, `[]`, `"name"`, `{`, `{"name": "a"} {}`,
		`{"Name": "wrong case"}`, `{"EMAIL": "x@example.com"}`, `{"nickname": "x"}`,
		`{"name": "a", "name": "b"}`, `{"maxChats": "3"}`, `{"maxChats": 2.5}`, `{"maxChats": 1e99}`,
		`{"businessUnitIds": "bu_sales"}`, `{"name": 7}`, `{"landline": 442079460958}`,
		`{"name": "a` + "\x00" + `"}`,
		`{"x": ` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			_, err := base.Patch(context.Background(), "org1", []byte(body), newRefs(), parsers)
			if !problem.Is(err, problem.BadRequest) {
				t.Errorf("Patch(%q) error %v; want a bad request", body, err)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	a := sampleAgent()
	d, changed, err := a.SetStatus(agents.StatusDisabled)
	if err != nil || !changed || d.Status != agents.StatusDisabled {
		t.Fatalf("disable: %v %v %v", d.Status, changed, err)
	}
	if _, changed, err := d.SetStatus(agents.StatusDisabled); err != nil || changed {
		t.Errorf("disable twice: changed %v, %v; want no change", changed, err)
	}
	e, changed, err := d.SetStatus(agents.StatusActive)
	if err != nil || !changed || e.Status != agents.StatusActive {
		t.Errorf("enable: %v %v %v", e.Status, changed, err)
	}
	for _, s := range []agents.Status{"", "Active", "DISABLED", "suspended", "deleted"} {
		_, _, err := a.SetStatus(s)
		if got := fieldsOf(t, err, problem.Invalid); !slices.Equal(got, []string{"status: must be active or disabled"}) {
			t.Errorf("SetStatus(%q): %q", s, got)
		}
	}
}

func TestDisableConflict(t *testing.T) {
	t.Parallel()
	if err := agents.DisableConflict(nil, []string{}); err != nil {
		t.Errorf("nothing open: %v; want nil", err)
	}
	many := make([]string, 150)
	for i := range many {
		many[i] = fmt.Sprintf("u%d", i)
	}
	err := agents.DisableConflict([]string{"chat1"}, many)
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Conflict {
		t.Fatalf("error %v; want a conflict", err)
	}
	b, _ := json.Marshal(pe.Extensions)
	var ext struct{ Chats, StickyUsers []string }
	if err := json.Unmarshal(b, &ext); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ext.Chats, []string{"chat1"}) || len(ext.StickyUsers) != agents.MaxListed || ext.StickyUsers[0] != "u0" {
		t.Errorf("extensions %s", b)
	}
	if !strings.Contains(pe.Message, "1 open chat(s) and 150 sticky user(s)") {
		t.Errorf("message %q does not give the totals", pe.Message)
	}
	only := agents.DisableConflict([]string{"c"}, nil)
	if b, _ := json.Marshal(only.(*problem.Error).Extensions); string(b) != `{"chats":["c"],"stickyUsers":[]}` {
		t.Errorf("extensions %s; want empty arrays, never null", b)
	}
}

func TestDeleteRefused(t *testing.T) {
	t.Parallel()
	err := agents.DeleteRefused()
	if !problem.Is(err, problem.MethodNotAllowed) || !strings.Contains(err.Error(), "disable the agent instead") {
		t.Errorf("got %v", err)
	}
}

// TestAgentJSON pins the representation's member names (API.md) and that it has no
// room for a secret.
func TestAgentJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(sampleAgent())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"businessUnitIds", "createdAt", "email", "id", "landline", "language", "lastLoginAt", "maxChats", "mobile",
		"mustChangePassword", "name", "passwordChangedAt", "passwordExpiresAt", "role", "status", "suspendedAt", "updatedAt", "version"}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("members %q; want %q", got, want)
	}
	if string(m["landline"]) != "null" || string(m["maxChats"]) != "3" || string(m["status"]) != `"active"` || string(m["version"]) != "1" {
		t.Errorf("representation %s", b)
	}
}
