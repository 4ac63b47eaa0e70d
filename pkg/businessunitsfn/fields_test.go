package businessunitsfn

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/freetext/caseless"
)

// FuzzFields: whatever a client sends, validation never panics, and fields it accepts
// are what the store may keep (CheckUnit agrees): a name of 1-100 characters, at most
// MaxChatbots distinct ids.
func FuzzFields(f *testing.F) {
	f.Add("Sales", "bot_1,bot_2")
	f.Add(" \u3164", "")
	f.Add("Sales\u202e", "a b,a b")
	f.Add(strings.Repeat("é", 101), strings.Repeat("b,", 60))
	f.Fuzz(func(t *testing.T, name, bots string) {
		fs := Fields{Name: name}
		if bots != "" {
			fs.ChatbotIDs = strings.Split(bots, ",")
		}
		fs.Prepare()
		if fs.Validate() != nil {
			return
		}
		if n := utf8.RuneCountInString(fs.Name); n < 1 || n > businessunits.MaxNameChars {
			t.Fatalf("accepted a name of %d characters", n)
		}
		seen := map[string]bool{}
		for _, id := range fs.ChatbotIDs {
			if seen[id] {
				t.Fatalf("accepted a repeated chatbot id %q", id)
			}
			seen[id] = true
		}
		if len(fs.ChatbotIDs) > businessunits.MaxChatbots {
			t.Fatalf("accepted %d chatbot ids", len(fs.ChatbotIDs))
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		u := Unit{OrgID: "acme", ID: "bu_1", Name: fs.Name, NameKey: caseless.Key(fs.Name), ChatbotIDs: fs.ChatbotIDs, Version: 1}
		if err := businessunits.CheckUnit(u, audit.Entry{ID: audit.NewID(at), OrgID: "acme", Area: businessunits.Area}); err != nil {
			t.Fatalf("accepted fields the store refuses: %v", err)
		}
	})
}
