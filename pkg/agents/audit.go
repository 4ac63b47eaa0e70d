package agents

import (
	"encoding/json"
	"time"

	"github.com/convrs/admin/pkg/audit"
)

// audited is what the audit log records of an agent: its profile, email and status;
// never a password, hash or token (the Agent type holds none).
type audited struct {
	ID                 *string    `json:"id"`
	Email              *string    `json:"email"`
	Profile            *Profile   `json:"profile"`
	Status             *Status    `json:"status"`
	MustChangePassword *bool      `json:"mustChangePassword"`
	PasswordChangedAt  *time.Time `json:"passwordChangedAt"`
}

func auditedOf(a *Agent) audited {
	if a == nil {
		return audited{}
	}
	return audited{ID: &a.ID, Email: &a.Email, Profile: &a.Profile, Status: &a.Status, MustChangePassword: &a.MustChangePassword,
		PasswordChangedAt: a.PasswordChangedAt}
}

// AuditEntry is the audit entry (area AuditArea) of a change of an agent from before to
// after (nil before: a create) by actor, at now: the changes of the audited view (email,
// profile, status, suspension, mustChangePassword, passwordChangedAt), never password
// material.
func AuditEntry(orgID, actor, action string, before, after *Agent, now time.Time, requestID string) (audit.Entry, error) {
	b, err := json.Marshal(auditedOf(before))
	if err != nil {
		return audit.Entry{}, err
	}
	a, err := json.Marshal(auditedOf(after))
	if err != nil {
		return audit.Entry{}, err
	}
	changes, err := audit.Diff(b, a)
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{ID: audit.NewID(now), OrgID: orgID, At: now, Actor: actor, Area: AuditArea, Action: action,
		Changes: changes, RequestID: requestID}, nil
}
