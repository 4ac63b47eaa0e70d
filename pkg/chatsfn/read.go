package chatsfn

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// Read is who may read chats: the chats.read permission.
var Read = auth.Permission(auth.PermChatsRead)

// DefaultLimit is a page's size when ?limit= is not given.
const DefaultLimit = 25

// ReadFunction serves the chats API: lists by status, a chat with its transcript, the
// queue (chats.read), and the admin actions close and transfer (chats.manage).
var ReadFunction = app.Function{Name: "chats",
	Needs: app.Needs{Chats: app.ChatRead | app.ChatActions, Agents: app.Read, Events: true, ReadSettings: []string{chathandling.AreaName}, Cursors: true, Roles: app.Read, Orgs: app.Read},
	HTTP: func(api *httpx.API, d app.Deps) {
		RegisterRead(api, d.Chats, d.Cursors, d.Agents)
		RegisterActions(api, d)
	}}

// Summary is a chat as lists show it.
type Summary struct {
	ChatID         string     `json:"chatId"`
	Status         string     `json:"status"`
	Channel        string     `json:"channel"`
	BusinessUnitID *string    `json:"businessUnitId"`
	User           chats.User `json:"user"`
	AgentID        *string    `json:"agentId"`
	StartedAt      *time.Time `json:"startedAt"`
	StatusAt       time.Time  `json:"statusAt"`
	LastActivityAt *time.Time `json:"lastActivityAt"`
	ClosedAt       *time.Time `json:"closedAt"`
	CloseReason    *string    `json:"closeReason"`
	Messages       int        `json:"messages"`
	// Awaiting says the user's last message is unanswered.
	Awaiting bool `json:"awaiting"`
}

// Detail is a chat with its transcript.
type Detail struct {
	Summary
	Transcript []chats.Message `json:"transcript"`
	// TranscriptTruncated says the chat has more than the chats.MaxTranscript messages
	// shown (the first ones are).
	TranscriptTruncated bool `json:"transcriptTruncated"`
}

// List is one page of a chat list.
type List struct {
	Items      []Summary `json:"items"`
	NextCursor string    `json:"nextCursor,omitempty"`
}

func summary(c chats.Chat) Summary {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return Summary{ChatID: c.ChatID, Status: c.Status, Channel: c.Channel, BusinessUnitID: opt(c.BusinessUnitID), User: c.User,
		AgentID: opt(c.AgentID), StartedAt: at(c.StartedAt), StatusAt: c.StatusAt, LastActivityAt: at(c.LastActivityAt),
		ClosedAt: at(c.ClosedAt), CloseReason: opt(c.CloseReason), Messages: c.Messages, Awaiting: c.Awaiting()}
}

// RegisterRead serves the read routes from store, with cursors authenticated by cursors.
func RegisterRead(api *httpx.API, store chats.Store, cursors audit.Cursors, profiles agents.Store) {
	list := func(w http.ResponseWriter, r *http.Request, status string) {
		org := r.PathValue("orgId")
		limit, err := parseLimit(r)
		q := chats.ListQuery{Status: status, Limit: limit}
		if err == nil && r.URL.Query().Has("cursor") {
			q.After, err = cursors.Open(org, "chats/"+status, r.URL.Query().Get("cursor"))
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		page, err := store.List(r.Context(), org, q)
		var visible func(chats.Chat) bool
		if err == nil {
			visible, err = visibleTo(r.Context(), profiles, org)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		out := List{Items: make([]Summary, 0, len(page.Chats))}
		for _, c := range page.Chats {
			if shown(c) && visible(c) {
				out.Items = append(out.Items, summary(c))
			}
		}
		if page.Next != "" {
			out.NextCursor = cursors.Seal(org, "chats/"+status, page.Next)
		}
		httpx.WriteJSON(w, r, http.StatusOK, out)
	}
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/chats", Read, func(w http.ResponseWriter, r *http.Request) {
		status := chats.StatusOpen
		if v := r.URL.Query(); v.Has("status") {
			status = v.Get("status")
			if !slices.Contains(chats.Statuses, status) {
				httpx.WriteError(w, r, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
					Fields: []problem.FieldError{{Field: "status", Message: "must be open, queued, closed or missed"}}})
				return
			}
		}
		list(w, r, status)
	})
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/queue", Read, func(w http.ResponseWriter, r *http.Request) {
		list(w, r, chats.StatusQueued)
	})
	api.Handle(http.MethodGet, "/v1/orgs/{orgId}/chats/{chatId}", Read, func(w http.ResponseWriter, r *http.Request) {
		org, id := r.PathValue("orgId"), r.PathValue("chatId")
		notFound := problem.New(problem.NotFound, "chat not found")
		if !ids.Valid(id) {
			httpx.WriteError(w, r, notFound)
			return
		}
		c, found, err := store.Chat(r.Context(), org, id)
		var visible func(chats.Chat) bool
		if err == nil {
			visible, err = visibleTo(r.Context(), profiles, org)
		}
		if err == nil && (!found || !shown(c) || !visible(c)) {
			err = notFound
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		msgs, more, err := store.Transcript(r.Context(), org, id, chats.MaxTranscript)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if msgs == nil {
			msgs = []chats.Message{}
		}
		httpx.WriteJSON(w, r, http.StatusOK, Detail{Summary: summary(c), Transcript: msgs, TranscriptTruncated: more})
	})
}

// visibleTo returns which chats the caller may see (API.md "Permissions and roles"):
// every chat of the organisation, except for an agent_manager, who sees the chats of the
// business units they belong to (their agent profile: the token's sub is their agent id;
// none when they have no profile). Lists leave the others out; a chat's detail and the
// admin actions answer 404 for them.
func visibleTo(ctx context.Context, profiles agents.Store, org string) (func(chats.Chat) bool, error) {
	p, _ := auth.FromContext(ctx)
	if p.Role != auth.RoleAgentManager || profiles == nil {
		return func(chats.Chat) bool { return true }, nil
	}
	none := func(chats.Chat) bool { return false }
	if !ids.Valid(p.Subject) {
		return none, nil
	}
	a, found, err := profiles.Get(ctx, org, p.Subject)
	if err != nil || !found {
		return none, err
	}
	return func(c chats.Chat) bool {
		return c.BusinessUnitID != "" && slices.Contains(a.BusinessUnitIDs, c.BusinessUnitID)
	}, nil
}

// shown reports whether the read API shows c: once its "Chat Started" has arrived. A chat
// known only from events that came before it (an allocation, a close) has their status
// but no user or start yet; lists leave it out (a page may then hold fewer than limit
// chats and still have a next cursor) and its detail is a 404 until the start arrives.
func shown(c chats.Chat) bool { return !c.StartedAt.IsZero() && c.Status != "" }

// parseLimit reads ?limit= (1-100, default DefaultLimit): not an integer is a 400, out of
// range a 422, as for the audit log.
func parseLimit(r *http.Request) (int, error) {
	v := r.URL.Query()
	if !v.Has("limit") {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(v.Get("limit"))
	if err != nil {
		return 0, &problem.Error{Code: problem.BadRequest, Message: "invalid query",
			Fields: []problem.FieldError{{Field: "limit", Message: "must be an integer between 1 and 100"}}}
	}
	if n < 1 || n > chats.MaxListLimit {
		return 0, &problem.Error{Code: problem.Invalid, Message: "invalid query",
			Fields: []problem.FieldError{{Field: "limit", Message: "must be between 1 and 100"}}}
	}
	return n, nil
}
