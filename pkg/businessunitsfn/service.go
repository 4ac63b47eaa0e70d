package businessunitsfn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/freetext"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/problem"
)

// The records, store and errors of package businessunits, by short names.
type (
	// Unit is a stored business unit.
	Unit = businessunits.Unit
	// Store keeps business units.
	Store = businessunits.Store
	// Members lists the agents of a unit.
	Members = businessunits.Members
)

// Fields are what a client sets on a unit.
type Fields struct {
	Name       string   `json:"name"`
	ChatbotIDs []string `json:"chatbotIds"`
}

// fieldsOf returns the client-set fields of u.
func fieldsOf(u Unit) Fields {
	return Fields{Name: u.Name, ChatbotIDs: append([]string{}, u.ChatbotIDs...)}
}

// Prepare normalises what a client sent: the name trimmed of white space and invisible
// characters at both ends and put in Unicode NFC (so two spellings of one name are the
// same bytes), a missing chatbot list empty.
func (f *Fields) Prepare() {
	f.Name = norm.NFC.String(freetext.Normalize(f.Name))
	if f.ChatbotIDs == nil {
		f.ChatbotIDs = []string{}
	}
}

// Validate reports every failing field of prepared fields at once (problem.Invalid).
func (f Fields) Validate() error {
	var errs problem.Fields
	if msg := freetext.Problem(f.Name, 1, businessunits.MaxNameChars); msg != "" {
		errs.Add("name", "%s", msg)
	}
	if len(f.ChatbotIDs) > businessunits.MaxChatbots {
		errs.Add("chatbotIds", "must hold at most %d chatbot ids", businessunits.MaxChatbots)
	} else {
		seen := map[string]int{}
		for i, id := range f.ChatbotIDs {
			field := fmt.Sprintf("chatbotIds[%d]", i)
			switch j, dup := seen[id]; {
			case !ids.Valid(id):
				errs.Add(field, "must be a chatbot id: 1-%d characters of A-Z a-z 0-9 _ -, starting with a letter or digit", ids.MaxLen)
			case dup:
				errs.Add(field, "repeats chatbotIds[%d]", j)
			default:
				seen[id] = i
			}
		}
	}
	return errs.Err()
}

// MaxListedMembers bounds the agent ids a refused delete lists.
const MaxListedMembers = 100

// Service applies the rules of business units to a Store.
type Service struct {
	store   Store
	members Members
	now     func() time.Time
}

// NewService returns the service on store. members (nil until agents exist) lists the
// agents of a unit when a delete is refused; now may be nil for time.Now.
func NewService(store Store, members Members, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, members: members, now: now}
}

// List returns every unit of the organisation ordered by name case-insensitively (by
// caseless.Fold, then code point), then by id.
func (s *Service) List(ctx context.Context, orgID string) ([]Unit, error) {
	units, err := s.store.List(ctx, orgID)
	if err != nil {
		return nil, err
	}
	type keyed struct {
		fold string
		u    Unit
	}
	k := make([]keyed, len(units))
	for i, u := range units {
		k[i] = keyed{caseless.Fold(u.Name), u}
	}
	slices.SortFunc(k, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.fold, b.fold), cmp.Compare(a.u.ID, b.u.ID))
	})
	for i := range k {
		units[i] = k[i].u
	}
	return units, nil
}

func notFound() error { return problem.New(problem.NotFound, "business unit not found") }

// Get returns a unit, or a problem.NotFound error.
func (s *Service) Get(ctx context.Context, orgID, id string) (Unit, error) {
	if err := businessunits.CheckKeys(orgID, id); err != nil {
		return Unit{}, err
	}
	u, found, err := s.store.Get(ctx, orgID, id)
	if err != nil {
		return Unit{}, err
	}
	if !found {
		return Unit{}, notFound()
	}
	return u, nil
}

