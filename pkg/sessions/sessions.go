// Package sessions is the port of sign-in sessions (API.md "Sign-in"): one record per
// session id (the tokens' sid claim) with its agent, when it began, its last activity and
// whether it has ended. The sign-in routes create one at login, move its last activity on
// each refresh (refused once security.sessionTimeoutMinutes of inactivity have passed:
// the caller compares) and end it at logout. Package dynamo and package bolt adapt it;
// both pass the contract suite in pkg/sessions/sessionstest.
//
// Item layout in the single table (package dynamo):
//
//	session   pk=SESSION#<sessionId>   sk=SESSION   data (JSON: id, orgId, agentId, createdAt:
//	                                                what never changes), lastActivity, endedAt
//	                                                (once ended), version, expiresAt (epoch
//	                                                seconds of ExpiresAt: the table's TTL)
//
// Create is one conditional PutItem, Touch and End one conditional UpdateItem each, Get
// one strongly consistent GetItem.
package sessions

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/convrs/admin/pkg/ids"
)

// MaxIdle is the longest inactivity any organisation allows (security.sessionTimeoutMinutes
// is at most 1440): a session idle for longer can never be refreshed, so stores may forget
// it (ExpiresAt).
const MaxIdle = 24 * time.Hour

// IDPrefix starts every session id; NewID adds 22 characters of base64url (128 random bits).
const IDPrefix = "ses"

// Errors of the Store.
var (
	// ErrConflict: the session changed since the version the caller read (a refresh
	// racing another), or (on Create) the id is taken.
	ErrConflict = errors.New("sessions: the session changed")
	// ErrEnded: the session has ended (logout) or does not exist.
	ErrEnded = errors.New("sessions: the session has ended")
)

// Session is one sign-in: the agent, the organisation, when it began and was last active.
// It holds no token and no secret.
type Session struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"orgId"`
	AgentID   string    `json:"agentId"`
	CreatedAt time.Time `json:"createdAt"`
	// LastActivity is when the session last issued a token (login or refresh).
	LastActivity time.Time `json:"lastActivity"`
	// EndedAt is when the session ended (logout); nil while it lives.
	EndedAt *time.Time `json:"endedAt,omitempty"`
	// Version starts at 1 and grows with every change.
	Version int64 `json:"version"`
}

// ExpiresAt is when a store may forget s: MaxIdle after its last activity.
func (s Session) ExpiresAt() time.Time { return s.LastActivity.Add(MaxIdle) }

// NewID returns a new random session id: IDPrefix and 22 characters of base64url (a valid
// id of package ids).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return IDPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Check refuses a session Create must not store: an id, organisation id or agent id that
// is not valid (package ids), a zero CreatedAt or LastActivity, or an EndedAt.
func Check(s Session) error {
	for _, id := range []string{s.ID, s.OrgID, s.AgentID} {
		if !ids.Valid(id) {
			return fmt.Errorf("sessions: malformed session: id %q, organisation %q, agent %q", s.ID, s.OrgID, s.AgentID)
		}
	}
	if s.CreatedAt.IsZero() || s.LastActivity.IsZero() || s.EndedAt != nil {
		return fmt.Errorf("sessions: session %s: a new session needs its times and no end", s.ID)
	}
	return nil
}

// Store keeps sessions. Times come back in UTC. An id that is not valid (package ids)
// never reaches a key: Get does not find it, Touch answers ErrEnded, End nil, Create an
// error (Check). A store may forget a session (ended or not) once its ExpiresAt has
// passed, at a time of its choosing (DynamoDB's TTL deletes it within days; package bolt
// on a later Create): until then it is returned as stored, so the caller compares
// LastActivity with the organisation's timeout.
type Store interface {
	// Create stores s (Version 1, whatever s.Version says). ErrConflict when its id is
	// taken; an error when Check refuses s.
	Create(ctx context.Context, s Session) error
	// Get returns a session, strongly consistent; an ended session is returned (with
	// EndedAt), an unknown one is not found.
	Get(ctx context.Context, id string) (Session, bool, error)
	// Touch sets the session's LastActivity to at and its Version to version+1, on
	// condition that the stored Version is version and the session has not ended:
	// ErrEnded when it has ended or is unknown, ErrConflict when its version differs.
	Touch(ctx context.Context, id string, version int64, at time.Time) error
	// End ends the session at at (EndedAt set, Version+1). Ending an ended session
	// changes nothing (EndedAt stays the first end) and ending an unknown one creates
	// nothing: neither is an error (logout is idempotent).
	End(ctx context.Context, id string, at time.Time) error
}
