package dynamo

// PositionKeyForTest and PositionForTest expose the position codec to the external tests.
var (
	PositionKeyForTest = positionKey
	PositionForTest    = position
)
