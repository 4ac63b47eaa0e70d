package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/agents/agentstest"
	"github.com/convrs/admin/pkg/bolt"
)

func TestAgentsContract(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	a, err := s.Agents()
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Roles()
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.BusinessUnits()
	if err != nil {
		t.Fatal(err)
	}
	agentstest.Run(t, func(*testing.T) agentstest.Env {
		return agentstest.Env{Store: a, Roles: r, Units: u, Audit: s, SetCount: func(t *testing.T, org string, n int) {
			if err := a.SetCountForTest(org, n); err != nil {
				t.Fatal(err)
			}
		}}
	})
}
