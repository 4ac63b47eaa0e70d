package dynamo_test

import (
	"testing"

	"github.com/convrs/admin/pkg/agents/agentstest"
	"github.com/convrs/admin/pkg/dynamo"
)

func TestAgentsContract(t *testing.T) {
	needLocal(t)
	agentstest.Run(t, func(*testing.T) agentstest.Env {
		return agentstest.Env{Store: dynamo.NewAgents(localClient, localTable), Roles: dynamo.NewRoles(localClient, localTable),
			Audit: dynamo.New(localClient, localTable)}
	})
}
