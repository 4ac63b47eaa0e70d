package local

import (
	"context"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/sessions"
)

// TestEmbeddedSessions: the local server keeps sign-in sessions in its data folder, so a
// restart does not sign everyone out.
func TestEmbeddedSessions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := sessions.Session{ID: sessions.NewID(), OrgID: "acme", AgentID: "agt_ana", CreatedAt: at, LastActivity: at}
	for i := range 2 {
		deps, store, err := Embedded(dir)
		if err != nil {
			t.Fatal(err)
		}
		if deps.Sessions == nil {
			t.Fatal("Embedded gives no session store")
		}
		if i == 0 {
			err = deps.Sessions.Create(context.Background(), s)
		} else if got, found, gerr := deps.Sessions.Get(context.Background(), s.ID); gerr != nil || !found || got.Version != 1 {
			t.Errorf("after a restart: %+v, %v, %v", got, found, gerr)
		}
		_ = store.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}
