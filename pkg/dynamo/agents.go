package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
)

// Key patterns (IAM StringLike) of the agents' items (package agents describes them).
// A function that only reads profiles needs PeopleKeys alone; credentials are CredsKeys.
const (
	PeopleKeys = "PEOPLE#*"
	EmailKeys  = "EMAIL#*"
	CredsKeys  = "CREDS#*"
	InviteKeys = "INVITE#*"
)

const (
	attrSearchKey = "searchKey"
	attrStatus    = "status"
	attrRole      = "role"
	// attrUnits is the profile's business units as a string set, for the search filter.
	attrUnits   = "units"
	attrOrgID   = "orgId"
	attrAgentID = "agentId"
	attrAgents  = "agents"
	// attrFailures is the credentials item's count of consecutive failed sign-ins (a
	// number; absent = 0): ADD counts atomically, a Put of the credentials resets it.
	attrFailures = "failures"
	// attrExpiresAt is the table's TTL attribute (template.yaml TimeToLiveSpecification):
	// a number of seconds since the epoch.
	attrExpiresAt = "expiresAt"
)

func peoplePK(orgID string) string      { return "PEOPLE#" + orgID }
func agentSK(agentID string) string     { return "AGENT#" + agentID }
func emailPK(email string) string       { return "EMAIL#" + email }
func credsPK(orgID string) string       { return "CREDS#" + orgID }
func invitePK(tokenHash string) string  { return "INVITE#" + tokenHash }
func agentCountKey(orgID string) string { return peoplePK(orgID) }

