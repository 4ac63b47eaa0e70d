package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/roles"
)

// Key patterns (IAM StringLike) of the custom-role items (package roles describes them).
const (
	RoleKeys     = "ROLES#*"
	RoleNameKeys = "ROLENAME#*"
)

const (
	attrPermissions = "permissions"
	attrHolders     = "holders"
	attrRoleID      = "roleId"
)

func rolesPK(orgID string) string { return "ROLES#" + orgID }
func roleSK(roleID string) string { return "ROLE#" + roleID }

// roleNamePK is the partition of a name claim; the name key is free text, so it goes
// last, after the organisation id (which holds no "#").
func roleNamePK(orgID, name string) string { return "ROLENAME#" + orgID + "#" + roles.NameKey(name) }

// RolesAPI is the subset of *dynamodb.Client that Roles uses: API, and BatchGetItem for
// Find.
type RolesAPI interface {
	API
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ RolesAPI = (*dynamodb.Client)(nil)

// Roles is the roles.Store of the single table.
type Roles struct {
	client RolesAPI
	table  string
}

// NewRoles returns the custom-role store on table.
func NewRoles(client RolesAPI, table string) *Roles { return &Roles{client: client, table: table} }

var _ roles.Store = (*Roles)(nil)

func roleItem(r roles.Role) (map[string]types.AttributeValue, error) {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return nil, err
	}
	item := key(rolesPK(r.OrgID), roleSK(r.ID))
	item[attrName] = str(r.Name)
	item[attrPermissions] = str(string(perms))
	item[attrHolders] = num(int64(r.Holders))
	item[attrVersion] = num(r.Version)
	item[attrCreatedAt] = str(formatTime(r.CreatedAt))
	item[attrUpdatedAt] = str(formatTime(r.UpdatedAt))
	item[attrUpdatedBy] = str(r.UpdatedBy)
	return item, nil
}

func decodeRole(orgID string, item map[string]types.AttributeValue) (roles.Role, error) {
	r := roles.Role{OrgID: orgID}
	sk := stringAttr(item, attrSK)
	if len(sk) < 6 {
		return r, fmt.Errorf("dynamo: role item without a role key")
	}
	r.ID = sk[len("ROLE#"):]
	r.Name = stringAttr(item, attrName)
	if err := json.Unmarshal([]byte(stringAttr(item, attrPermissions)), &r.Permissions); err != nil {
		return r, fmt.Errorf("dynamo: role %s permissions: %w", r.ID, err)
	}
	var err error
	if r.Version, err = getN(item, attrVersion); err != nil {
		return r, err
	}
	h, err := getN(item, attrHolders)
	if err != nil {
		return r, err
	}
	r.Holders = int(h)
	if r.CreatedAt, err = getTime(item, attrCreatedAt); err != nil {
		return r, err
	}
	if r.UpdatedAt, err = getTime(item, attrUpdatedAt); err != nil {
		return r, err
	}
	r.UpdatedBy = stringAttr(item, attrUpdatedBy)
	return r, nil
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Get implements roles.Store with one strongly consistent GetItem.
func (s *Roles) Get(ctx context.Context, orgID, roleID string) (roles.Role, bool, error) {
	if err := roles.CheckIDs(orgID, roleID); err != nil {
		return roles.Role{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(rolesPK(orgID), roleSK(roleID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return roles.Role{}, false, mapError("get role "+orgID+"/"+roleID, err)
	}
	if out.Item == nil {
		return roles.Role{}, false, nil
	}
	r, err := decodeRole(orgID, out.Item)
	return r, err == nil, err
}

// Find implements roles.Store: one strongly consistent GetItem for a path of one
// organisation (a root), else one strongly consistent BatchGetItem of the role's item in
// every organisation of the path (read again, with backoff, for keys DynamoDB leaves
// unprocessed).
func (s *Roles) Find(ctx context.Context, path []string, roleID string) (roles.Role, bool, error) {
	if err := roles.CheckPath(path); err != nil {
		return roles.Role{}, false, err
	}
	if err := roles.CheckIDs(path[0], roleID); err != nil {
		return roles.Role{}, false, err
	}
	if len(path) == 1 {
		return s.Get(ctx, path[0], roleID)
	}
	keys := make([]map[string]types.AttributeValue, 0, len(path))
	for i, org := range path {
		if !slices.Contains(path[:i], org) {
			keys = append(keys, key(rolesPK(org), roleSK(roleID)))
		}
	}
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		s.table: {Keys: keys, ConsistentRead: aws.Bool(true)},
	}}
	var items []map[string]types.AttributeValue
	for try := 0; ; try++ {
		out, err := s.client.BatchGetItem(ctx, in)
		if err != nil {
			return roles.Role{}, false, mapError("find role "+roleID, err)
		}
		items = append(items, out.Responses[s.table]...)
		left, ok := out.UnprocessedKeys[s.table]
		if !ok || len(left.Keys) == 0 {
			break
		}
		if try == 5 {
			return roles.Role{}, false, mapError("find role "+roleID, &types.ProvisionedThroughputExceededException{Message: aws.String("keys left unprocessed")})
		}
		select {
		case <-ctx.Done():
			return roles.Role{}, false, ctx.Err()
		case <-time.After(time.Duration(10<<try) * time.Millisecond):
		}
		in.RequestItems = out.UnprocessedKeys
	}
	best, at := roles.Role{}, -1
	for _, item := range items {
		org := strings.TrimPrefix(stringAttr(item, attrPK), "ROLES#")
		i := slices.Index(path, org)
		if i <= at {
			continue
		}
		r, err := decodeRole(org, item)
		if err != nil {
			return roles.Role{}, false, err
		}
		best, at = r, i
	}
	return best, at >= 0, nil
}

// List implements roles.Store with one Query of the organisation's role partition
// (MaxRoles items fit in one page of 1 MB), sorted by name key.
func (s *Roles) List(ctx context.Context, orgID string) ([]roles.Role, error) {
	if err := roles.CheckIDs(orgID, ""); err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(rolesPK(orgID))},
		Limit:                     aws.Int32(roles.MaxRoles + 20)}
	var out []roles.Role
	for page := 0; page < 5; page++ {
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, mapError("list roles of "+orgID, err)
		}
		for _, item := range res.Items {
			r, err := decodeRole(orgID, item)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	roles.SortByName(out)
	return out, nil
}

func (s *Roles) auditPut(entry audit.Entry) (types.TransactWriteItem, error) {
	if !audit.ValidID(entry.ID) || entry.Area != roles.AuditArea {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: audit entry %q area %q is not a role change's", entry.ID, entry.Area)
	}
	changes, err := json.Marshal(entry.Changes)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: auditItem(entry, changes),
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil
}

func (s *Roles) nameClaim(orgID, name, roleID string) types.TransactWriteItem {
	item := key(roleNamePK(orgID, name), "NAME")
	item[attrRoleID] = str(roleID)
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}
}

