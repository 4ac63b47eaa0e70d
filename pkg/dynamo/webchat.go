package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/webchat/revision"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/settings"
)

// The key-set revision item (see package webchat/revision):
//
//	pk          S  WEBCHAT#<orgId>
//	sk          S  REVISION
//	committed   N
//	claimed     N
//	leaseUntil  N  Unix milliseconds
//
// Revision is one strongly consistent GetItem; Claim one conditional PutItem; Commit one
// TransactWriteItems (the revision, on condition that it is still the claimed one, and
// the audit entry).

var _ revision.Store = (*Store)(nil)

// WebchatKeys is the pattern (IAM StringLike) of the partition keys of key-set revision
// items, for a dynamodb:LeadingKeys condition.
const WebchatKeys = "WEBCHAT#*"

const (
	attrCommitted  = "committed"
	attrClaimed    = "claimed"
	attrLeaseUntil = "leaseUntil"
)

func revisionKey(orgID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str("WEBCHAT#" + orgID), attrSK: str("REVISION")}
}

// Revision implements revision.Store with one strongly consistent GetItem.
func (s *Store) Revision(ctx context.Context, orgID string) (revision.Revision, error) {
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return revision.Revision{}, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: revisionKey(orgID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return revision.Revision{}, mapError(fmt.Sprintf("get webchat revision of %s", orgID), err)
	}
	if len(out.Item) == 0 {
		return revision.Revision{}, nil
	}
	var r revision.Revision
	var lease int64
	for name, dst := range map[string]*int64{attrCommitted: &r.Committed, attrClaimed: &r.Claimed, attrLeaseUntil: &lease} {
		if *dst, err = getN(out.Item, name); err != nil {
			return revision.Revision{}, fmt.Errorf("dynamo: webchat revision of %s: %w", orgID, err)
		}
	}
	if lease != 0 {
		r.LeaseUntil = time.UnixMilli(lease).UTC()
	}
	return r, nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Claim implements revision.Store with one conditional PutItem.
func (s *Store) Claim(ctx context.Context, orgID string, cur revision.Revision, now, leaseUntil time.Time) (revision.Revision, error) {
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return revision.Revision{}, err
	}
	next := revision.Revision{Committed: cur.Committed, Claimed: cur.Committed + 1, LeaseUntil: leaseUntil.UTC().Truncate(time.Millisecond)}
	item := revisionKey(orgID)
	item[attrCommitted] = num(next.Committed)
	item[attrClaimed] = num(next.Claimed)
	item[attrLeaseUntil] = num(millis(next.LeaseUntil))
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
	if cur == (revision.Revision{}) {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		// Still the revision the caller read, and no claim held at now (an expired one may
		// be taken over).
		in.ConditionExpression = aws.String("committed = :c AND claimed = :cl AND leaseUntil = :lu AND (claimed = committed OR leaseUntil < :now)")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":c": num(cur.Committed), ":cl": num(cur.Claimed), ":lu": num(millis(cur.LeaseUntil)), ":now": num(now.UnixMilli()),
		}
	}
	if _, err := s.client.PutItem(ctx, in); err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return revision.Revision{}, revision.ErrChanged
		}
		return revision.Revision{}, mapError(fmt.Sprintf("claim webchat revision of %s", orgID), err)
	}
	return next, nil
}

// Commit implements revision.Store with one TransactWriteItems.
func (s *Store) Commit(ctx context.Context, orgID string, claimed revision.Revision, entry audit.Entry) error {
	if err := settings.CheckKeys(orgID, ""); err != nil {
		return err
	}
	if entry.OrgID != orgID || !audit.ValidID(entry.ID) || !audit.ValidArea(entry.Area) {
		return fmt.Errorf("dynamo: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	if claimed.Claimed != claimed.Committed+1 {
		return revision.ErrChanged
	}
	changes, err := json.Marshal(entry.Changes)
	if err != nil {
		return fmt.Errorf("dynamo: encode audit changes: %w", err)
	}
	item := revisionKey(orgID)
	item[attrCommitted] = num(claimed.Claimed)
	item[attrClaimed] = num(claimed.Claimed)
	item[attrLeaseUntil] = num(0)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(s.table), Item: item,
				ConditionExpression: aws.String("committed = :c AND claimed = :cl AND leaseUntil = :lu"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":c": num(claimed.Committed), ":cl": num(claimed.Claimed), ":lu": num(millis(claimed.LeaseUntil)),
				}}},
			{Put: &types.Put{TableName: aws.String(s.table), Item: auditItem(entry, changes),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		},
	})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && len(canceled.CancellationReasons) > 0 &&
		aws.ToString(canceled.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return revision.ErrChanged
	}
	return mapError("commit webchat revision of "+orgID+" at "+strconv.FormatInt(claimed.Claimed, 10), err)
}
