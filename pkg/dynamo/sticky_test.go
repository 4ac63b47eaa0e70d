package dynamo_test

import (
	"testing"

	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/sticky"
	"github.com/convrs/admin/pkg/sticky/stickytest"
)

func TestStickyContract(t *testing.T) {
	needLocal(t)
	stickytest.Run(t, func(*testing.T) sticky.Store { return dynamo.NewSticky(localClient, localTable) })
}
