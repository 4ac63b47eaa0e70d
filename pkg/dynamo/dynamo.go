// Package dynamo is the Amazon DynamoDB adapter of the single table, built on
// aws-sdk-go-v2: the settings.Store (here), the WebChat key-set revisions (webchat.go),
// the chats.Store (Chats, chats.go, which documents its items and indexes), the custom
// roles (Roles, roles.go; items in package roles), the agents (Agents, agents.go: PEOPLE#,
// EMAIL#, CREDS# and INVITE# items, described in package agents; no index), sticky users
// (Sticky, sticky.go), the businessunits.Store (BusinessUnits, businessunits.go: partition
// BU#<orgId>), the tags.Store (Tags, tags.go: partition TAGS#<orgId>) and the orgs.Store
// (Orgs, orgs.go: the records ORG#<orgId> and the descendants index SUBORGS#<ancestorId>)
// and the sessions.Store (Sessions, sessions.go: SESSION#<sessionId>).
//
// Everything lives in one table whose keys are the strings pk (partition) and sk (sort),
// billed PAY_PER_REQUEST, with sparse global secondary indexes projecting every
// attribute: auditByArea (partition key ap, sort key sk) and the chat store's gsi1 to
// gsi3. CreateTable creates exactly that table (TableDefinition).
//
// A settings document of one area of one organisation is the item
//
//	pk        S  SETTINGS#<area>#<orgId>  (the area first, for IAM dynamodb:LeadingKeys)
//	sk        S  DOC
//	version   N  1, 2, 3, ... (the optimistic concurrency token)
//	updatedAt S  RFC 3339 time with nanoseconds, UTC
//	updatedBy S  subject of the last writer
//	data      S  the area's fields as JSON text
//
// An audit entry is the item
//
//	pk        S  AUDIT#<orgId>
//	sk        S  <audit id> (audit.NewID: sorts by time, newest last)
//	ap        S  AUDIT#<orgId>#<area> (only audit items carry it: the index is sparse)
//	at        S  RFC 3339 time with nanoseconds, UTC
//	actor     S  subject of the caller who made the change
//	area      S  the settings area
//	action    S  replace, patch, ...
//	requestId S  the request id of the change
//	changes   S  the field-level changes as a JSON array
//
// Get is one GetItem (strongly or eventually consistent, as asked). Save is one TransactWriteItems that puts the
// document, conditional on the version it was based on, and the audit entry together, so
// a change is never stored without its audit entry nor an entry without its change.
// ListAudit queries the table (every area) or auditByArea (one area) newest first.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// API is the subset of *dynamodb.Client that Store uses.
type API interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	TransactWriteItems(ctx context.Context, params *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// AuditIndex is the name of the sparse global secondary index listing one area's audit
// entries.
const AuditIndex = "auditByArea"

// Attribute names.
const (
	attrPK        = "pk"
	attrSK        = "sk"
	attrAP        = "ap"
	attrVersion   = "version"
	attrUpdatedAt = "updatedAt"
	attrUpdatedBy = "updatedBy"
	attrData      = "data"
	// attrLocked is a settings document's locked fields (a JSON array), when it has any.
	attrLocked    = "locked"
	attrAt        = "at"
	attrActor     = "actor"
	attrArea      = "area"
	attrAction    = "action"
	attrRequestID = "requestId"
	attrChanges   = "changes"
)

// Store is a settings.Store on one DynamoDB table. It is safe for concurrent use.
type Store struct {
	client API
	table  string
}

var _ settings.Store = (*Store)(nil)

// New returns a Store on table through client (usually a *dynamodb.Client).
func New(client API, table string) *Store {
	return &Store{client: client, table: table}
}

// SettingsKeys is the pattern (IAM StringLike) of the partition keys of one area's
// settings documents, for a dynamodb:LeadingKeys condition.
func SettingsKeys(area string) string { return "SETTINGS#" + area + "#*" }

// AuditKeys is the pattern (IAM StringLike) of the partition keys of audit entries, in
// the table and in the auditByArea index.
const AuditKeys = "AUDIT#*"

// settingsKey is the key of a settings document. Organisation ids and area names never
// contain "#" (settings.CheckKeys), so a key names exactly one (area, org) pair.
func settingsKey(orgID, area string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str("SETTINGS#" + area + "#" + orgID),
		attrSK: str("DOC"),
	}
}

