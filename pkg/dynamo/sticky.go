package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/sticky"
)

// StickyKeys is the key pattern (IAM StringLike) of the sticky-user items.
const StickyKeys = "STICKY#*"

const (
	attrAtMs = "atMs"
	// stickyTries bounds the read-and-write rounds of one Apply that lost races.
	stickyTries = 8
)

func stickyPK(orgID string) string               { return "STICKY#" + orgID }
func stickyAgentPK(orgID, agentID string) string { return "STICKY#" + orgID + "#" + agentID }

// Sticky is the sticky.Store of the single table.
type Sticky struct {
	client API
	table  string
}

// NewSticky returns the sticky-user store on table.
func NewSticky(client API, table string) *Sticky { return &Sticky{client: client, table: table} }

var _ sticky.Store = (*Sticky)(nil)

// Agent implements sticky.Store with one strongly consistent GetItem.
func (s *Sticky) Agent(ctx context.Context, orgID, userID string) (string, time.Time, error) {
	if err := sticky.CheckIDs(orgID, userID); err != nil {
		return "", time.Time{}, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		Key: key(stickyPK(orgID), "USER#"+userID)})
	if err != nil {
		return "", time.Time{}, mapError("get sticky user "+orgID+"/"+userID, err)
	}
	if out.Item == nil {
		return "", time.Time{}, nil
	}
	ms, err := getN(out.Item, attrAtMs)
	if err != nil {
		return "", time.Time{}, err
	}
	return stringAttr(out.Item, attrAgentID), time.UnixMilli(ms).UTC(), nil
}

// Apply implements sticky.Store: a read of the user item, then one TransactWriteItems
// (the user item on condition it is unchanged, the old agent's item deleted, the new
// one's put); a lost race reads again, at most stickyTries times.
func (s *Sticky) Apply(ctx context.Context, orgID, userID, agentID string, at time.Time) error {
	if err := sticky.CheckIDs(orgID, userID); err != nil {
		return err
	}
	if agentID != "" {
		if err := sticky.CheckIDs(agentID); err != nil {
			return err
		}
	}
	ms := at.UnixMilli()
	for try := 1; ; try++ {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
			Key: key(stickyPK(orgID), "USER#"+userID)})
		if err != nil {
			return mapError("get sticky user "+orgID+"/"+userID, err)
		}
		old, oldMs := "", int64(0)
		cond := aws.String("attribute_not_exists(pk)")
		values := map[string]types.AttributeValue{}
		if out.Item != nil {
			if oldMs, err = getN(out.Item, attrAtMs); err != nil {
				return err
			}
			if oldMs >= ms {
				return sticky.ErrStale
			}
			old = stringAttr(out.Item, attrAgentID)
			cond = aws.String("atMs = :old")
			values[":old"] = num(oldMs)
		}
		user := key(stickyPK(orgID), "USER#"+userID)
		user[attrAgentID], user[attrAtMs] = str(agentID), num(ms)
		put := &types.Put{TableName: aws.String(s.table), Item: user, ConditionExpression: cond}
		if len(values) > 0 {
			put.ExpressionAttributeValues = values
		}
		items := []types.TransactWriteItem{{Put: put}}
		if old != "" && old != agentID {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(stickyAgentPK(orgID, old), userID)}})
		}
		if agentID != "" {
			item := key(stickyAgentPK(orgID, agentID), userID)
			item[attrAtMs] = num(ms)
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
		}
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var canceled *types.TransactionCanceledException
		lost := contended(err) || (errors.As(err, &canceled) && len(canceled.CancellationReasons) > 0 &&
			aws.ToString(canceled.CancellationReasons[0].Code) == conditionFailed)
		if !lost || try == stickyTries {
			return mapError(fmt.Sprintf("apply sticky user %s/%s -> %q at %s", orgID, userID, agentID, strconv.FormatInt(ms, 10)), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try) * 5 * time.Millisecond):
		}
	}
}

// Users implements sticky.Store with one Query of the agent's partition.
func (s *Sticky) Users(ctx context.Context, orgID, agentID string, limit int) ([]string, error) {
	if err := sticky.CheckIDs(orgID, agentID); err != nil {
		return nil, err
	}
	if limit < 1 || limit > sticky.MaxUsers {
		return nil, fmt.Errorf("dynamo: sticky users limit %d outside 1..%d", limit, sticky.MaxUsers)
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(stickyAgentPK(orgID, agentID))},
		ProjectionExpression:      aws.String("sk"), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, mapError("list sticky users of "+orgID+"/"+agentID, err)
	}
	users := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		users = append(users, stringAttr(it, attrSK))
	}
	return users, nil
}
