package bolt_test

import (
	"testing"

	"github.com/convrs/admin/pkg/orgs/orgstest"
)

func TestOrgsContract(t *testing.T) {
	t.Parallel()
	orgstest.Run(t, func(t *testing.T) orgstest.Harness {
		s := openStore(t)
		o, err := s.Orgs()
		if err != nil {
			t.Fatal(err)
		}
		return orgstest.Harness{Store: o, Audit: s}
	})
}
