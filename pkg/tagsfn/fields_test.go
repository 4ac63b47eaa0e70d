package tagsfn

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/tags"
)

func entryFor(org string) audit.Entry {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Area: tags.Area, Action: "create"}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	tag := func(group, applies string) Tag { return Tag{GroupID: group, AppliesTo: applies} }
	for _, tc := range []struct {
		f    Filter
		t    Tag
		keep bool
	}{
		{Filter{}, tag("", tags.AppliesToUsers), true},
		{Filter{GroupID: "tg_1"}, tag("tg_1", tags.AppliesToUsers), true},
		{Filter{GroupID: "tg_1"}, tag("tg_2", tags.AppliesToUsers), false},
		{Filter{GroupID: "tg_1"}, tag("", tags.AppliesToUsers), false},
		{Filter{AppliesTo: tags.AppliesToUsers}, tag("", tags.AppliesToUsers), true},
		{Filter{AppliesTo: tags.AppliesToUsers}, tag("", tags.AppliesToBoth), true},
		{Filter{AppliesTo: tags.AppliesToUsers}, tag("", tags.AppliesToChats), false},
		{Filter{AppliesTo: tags.AppliesToChats}, tag("", tags.AppliesToBoth), true},
		{Filter{AppliesTo: tags.AppliesToBoth}, tag("", tags.AppliesToBoth), true},
		{Filter{AppliesTo: tags.AppliesToBoth}, tag("", tags.AppliesToUsers), false},
		{Filter{GroupID: "tg_1", AppliesTo: tags.AppliesToChats}, tag("tg_1", tags.AppliesToUsers), false},
	} {
		if got := tc.f.keeps(tc.t); got != tc.keep {
			t.Errorf("%+v keeps %+v: %v, want %v", tc.f, tc.t, got, tc.keep)
		}
	}
}

// FuzzTagFields: whatever a client sends, validation never panics, and fields it accepts
// are what the store may keep (CheckTag agrees).
func FuzzTagFields(f *testing.F) {
	f.Add("VIP", "users", "#ffd700", "tg_1", true, true)
	f.Add(" \u200b", "both", "#fff", "a b", false, true)
	f.Add("a\u202eb", "", "", "", false, false)
	f.Fuzz(func(t *testing.T, name, applies, color, group string, hasColor, hasGroup bool) {
		fs := TagFields{Name: name, AppliesTo: applies}
		if hasColor {
			fs.Color = &color
		}
		if hasGroup {
			fs.GroupID = &group
		}
		fs.Prepare()
		if fs.Validate() != nil {
			return
		}
		tg := Tag{OrgID: "acme", ID: "tag_1", Version: 1}
		fs.apply(&tg)
		if n := utf8.RuneCountInString(tg.Name); n < 1 || n > tags.MaxNameChars {
			t.Fatalf("accepted a name of %d characters: %q", n, tg.Name)
		}
		if err := tags.CheckTag(tg, entryFor("acme")); err != nil {
			t.Fatalf("accepted fields the store refuses: %+v: %v", tg, err)
		}
	})
}
