package bus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func TestNew(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	e, err := New("chat-auto-closed/acme/c1/2025", "Chat Auto Closed", at.In(paris), map[string]any{"orgId": "acme", "afterDays": 3})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "chat-auto-closed/acme/c1/2025" || e.DetailType != "Chat Auto Closed" || string(e.Detail) != `{"afterDays":3,"orgId":"acme"}` {
		t.Errorf("New = %+v", e)
	}
	if !e.Time.Equal(at) || e.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", e.Time, at)
	}

	big := map[string]string{"x": strings.Repeat("a", MaxDetailSize)}
	for name, tt := range map[string]struct {
		id, dt string
		t      time.Time
		v      any
	}{
		"too large":     {"id", "T", at, big},
		"not object":    {"id", "T", at, "a string"},
		"array":         {"id", "T", at, []int{1}},
		"null":          {"id", "T", at, nil},
		"no id":         {"", "T", at, map[string]int{}},
		"no type":       {"id", "", at, map[string]int{}},
		"no time":       {"id", "T", time.Time{}, map[string]int{}},
		"unmarshal":     {"id", "T", at, func() {}},
		"control in id": {"a\nb", "T", at, map[string]int{}},
	} {
		e, err := New(tt.id, tt.dt, tt.t, tt.v)
		if err == nil || e.ID != "" || e.Detail != nil {
			t.Errorf("%s: New = %+v, %v; want the zero event and an error", name, e, err)
		}
		if name != "unmarshal" && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := Event{ID: "id/1", DetailType: "Chat Auto Closed", Detail: json.RawMessage(`{"a":1}`), Time: at}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid event: %v", err)
	}
	ok := func(f func(*Event)) Event { e := valid; f(&e); return e }
	good := []Event{
		ok(func(e *Event) { e.Detail = json.RawMessage(" \n{}") }),
		ok(func(e *Event) { e.Detail = json.RawMessage(`{"s":"ünï \u003c"}` + " ") }),
		ok(func(e *Event) { e.Detail = json.RawMessage(`{"x":"` + strings.Repeat("a", MaxDetailSize-8) + `"}`) }),
		ok(func(e *Event) { e.ID = strings.Repeat("i", MaxIDLen) }),
		ok(func(e *Event) { e.DetailType = strings.Repeat("d", MaxDetailTypeLen) }),
		ok(func(e *Event) { e.Time = minTime }),
		ok(func(e *Event) { e.Time = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }),
	}
	for i, e := range good {
		if err := e.Validate(); err != nil {
			t.Errorf("good %d: %v", i, err)
		}
	}
	bad := map[string]Event{
		"empty id":         ok(func(e *Event) { e.ID = "" }),
		"long id":          ok(func(e *Event) { e.ID = strings.Repeat("i", MaxIDLen+1) }),
		"id not utf-8":     ok(func(e *Event) { e.ID = "a\xffb" }),
		"id with NUL":      ok(func(e *Event) { e.ID = "a\x00b" }),
		"id with newline":  ok(func(e *Event) { e.ID = "a\nINFO forged" }),
		"empty type":       ok(func(e *Event) { e.DetailType = "" }),
		"long type":        ok(func(e *Event) { e.DetailType = strings.Repeat("d", MaxDetailTypeLen+1) }),
		"type with CR":     ok(func(e *Event) { e.DetailType = "T\r" }),
		"type with DEL":    ok(func(e *Event) { e.DetailType = "T\x7f" }),
		"nil detail":       ok(func(e *Event) { e.Detail = nil }),
		"array detail":     ok(func(e *Event) { e.Detail = json.RawMessage(`[1]`) }),
		"string detail":    ok(func(e *Event) { e.Detail = json.RawMessage(`"s"`) }),
		"null detail":      ok(func(e *Event) { e.Detail = json.RawMessage(`null`) }),
		"broken detail":    ok(func(e *Event) { e.Detail = json.RawMessage(`{"a":`) }),
		"two objects":      ok(func(e *Event) { e.Detail = json.RawMessage(`{}{}`) }),
		"detail not utf-8": ok(func(e *Event) { e.Detail = json.RawMessage("{\"a\":\"\xff\"}") }),
		"large detail":     ok(func(e *Event) { e.Detail = json.RawMessage(`{"x":"` + strings.Repeat("a", MaxDetailSize-7) + `"}`) }),
		"zero time":        ok(func(e *Event) { e.Time = time.Time{} }),
		"before 1970":      ok(func(e *Event) { e.Time = minTime.Add(-time.Nanosecond) }),
		"year 10000":       ok(func(e *Event) { e.Time = maxTime }),
	}
	for name, e := range bad {
		err := e.Validate()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
			continue
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "\xff") || len(err.Error()) > 400 {
			t.Errorf("%s: error %q echoes the bad value", name, err)
		}
		events := []Event{valid, valid, e, valid}
		if err := ValidateAll(events); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "event 2 of 4") {
			t.Errorf("%s: ValidateAll = %v, want ErrInvalid naming event 2 of 4", name, err)
		}
	}
	if err := ValidateAll(nil); err != nil {
		t.Errorf("ValidateAll(nil) = %v", err)
	}
}
