package bolt

import (
	"time"

	bbolt "go.etcd.io/bbolt"
)

// DecodeRecordForTest exposes the record decoder to the external tests.
func DecodeRecordForTest(v []byte) (version int64, at time.Time, by string, data []byte, err error) {
	r, err := decodeRecord(v)
	return r.Version, r.UpdatedAt, r.UpdatedBy, r.Data, err
}

// ParsePositionForTest and PositionForTest expose the position codec of the chat store.
var (
	ParsePositionForTest = parsePosition
	PositionForTest      = position
)

// AddMember applies the business unit member contract in a transaction of its own.
func (b *BusinessUnits) AddMember(orgID, unitID string, delta int) error {
	return b.db.Update(func(tx *bbolt.Tx) error { return addBusinessUnitMember(tx, orgID, unitID, delta) })
}

// DecodeSessionForTest exposes the session record decoder to the fuzz target.
var DecodeSessionForTest = decodeSession
