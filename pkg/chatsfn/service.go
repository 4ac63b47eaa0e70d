// Package chatsfn holds the functions of the chats feature (API.md "Chats, events and
// sweeps"): chat-events (the chat platform's events in), the auto-close and queue-move
// sweeps, missed-chat-report (an email per missed chat) and the read API (chats). The
// rules themselves are package chats'; this package reads the settings they follow,
// serialises changes on the store's versions, and publishes the events changes produce.
package chatsfn

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/officehours"
	"github.com/convrs/admin/pkg/sticky"
)

// maxTries bounds the read-apply-save loop of one change under contention; each retry
// waits a jittered 1-16 ms, so a change gives up within ~0.2 s (the event is then
// delivered again).
const maxTries = 12

// stuckAfter is how old a pending event must be before a sweep republishes it: the
// function that saved it publishes it within milliseconds unless it died.
const stuckAfter = time.Minute

// maxFlush bounds the pending events a sweep republishes per run.
const maxFlush = 500

// service is what every chats function shares: the ports and the settings readers.
type service struct {
	store    chats.Store
	bus      bus.Publisher
	sticky   sticky.Store
	agents   agents.Store
	now      func() time.Time
	handling *settings.Service[chathandling.Settings]
	hours    *settings.Service[officehours.Settings]
	log      func() *slog.Logger
}

func newService(d app.Deps) *service {
	return &service{
		store:  d.Chats,
		bus:    d.Bus,
		sticky: d.Sticky,
		agents: d.Agents,
		now:    d.Now,
		// Outside HTTP requests (events, sweeps) the path of an organisation comes from
		// the tree, so a sub-organisation reads its settings in effect.
		handling: settings.NewService(chathandling.Area, d.Settings, d.Now).UseOrgs(d.Orgs),
		hours:    settings.NewService(officehours.Area, d.Settings, d.Now).UseOrgs(d.Orgs),
		log:      slog.Default,
	}
}

// rules reads the organisation's chat-handling settings (eventually consistent: a change
// of the last second may be missed, which no rule here needs to see at once).
func (s *service) rules(ctx context.Context, orgID string) (chathandling.Settings, error) {
	cur, err := s.handling.Read(ctx, orgID, settings.Eventual)
	return cur.Doc, err
}

// save writes one change, then publishes its events and forgets them as pending, and
// returns how many it published. A failure to publish is logged and left to the sweeps,
// which republish pending events: the change itself is done.
func (s *service) save(ctx context.Context, ch chats.Change) (published int, err error) {
	if err := s.store.Save(ctx, ch); err != nil {
		return 0, err
	}
	return s.publish(ctx, ch.Events), nil
}

// publish publishes events saved as pending and forgets them, returning how many went
// out.
func (s *service) publish(ctx context.Context, events []bus.Event) int {
	if len(events) == 0 || s.bus == nil {
		return 0
	}
	if err := s.bus.Publish(ctx, events); err != nil {
		s.log().WarnContext(ctx, "events not published yet; a sweep will publish them", "events", len(events), "error", err.Error())
		return 0
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	if err := s.store.Published(ctx, ids); err != nil {
		// Published but still pending: a sweep publishes them again (same ids).
		s.log().WarnContext(ctx, "published events still marked pending", "events", len(events), "error", err.Error())
	}
	return len(events)
}

// flush republishes pending events older than stuckAfter (their function died between
// saving and publishing), at most maxFlush per call.
func (s *service) flush(ctx context.Context) (int, error) {
	pending, err := s.store.Pending(ctx, s.now().Add(-stuckAfter), maxFlush)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	return s.publish(ctx, pending), nil
}

// retry runs change until it saves or fails with something other than a conflict: on
// chats.ErrConflict it waits a little and runs it again (it reads the records afresh).
func retry(ctx context.Context, change func() error) error {
	var err error
	for try := range maxTries {
		if err = change(); !errors.Is(err, chats.ErrConflict) {
			return err
		}
		wait := time.Duration(1+rand.IntN(1<<min(try, 4))) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

// profile reads the agent's profile (its own chat limit, business units, status): found
// false when the agents store does not know it (an agent only the chat platform reported).
func (s *service) profile(ctx context.Context, orgID, agentID string) (agents.Agent, bool, error) {
	if s.agents == nil {
		return agents.Agent{}, false, nil
	}
	return s.agents.Get(ctx, orgID, agentID)
}

// limit is the agent's chat limit: its profile's maxChats when it has one, else the
// organisation's maxChatsPerAgent (limitOf).
func (s *service) limit(ctx context.Context, a chats.Agent, rules chathandling.Settings) (int, error) {
	p, found, err := s.profile(ctx, a.OrgID, a.AgentID)
	if err != nil {
		return 0, err
	}
	if found && p.MaxChats != nil {
		return *p.MaxChats, nil
	}
	return limitOf(a, rules), nil
}

// limitOf is the agent's chat limit: its own, once agents have one, else the
// organisation's maxChatsPerAgent.
func limitOf(a chats.Agent, rules chathandling.Settings) int {
	if a.MaxChats > 0 {
		return a.MaxChats
	}
	return rules.MaxChatsPerAgent
}

// updateBusy recounts the agent's active chats and, when busy flips, saves it with its
// "Agent Busy Changed" event; it returns how many events it published. onlyDropped says
// the agent's active chats can only have gone down (a sweep closed or queued some): an
// agent recorded as not busy then stays so, and is not recounted.
func (s *service) updateBusy(ctx context.Context, orgID, agentID string, rules chathandling.Settings, onlyDropped bool) (published int, err error) {
	if agentID == "" {
		return 0, nil
	}
	err = retry(ctx, func() error {
		a, _, err := s.store.Agent(ctx, orgID, agentID)
		if err != nil {
			return err
		}
		a.OrgID, a.AgentID = orgID, agentID
		if onlyDropped && !a.Busy {
			return nil
		}
		limit, err := s.limit(ctx, a, rules)
		if err != nil {
			return err
		}
		active, err := s.store.ActiveChats(ctx, orgID, agentID, limit+1)
		if err != nil {
			return err
		}
		busy := active >= limit
		if a.Busy == busy {
			return nil
		}
		a.Busy = busy
		ev := chats.BusyEvent(a, active, limit, s.now())
		published, err = s.save(ctx, chats.Change{Agent: &a, Events: []bus.Event{ev}})
		return err
	})
	return published, err
}
