package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/businessunits"
)

// PositionKeyForTest and PositionForTest expose the position codec to the external tests.
var (
	PositionKeyForTest = positionKey
	PositionForTest    = position
)

// AddMember applies the business unit member contract in a transaction of its own, as
// the agents store will in an agent's transaction.
func (s *BusinessUnits) AddMember(ctx context.Context, orgID, unitID string, delta int) error {
	err := s.transact(ctx, []types.TransactWriteItem{businessUnitMember(s.table, orgID, unitID, delta)})
	if failedCondition(reasons(err), 0) {
		if delta > 0 {
			return businessunits.ErrNoSuchUnit
		}
		return errors.New("dynamo: the unit counts fewer members than that")
	}
	if err != nil {
		return peopleError("add member", err)
	}
	return nil
}

// DecodeSessionForTest exposes the session item decoder to the fuzz target.
var DecodeSessionForTest = decodeSession
