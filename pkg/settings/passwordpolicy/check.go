package passwordpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// CheckPath is the check route.
const CheckPath = "/v1/orgs/{orgId}/password-policy/check"

// MaxPasswordLength bounds the password the check route accepts, in code points as sent
// (JSON Schema's maxLength, so openapi.yaml can state it exactly): far above any
// password a policy can accept (30 characters) or an admin can set (128), and at most
// 1 KiB of UTF-8, so that a hostile body cannot make a check expensive. A longer one is
// a 422 on password.
const MaxPasswordLength = 256

// History is the agents' password history, which the reuse rule needs. The
// password-policy function passes passwords.History, over the agents store (which keeps
// argon2id hashes of the NFC form, never passwords); tests pass fakes.
//
// Implementations must never log, store or return password, nor put it in an error.
// Reused gets the password as the client sent it; it should compare it as sign-in does
// (the NFC form, as Count counts it, so that a password typed with combining accents on
// one device verifies on another), and stop when ctx ends (each comparison with a hash
// is an argon2id run).
type History interface {
	// Known returns nil when agentID is an agent of the organisation orgID, and a
	// problem.NotFound error when it is not (an agent of another organisation
	// included). Other errors are the store's (problem.Throttled, problem.Unavailable,
	// or internal).
	Known(ctx context.Context, orgID, agentID string) error
	// Reused reports whether password is the agent's current password or one of its
	// earlier ones (as many as the history keeps). An unknown agent is a
	// problem.NotFound error, as for Known; other errors are the store's.
	Reused(ctx context.Context, orgID, agentID, password string) (bool, error)
}

// CheckRequest is the body of the check route.
type CheckRequest struct {
	// Password is the candidate password (required, at most MaxPasswordLength code points).
	Password *string `json:"password"`
	// AgentID, when set, names the agent who would use the password: with preventReuse
	// on, reuse of one of the agent's passwords is a violation too.
	AgentID *string `json:"agentId"`
}

// CheckResult is the answer of the check route.
type CheckResult struct {
	// OK is true when the password breaks no rule.
	OK bool `json:"ok"`
	// Enforced is the policy's enforce setting: whether the rules apply to agents now.
	// The check evaluates them either way.
	Enforced bool `json:"enforced"`
	// Violations lists every rule broken (never null).
	Violations []Violation `json:"violations"`
}

// checker serves the check route.
type checker struct {
	svc     *settings.Service[Settings]
	history History
}

// Register serves the area's settings routes and the check route, both admin only (the
// check reveals the policy, and is where an admin tries passwords for agents). history
// is the agents' password history; nil means that there are no agents, so that a check
// naming an agent is a 422 on agentId ("no such agent"), the answer an unknown agent
// gets. now may be nil for time.Now.
func Register(api *httpx.API, store settings.Store, history History, now func() time.Time) *settings.Service[Settings] {
	svc := settings.NewService(Area, store, now)
	admin := auth.Permission(auth.PermSettingsManage)
	svc.Register(api, admin)
	c := &checker{svc: svc, history: history}
	api.Handle(http.MethodPost, CheckPath, admin, c.check)
	return svc
}

// noSuchAgent is the answer for an agent the organisation does not have.
func noSuchAgent() error {
	return &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
		Fields: []problem.FieldError{{Field: "agentId", Message: "no such agent"}}}
}

// check answers POST .../password-policy/check. The password never reaches a log, the
// store or the audit: the body is read here only, errors about it never quote it (see
// decodeCheck), and nothing is saved.
func (c *checker) check(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	req, err := decodeCheck(r)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	cur, err := c.svc.Load(ctx, org)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	policy := cur.Doc
	v := policy.Evaluate(*req.Password)
	if req.AgentID != nil {
		reused, err := c.reused(ctx, org, *req.AgentID, *req.Password, policy.PreventReuse)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if reused {
			v = append(v, reuseViolation)
		}
	}
	if v == nil {
		v = []Violation{}
	}
	httpx.WriteJSON(w, r, http.StatusOK, CheckResult{OK: len(v) == 0, Enforced: policy.Enforce, Violations: v})
}

// reused asks the history about the agent: whether the password is one it used when the
// policy prevents reuse, else only whether the agent exists (a cheap read, where
// comparing the password with every stored hash is not). An unknown agent is a 422 on
// agentId; the history's other errors are returned as they are (503 or 429 for a
// throttled store, else 500).
func (c *checker) reused(ctx context.Context, org, agentID, password string, preventReuse bool) (bool, error) {
	if c.history == nil {
		return false, noSuchAgent()
	}
	var reused bool
	var err error
	if preventReuse {
		reused, err = c.history.Reused(ctx, org, agentID, password)
	} else {
		err = c.history.Known(ctx, org, agentID)
	}
	if problem.Is(err, problem.NotFound) {
		return false, noSuchAgent()
	}
	return reused, err
}

// decodeCheck reads and checks the check route's body. Every error is safe to log and
// to show: none quotes what it could not read. encoding/json's syntax errors quote the
// offending character (a character of the password when the error is inside it), so
// malformed JSON gets a message of its own; the strict decoder's other errors name a
// field and a JSON kind ("must be a string, not number"), never a value, and their
// causes are dropped so that nothing of the body reaches a log.
func decodeCheck(r *http.Request) (CheckRequest, error) {
	var req CheckRequest
	body, err := httpx.ReadJSON(r, httpx.MediaJSON)
	if err != nil {
		return req, err
	}
	if !json.Valid(body) {
		return req, problem.New(problem.BadRequest, `malformed JSON: send one JSON object such as {"password": "..."} (the parse error is not repeated, as it could quote the password)`)
	}
	if err := httpx.Unmarshal(body, &req); err != nil {
		var pe *problem.Error
		if !errors.As(err, &pe) {
			return req, problem.New(problem.BadRequest, "the body could not be read")
		}
		return req, &problem.Error{Code: pe.Code, Message: pe.Message, Fields: pe.Fields}
	}
	var f problem.Fields
	switch {
	case req.Password == nil:
		f.Add("password", "required")
	case len(*req.Password) > MaxPasswordLength && utf8.RuneCountInString(*req.Password) > MaxPasswordLength:
		f.Add("password", "must be at most %d characters", MaxPasswordLength)
	}
	if req.AgentID != nil && !ids.Valid(*req.AgentID) {
		f.Add("agentId", "must be an agent id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)")
	}
	return req, f.Err()
}