// AgentsAPI is the subset of *dynamodb.Client that Agents uses: API and UpdateItem (a
// failed sign-in's atomic count).
type AgentsAPI interface {
	API
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ AgentsAPI = (*dynamodb.Client)(nil)

// Agents is the agents.Store of the single table.
type Agents struct {
	client AgentsAPI
	table  string
}

// NewAgents returns the agent store on table.
func NewAgents(client AgentsAPI, table string) *Agents { return &Agents{client: client, table: table} }

var _ agents.Store = (*Agents)(nil)

func agentProfileItem(orgID string, a agents.Agent) (map[string]types.AttributeValue, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	item := key(peoplePK(orgID), agentSK(a.ID))
	item[attrData] = str(string(data))
	item[attrVersion] = num(a.Version)
	item[attrSearchKey] = str(agents.SearchKey(a))
	item[attrStatus] = str(string(a.Status))
	item[attrRole] = str(a.Role)
	if len(a.BusinessUnitIDs) > 0 {
		item[attrUnits] = &types.AttributeValueMemberSS{Value: a.BusinessUnitIDs}
	}
	return item, nil
}

func decodeAgentProfile(item map[string]types.AttributeValue) (agents.Agent, error) {
	var a agents.Agent
	data, err := getS(item, attrData)
	if err != nil {
		return a, fmt.Errorf("dynamo: agent item: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &a); err != nil {
		return a, fmt.Errorf("dynamo: agent item: %w", err)
	}
	if a.Version, err = getN(item, attrVersion); err != nil {
		return a, fmt.Errorf("dynamo: agent %s: %w", a.ID, err)
	}
	return a, nil
}

// Get implements agents.Store with one strongly consistent GetItem.
func (s *Agents) Get(ctx context.Context, orgID, agentID string) (agents.Agent, bool, error) {
	if err := agents.CheckIDs(orgID, agentID); err != nil {
		return agents.Agent{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(peoplePK(orgID), agentSK(agentID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return agents.Agent{}, false, mapError("get agent "+orgID+"/"+agentID, err)
	}
	if out.Item == nil {
		return agents.Agent{}, false, nil
	}
	a, err := decodeAgentProfile(out.Item)
	return a, err == nil, err
}

// Credentials implements agents.Store with one strongly consistent GetItem.
func (s *Agents) Credentials(ctx context.Context, orgID, agentID string) (agents.Credentials, bool, error) {
	if err := agents.CheckIDs(orgID, agentID); err != nil {
		return agents.Credentials{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(credsPK(orgID), agentID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return agents.Credentials{}, false, mapError("get credentials "+orgID+"/"+agentID, err)
	}
	if out.Item == nil {
		return agents.Credentials{}, false, nil
	}
	var c agents.Credentials
	data, err := getS(out.Item, attrData)
	if err == nil {
		err = json.Unmarshal([]byte(data), &c)
	}
	if err != nil {
		// The error names the agent, never the item's content.
		return agents.Credentials{}, false, fmt.Errorf("dynamo: credentials of %s/%s: malformed item", orgID, agentID)
	}
	return c, true, nil
}

// searchPages bounds the Query pages one Search reads: MaxAgents items of about 0.5 KB
// are three pages of 1 MB; the rest is margin for larger profiles.
const searchPages = 8

// Search implements agents.Store with a Query of the organisation's agent items (sk
// begins with AGENT#, after q.After) filtered on searchKey and status, page after page
// until q.Limit agents match or the partition ends: a search that matches few agents
// reads the whole partition (see agents.MaxAgents for the cost). Eventually consistent.
func (s *Agents) Search(ctx context.Context, orgID string, q agents.Query) (agents.Page, error) {
	if err := agents.CheckIDs(orgID, ""); err != nil {
		return agents.Page{}, err
	}
	if err := agents.Normalize(&q); err != nil {
		return agents.Page{}, err
	}
	values := map[string]types.AttributeValue{":p": str(peoplePK(orgID)), ":a": str(agentSK(""))}
	names := map[string]string{}
	var filters []string
	if q.Text != "" {
		filters = append(filters, "contains(#k, :q)")
		names["#k"], values[":q"] = attrSearchKey, str(q.Text)
	}
	if q.Status != "" {
		filters = append(filters, "#s = :s")
		names["#s"], values[":s"] = attrStatus, str(string(q.Status))
	}
	if q.BusinessUnitID != "" {
		filters = append(filters, "contains(#u, :u)")
		names["#u"], values[":u"] = attrUnits, str(q.BusinessUnitID)
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :a)"),
		ExpressionAttributeValues: values}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
		in.ExpressionAttributeNames = names
	}
	if q.After != "" {
		in.ExclusiveStartKey = key(peoplePK(orgID), agentSK(q.After))
	}
	var page agents.Page
	for range searchPages {
		// Without a filter every item read is a match: read no more than a page needs.
		if len(filters) == 0 {
			in.Limit = aws.Int32(int32(q.Limit - len(page.Agents)))
		}
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return agents.Page{}, mapError("search agents of "+orgID, err)
		}
		for i, item := range res.Items {
			a, err := decodeAgentProfile(item)
			if err != nil {
				return agents.Page{}, err
			}
			page.Agents = append(page.Agents, a)
			if len(page.Agents) == q.Limit {
				if i < len(res.Items)-1 || res.LastEvaluatedKey != nil {
					page.Next = a.ID
				}
				return page, nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return page, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	return agents.Page{}, fmt.Errorf("dynamo: search agents of %s: more than %d pages", orgID, searchPages)
}

func (s *Agents) auditPut(entry audit.Entry) (types.TransactWriteItem, error) {
	if !audit.ValidID(entry.ID) || entry.Area != agents.AuditArea {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: audit entry %q area %q is not an agent change's", entry.ID, entry.Area)
	}
	changes, err := json.Marshal(entry.Changes)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: auditItem(entry, changes),
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil
}

// holders is the write that adds delta to a custom role's holders, on condition that
// the role exists (ADD would otherwise create an item). owner is the organisation that
// holds the role (Agent.RoleOwner): the agent's own or an ancestor.
func (s *Agents) holders(owner, role string, delta int64) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: key(rolesPK(owner), roleSK(role)),
		UpdateExpression:          aws.String("ADD #h :d"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#h": attrHolders},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(delta)}}}
}

func (s *Agents) credsPut(orgID, agentID string, c agents.Credentials) (types.TransactWriteItem, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return types.TransactWriteItem{}, errors.New("dynamo: credentials do not encode")
	}
	item := key(credsPK(orgID), agentID)
	item[attrData] = str(string(data))
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}}, nil
}

func (s *Agents) invitePut(orgID, agentID string, inv *agents.Invitation) (types.TransactWriteItem, bool) {
	if inv == nil || !ids.Valid(inv.TokenHash) {
		return types.TransactWriteItem{}, false
	}
	item := key(invitePK(inv.TokenHash), "INVITE")
	item[attrOrgID] = str(orgID)
	item[attrAgentID] = str(agentID)
	item[attrExpiresAt] = num(inv.ExpiresAt.Unix())
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}, true
}

// Create implements agents.Store with one TransactWriteItems: the counter (on condition
// of the limit), the profile, the email claim, the credentials, the invitation's index
// entry, the custom role's holders, the members of each business unit, the audit entry.
func (s *Agents) Create(ctx context.Context, orgID string, a agents.Agent, c agents.Credentials, entry audit.Entry) error {
	if err := agents.CheckIDs(orgID, a.ID); err != nil {
		return err
	}
	a.Version = 1
	item, err := agentProfileItem(orgID, a)
	if err != nil {
		return err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	cp, err := s.credsPut(orgID, a.ID, c)
	if err != nil {
		return err
	}
	claim := key(emailPK(a.Email), "EMAIL")
	claim[attrOrgID], claim[attrAgentID] = str(orgID), str(a.ID)
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String(s.table), Key: key(agentCountKey(orgID), "COUNT"),
			UpdateExpression:          aws.String("ADD #n :one"),
			ConditionExpression:       aws.String("attribute_not_exists(#n) OR #n < :max"),
			ExpressionAttributeNames:  map[string]string{"#n": attrAgents},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":max": num(agents.MaxAgents)}}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: claim, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		cp,
	}
	byItem := map[int]error{0: agents.ErrTooMany, 1: agents.ErrConflict, 2: agents.ErrEmailTaken}
	if agents.CustomRole(a.Role) {
		byItem[len(items)] = agents.ErrNoSuchRole
		items = append(items, s.holders(a.RoleOwner(orgID), a.Role, 1))
	}
	for _, u := range a.BusinessUnitIDs {
		byItem[len(items)] = agents.ErrNoSuchBusinessUnit
		items = append(items, businessUnitMember(s.table, orgID, u, 1))
	}
	if ip, ok := s.invitePut(orgID, a.ID, c.Invitation); ok {
		byItem[len(items)] = agents.ErrConflict
		items = append(items, ip)
	}
	items = append(items, au)
	err = s.transact(ctx, items, createAttempts)
	return agentWriteError("create agent "+orgID+"/"+a.ID, err, byItem)
}

// profileUpdate is the write of a profile at version a.Version, on condition that the
// stored version is a.Version-1 (email and createdAt are kept from the stored item by
// the caller, who read it).
func (s *Agents) profileUpdate(orgID string, a agents.Agent) (types.TransactWriteItem, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	up := &types.Update{TableName: aws.String(s.table), Key: key(peoplePK(orgID), agentSK(a.ID)),
		UpdateExpression:    aws.String("SET #d = :d, #v = :v, #k = :k, #s = :s, #r = :r REMOVE #u"),
		ConditionExpression: aws.String("#v = :prev"),
		ExpressionAttributeNames: map[string]string{"#d": attrData, "#v": attrVersion, "#k": attrSearchKey,
			"#s": attrStatus, "#r": attrRole, "#u": attrUnits},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(string(data)), ":v": num(a.Version),
			":prev": num(a.Version - 1), ":k": str(agents.SearchKey(a)), ":s": str(string(a.Status)), ":r": str(a.Role)},
	}
	if len(a.BusinessUnitIDs) > 0 {
		up.UpdateExpression = aws.String("SET #d = :d, #v = :v, #k = :k, #s = :s, #r = :r, #u = :u")
		up.ExpressionAttributeValues[":u"] = &types.AttributeValueMemberSS{Value: a.BusinessUnitIDs}
	}
	return types.TransactWriteItem{Update: up}, nil
}

