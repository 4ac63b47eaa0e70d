package agentsfn

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/sticky"
)

// UsersUnstuck is the detail-type of the event an unstick publishes.
const UsersUnstuck = "Users Unstuck"

// BoardEntry is one agent on the status board.
type BoardEntry struct {
	AgentID     string `json:"agentId"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Presence    string `json:"presence"`
	Busy        bool   `json:"busy"`
	ActiveChats int    `json:"activeChats"`
	MaxChats    int    `json:"maxChats"`
	// LastLoginAt is the latest sign-in known: to this product (the profile's, which
	// agents.Store.LoginSucceeded sets) or to the chat platform ("Agent Logged In").
	LastLoginAt *time.Time `json:"lastLoginAt"`
	// SuspendedAt is the profile's: set while failed sign-ins keep the agent out.
	SuspendedAt *time.Time `json:"suspendedAt"`
	StickyUsers int        `json:"stickyUsers"`
}

// Board is a page of the status board.
type Board struct {
	Items      []BoardEntry `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// board serves GET /v1/orgs/{orgId}/agent-status?limit=&cursor=: the organisation's
// agents in id order, each with its presence (the chat platform's last "Agent Status
// Changed"; offline when never reported), busy flag, active chats, chat limit (its own
// maxChats, else the organisation's maxChatsPerAgent) and how many users are stuck to it.
// A page of n agents costs one Query of the agents, and per agent one GetItem (its chat
// state) and two bounded Queries (its open chats, its sticky users): n is at most 100.
func (s *service) board(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	v := r.URL.Query()
	q := agents.Query{Limit: 25}
	if v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil || n < 1 || n > agents.MaxListed {
			httpx.WriteError(w, r, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
				Fields: []problem.FieldError{{Field: "limit", Message: "must be an integer between 1 and 100"}}})
			return
		}
		q.Limit = n
	}
	if err := agents.Normalize(&q); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if v.Has("cursor") {
		after, err := s.Cursors.Open(org, "agent-status", v.Get("cursor"))
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		q.After = after
	}
	page, err := s.Agents.Search(ctx, org, q)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	orgMax := 0
	if s.Handling != nil {
		cur, err := s.Handling(ctx, org)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		orgMax = cur
	}
	out := Board{Items: make([]BoardEntry, 0, len(page.Agents))}
	for _, a := range page.Agents {
		e, err := s.boardEntry(ctx, org, a, orgMax)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out.Items = append(out.Items, e)
	}
	if page.Next != "" {
		out.NextCursor = s.Cursors.Seal(org, "agent-status", page.Next)
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}

func (s *service) boardEntry(ctx context.Context, org string, a agents.Agent, orgMax int) (BoardEntry, error) {
	e := BoardEntry{AgentID: a.ID, Name: a.Name, Status: string(a.Status), Presence: chats.AgentOffline, MaxChats: a.EffectiveMaxChats(orgMax),
		LastLoginAt: a.LastLoginAt, SuspendedAt: a.SuspendedAt}
	state, found, err := s.Chats.Agent(ctx, org, a.ID)
	if err != nil {
		return e, err
	}
	if found {
		if state.Status != "" {
			e.Presence = state.Status
		}
		e.Busy = state.Busy
		if t := state.LastLoginAt; !t.IsZero() && (e.LastLoginAt == nil || t.After(*e.LastLoginAt)) {
			e.LastLoginAt = &t
		}
	}
	if e.ActiveChats, err = s.Chats.ActiveChats(ctx, org, a.ID, 1000); err != nil {
		return e, err
	}
	users, err := s.Sticky.Users(ctx, org, a.ID, sticky.MaxUsers)
	e.StickyUsers = len(users)
	return e, err
}

// unstick serves DELETE .../agents/{agentId}/sticky-users: every user stuck to the
// agent is unstuck (at most sticky.MaxUsers per call: call again while it answers a full
// list), and "Users Unstuck" {orgId, agentId, userIds, at} is published.
func (s *service) unstick(w http.ResponseWriter, r *http.Request) {
	ctx, org, id := r.Context(), r.PathValue("orgId"), r.PathValue("agentId")
	notFound := problem.New(problem.NotFound, "agent not found")
	if !ids.Valid(id) {
		httpx.WriteError(w, r, notFound)
		return
	}
	if _, found, err := s.Agents.Get(ctx, org, id); err != nil || !found {
		if err == nil {
			err = notFound
		}
		httpx.WriteError(w, r, err)
		return
	}
	users, err := s.Sticky.Users(ctx, org, id, sticky.MaxUsers)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	now := s.Now().UTC()
	var done []string
	for _, u := range users {
		err := s.Sticky.Apply(ctx, org, u, "", now)
		switch {
		case err == nil:
			done = append(done, u)
		case errors.Is(err, sticky.ErrStale): // a newer change of this user came in: it stands
		default:
			httpx.WriteError(w, r, err)
			return
		}
	}
	if done == nil {
		done = []string{}
	}
	if len(done) > 0 && s.Bus != nil {
		ev, err := bus.New("users-unstuck/"+org+"/"+id+"/"+strconv.FormatInt(now.UnixNano(), 10), UsersUnstuck, now,
			map[string]any{"orgId": org, "agentId": id, "userIds": done, "at": now})
		if err == nil {
			err = s.Bus.Publish(ctx, []bus.Event{ev})
		}
		if err != nil {
			// The users are unstuck; the event is not kept pending (no chat store write).
			httpx.WriteError(w, r, problem.Wrap(problem.Unavailable, err, "the users were unstuck but the event could not be published; retry to publish it again"))
			return
		}
	}
	httpx.WriteJSON(w, r, http.StatusOK, map[string]any{"agentId": id, "unstuck": done})
}