func auditPK(orgID string) string       { return "AUDIT#" + orgID }
func auditAP(orgID, area string) string { return "AUDIT#" + orgID + "#" + area }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Get implements settings.Store with one GetItem, strongly consistent unless c is
// settings.Eventual.
func (s *Store) Get(ctx context.Context, orgID, area string, c settings.Consistency) (settings.Record, error) {
	if err := settings.CheckKeys(orgID, area); err != nil {
		return settings.Record{}, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            settingsKey(orgID, area),
		ConsistentRead: aws.Bool(c != settings.Eventual),
	})
	if err != nil {
		return settings.Record{}, mapError(fmt.Sprintf("get %s/%s", orgID, area), err)
	}
	if len(out.Item) == 0 {
		return settings.Record{}, problem.New(problem.NotFound, "settings not found")
	}
	rec, err := decodeRecord(out.Item)
	if err != nil {
		return settings.Record{}, fmt.Errorf("dynamo: decode %s/%s: %w", orgID, area, err)
	}
	rec.OrgID, rec.Area = orgID, area
	return rec, nil
}

// batchGetTries bounds the BatchGetItem calls of one GetPath: the first, and retries of
// keys DynamoDB left unprocessed (under throttling), with a short wait between.
const batchGetTries = 4

// GetPath implements settings.Store with one BatchGetItem of every organisation's
// document (strongly consistent unless c is settings.Eventual), retrying only the keys
// DynamoDB leaves unprocessed.
func (s *Store) GetPath(ctx context.Context, path []string, area string, c settings.Consistency) ([]settings.Record, error) {
	if len(path) == 0 || len(path) > settings.MaxPath {
		return nil, fmt.Errorf("dynamo: a path of %d organisations", len(path))
	}
	at := make(map[string]int, len(path))
	keys := make([]map[string]types.AttributeValue, 0, len(path))
	out := make([]settings.Record, len(path))
	for i, org := range path {
		if err := settings.CheckKeys(org, area); err != nil {
			return nil, err
		}
		out[i] = settings.Record{OrgID: org, Area: area}
		if _, dup := at[org]; !dup {
			at[org] = i
			keys = append(keys, settingsKey(org, area))
		}
	}
	prefix := "SETTINGS#" + area + "#"
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(c != settings.Eventual)}}
	for try := 0; len(req) > 0; try++ {
		if try == batchGetTries {
			return nil, problem.New(problem.Unavailable, "the store is busy, please retry")
		}
		if try > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(10<<try) * time.Millisecond):
			}
		}
		res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, mapError("get path of "+area, err)
		}
		for _, item := range res.Responses[s.table] {
			pk, err := getS(item, attrPK)
			if err != nil {
				return nil, fmt.Errorf("dynamo: get path of %s: %w", area, err)
			}
			i, ok := at[strings.TrimPrefix(pk, prefix)]
			if !ok {
				return nil, fmt.Errorf("dynamo: get path of %s: an item %q not asked for", area, pk)
			}
			rec, err := decodeRecord(item)
			if err != nil {
				return nil, fmt.Errorf("dynamo: decode %s: %w", pk, err)
			}
			rec.OrgID, rec.Area = path[i], area
			out[i] = rec
		}
		req = res.UnprocessedKeys
	}
	for i, org := range path {
		if j := at[org]; j != i {
			out[i] = out[j]
		}
	}
	return out, nil
}