// Update implements agents.Store with one TransactWriteItems: the profile (on condition
// of its version), the holders of the old and new custom roles when the role changed,
// the members of the business units the agent leaves and joins, the audit entry.
func (s *Agents) Update(ctx context.Context, orgID string, a, prev agents.Agent, entry audit.Entry) error {
	if err := agents.CheckIDs(orgID, a.ID); err != nil {
		return err
	}
	up, err := s.profileUpdate(orgID, a)
	if err != nil {
		return err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{up}
	byItem := map[int]error{0: agents.ErrConflict}
	if prev.Role != a.Role {
		if agents.CustomRole(prev.Role) {
			// The old role exists while held (roles.Store.Delete needs 0 holders); if it
			// is gone, the agent's version moved too.
			byItem[len(items)] = agents.ErrConflict
			items = append(items, s.holders(prev.RoleOwner(orgID), prev.Role, -1))
		}
		if agents.CustomRole(a.Role) {
			byItem[len(items)] = agents.ErrNoSuchRole
			items = append(items, s.holders(a.RoleOwner(orgID), a.Role, 1))
		}
	}
	if prev.SuspendedAt != nil && a.SuspendedAt == nil {
		// Lifting the suspension (enable) starts the count again; the credentials exist
		// while the agent does.
		byItem[len(items)] = agents.ErrConflict
		items = append(items, s.failuresReset(orgID, a.ID))
	}
	joined, left := agents.UnitMoves(a, prev)
	for _, u := range left {
		// A unit counts its members while they belong (businessunits.Store.Delete needs 0);
		// a count below 1 means the agent's version moved too.
		byItem[len(items)] = agents.ErrConflict
		items = append(items, businessUnitMember(s.table, orgID, u, -1))
	}
	for _, u := range joined {
		byItem[len(items)] = agents.ErrNoSuchBusinessUnit
		items = append(items, businessUnitMember(s.table, orgID, u, 1))
	}
	items = append(items, au)
	// Agents joining one unit at once contend on its item: retried like creates.
	err = s.transact(ctx, items, createAttempts)
	return agentWriteError("update agent "+orgID+"/"+a.ID, err, byItem)
}

// SetCredentials implements agents.Store with one TransactWriteItems: the profile (on
// condition of its version: the credentials were read at that version, so no other
// credentials write came between), the credentials, the invitation index entries, the
// audit entry.
func (s *Agents) SetCredentials(ctx context.Context, orgID string, a agents.Agent, c, prev agents.Credentials, entry audit.Entry) error {
	if err := agents.CheckIDs(orgID, a.ID); err != nil {
		return err
	}
	// A new password lifts a suspension; the credentials' Put resets the count.
	a.SuspendedAt = nil
	up, err := s.profileUpdate(orgID, a)
	if err != nil {
		return err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	cp, err := s.credsPut(orgID, a.ID, c)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{up, cp}
	byItem := map[int]error{0: agents.ErrConflict}
	same := prev.Invitation != nil && c.Invitation != nil && prev.Invitation.TokenHash == c.Invitation.TokenHash
	if prev.Invitation != nil && ids.Valid(prev.Invitation.TokenHash) && !same {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table),
			Key: key(invitePK(prev.Invitation.TokenHash), "INVITE")}})
	}
	if ip, ok := s.invitePut(orgID, a.ID, c.Invitation); ok && !same {
		byItem[len(items)] = agents.ErrConflict
		items = append(items, ip)
	}
	items = append(items, au)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return agentWriteError("set credentials of "+orgID+"/"+a.ID, err, byItem)
}

