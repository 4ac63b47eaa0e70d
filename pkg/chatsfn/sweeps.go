package chatsfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// Schedule of both sweeps. A rule counts whole days, so a chat is closed or moved at most
// 15 minutes after it qualifies.
const Schedule = "rate(15 minutes)"

// Sweep names: their functions' names, and the keys of their saved positions.
const (
	AutoCloseSweep = "auto-close-sweep"
	QueueMoveSweep = "queue-move-sweep"
)

// page is how many candidates a sweep reads per query, and orgsPage how many
// organisations.
const (
	page     = 100
	orgsPage = 100
	// maxAwaitingRounds bounds the re-reads of one stale agent's awaiting chats.
	maxAwaitingRounds = 1000
)

// AutoCloseFunction closes open and queued chats idle for autoCloseAfterDays.
var AutoCloseFunction = app.Function{Name: AutoCloseSweep,
	Needs: app.Needs{Chats: app.ChatAutoClose, Agents: app.Read, Events: true, ReadSettings: []string{chathandling.AreaName}, Orgs: app.Read},
	Sweep: &app.Sweep{Schedule: Schedule, Run: func(d app.Deps) func(context.Context) (app.SweepResult, error) {
		s := newService(d)
		return func(ctx context.Context) (app.SweepResult, error) {
			return s.sweep(ctx, AutoCloseSweep, s.autoCloseOrg)
		}
	}}}

// QueueMoveFunction queues the unanswered chats of agents who have not logged in for
// moveToQueueAfterNoLoginDays.
var QueueMoveFunction = app.Function{Name: QueueMoveSweep,
	Needs: app.Needs{Chats: app.ChatQueueMove, Agents: app.Read, Events: true, ReadSettings: []string{chathandling.AreaName}, Orgs: app.Read},
	Sweep: &app.Sweep{Schedule: Schedule, Run: func(d app.Deps) func(context.Context) (app.SweepResult, error) {
		s := newService(d)
		return func(ctx context.Context) (app.SweepResult, error) {
			return s.sweep(ctx, QueueMoveSweep, s.queueMoveOrg)
		}
	}}}

// errStop ends a run that reached its stopping time; the position is saved.
var errStop = errors.New("sweep: stopping before the deadline")

// run is one sweep run: its clock, stopping time and tally.
type run struct {
	now    time.Time
	stopAt time.Time // zero: no deadline
	res    app.SweepResult
}

// stop reports whether the run must stop now to end before its deadline.
func (r *run) stop(ctx context.Context) bool {
	return ctx.Err() != nil || (!r.stopAt.IsZero() && time.Now().After(r.stopAt))
}

// stopMargin is the time kept before the invocation's deadline to save the position and
// answer: a tenth of the run's time, between 1 and 10 seconds.
func stopMargin(left time.Duration) time.Duration {
	return min(max(left/10, time.Second), 10*time.Second)
}

// position is where a sweep stopped: the organisations page (the Orgs position it was
// read from), the organisation, and the position among its candidates.
type position struct {
	OrgsAfter string `json:"orgsAfter,omitempty"`
	Org       string `json:"org"`
	After     string `json:"after,omitempty"`
}

// orgSweep sweeps one organisation from the position after (of that organisation's
// candidates), returning the position to resume from when it stopped (errStop).
type orgSweep func(ctx context.Context, r *run, orgID, after string) (next string, err error)

// sweep runs a sweep over every organisation that has chats, from the saved position:
// first it republishes events left pending by runs that died, then each organisation in
// turn (by id). Before its deadline it saves where it is (the organisations page, the
// organisation and its candidate position) and returns Done false; the next run resumes
// there. A finished pass clears the position.
func (s *service) sweep(ctx context.Context, name string, one orgSweep) (app.SweepResult, error) {
	r := &run{now: s.now().UTC()}
	if dl, ok := ctx.Deadline(); ok {
		r.stopAt = dl.Add(-stopMargin(time.Until(dl)))
	}
	n, err := s.flush(ctx)
	r.res.Published += n
	if err != nil {
		return r.res, err
	}
	saved, err := s.store.Cursor(ctx, name)
	if err != nil {
		return r.res, err
	}
	var at position
	if saved != "" && json.Unmarshal([]byte(saved), &at) != nil {
		s.log().WarnContext(ctx, "unreadable sweep position; starting over", "sweep", name)
		at = position{}
	}
	orgAfter, resumeOrg, pos := at.OrgsAfter, at.Org, at.After
	for {
		orgs, next, err := s.store.Orgs(ctx, orgAfter, orgsPage)
		if err != nil {
			return r.res, err
		}
		for _, o := range orgs {
			if resumeOrg != "" {
				if o < resumeOrg {
					continue
				}
				if o != resumeOrg {
					pos = "" // the saved organisation is gone: start the next one afresh
				}
				resumeOrg = ""
			}
			r.res.Orgs++
			resume, err := one(ctx, r, o, pos)
			pos = ""
			if errors.Is(err, errStop) {
				b, _ := json.Marshal(position{OrgsAfter: orgAfter, Org: o, After: resume})
				return r.res, s.store.SetCursor(context.WithoutCancel(ctx), name, string(b))
			}
			if err != nil {
				return r.res, fmt.Errorf("%s: organisation %s: %w", name, o, err)
			}
		}
		if next == "" {
			break
		}
		orgAfter = next
	}
	r.res.Done = true
	return r.res, s.store.SetCursor(ctx, name, "")
}

