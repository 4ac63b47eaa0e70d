package dynamo_test

import (
	"testing"

	"github.com/convrs/admin/pkg/businessunits/businessunitstest"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/tags/tagstest"
)

func TestBusinessUnitsContract(t *testing.T) {
	needLocal(t)
	t.Parallel()
	businessunitstest.Run(t, func(t *testing.T) businessunitstest.Harness {
		units := dynamo.NewBusinessUnits(localClient, localTable)
		return businessunitstest.Harness{Store: units, Audit: dynamo.New(localClient, localTable), AddMember: units.AddMember}
	})
}

func TestTagsContract(t *testing.T) {
	needLocal(t)
	t.Parallel()
	tagstest.Run(t, func(t *testing.T) tagstest.Harness {
		return tagstest.Harness{Store: dynamo.NewTags(localClient, localTable), Audit: dynamo.New(localClient, localTable)}
	})
}