// Save implements settings.Store with one TransactWriteItems: the document is put on
// condition that it is absent (version 1) or still at rec.Version-1, and the audit entry
// on condition that its id is new. A version below 1 is a conflict and writes nothing.
func (s *Store) Save(ctx context.Context, rec settings.Record, entry audit.Entry, guards ...settings.Guard) error {
	if err := settings.CheckKeys(rec.OrgID, rec.Area); err != nil {
		return err
	}
	if entry.OrgID != rec.OrgID || !audit.ValidID(entry.ID) || !audit.ValidArea(entry.Area) {
		return fmt.Errorf("dynamo: audit entry %q of org %q area %q does not belong to the change", entry.ID, entry.OrgID, entry.Area)
	}
	if rec.Version < 1 {
		return settings.ErrVersionConflict
	}
	changes, err := json.Marshal(entry.Changes)
	if err != nil {
		return fmt.Errorf("dynamo: encode audit changes: %w", err)
	}
	doc := settingsKey(rec.OrgID, rec.Area)
	doc[attrVersion] = num(rec.Version)
	doc[attrUpdatedAt] = str(formatTime(rec.UpdatedAt))
	doc[attrUpdatedBy] = str(rec.UpdatedBy)
	doc[attrData] = str(string(rec.Data))
	if len(rec.Locked) > 0 {
		locked, err := json.Marshal(rec.Locked)
		if err != nil {
			return err
		}
		doc[attrLocked] = str(string(locked))
	}
	putDoc := &types.Put{TableName: aws.String(s.table), Item: doc}
	if rec.Version == 1 {
		putDoc.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		putDoc.ConditionExpression = aws.String("version = :prev")
		putDoc.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(rec.Version - 1)}
	}
	audit := auditItem(entry, changes)
	items := []types.TransactWriteItem{
		{Put: putDoc},
		{Put: &types.Put{TableName: aws.String(s.table), Item: audit,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	for _, g := range guards {
		if err := settings.CheckKeys(g.OrgID, rec.Area); err != nil {
			return err
		}
		check := &types.ConditionCheck{TableName: aws.String(s.table), Key: settingsKey(g.OrgID, rec.Area),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if g.Version > 0 {
			check.ConditionExpression = aws.String("version = :v")
			check.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(g.Version)}
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: check})
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for i, r := range canceled.CancellationReasons {
			if i != 1 && aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return settings.ErrVersionConflict // the document or a guard moved
			}
		}
	}
	return mapError(fmt.Sprintf("save %s/%s v%d", rec.OrgID, rec.Area, rec.Version), err)
}

// auditItem is the item of an audit entry whose changes are already encoded.
func auditItem(entry audit.Entry, changes []byte) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:        str(auditPK(entry.OrgID)),
		attrSK:        str(entry.ID),
		attrAP:        str(auditAP(entry.OrgID, entry.Area)),
		attrAt:        str(formatTime(entry.At)),
		attrActor:     str(entry.Actor),
		attrArea:      str(entry.Area),
		attrAction:    str(entry.Action),
		attrRequestID: str(entry.RequestID),
		attrChanges:   str(string(changes)),
	}
}

// ListAudit implements settings.Store. It queries newest first for one more entry than
// the page holds, to know whether a next page exists.
func (s *Store) ListAudit(ctx context.Context, orgID string, q audit.Query) (audit.Page, error) {
	if err := audit.Normalize(&q); err != nil {
		return audit.Page{}, err
	}
	if err := settings.CheckKeys(orgID, q.Area); err != nil {
		return audit.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:        aws.String(s.table),
		ScanIndexForward: aws.Bool(false),
	}
	if q.Area == "" {
		in.KeyConditionExpression = aws.String("pk = :p")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":p": str(auditPK(orgID))}
		in.ConsistentRead = aws.Bool(true)
	} else {
		in.IndexName = aws.String(AuditIndex)
		in.KeyConditionExpression = aws.String("ap = :p")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":p": str(auditAP(orgID, q.Area))}
	}
	if q.After != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{attrPK: str(auditPK(orgID)), attrSK: str(q.After)}
		if q.Area != "" {
			in.ExclusiveStartKey[attrAP] = str(auditAP(orgID, q.Area))
		}
	}
	op := fmt.Sprintf("list audit of %s", orgID)
	var items []map[string]types.AttributeValue
	more := false
	// One query normally answers; more only when DynamoDB stops at its 1 MB page size.
	for {
		in.Limit = aws.Int32(int32(q.Limit + 1 - len(items)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return audit.Page{}, mapError(op, err)
		}
		items = append(items, out.Items...)
		if len(items) > q.Limit {
			items, more = items[:q.Limit], true
			break
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var page audit.Page
	for _, it := range items {
		e, err := decodeAudit(it)
		if err != nil {
			return audit.Page{}, fmt.Errorf("dynamo: %s: decode: %w", op, err)
		}
		e.OrgID = orgID
		page.Items = append(page.Items, e)
	}
	page.More = more
	return page, nil
}

func decodeRecord(item map[string]types.AttributeValue) (settings.Record, error) {
	var r settings.Record
	v, err := getN(item, attrVersion)
	if err != nil {
		return r, err
	}
	at, err := getTime(item, attrUpdatedAt)
	if err != nil {
		return r, err
	}
	by, err := getS(item, attrUpdatedBy)
	if err != nil {
		return r, err
	}
	data, err := getS(item, attrData)
	if err != nil {
		return r, err
	}
	r.Version, r.UpdatedAt, r.UpdatedBy, r.Data = v, at, by, json.RawMessage(data)
	if l, ok := item[attrLocked]; ok {
		s, ok := l.(*types.AttributeValueMemberS)
		if !ok || json.Unmarshal([]byte(s.Value), &r.Locked) != nil {
			return r, errors.New("locked is not a JSON array of field names")
		}
	}
	return r, nil
}

func decodeAudit(item map[string]types.AttributeValue) (audit.Entry, error) {
	var e audit.Entry
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{attrSK, &e.ID}, {attrActor, &e.Actor}, {attrArea, &e.Area},
		{attrAction, &e.Action}, {attrRequestID, &e.RequestID},
	} {
		if *f.dst, err = getS(item, f.name); err != nil {
			return e, err
		}
	}
	if e.At, err = getTime(item, attrAt); err != nil {
		return e, err
	}
	changes, err := getS(item, attrChanges)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return e, fmt.Errorf("attribute %s: %w", attrChanges, err)
	}
	return e, nil
}

