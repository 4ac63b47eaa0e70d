package tags

import (
	"time"

	"github.com/convrs/admin/pkg/audit"
)

func entryFor(org string) audit.Entry {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Area: Area, Action: "create"}
}
