package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
)

var (
	bucketAgents       = []byte("agents")       // <org>\x00<agentId> -> agents.Agent (JSON)
	bucketAgentCounts  = []byte("agentCounts")  // <org> -> decimal count (never decreases)
	bucketAgentEmails  = []byte("agentEmails")  // <email> -> <org>\x00<agentId>
	bucketAgentCreds   = []byte("agentCreds")   // <org>\x00<agentId> -> agents.Credentials (JSON)
	bucketAgentInvites = []byte("agentInvites") // <token hash> -> inviteRecord (JSON)
	// bucketAgentFailures holds the consecutive failed sign-ins beside the credentials:
	// <org>\x00<agentId> -> decimal count (absent = 0).
	bucketAgentFailures = []byte("agentFailures")
)

type inviteRecord struct {
	OrgID     string    `json:"orgId"`
	AgentID   string    `json:"agentId"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Agents is the agents.Store of a bbolt file (every write one transaction with its
// audit entry and the custom roles' holders counts).
type Agents struct{ s *Store }

var _ agents.Store = (*Agents)(nil)

// Agents returns the agent store of the file, creating its buckets (and the roles'
// buckets, whose holders counts it keeps).
func (s *Store) Agents() (*Agents, error) {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketAgents, bucketAgentCounts, bucketAgentEmails, bucketAgentCreds, bucketAgentInvites, bucketAgentFailures,
			bucketRoles, bucketRoleNames, bucketBusinessUnits} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: init agents: %w", err)
	}
	return &Agents{s: s}, nil
}

func getAgent(tx *bbolt.Tx, orgID, agentID string) (agents.Agent, bool, error) {
	v := tx.Bucket(bucketAgents).Get(key(orgID, agentID))
	if v == nil {
		return agents.Agent{}, false, nil
	}
	var a agents.Agent
	if err := json.Unmarshal(v, &a); err != nil {
		return agents.Agent{}, false, fmt.Errorf("bolt: decode agent %s/%s: %w", orgID, agentID, err)
	}
	return a, true, nil
}

func putJSON(b *bbolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func agentAuditValue(entry audit.Entry) ([]byte, error) {
	if !audit.ValidID(entry.ID) || entry.Area != agents.AuditArea {
		return nil, fmt.Errorf("bolt: audit entry %q area %q is not an agent change's", entry.ID, entry.Area)
	}
	return json.Marshal(entry)
}

// Get implements agents.Store.
func (r *Agents) Get(ctx context.Context, orgID, agentID string) (a agents.Agent, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return agents.Agent{}, false, err
	}
	if err := agents.CheckIDs(orgID, agentID); err != nil {
		return agents.Agent{}, false, err
	}
	err = r.s.db.View(func(tx *bbolt.Tx) error {
		a, found, err = getAgent(tx, orgID, agentID)
		return err
	})
	return a, found, err
}

// Credentials implements agents.Store.
func (r *Agents) Credentials(ctx context.Context, orgID, agentID string) (c agents.Credentials, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return agents.Credentials{}, false, err
	}
	if err := agents.CheckIDs(orgID, agentID); err != nil {
		return agents.Credentials{}, false, err
	}
	err = r.s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketAgentCreds).Get(key(orgID, agentID))
		if v == nil {
			return nil
		}
		found = true
		if json.Unmarshal(v, &c) != nil {
			return fmt.Errorf("bolt: credentials of %s/%s: malformed record", orgID, agentID)
		}
		return nil
	})
	return c, found, err
}

// Search implements agents.Store: a scan of the organisation's agents in id order.
func (r *Agents) Search(ctx context.Context, orgID string, q agents.Query) (agents.Page, error) {
	if err := ctx.Err(); err != nil {
		return agents.Page{}, err
	}
	if err := agents.CheckIDs(orgID, ""); err != nil {
		return agents.Page{}, err
	}
	if err := agents.Normalize(&q); err != nil {
		return agents.Page{}, err
	}
	var page agents.Page
	err := r.s.db.View(func(tx *bbolt.Tx) error {
		prefix := key(orgID, "")
		c := tx.Bucket(bucketAgents).Cursor()
		k, _ := c.Seek(prefix)
		if q.After != "" {
			after := key(orgID, q.After)
			for k, _ = c.Seek(after); k != nil && bytes.Equal(k, after); k, _ = c.Next() {
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			a, _, err := getAgent(tx, orgID, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			if !q.Matches(a) {
				continue
			}
			if len(page.Agents) == q.Limit {
				page.Next = page.Agents[len(page.Agents)-1].ID
				return nil
			}
			page.Agents = append(page.Agents, a)
		}
		return nil
	})
	return page, err
}

// addHolders adds delta to a custom role's holders, or returns missing when the role
// does not exist.
func addHolders(tx *bbolt.Tx, orgID, roleID string, delta int, missing error) error {
	role, found, err := getRole(tx, orgID, roleID)
	if err != nil {
		return err
	}
	if !found {
		return missing
	}
	role.Holders += delta
	return putRole(tx, role)
}

func putInvite(tx *bbolt.Tx, orgID, agentID string, inv *agents.Invitation) error {
	if inv == nil || !ids.Valid(inv.TokenHash) {
		return nil
	}
	b := tx.Bucket(bucketAgentInvites)
	if b.Get([]byte(inv.TokenHash)) != nil {
		return agents.ErrConflict
	}
	return putJSON(b, []byte(inv.TokenHash), inviteRecord{OrgID: orgID, AgentID: agentID, ExpiresAt: inv.ExpiresAt.UTC()})
}

// Create implements agents.Store.
func (r *Agents) Create(ctx context.Context, orgID string, a agents.Agent, c agents.Credentials, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := agents.CheckIDs(orgID, a.ID); err != nil {
		return err
	}
	aval, err := agentAuditValue(entry)
	if err != nil {
		return err
	}
	a.Version = 1
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		counts := tx.Bucket(bucketAgentCounts)
		n, _ := strconv.Atoi(string(counts.Get([]byte(orgID))))
		if n >= agents.MaxAgents {
			return agents.ErrTooMany
		}
		if tx.Bucket(bucketAgents).Get(key(orgID, a.ID)) != nil {
			return agents.ErrConflict
		}
		emails := tx.Bucket(bucketAgentEmails)
		if emails.Get([]byte(a.Email)) != nil {
			return agents.ErrEmailTaken
		}
		if agents.CustomRole(a.Role) {
			if err := addHolders(tx, a.RoleOwner(orgID), a.Role, 1, agents.ErrNoSuchRole); err != nil {
				return err
			}
		}
		for _, u := range a.BusinessUnitIDs {
			if err := addBusinessUnitMember(tx, orgID, u, 1); err != nil {
				return err
			}
		}
		if err := putInvite(tx, orgID, a.ID, c.Invitation); err != nil {
			return err
		}
		for _, err := range []error{
			counts.Put([]byte(orgID), []byte(strconv.Itoa(n+1))),
			emails.Put([]byte(a.Email), key(orgID, a.ID)),
			putJSON(tx.Bucket(bucketAgents), key(orgID, a.ID), a),
			putJSON(tx.Bucket(bucketAgentCreds), key(orgID, a.ID), c),
		} {
			if err != nil {
				return err
			}
		}
		return putAudit(tx, entry, aval)
	})
}

// updateAgent writes a at a.Version over the stored a.Version-1 and returns the stored
// agent.
func updateAgent(tx *bbolt.Tx, orgID string, a agents.Agent) (agents.Agent, error) {
	stored, found, err := getAgent(tx, orgID, a.ID)
	if err != nil {
		return agents.Agent{}, err
	}
	if !found || stored.Version != a.Version-1 {
		return agents.Agent{}, agents.ErrConflict
	}
	return stored, putJSON(tx.Bucket(bucketAgents), key(orgID, a.ID), a)
}

// Update implements agents.Store.
func (r *Agents) Update(ctx context.Context, orgID string, a, given agents.Agent, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := agents.CheckIDs(orgID, a.ID); err != nil {
		return err
	}
	aval, err := agentAuditValue(entry)
	if err != nil {
		return err
	}
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		// The stored agent, read in this transaction, says what the counts move from.
		prev, err := updateAgent(tx, orgID, a)
		if err != nil {
			return err
		}
		if prev.Role != a.Role {
			if agents.CustomRole(prev.Role) {
				// The stored agent is at given's version (updateAgent checked): given names
				// the organisation that holds its role (the stored profile does not).
				if err := addHolders(tx, given.RoleOwner(orgID), prev.Role, -1, agents.ErrConflict); err != nil {
					return err
				}
			}
			if agents.CustomRole(a.Role) {
				if err := addHolders(tx, a.RoleOwner(orgID), a.Role, 1, agents.ErrNoSuchRole); err != nil {
					return err
				}
			}
		}
		if prev.SuspendedAt != nil && a.SuspendedAt == nil {
			// Lifting the suspension (enable) starts the count again.
			if err := tx.Bucket(bucketAgentFailures).Delete(key(orgID, a.ID)); err != nil {
				return err
			}
		}
		joined, left := agents.UnitMoves(a, prev)
		for _, u := range left {
			if err := addBusinessUnitMember(tx, orgID, u, -1); err != nil {
				return err
			}
		}
		for _, u := range joined {
			if err := addBusinessUnitMember(tx, orgID, u, 1); err != nil {
				return err
			}
		}
		return putAudit(tx, entry, aval)
	})
}

// SetCredentials implements agents.Store.
func (r *Agents) SetCredentials(ctx context.Context, orgID string, a agents.Agent, c, prev agents.Credentials, entry audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := agents.CheckIDs(orgID, a.ID); err != nil {
		return err
	}
	aval, err := agentAuditValue(entry)
	if err != nil {
		return err
	}
	// A new password lifts a suspension and starts the count again.
	a.SuspendedAt = nil
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := updateAgent(tx, orgID, a); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAgentFailures).Delete(key(orgID, a.ID)); err != nil {
			return err
		}
		same := prev.Invitation != nil && c.Invitation != nil && prev.Invitation.TokenHash == c.Invitation.TokenHash
		if !same {
			if prev.Invitation != nil {
				if err := tx.Bucket(bucketAgentInvites).Delete([]byte(prev.Invitation.TokenHash)); err != nil {
					return err
				}
			}
			if err := putInvite(tx, orgID, a.ID, c.Invitation); err != nil {
				return err
			}
		}
		if err := putJSON(tx.Bucket(bucketAgentCreds), key(orgID, a.ID), c); err != nil {
			return err
		}
		return putAudit(tx, entry, aval)
	})
}

// Invitation implements agents.Store.
func (r *Agents) Invitation(ctx context.Context, tokenHash string) (ref agents.InvitationRef, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return agents.InvitationRef{}, false, err
	}
	if !ids.Valid(tokenHash) {
		return agents.InvitationRef{}, false, nil
	}
	err = r.s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketAgentInvites).Get([]byte(tokenHash))
		if v == nil {
			return nil
		}
		var rec inviteRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return errors.New("bolt: invitation: malformed record")
		}
		ref, found = agents.InvitationRef{OrgID: rec.OrgID, AgentID: rec.AgentID, ExpiresAt: rec.ExpiresAt}, true
		return nil
	})
	return ref, found, err
}

// ByEmail implements agents.Store: the email claim, read as Create wrote it.
func (r *Agents) ByEmail(ctx context.Context, email string) (orgID, agentID string, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", false, err
	}
	email, msg := agents.ParseEmail(email)
	if msg != "" {
		return "", "", false, nil
	}
	err = r.s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketAgentEmails).Get([]byte(email))
		if v == nil {
			return nil
		}
		o, a, ok := bytes.Cut(v, []byte{0})
		if !ok {
			return fmt.Errorf("bolt: email claim of %s: malformed record", email)
		}
		orgID, agentID, found = string(o), string(a), true
		return nil
	})
	return orgID, agentID, found, err
}

// LoginFailed implements agents.Store in one transaction: the count, and when it reaches
// limit on an agent not suspended, the suspension and its audit entry.
func (r *Agents) LoginFailed(ctx context.Context, orgID, agentID string, limit int, at time.Time, entry audit.Entry) (failures int, suspended bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if err := agents.CheckLogin(orgID, agentID, limit, entry); err != nil {
		return 0, false, err
	}
	aval, err := agentAuditValue(entry)
	if err != nil {
		return 0, false, err
	}
	err = r.s.db.Update(func(tx *bbolt.Tx) error {
		a, found, err := getAgent(tx, orgID, agentID)
		if err != nil {
			return err
		}
		if !found {
			return agents.NoAgent()
		}
		b, k := tx.Bucket(bucketAgentFailures), key(orgID, agentID)
		n, _ := strconv.Atoi(string(b.Get(k)))
		failures = n + 1
		if err := b.Put(k, []byte(strconv.Itoa(failures))); err != nil {
			return err
		}
		if a.SuspendedAt != nil || failures < limit {
			suspended = a.SuspendedAt != nil
			return nil
		}
		at = at.UTC()
		a.SuspendedAt, a.UpdatedAt, a.Version = &at, at, a.Version+1
		if err := putJSON(tx.Bucket(bucketAgents), k, a); err != nil {
			return err
		}
		suspended = true
		return putAudit(tx, entry, aval)
	})
	if err != nil {
		return 0, false, err
	}
	return failures, suspended, nil
}

// LoginSucceeded implements agents.Store in one transaction.
func (r *Agents) LoginSucceeded(ctx context.Context, orgID, agentID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := agents.CheckAgent(orgID, agentID); err != nil {
		return err
	}
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		a, found, err := getAgent(tx, orgID, agentID)
		if err == nil {
			err = agents.MaySignIn(a, found)
		}
		if err != nil {
			return err
		}
		k := key(orgID, agentID)
		if err := tx.Bucket(bucketAgentFailures).Delete(k); err != nil {
			return err
		}
		at = at.UTC()
		a.LastLoginAt, a.Version = &at, a.Version+1
		return putJSON(tx.Bucket(bucketAgents), k, a)
	})
}

// SetCountForTest sets an organisation's agent counter (the contract suite's limit test).
func (r *Agents) SetCountForTest(orgID string, n int) error {
	return r.s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAgentCounts).Put([]byte(orgID), []byte(strconv.Itoa(n)))
	})
}