func getS(item map[string]types.AttributeValue, name string) (string, error) {
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("attribute %s: missing or not a string", name)
	}
	return v.Value, nil
}

func getN(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s: missing or not a number", name)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

func getTime(item map[string]types.AttributeValue, name string) (time.Time, error) {
	s, err := getS(item, name)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %s: %w", name, err)
	}
	return t, nil
}

// contended reports whether err says the transaction collided with another one on the
// same item (nothing was written).
func contended(err error) bool {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
		return false
	}
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
}

// mapError turns a failed call into the error Store returns, classified by awserr: an
// Unavailable problem (RetryAfter 1s) when DynamoDB throttles, fails transiently or the
// write collided with a concurrent transaction (a TransactionCanceledException is
// classified by its cancellation reasons), and otherwise a plain error naming the
// operation, which clients see as an internal error without its text. An error of a
// transaction that collided with another also matches settings.ErrContended, so that the
// service retries it.
func mapError(op string, err error) error {
	class := awserr.Classify(err)
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			class = max(class, awserr.ClassifyCode(aws.ToString(r.Code)))
		}
	}
	if contended(err) {
		err = errors.Join(settings.ErrContended, err)
	}
	return class.Problem("dynamo: "+op, err, "the settings store is busy, please retry")
}

// Table is the lambdafn.Adapter of the single table: a DynamoDB client on the
// function's AWS configuration (endpoint from AWS_ENDPOINT_URL_DYNAMODB or
// AWS_ENDPOINT_URL) using TABLE_NAME, giving the function every port the table holds
// (settings and their audit log, WebChat key-set revisions, chats, custom roles, the
// organisation tree, sticky users, business units, tags, agents, sign-in sessions).
// Only the functions whose main passes it link the DynamoDB client.
func Table(ac aws.Config, cfg config.Config, d *app.Deps) error {
	if cfg.TableName == "" {
		return errors.New("dynamo: TABLE_NAME is not set")
	}
	db := dynamodb.NewFromConfig(ac, func(o *dynamodb.Options) { o.BaseEndpoint = lambdafn.Endpoint(nil, "DYNAMODB") })
	s := New(db, cfg.TableName)
	d.Settings, d.Revisions = s, s
	d.Chats = NewChats(db, cfg.TableName)
	d.Roles = NewRoles(db, cfg.TableName)
	d.Orgs = NewOrgs(db, cfg.TableName)
	d.Sticky = NewSticky(db, cfg.TableName)
	d.BusinessUnits = NewBusinessUnits(db, cfg.TableName)
	d.Tags = NewTags(db, cfg.TableName)
	d.Agents = NewAgents(db, cfg.TableName)
	d.Sessions = NewSessions(db, cfg.TableName)
	return nil
}