// Create implements roles.Store: a List for the limit, then one TransactWriteItems (the
// role, its name claim, the audit entry).
func (s *Roles) Create(ctx context.Context, r roles.Role, entry audit.Entry) error {
	if err := roles.CheckIDs(r.OrgID, r.ID); err != nil {
		return err
	}
	existing, err := s.List(ctx, r.OrgID)
	if err != nil {
		return err
	}
	if len(existing) >= roles.MaxRoles {
		return roles.ErrTooMany
	}
	r.Version, r.Holders = 1, 0
	item, err := roleItem(r)
	if err != nil {
		return err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		s.nameClaim(r.OrgID, r.Name, r.ID),
		au,
	}})
	return roleWriteError("create role "+r.OrgID+"/"+r.ID, err, map[int]error{0: roles.ErrConflict, 1: roles.ErrNameTaken})
}

// Update implements roles.Store with one TransactWriteItems: the role (on condition of
// its version, keeping its holders count), the name claims when the name key changed,
// the audit entry.
func (s *Roles) Update(ctx context.Context, r roles.Role, oldName string, entry audit.Entry) error {
	if err := roles.CheckIDs(r.OrgID, r.ID); err != nil {
		return err
	}
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: aws.String(s.table), Key: key(rolesPK(r.OrgID), roleSK(r.ID)),
		UpdateExpression:    aws.String("SET #n = :n, #p = :p, #v = :v, #u = :u, #b = :b"),
		ConditionExpression: aws.String("#v = :prev"),
		ExpressionAttributeNames: map[string]string{"#n": attrName, "#p": attrPermissions, "#v": attrVersion,
			"#u": attrUpdatedAt, "#b": attrUpdatedBy},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": str(r.Name), ":p": str(string(perms)),
			":v": num(r.Version), ":prev": num(r.Version - 1), ":u": str(formatTime(r.UpdatedAt)), ":b": str(r.UpdatedBy)},
	}}}
	renamed := roles.NameKey(oldName) != roles.NameKey(r.Name)
	if renamed {
		items = append(items, s.nameClaim(r.OrgID, r.Name, r.ID),
			types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(roleNamePK(r.OrgID, oldName), "NAME")}})
	}
	items = append(items, au)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return roleWriteError("update role "+r.OrgID+"/"+r.ID, err, map[int]error{0: roles.ErrConflict, 1: roles.ErrNameTaken})
}

// Delete implements roles.Store with one TransactWriteItems: the role (on condition of
// its version and no holders), its name claim, the audit entry.
func (s *Roles) Delete(ctx context.Context, orgID, roleID string, version int64, name string, entry audit.Entry) error {
	if err := roles.CheckIDs(orgID, roleID); err != nil {
		return err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(rolesPK(orgID), roleSK(roleID)),
			ConditionExpression:                 aws.String("#v = :v AND #h = :zero"),
			ExpressionAttributeNames:            map[string]string{"#v": attrVersion, "#h": attrHolders},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":v": num(version), ":zero": num(0)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(roleNamePK(orgID, name), "NAME")}},
		au,
	}})
	// One condition guards both rules (a transaction may not touch an item twice); the
	// old item says which failed.
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && len(canceled.CancellationReasons) > 0 && aws.ToString(canceled.CancellationReasons[0].Code) == conditionFailed {
		if old := canceled.CancellationReasons[0].Item; old != nil {
			if v, verr := getN(old, attrVersion); verr == nil && v == version {
				return roles.ErrInUse
			}
		}
		return roles.ErrConflict
	}
	return roleWriteError("delete role "+orgID+"/"+roleID, err, nil)
}

// roleWriteError maps a failed role transaction by the item whose condition failed.
func roleWriteError(op string, err error, byItem map[int]error) error {
	return itemWriteError(op, err, byItem, roles.ErrConflict)
}

// itemWriteError maps a failed transaction: the error byItem names for the first item
// whose condition failed; conflict (joined with the cause) when it collided with another
// transaction; mapError otherwise.
func itemWriteError(op string, err error, byItem map[int]error, conflict error) error {
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for i, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == conditionFailed {
				if e, ok := byItem[i]; ok {
					return e
				}
			}
		}
		if contended(err) {
			return errors.Join(conflict, mapError(op, err))
		}
	}
	return mapError(op, err)
}
