package chatsfn

import (
	"context"
	"errors"
	"net/http"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Manage is who may close or transfer chats: the chats.manage permission.
var Manage = auth.Permission(auth.PermChatsManage)

// RegisterActions serves the admin actions on a chat (API.md "Agents": the status board's
// close and transfer): POST .../chats/{chatId}/close and POST .../chats/{chatId}/transfer
// {toAgentId | null}. Each is one conditional write of the chat with its event, then the
// busy state of the agents whose chats changed.
func RegisterActions(api *httpx.API, d app.Deps) {
	s := newService(d)
	api.Handle(http.MethodPost, "/v1/orgs/{orgId}/chats/{chatId}/close", Manage, func(w http.ResponseWriter, r *http.Request) {
		s.act(w, r, func(c chats.Chat, by string) (chats.Chat, bus.Event, error) {
			next, ev, ok := chats.AdminClose(c, by, s.now())
			if !ok {
				return c, ev, problem.New(problem.Conflict, "the chat is %s already; only open or queued chats can be closed", c.Status)
			}
			return next, ev, nil
		})
	})
	api.Handle(http.MethodPost, "/v1/orgs/{orgId}/chats/{chatId}/transfer", Manage, func(w http.ResponseWriter, r *http.Request) {
		data, err := httpx.ReadJSON(r, httpx.MediaJSON)
		var in struct {
			ToAgentID *string `json:"toAgentId"`
		}
		if err == nil {
			err = httpx.Unmarshal(data, &in)
		}
		if err == nil && !httpx.HasMember(data, "toAgentId") {
			err = &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
				Fields: []problem.FieldError{{Field: "toAgentId", Message: "is required (null moves the chat to the queue)"}}}
		}
		to := ""
		if err == nil && in.ToAgentID != nil {
			to = *in.ToAgentID
			err = s.checkTarget(r.Context(), r.PathValue("orgId"), to)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		s.act(w, r, func(c chats.Chat, by string) (chats.Chat, bus.Event, error) {
			if !c.Live() {
				return c, bus.Event{}, problem.New(problem.Conflict, "the chat is %s; only open or queued chats can be transferred", c.Status)
			}
			next, ev, ok := chats.Transfer(c, to, by, s.now())
			if !ok {
				return c, ev, problem.New(problem.Conflict, "the chat is with that agent already")
			}
			return next, ev, nil
		})
	})
}

// checkTarget refuses a transfer target that is not an active agent of the organisation
// (API.md): one whose profile the agents store keeps (an id the chat platform reported
// but no admin created is not one) and that is not disabled (disabled agents get no
// chats). One strongly consistent read of the profile.
func (s *service) checkTarget(ctx context.Context, org, agent string) error {
	invalid := func(msg string) error {
		return &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
			Fields: []problem.FieldError{{Field: "toAgentId", Message: msg}}}
	}
	if !ids.Valid(agent) {
		return invalid("must be an agent id or null")
	}
	p, found, err := s.profile(ctx, org, agent)
	if err != nil {
		return err
	}
	switch {
	case !found:
		return invalid("is not an agent of the organisation")
	case p.Status == agents.StatusDisabled:
		return invalid("is disabled: a disabled agent gets no chats; enable it first")
	}
	return nil
}

// act runs one admin action on a chat: read, change, one conditional write (retried on a
// concurrent change), then the busy state of the agents whose active chats changed.
func (s *service) act(w http.ResponseWriter, r *http.Request, change func(c chats.Chat, by string) (chats.Chat, bus.Event, error)) {
	ctx, org, id := r.Context(), r.PathValue("orgId"), r.PathValue("chatId")
	p, _ := auth.FromContext(ctx)
	notFound := problem.New(problem.NotFound, "chat not found")
	if !ids.Valid(id) {
		httpx.WriteError(w, r, notFound)
		return
	}
	visible, err := visibleTo(ctx, s.agents, org)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var before, after chats.Chat
	err = retry(ctx, func() error {
		c, found, err := s.store.Chat(ctx, org, id)
		if err != nil {
			return err
		}
		if !found || !shown(c) || !visible(c) {
			return notFound
		}
		next, ev, err := change(c, p.Subject)
		if err != nil {
			return err
		}
		if _, err := s.save(ctx, chats.Change{Chat: &next, Events: []bus.Event{ev}}); err != nil {
			return err
		}
		before, after = c, next
		return nil
	})
	if errors.Is(err, chats.ErrConflict) {
		err = problem.New(problem.Conflict, "the chat is changing; try again")
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	rules, err := s.rules(ctx, org)
	if err == nil {
		for _, agent := range affected(before, after) {
			if _, err = s.updateBusy(ctx, org, agent, rules, false); err != nil {
				break
			}
		}
	}
	if err != nil {
		// The chat changed; a busy flag left stale is corrected by the agent's next event.
		s.log().WarnContext(ctx, "busy state not updated after an admin action", "orgId", org, "chatId", id, "error", err.Error())
	}
	httpx.WriteJSON(w, r, http.StatusOK, summary(after))
}
