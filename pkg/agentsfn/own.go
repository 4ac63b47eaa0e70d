package agentsfn

import (
	"errors"
	"net/http"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// PasswordChange is the body of POST /v1/orgs/{orgId}/agents/me/password.
type PasswordChange struct {
	Current *string `json:"current"`
	New     *string `json:"new"`
}

// changeOwnPassword serves POST /v1/orgs/{orgId}/agents/me/password: the signed-in agent
// (the token's sub is its agent id) changes its password. A wrong current password is a
// 403; the organisation's password policy governs the new one while it is enforced
// (every violation listed, reuse with preventReuse); mustChangePassword is cleared. Any
// role of the organisation may call it: it acts on the caller only.
func (s *service) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	p, _ := auth.FromContext(ctx)
	data, err := httpx.ReadJSON(r, httpx.MediaJSON)
	var in PasswordChange
	if err == nil {
		err = httpx.Unmarshal(data, &in)
	}
	if err == nil {
		var f []problem.FieldError
		if in.Current == nil {
			f = append(f, problem.FieldError{Field: "current", Message: "required"})
		}
		if in.New == nil {
			f = append(f, problem.FieldError{Field: "new", Message: "required"})
		}
		if f != nil {
			err = &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid", Fields: f}
		}
	}
	if err == nil && !ids.Valid(p.Subject) {
		err = problem.New(problem.NotFound, "the caller is not an active agent of this organisation")
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	for try := 1; ; try++ {
		cur, found, err := s.Agents.Get(ctx, org, p.Subject)
		if err == nil && (!found || cur.Status == agents.StatusDisabled) {
			err = problem.New(problem.NotFound, "the caller is not an active agent of this organisation")
		}
		var creds agents.Credentials
		if err == nil {
			creds, _, err = s.Agents.Credentials(ctx, org, cur.ID)
		}
		var pol agents.Policy
		if err == nil {
			pol, err = s.policy(ctx, org)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		now := s.Now().UTC().Truncate(time.Millisecond)
		next, nextCreds, err := passwords.ChangePassword(cur, creds, *in.Current, *in.New, pol, now)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		next.Version, next.UpdatedAt = cur.Version+1, now
		entry, err := s.entry(ctx, org, "password-change", &cur, &next, now)
		if err == nil {
			err = s.Agents.SetCredentials(ctx, org, next, nextCreds, creds, entry)
		}
		switch {
		case err == nil:
			writeAgent(w, r, http.StatusOK, org, next, next.Version, next.ID)
			return
		case errors.Is(err, agents.ErrConflict) && try < maxTries:
			continue
		case errors.Is(err, agents.ErrConflict):
			err = problem.New(problem.Conflict, "the agent is being changed; try again")
		}
		httpx.WriteError(w, r, err)
		return
	}
}
