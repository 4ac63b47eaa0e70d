package dynamo_test

import (
	"testing"

	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/orgs/orgstest"
)

func TestOrgsContract(t *testing.T) {
	needLocal(t)
	t.Parallel()
	orgstest.Run(t, func(t *testing.T) orgstest.Harness {
		return orgstest.Harness{Store: dynamo.NewOrgs(localClient, localTable), Audit: dynamo.New(localClient, localTable)}
	})
}