// Invitation implements agents.Store with one strongly consistent GetItem.
func (s *Agents) Invitation(ctx context.Context, tokenHash string) (agents.InvitationRef, bool, error) {
	if !ids.Valid(tokenHash) {
		return agents.InvitationRef{}, false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(invitePK(tokenHash), "INVITE"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return agents.InvitationRef{}, false, mapError("get invitation", err)
	}
	if out.Item == nil {
		return agents.InvitationRef{}, false, nil
	}
	exp, err := getN(out.Item, attrExpiresAt)
	if err != nil {
		return agents.InvitationRef{}, false, fmt.Errorf("dynamo: invitation: %w", err)
	}
	ref := agents.InvitationRef{OrgID: stringAttr(out.Item, attrOrgID), AgentID: stringAttr(out.Item, attrAgentID),
		ExpiresAt: unixTime(exp)}
	return ref, true, nil
}

// failuresReset is the write that sets an agent's failure count to 0 (removes it), on
// condition that the credentials item exists (an Update would otherwise create one).
func (s *Agents) failuresReset(orgID, agentID string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: key(credsPK(orgID), agentID),
		UpdateExpression:         aws.String("REMOVE #f"),
		ConditionExpression:      aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{"#f": attrFailures}}}
}

// ByEmail implements agents.Store with one strongly consistent GetItem of the email claim.
func (s *Agents) ByEmail(ctx context.Context, email string) (orgID, agentID string, found bool, err error) {
	email, msg := agents.ParseEmail(email)
	if msg != "" {
		return "", "", false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(emailPK(email), "EMAIL"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", "", false, mapError("get email claim", err)
	}
	if out.Item == nil {
		return "", "", false, nil
	}
	orgID, agentID = stringAttr(out.Item, attrOrgID), stringAttr(out.Item, attrAgentID)
	if !ids.Valid(orgID) || !ids.Valid(agentID) {
		return "", "", false, fmt.Errorf("dynamo: email claim of %s: malformed item", email)
	}
	return orgID, agentID, true, nil
}

// loginTries bounds the rereads of a sign-in write whose profile moved between the read
// and the write (racing failures, an admin's edit): each try either writes, or finds the
// agent suspended (LoginFailed), or rereads a version that someone else wrote.
const loginTries = 8

// errProfileMoved and errCountReset name the conditions of the sign-in writes that failed.
var (
	errProfileMoved = errors.New("dynamo: the agent's profile moved")
	errCountReset   = errors.New("dynamo: the failure count was reset")
)

// LoginFailed implements agents.Store: one UpdateItem counts the failure (ADD, on
// condition that the credentials exist); below the limit, one GetItem of the profile
// tells whether the agent is suspended. At the limit, one TransactWriteItems suspends an
// agent that is not: the profile (on condition of the version read), a ConditionCheck
// that the count is still at the limit (a password reset in between wins), the audit
// entry. Racing failures that reach the limit race on the profile's version: one
// suspends, the others reread it suspended.
func (s *Agents) LoginFailed(ctx context.Context, orgID, agentID string, limit int, at time.Time, entry audit.Entry) (int, bool, error) {
	if err := agents.CheckLogin(orgID, agentID, limit, entry); err != nil {
		return 0, false, err
	}
	au, err := s.auditPut(entry)
	if err != nil {
		return 0, false, err
	}
	op := "count a failed sign-in of " + orgID + "/" + agentID
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(credsPK(orgID), agentID),
		UpdateExpression:          aws.String("ADD #f :one"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#f": attrFailures},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		ReturnValues:              types.ReturnValueUpdatedNew})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return 0, false, agents.NoAgent()
	}
	if err != nil {
		return 0, false, mapError(op, err)
	}
	n64, err := getN(out.Attributes, attrFailures)
	if err != nil {
		return 0, false, fmt.Errorf("dynamo: %s: %w", op, err)
	}
	n := int(n64)
	reset := false
	for range loginTries {
		a, found, err := s.Get(ctx, orgID, agentID)
		switch {
		case err != nil:
			return 0, false, err
		case !found:
			return 0, false, agents.NoAgent()
		case a.SuspendedAt != nil || n < limit || reset:
			return n, a.SuspendedAt != nil, nil
		}
		at := at.UTC()
		next := a
		next.SuspendedAt, next.UpdatedAt, next.Version = &at, at, a.Version+1
		up, err := s.profileUpdate(orgID, next)
		if err != nil {
			return 0, false, err
		}
		check := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: key(credsPK(orgID), agentID),
			ConditionExpression:       aws.String("#f >= :limit"),
			ExpressionAttributeNames:  map[string]string{"#f": attrFailures},
			ExpressionAttributeValues: map[string]types.AttributeValue{":limit": num(int64(limit))}}}
		err = s.transact(ctx, []types.TransactWriteItem{up, check, au}, createAttempts)
		err = itemWriteError(op, err, map[int]error{0: errProfileMoved, 1: errCountReset}, errProfileMoved)
		switch {
		case err == nil:
			return n, true, nil
		case errors.Is(err, errCountReset):
			reset = true // reread: the reset's write tells whether the agent is suspended
		case !errors.Is(err, errProfileMoved):
			return 0, false, err
		}
	}
	return 0, false, fmt.Errorf("dynamo: %s: the agent kept changing (%d tries)", op, loginTries)
}