// autoCloseOrg closes the organisation's idle chats.
func (s *service) autoCloseOrg(ctx context.Context, r *run, orgID, after string) (string, error) {
	rules, err := s.rules(ctx, orgID)
	if err != nil || rules.AutoCloseAfterDays <= 0 {
		return "", err
	}
	idleSince := chats.IdleSince(r.now, rules.AutoCloseAfterDays)
	for {
		if r.stop(ctx) {
			return after, errStop
		}
		candidates, next, err := s.store.Idle(ctx, orgID, idleSince, after, page)
		if err != nil {
			return "", err
		}
		// The agents whose chats this page closed are recounted once each, after it.
		var agents []string
		stopped := false
		for _, c := range candidates {
			if r.stop(ctx) {
				stopped = true
				break
			}
			r.res.Examined++
			closed, agent, err := s.autoCloseOne(ctx, r, c, rules.AutoCloseAfterDays)
			if err != nil {
				return "", errors.Join(err, s.recount(ctx, r, orgID, agents, rules))
			}
			if closed {
				r.res.Changed++
				if agent != "" && !slices.Contains(agents, agent) {
					agents = append(agents, agent)
				}
			}
		}
		if err := s.recount(ctx, r, orgID, agents, rules); err != nil {
			return "", err
		}
		if stopped {
			return after, errStop
		}
		if next == "" {
			return "", nil
		}
		after = next
	}
}

// recount updates the busy state of agents whose active chats a sweep lowered.
func (s *service) recount(ctx context.Context, r *run, orgID string, agents []string, rules chathandling.Settings) error {
	for _, a := range agents {
		n, err := s.updateBusy(ctx, orgID, a, rules, true)
		r.res.Published += n
		if err != nil {
			return err
		}
	}
	return nil
}

// autoCloseOne closes one candidate if it is still live and idle, on condition that it
// did not change since it was read (a message that arrives meanwhile keeps it open). It
// returns whether it closed it and the agent whose active chats dropped ("" if none).
func (s *service) autoCloseOne(ctx context.Context, r *run, c chats.Chat, days int) (closed bool, agent string, err error) {
	err = retry(ctx, func() error {
		next, ev, ok := chats.AutoClose(c, days, r.now)
		if !ok {
			return nil
		}
		n, err := s.save(ctx, chats.Change{Chat: &next, Events: []bus.Event{ev}})
		r.res.Published += n
		if errors.Is(err, chats.ErrConflict) {
			fresh, found, rerr := s.store.Chat(ctx, c.OrgID, c.ChatID)
			if rerr != nil || !found {
				return rerr
			}
			c = fresh
			return chats.ErrConflict
		}
		if err == nil {
			closed = true
			if c.Status == chats.StatusOpen {
				agent = c.AgentID
			}
		}
		return err
	})
	return closed, agent, err
}

// queueMoveOrg queues the unanswered chats of the organisation's agents who have not
// logged in for moveToQueueAfterNoLoginDays.
func (s *service) queueMoveOrg(ctx context.Context, r *run, orgID, after string) (string, error) {
	rules, err := s.rules(ctx, orgID)
	if err != nil || rules.MoveToQueueAfterNoLoginDays <= 0 {
		return "", err
	}
	days := rules.MoveToQueueAfterNoLoginDays
	loginBefore := chats.IdleSince(r.now, days)
	for {
		if r.stop(ctx) {
			return after, errStop
		}
		agents, next, err := s.store.LoggedInBefore(ctx, orgID, loginBefore, after, page)
		if err != nil {
			return "", err
		}
		for _, listed := range agents {
			if r.stop(ctx) {
				return after, errStop
			}
			// The index may lag: the agent's own record says whether they logged in since.
			a, found, err := s.store.Agent(ctx, orgID, listed.AgentID)
			if err != nil {
				return "", err
			}
			if !found || !chats.LoginStale(a, days, r.now) {
				continue
			}
			moved, err := s.moveAgentChats(ctx, r, a)
			if err != nil {
				return "", err
			}
			if moved > 0 {
				if err := s.recount(ctx, r, orgID, []string{a.AgentID}, rules); err != nil {
					return "", err
				}
			}
		}
		if next == "" {
			return "", nil
		}
		after = next
	}
}

// moveAgentChats queues every unanswered open chat of agent a (each leaves the awaiting
// index as it is moved, so the same query is read until it comes back short).
func (s *service) moveAgentChats(ctx context.Context, r *run, a chats.Agent) (int, error) {
	moved := 0
	for range maxAwaitingRounds {
		awaiting, err := s.store.Awaiting(ctx, a.OrgID, a.AgentID, page)
		if err != nil {
			return moved, err
		}
		progress := false
		for _, c := range awaiting {
			if r.stop(ctx) {
				return moved, nil
			}
			r.res.Examined++
			ok, err := s.moveOne(ctx, r, c, a.AgentID)
			if err != nil {
				return moved, err
			}
			if ok {
				moved++
				progress = true
				r.res.Changed++
			}
		}
		if len(awaiting) < page || !progress {
			return moved, nil
		}
	}
	return moved, nil
}

// moveOne queues one chat if it is still the agent's and unanswered, on condition that it
// did not change since it was read.
func (s *service) moveOne(ctx context.Context, r *run, c chats.Chat, agentID string) (bool, error) {
	moved := false
	err := retry(ctx, func() error {
		if !c.Awaiting() || c.AgentID != agentID {
			return nil
		}
		next, ev, ok := chats.MoveToQueue(c, chats.ReasonNotLoggedIn, r.now)
		if !ok {
			return nil
		}
		n, err := s.save(ctx, chats.Change{Chat: &next, Events: []bus.Event{ev}})
		r.res.Published += n
		if errors.Is(err, chats.ErrConflict) {
			fresh, found, rerr := s.store.Chat(ctx, c.OrgID, c.ChatID)
			if rerr != nil || !found {
				return rerr
			}
			c = fresh
			return chats.ErrConflict
		}
		moved = err == nil
		return err
	})
	return moved, err
}
