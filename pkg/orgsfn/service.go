package orgsfn

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/freetext"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/problem"
)

// Input is what a client sends to create a sub-organisation.
type Input struct {
	Name string `json:"name"`
}

// Prepare normalises what a client sent: the name trimmed of white space and invisible
// characters at both ends and put in Unicode NFC.
func (in *Input) Prepare() { in.Name = norm.NFC.String(freetext.Normalize(in.Name)) }

// Validate reports every failing field of a prepared input at once (problem.Invalid):
// the name is free text of 1-100 characters, as business units' names.
func (in Input) Validate() error {
	var errs problem.Fields
	if msg := freetext.Problem(in.Name, 1, orgs.MaxNameChars); msg != "" {
		errs.Add("name", "%s", msg)
	}
	return errs.Err()
}

// Service applies the rules of the tree to a Store.
type Service struct {
	store orgs.Store
	now   func() time.Time
}

// NewService returns the service on store; now may be nil for time.Now.
func NewService(store orgs.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

func notFound() error { return problem.New(problem.NotFound, "organisation not found") }

// Org returns the organisation id: the record the HTTP front put in the context (no
// read), else the store's (a root when it has none). A deleted organisation is
// problem.NotFound.
func (s *Service) Org(ctx context.Context, id string) (orgs.Org, error) {
	if o, ok := orgs.OrgFrom(ctx, id); ok {
		return o, nil
	}
	if err := orgs.CheckID(id); err != nil {
		return orgs.Org{}, err
	}
	o, found, err := s.store.Org(ctx, id)
	switch {
	case err != nil:
		return orgs.Org{}, err
	case !found:
		return orgs.Root(id), nil
	case o.Deleted():
		return orgs.Org{}, notFound()
	}
	return o, nil
}

// entry is the audit entry of a change of the sub-organisation o, in its parent's log:
// the field "<id>.name" from before to after (nil: absent).
func (s *Service) entry(ctx context.Context, o orgs.Org, action string, now time.Time, before, after *string) (audit.Entry, error) {
	doc := func(name *string) json.RawMessage {
		if name == nil {
			return json.RawMessage(`{}`)
		}
		b, _ := json.Marshal(map[string]Input{o.ID: {Name: *name}})
		return b
	}
	changes, err := audit.Diff(doc(before), doc(after))
	if err != nil {
		return audit.Entry{}, err
	}
	p, _ := auth.FromContext(ctx)
	return audit.Entry{ID: audit.NewID(now), OrgID: o.ParentID, At: now, Actor: p.Subject, Area: orgs.Area, Action: action,
		Changes: changes, RequestID: httpx.RequestID(ctx)}, nil
}

// Create validates in and stores a new sub-organisation of parentID with a new id:
// problem.Invalid listing every failing field, problem.Invalid (no field) when the parent
// is at orgs.MaxDepth, problem.NotFound when the parent was deleted meanwhile, or the new
// organisation. Audited in the parent's log (action "create", field "<id>.name").
func (s *Service) Create(ctx context.Context, parentID string, in Input) (orgs.Org, error) {
	in.Prepare()
	if err := in.Validate(); err != nil {
		return orgs.Org{}, err
	}
	parent, err := s.Org(ctx, parentID)
	if err != nil {
		return orgs.Org{}, err
	}
	if parent.Depth() >= orgs.MaxDepth {
		return orgs.Org{}, tooDeep(parent)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	id := ids.New(orgs.IDPrefix)
	o := orgs.Org{ID: id, Name: in.Name, ParentID: parent.ID, Path: append(slices.Clone(parent.Path), id), CreatedAt: now}
	entry, err := s.entry(ctx, o, "create", now, nil, &in.Name)
	if err != nil {
		return orgs.Org{}, err
	}
	var retry optimistic.Retry
	for {
		err := s.store.Create(ctx, o, entry)
		switch {
		case err == nil:
			return o, nil
		case errors.Is(err, orgs.ErrTooDeep):
			return orgs.Org{}, tooDeep(parent)
		case errors.Is(err, orgs.ErrNoParent):
			return orgs.Org{}, notFound()
		case errors.Is(err, optimistic.ErrContended):
			// Every create under a parent counts it on the parent's entry: concurrent
			// creates collide, and a new try succeeds.
			again, werr := retry.Again(ctx)
			if werr != nil {
				return orgs.Org{}, werr
			}
			if again {
				continue
			}
		}
		return orgs.Org{}, err
	}
}

func tooDeep(parent orgs.Org) error {
	return problem.New(problem.Invalid, "organisation %s is %d levels deep (its root included), the deepest the tree goes: it cannot have sub-organisations",
		parent.ID, parent.Depth())
}

// Descendants returns a page of the live descendants of id in id order (after the id
// after, at most limit).
func (s *Service) Descendants(ctx context.Context, id, after string, limit int) (orgs.Page, error) {
	return s.store.Descendants(ctx, id, after, limit)
}

// Delete soft-deletes the sub-organisation id for the caller in ctx, who must act on it
// from an ancestor (the HTTP front let only callers of id's path through): a root, and an
// organisation's own callers, are refused (problem.Conflict: a root belongs to the
// identity provider, and an organisation deleting itself would lock its own callers
// out); so is an organisation with live sub-organisations (leaves only). Audited in the
// parent's log (action "delete", field "<id>.name"). problem.NotFound when it was
// deleted meanwhile.
func (s *Service) Delete(ctx context.Context, id string) error {
	o, err := s.Org(ctx, id)
	if err != nil {
		return err
	}
	p, _ := auth.FromContext(ctx)
	switch {
	case o.ParentID == "":
		return problem.New(problem.Conflict, "%s is a root organisation: roots are never deleted here", id)
	case p.OrgID == id:
		return problem.New(problem.Conflict, "an organisation cannot delete itself: a caller of one of its ancestors with %s deletes it", auth.PermSuborgsManage)
	}
	var retry optimistic.Retry
	for {
		now := s.now().UTC().Truncate(time.Millisecond)
		entry, err := s.entry(ctx, o, "delete", now, &o.Name, nil)
		if err != nil {
			return err
		}
		_, err = s.store.Delete(ctx, id, entry)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, orgs.ErrHasChildren):
			return problem.New(problem.Conflict, "organisation %s has sub-organisations: only a leaf can be deleted, delete them first", id)
		case errors.Is(err, orgs.ErrNotFound):
			return notFound()
		case errors.Is(err, optimistic.ErrContended):
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
