package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/sessions"
)

// SessionKeys is the key pattern (IAM StringLike) of the sign-in session items (package
// sessions describes them).
const SessionKeys = "SESSION#*"

const (
	sessionSK        = "SESSION"
	attrLastActivity = "lastActivity"
	attrEndedAt      = "endedAt"
	// maxSessionData bounds the data attribute a stored session may hold: its JSON is
	// four short fields.
	maxSessionData = 1024
)

func sessionPK(id string) string { return "SESSION#" + id }

// SessionsAPI is the subset of *dynamodb.Client that Sessions uses.
type SessionsAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ SessionsAPI = (*dynamodb.Client)(nil)

// Sessions is the sessions.Store of the single table: one item per session,
//
//	pk           S  SESSION#<sessionId>
//	sk           S  SESSION
//	data         S  JSON {"id","orgId","agentId","createdAt"}: what never changes
//	lastActivity S  RFC 3339 time with nanoseconds, UTC
//	endedAt      S  the same, once the session has ended
//	version      N  1, 2, ...
//	expiresAt    N  epoch seconds of Session.ExpiresAt, rounded up: the table's TTL
//
// so that Touch and End are single UpdateItems that need no read first. It is safe for
// concurrent use.
type Sessions struct {
	client SessionsAPI
	table  string
}

var _ sessions.Store = (*Sessions)(nil)

// NewSessions returns the session store on table.
func NewSessions(client SessionsAPI, table string) *Sessions {
	return &Sessions{client: client, table: table}
}

// sessionData is the data attribute.
type sessionData struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"orgId"`
	AgentID   string    `json:"agentId"`
	CreatedAt time.Time `json:"createdAt"`
}

// expiresAt is the TTL of a session last active at: sessions.MaxIdle later, in epoch
// seconds rounded up (DynamoDB never deletes it early).
func expiresAt(lastActivity time.Time) types.AttributeValue {
	exp := lastActivity.Add(sessions.MaxIdle)
	secs := exp.Unix()
	if exp.Nanosecond() > 0 {
		secs++
	}
	return num(secs)
}

// sessionError turns a failed call into the store's error (awserr: throttling and
// transient failures are a 503 problem).
func sessionError(op string, err error) error {
	return awserr.Classify(err).Problem("dynamo: "+op, err, "the store is busy, please retry")
}

// Create implements sessions.Store with one PutItem on condition that the key is free.
func (s *Sessions) Create(ctx context.Context, sess sessions.Session) error {
	if err := sessions.Check(sess); err != nil {
		return err
	}
	data, err := json.Marshal(sessionData{ID: sess.ID, OrgID: sess.OrgID, AgentID: sess.AgentID, CreatedAt: sess.CreatedAt.UTC()})
	if err != nil {
		return fmt.Errorf("dynamo: encode session %s: %w", sess.ID, err)
	}
	item := key(sessionPK(sess.ID), sessionSK)
	item[attrData] = str(string(data))
	item[attrLastActivity] = str(formatTime(sess.LastActivity))
	item[attrVersion] = num(1)
	item[attrExpiresAt] = expiresAt(sess.LastActivity)
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return sessions.ErrConflict
	}
	if err != nil {
		return sessionError("create session "+sess.ID, err)
	}
	return nil
}

// Get implements sessions.Store with one strongly consistent GetItem.
func (s *Sessions) Get(ctx context.Context, id string) (sessions.Session, bool, error) {
	if !ids.Valid(id) {
		return sessions.Session{}, false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(sessionPK(id), sessionSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return sessions.Session{}, false, sessionError("get session "+id, err)
	}
	if out.Item == nil {
		return sessions.Session{}, false, nil
	}
	sess, err := decodeSession(id, out.Item)
	if err != nil {
		return sessions.Session{}, false, err
	}
	return sess, true, nil
}

// Touch implements sessions.Store with one UpdateItem on condition of the version and
// that the session has not ended; when the condition fails, the item DynamoDB returns
// says which error it is.
func (s *Sessions) Touch(ctx context.Context, id string, version int64, at time.Time) error {
	if !ids.Valid(id) {
		return sessions.ErrEnded
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(sessionPK(id), sessionSK),
		UpdateExpression:    aws.String("SET lastActivity = :at, version = :next, expiresAt = :exp"),
		ConditionExpression: aws.String("version = :v AND attribute_not_exists(endedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(formatTime(at)), ":next": num(version + 1),
			":exp": expiresAt(at), ":v": num(version)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if _, ended := failed.Item[attrEndedAt]; failed.Item == nil || ended {
			return sessions.ErrEnded
		}
		return sessions.ErrConflict
	}
	if err != nil {
		return sessionError("touch session "+id, err)
	}
	return nil
}

// End implements sessions.Store with one UpdateItem on condition that the session exists
// and has not ended; a failed condition is the idempotent case, not an error.
func (s *Sessions) End(ctx context.Context, id string, at time.Time) error {
	if !ids.Valid(id) {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(sessionPK(id), sessionSK),
		UpdateExpression:          aws.String("SET endedAt = :at, version = version + :one"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(endedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(formatTime(at)), ":one": num(1)}})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil
	}
	if err != nil {
		return sessionError("end session "+id, err)
	}
	return nil
}

// decodeSession reads the stored item of session id, refusing anything Create and Touch
// never write: another id, unknown or missing fields, a version below 1, malformed times.
func decodeSession(id string, item map[string]types.AttributeValue) (sessions.Session, error) {
	fail := func(err error) (sessions.Session, error) {
		return sessions.Session{}, fmt.Errorf("dynamo: decode session %s: %w", id, err)
	}
	raw, err := getS(item, attrData)
	if err != nil {
		return fail(err)
	}
	if len(raw) > maxSessionData {
		return fail(fmt.Errorf("attribute %s: %d bytes", attrData, len(raw)))
	}
	// Strict: exact names, no unknown or repeated fields. The problem it returns would
	// be a client's error; a stored item that does not decode is the server's (%v).
	var d sessionData
	if err := httpx.Unmarshal([]byte(raw), &d); err != nil {
		return fail(fmt.Errorf("attribute %s: %v", attrData, err))
	}
	if d.ID != id || !ids.Valid(d.OrgID) || !ids.Valid(d.AgentID) || d.CreatedAt.IsZero() {
		return fail(fmt.Errorf("attribute %s: id %q, organisation %q, agent %q, created %v", attrData, d.ID, d.OrgID, d.AgentID, d.CreatedAt))
	}
	version, err := getN(item, attrVersion)
	if err != nil {
		return fail(err)
	}
	if version < 1 {
		return fail(fmt.Errorf("attribute %s: %s", attrVersion, strconv.FormatInt(version, 10)))
	}
	last, err := getTime(item, attrLastActivity)
	if err != nil {
		return fail(err)
	}
	sess := sessions.Session{ID: id, OrgID: d.OrgID, AgentID: d.AgentID, CreatedAt: d.CreatedAt.UTC(),
		LastActivity: last.UTC(), Version: version}
	if _, ok := item[attrEndedAt]; ok {
		ended, err := getTime(item, attrEndedAt)
		if err != nil {
			return fail(err)
		}
		ended = ended.UTC()
		sess.EndedAt = &ended
	}
	return sess, nil
}
