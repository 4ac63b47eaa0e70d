package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/roles/rolestest"
)

func TestRolesContract(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r, err := s.Roles()
	if err != nil {
		t.Fatal(err)
	}
	rolestest.Run(t, func(*testing.T) rolestest.Env {
		return rolestest.Env{Store: r, Audit: s, SetHolders: func(t *testing.T, org, role string, n int) {
			if err := r.SetHoldersForTest(org, role, n); err != nil {
				t.Fatal(err)
			}
		}}
	})
}