// LoginSucceeded implements agents.Store: one GetItem of the profile, then one
// TransactWriteItems: the profile with LastLoginAt (on condition of the version read,
// which was neither suspended nor disabled) and the count's reset. A profile that moved
// meanwhile is reread.
func (s *Agents) LoginSucceeded(ctx context.Context, orgID, agentID string, at time.Time) error {
	if err := agents.CheckAgent(orgID, agentID); err != nil {
		return err
	}
	op := "record the sign-in of " + orgID + "/" + agentID
	for range loginTries {
		a, found, err := s.Get(ctx, orgID, agentID)
		if err == nil {
			err = agents.MaySignIn(a, found)
		}
		if err != nil {
			return err
		}
		at := at.UTC()
		next := a
		next.LastLoginAt, next.Version = &at, a.Version+1
		up, err := s.profileUpdate(orgID, next)
		if err != nil {
			return err
		}
		err = s.transact(ctx, []types.TransactWriteItem{up, s.failuresReset(orgID, agentID)}, createAttempts)
		err = itemWriteError(op, err, map[int]error{0: errProfileMoved, 1: errCountReset}, errProfileMoved)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errCountReset):
			return agents.NoAgent() // no credentials: not an agent Create wrote
		case !errors.Is(err, errProfileMoved):
			return err
		}
	}
	return fmt.Errorf("dynamo: %s: the agent kept changing (%d tries)", op, loginTries)
}

// agentWriteError maps a failed agent transaction by the item whose condition failed.
func agentWriteError(op string, err error, byItem map[int]error) error {
	return itemWriteError(op, err, byItem, agents.ErrConflict)
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// createAttempts bounds the tries of a create whose transaction lost a race
// (TransactionConflict): every create of an organisation updates its counter item, so
// concurrent creates contend; a new try either succeeds or meets the winner's condition
// (ErrEmailTaken for one email).
const createAttempts = 5

func (s *Agents) transact(ctx context.Context, items []types.TransactWriteItem, attempts int) error {
	var err error
	for try := range attempts {
		if try > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(5+rand.IntN(20*try)) * time.Millisecond):
			}
		}
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil || !contended(err) || conditionFailedIn(err) {
			return err
		}
	}
	return err
}

// conditionFailedIn reports whether a cancelled transaction had a condition fail: its
// answer is final, whatever else contended.
func conditionFailedIn(err error) bool {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == conditionFailed {
				return true
			}
		}
	}
	return false
}