// auditDoc is the organisation's units as the audit log sees them: a change of a unit's
// name is the field "<unitId>.name" (so every entry names the unit it changed).
func auditDoc(id string, f *Fields) json.RawMessage {
	if f == nil {
		return json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(map[string]Fields{id: *f})
	return b
}

func (s *Service) entry(ctx context.Context, orgID, action string, now time.Time, id string, before, after *Fields) (audit.Entry, error) {
	p, _ := auth.FromContext(ctx)
	changes, err := audit.Diff(auditDoc(id, before), auditDoc(id, after))
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{ID: audit.NewID(now), OrgID: orgID, At: now, Actor: p.Subject, Area: businessunits.Area, Action: action,
		Changes: changes, RequestID: httpx.RequestID(ctx)}, nil
}

func nameTaken(name string) error {
	return problem.New(problem.Conflict, "a business unit named %q exists already (names are unique regardless of case)", name)
}

// Create validates f and stores a new unit with a new id: a problem.Invalid error listing
// every failing field, problem.Conflict when the name is taken (case-insensitively) or
// the organisation has MaxUnits units, or the unit.
func (s *Service) Create(ctx context.Context, orgID string, f Fields) (Unit, error) {
	if err := businessunits.CheckOrg(orgID); err != nil {
		return Unit{}, err
	}
	f.Prepare()
	if err := f.Validate(); err != nil {
		return Unit{}, err
	}
	p, _ := auth.FromContext(ctx)
	now := s.now().UTC().Truncate(time.Millisecond)
	u := Unit{OrgID: orgID, ID: ids.New(businessunits.IDPrefix), Name: f.Name, NameKey: caseless.Key(f.Name), ChatbotIDs: f.ChatbotIDs,
		Version: 1, CreatedAt: now, UpdatedAt: now, UpdatedBy: p.Subject}
	entry, err := s.entry(ctx, orgID, "create", now, u.ID, nil, &f)
	if err != nil {
		return Unit{}, err
	}
	var retry optimistic.Retry
	for {
		err := s.store.Create(ctx, u, entry)
		switch {
		case err == nil:
			return u, nil
		case errors.Is(err, businessunits.ErrNameTaken):
			return Unit{}, nameTaken(f.Name)
		case errors.Is(err, businessunits.ErrLimit):
			return Unit{}, problem.New(problem.Conflict, "the organisation has %d business units, the most it may have; delete one first", businessunits.MaxUnits)
		case errors.Is(err, optimistic.ErrContended):
			again, werr := retry.Again(ctx)
			if werr != nil {
				return Unit{}, werr
			}
			if again {
				continue
			}
		}
		return Unit{}, err
	}
}

// Mutation turns the current fields into the next ones; its errors are returned as is.
type Mutation func(cur Fields) (Fields, error)

// Update applies mutate to the unit's current fields, validates the result and stores it
// with its audit entry. ifMatch is the request's If-Match ("" for none): a mismatch is
// problem.PreconditionFailed; without it a change that loses a race is retried. A change
// that changes nothing stores nothing. Errors: problem.NotFound, problem.Invalid,
// problem.Conflict (the name is another unit's), problem.PreconditionFailed.
func (s *Service) Update(ctx context.Context, orgID, id, ifMatch string, mutate Mutation) (Unit, error) {
	if err := businessunits.CheckKeys(orgID, id); err != nil {
		return Unit{}, err
	}
	var retry optimistic.Retry
	for {
		cur, err := s.Get(ctx, orgID, id)
		if err != nil {
			return Unit{}, err
		}
		if ifMatch != "" && !optimistic.Matches(ifMatch, cur.Version) {
			return Unit{}, problem.New(problem.PreconditionFailed, "If-Match %s does not match the current version %s", ifMatch, optimistic.ETag(cur.Version))
		}
		before := fieldsOf(cur)
		f, err := mutate(fieldsOf(cur))
		if err != nil {
			return Unit{}, err
		}
		f.Prepare()
		if err := f.Validate(); err != nil {
			return Unit{}, err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		entry, err := s.entry(ctx, orgID, "patch", now, id, &before, &f)
		if err != nil {
			return Unit{}, err
		}
		if len(entry.Changes) == 0 {
			return cur, nil
		}
		p, _ := auth.FromContext(ctx)
		next := cur
		next.Name, next.NameKey, next.ChatbotIDs = f.Name, caseless.Key(f.Name), f.ChatbotIDs
		next.Version, next.UpdatedAt, next.UpdatedBy = cur.Version+1, now, p.Subject
		err = s.store.Update(ctx, cur, next, entry)
		switch {
		case err == nil:
			return next, nil
		case errors.Is(err, businessunits.ErrNameTaken):
			return Unit{}, nameTaken(f.Name)
		case errors.Is(err, businessunits.ErrChanged) && ifMatch != "":
			return Unit{}, problem.New(problem.PreconditionFailed, "the business unit changed after If-Match %s was read", ifMatch)
		case errors.Is(err, businessunits.ErrChanged), errors.Is(err, optimistic.ErrContended):
			again, werr := retry.Again(ctx)
			if werr != nil {
				return Unit{}, werr
			}
			if again {
				continue
			}
		}
		return Unit{}, err
	}
}

// Delete removes the unit with its audit entry. ifMatch is as for Update. While agents
// belong to the unit it is a problem.Conflict whose "agents" extension lists them (at most
// MaxListedMembers; none while no Members lister is wired).
func (s *Service) Delete(ctx context.Context, orgID, id, ifMatch string) error {
	if err := businessunits.CheckKeys(orgID, id); err != nil {
		return err
	}
	var retry optimistic.Retry
	for {
		cur, err := s.Get(ctx, orgID, id)
		if err != nil {
			return err
		}
		if ifMatch != "" && !optimistic.Matches(ifMatch, cur.Version) {
			return problem.New(problem.PreconditionFailed, "If-Match %s does not match the current version %s", ifMatch, optimistic.ETag(cur.Version))
		}
		if cur.Members > 0 {
			return s.inUse(ctx, cur)
		}
		before := fieldsOf(cur)
		now := s.now().UTC().Truncate(time.Millisecond)
		entry, err := s.entry(ctx, orgID, "delete", now, id, &before, nil)
		if err != nil {
			return err
		}
		err = s.store.Delete(ctx, cur, entry)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, businessunits.ErrChanged) && ifMatch != "":
			return problem.New(problem.PreconditionFailed, "the business unit changed after If-Match %s was read", ifMatch)
		case errors.Is(err, businessunits.ErrChanged), errors.Is(err, businessunits.ErrHasMembers), errors.Is(err, optimistic.ErrContended):
			// Read again: the next round answers from what is stored now (an agent that
			// joined meanwhile makes it the refusal).
			again, werr := retry.Again(ctx)
			if werr != nil {
				return werr
			}
			if again {
				continue
			}
		}
		return err
	}
}

// inUse is the refusal to delete u while agents belong to it.
func (s *Service) inUse(ctx context.Context, u Unit) error {
	agents := []string{}
	if s.members != nil {
		list, err := s.members.BusinessUnitMembers(ctx, u.OrgID, u.ID, MaxListedMembers)
		if err != nil {
			return err
		}
		agents = append(agents, list...)
	}
	what := "agents belong to business unit %q; move them"
	if u.Members == 1 {
		what = "agent belongs to business unit %q; move it"
	}
	return problem.New(problem.Conflict, "%d "+what+" to another unit first", u.Members, u.Name).With("agents", agents)
}
