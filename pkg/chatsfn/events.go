package chatsfn

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/sticky"
)

// maxCandidates bounds the online agents a reallocation considers.
const maxCandidates = 100

// EventsFunction keeps the chat, transcript and agent records from the chat platform's
// events and applies the busy and offline-reallocation rules.
var EventsFunction = app.Function{Name: "chat-events",
	Needs: app.Needs{Chats: app.ChatIngest, Sticky: app.Write, Agents: app.Read, Events: true, ReadSettings: []string{chathandling.AreaName}, Orgs: app.Read},
	Events: &app.Consumer{Source: app.ChatSource, DetailTypes: chats.InTypes,
		Handler: func(d app.Deps) app.EventHandler { return newService(d).handle }}}

// handle applies one event of the chat platform.
func (s *service) handle(ctx context.Context, ev app.Event) error {
	in, err := chats.Parse(ev.DetailType, ev.Detail, s.now())
	if err != nil {
		return fmt.Errorf("%w: %v", app.ErrMalformed, err)
	}
	if in.Sticky != nil {
		// An older change than the stored one changes nothing (at-least-once, any order).
		if err := s.sticky.Apply(ctx, in.OrgID, in.Sticky.UserID, in.AgentID, in.At); err != nil && !errors.Is(err, sticky.ErrStale) {
			return err
		}
		return nil
	}
	if in.ChatID == "" {
		return s.applyAgent(ctx, in)
	}
	return s.applyChat(ctx, in)
}

func (s *service) applyAgent(ctx context.Context, in chats.In) error {
	return retry(ctx, func() error {
		a, _, err := s.store.Agent(ctx, in.OrgID, in.AgentID)
		if err != nil {
			return err
		}
		next, changed := chats.ApplyToAgent(a, in)
		if !changed {
			return nil
		}
		_, err = s.save(ctx, chats.Change{Agent: &next})
		return err
	})
}

// applyChat applies a chat event: the record (and the message) in one conditional write,
// with the reallocation a user message to an offline agent calls for; then the busy state
// of every agent whose active chats changed.
func (s *service) applyChat(ctx context.Context, in chats.In) error {
	rules, err := s.rules(ctx, in.OrgID)
	if err != nil {
		return err
	}
	var touched []string
	err = retry(ctx, func() error {
		c, _, err := s.store.Chat(ctx, in.OrgID, in.ChatID)
		if err != nil {
			return err
		}
		next, msg, changed := chats.ApplyToChat(c, in)
		if !changed {
			return nil
		}
		var events []bus.Event
		if msg != nil && msg.Sender == chats.SenderUser && rules.MoveToQueueWhenAgentOffline {
			if next, events, err = s.offline(ctx, next, rules, in); err != nil {
				return err
			}
		}
		if _, err := s.save(ctx, chats.Change{Chat: &next, Message: msg, Events: events}); err != nil {
			return err
		}
		touched = affected(c, next)
		return nil
	})
	if errors.Is(err, chats.ErrDuplicate) {
		return nil // the message is stored already: this is a repeat delivery
	}
	if err != nil {
		return err
	}
	for _, agent := range touched {
		if _, err := s.updateBusy(ctx, in.OrgID, agent, rules, false); err != nil {
			return err
		}
	}
	return nil
}

// affected lists the agents whose active chats a change from before to after changed.
func affected(before, after chats.Chat) []string {
	active := func(c chats.Chat) string {
		if c.Status == chats.StatusOpen {
			return c.AgentID
		}
		return ""
	}
	var out []string
	if a := active(before); a != "" && a != active(after) {
		out = append(out, a)
	}
	if a := active(after); a != "" && a != active(before) {
		out = append(out, a)
	}
	return out
}

// offline applies offline reallocation to a chat that just got a user message: when its
// agent is offline, the chat goes to the least loaded other online agent that is not busy
// (of the chat's business unit, when it has one), else to the queue.
func (s *service) offline(ctx context.Context, c chats.Chat, rules chathandling.Settings, in chats.In) (chats.Chat, []bus.Event, error) {
	if c.Status != chats.StatusOpen || c.AgentID == "" {
		return c, nil, nil
	}
	agent, found, err := s.store.Agent(ctx, c.OrgID, c.AgentID)
	if err != nil || !found || agent.Status != chats.AgentOffline {
		return c, nil, err
	}
	to, err := s.pickAgent(ctx, c, rules)
	if err != nil {
		return c, nil, err
	}
	if to != "" {
		next, ev, ok := chats.Reallocate(c, to, in.At)
		if ok {
			return next, []bus.Event{ev}, nil
		}
	}
	next, ev, ok := chats.MoveToQueue(c, chats.ReasonAgentOffline, in.At)
	if !ok {
		return c, nil, nil
	}
	return next, []bus.Event{ev}, nil
}

// pickAgent returns the online, non-busy agent (other than the chat's, of its business
// unit when it has one) with the fewest active chats, ties by id; "" when there is none.
func (s *service) pickAgent(ctx context.Context, c chats.Chat, rules chathandling.Settings) (string, error) {
	online, err := s.store.Online(ctx, c.OrgID, maxCandidates)
	if err != nil {
		return "", err
	}
	best, bestLoad := "", 0
	for _, a := range online {
		if a.AgentID == c.AgentID {
			continue
		}
		// The agent's profile, when the agents store has it, gives its business units,
		// its own chat limit and whether it is disabled (a disabled agent gets no chats).
		p, found, err := s.profile(ctx, c.OrgID, a.AgentID)
		if err != nil {
			return "", err
		}
		units, limit := a.BusinessUnits, limitOf(a, rules)
		if found {
			if p.Status == agents.StatusDisabled {
				continue
			}
			units = p.BusinessUnitIDs
			if p.MaxChats != nil {
				limit = *p.MaxChats
			}
		}
		if c.BusinessUnitID != "" && !slices.Contains(units, c.BusinessUnitID) {
			continue
		}
		load, err := s.store.ActiveChats(ctx, c.OrgID, a.AgentID, limit)
		if err != nil {
			return "", err
		}
		if load >= limit {
			continue
		}
		if best == "" || load < bestLoad {
			best, bestLoad = a.AgentID, load
		}
	}
	return best, nil
}
