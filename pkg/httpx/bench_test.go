package httpx_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/officehours"
)

// A typical office-hours PUT body: weekday hours with a lunch break, a short Saturday,
// a few holidays and special days, the missed-chat report.
const officeHoursBody = `{
  "openTime": "09:00:00", "closeTime": "17:00:00", "timeZone": "Europe/London",
  "days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"],
  "hours": {
    "monday":    [{"open": "09:00:00", "close": "12:30:00"}, {"open": "13:30:00", "close": "17:30:00"}],
    "tuesday":   [{"open": "09:00:00", "close": "12:30:00"}, {"open": "13:30:00", "close": "17:30:00"}],
    "wednesday": [{"open": "09:00:00", "close": "12:30:00"}, {"open": "13:30:00", "close": "17:30:00"}],
    "thursday":  [{"open": "09:00:00", "close": "12:30:00"}, {"open": "13:30:00", "close": "20:00:00"}],
    "friday":    [{"open": "09:00:00", "close": "12:30:00"}, {"open": "13:30:00", "close": "16:00:00"}],
    "saturday":  [{"open": "10:00:00", "close": "13:00:00"}]
  },
  "exceptions": [
    {"date": "2026-12-24", "open": "09:00:00", "close": "12:00:00"},
    {"date": "2026-12-25", "closed": true},
    {"date": "2026-12-26", "closed": true},
    {"date": "2026-12-31", "open": "09:00:00", "close": "15:00:00"},
    {"date": "2027-01-01", "closed": true}
  ],
  "missedChatReport": {"enabled": true, "email": "support-leads@acme.example"}
}`

// encodingJSON is the baseline: encoding/json alone, as strict as it gets.
func encodingJSON(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

// Compare the two sub-benchmarks of each: ns/op of strict over ns/op of encoding_json is
// the cost of the exact-name, duplicate and depth checks.
func BenchmarkUnmarshalOfficeHours(b *testing.B) {
	benchmarkUnmarshal(b, []byte(officeHoursBody), func() any { v := officehours.Defaults(); return &v })
}

func BenchmarkUnmarshalChatHandling(b *testing.B) {
	body := []byte(`{"maxChatsPerAgent":5,"moveToQueueWhenAgentOffline":true,"autoCloseAfterDays":7,"moveToQueueAfterNoLoginDays":2}`)
	benchmarkUnmarshal(b, body, func() any { v := chathandling.Defaults(); return &v })
}

func benchmarkUnmarshal(b *testing.B, body []byte, dst func() any) {
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := httpx.Unmarshal(body, dst()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := encodingJSON(body, dst()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
