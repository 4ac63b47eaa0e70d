package tagsfn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/freetext"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/optimistic"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/tags"
)

// The records and store of package tags, by short names.
type (
	// Group is a stored tag group.
	Group = tags.Group
	// Tag is a stored tag.
	Tag = tags.Tag
	// Store keeps tags and tag groups.
	Store = tags.Store
)

// GroupFields are what a client sets on a group.
type GroupFields struct {
	Name string `json:"name"`
}

// TagFields are what a client sets on a tag. GroupID and Color are nil for none.
type TagFields struct {
	Name      string  `json:"name"`
	GroupID   *string `json:"groupId"`
	AppliesTo string  `json:"appliesTo"`
	Color     *string `json:"color"`
}

// groupFields returns the client-set fields of g.
func groupFields(g Group) GroupFields { return GroupFields{Name: g.Name} }

// tagFields returns the client-set fields of t.
func tagFields(t Tag) TagFields {
	f := TagFields{Name: t.Name, AppliesTo: t.AppliesTo}
	if t.GroupID != "" {
		f.GroupID = new(t.GroupID)
	}
	if t.Color != "" {
		f.Color = new(t.Color)
	}
	return f
}

// normalName trims a name of white space and invisible characters at both ends and puts
// it in Unicode NFC, so that two spellings of one name are the same bytes.
func normalName(s string) string { return norm.NFC.String(freetext.Normalize(s)) }

// Prepare normalises what a client sent (the name).
func (f *GroupFields) Prepare() { f.Name = normalName(f.Name) }

// Validate reports every failing field of prepared fields at once (problem.Invalid).
func (f GroupFields) Validate() error {
	var errs problem.Fields
	if msg := freetext.Problem(f.Name, 1, tags.MaxNameChars); msg != "" {
		errs.Add("name", "%s", msg)
	}
	return errs.Err()
}

// Prepare normalises what a client sent: the name, and a colour in the upper-case form
// (a colour that does not parse is left for Validate to name).
func (f *TagFields) Prepare() {
	f.Name = normalName(f.Name)
	if f.Color != nil {
		if c, err := tags.ParseColor(*f.Color); err == nil {
			f.Color = &c
		}
	}
}

// Validate reports every failing field of prepared fields at once (problem.Invalid). That
// the group exists is the store's to check (ErrNoGroup).
func (f TagFields) Validate() error {
	var errs problem.Fields
	if msg := freetext.Problem(f.Name, 1, tags.MaxNameChars); msg != "" {
		errs.Add("name", "%s", msg)
	}
	switch f.AppliesTo {
	case tags.AppliesToUsers, tags.AppliesToChats, tags.AppliesToBoth:
	case "":
		errs.Add("appliesTo", "is required: users, chats or both")
	default:
		errs.Add("appliesTo", "must be users, chats or both")
	}
	if f.GroupID != nil && !ids.Valid(*f.GroupID) {
		errs.Add("groupId", "no such tag group")
	}
	if f.Color != nil {
		if _, err := tags.ParseColor(*f.Color); err != nil {
			errs.Add("color", "%s", err.Error())
		}
	}
	return errs.Err()
}

// MaxListedTags bounds the tag ids a refused group delete lists.
const MaxListedTags = 100

// Service applies the rules of tags and tag groups to a Store.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns the service on store; now may be nil for time.Now.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// byName orders records by name case-insensitively (caseless.Fold, then code point), then
// by id.
func byName[T any](list []T, name, id func(T) string) {
	type keyed struct {
		fold string
		v    T
	}
	k := make([]keyed, len(list))
	for i, v := range list {
		k[i] = keyed{caseless.Fold(name(v)), v}
	}
	slices.SortFunc(k, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.fold, b.fold), cmp.Compare(id(a.v), id(b.v)))
	})
	for i := range k {
		list[i] = k[i].v
	}
}

// Groups returns every group of the organisation ordered by name.
func (s *Service) Groups(ctx context.Context, orgID string) ([]Group, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return nil, err
	}
	gs, err := s.store.Groups(ctx, orgID)
	if err != nil {
		return nil, err
	}
	byName(gs, func(g Group) string { return g.Name }, func(g Group) string { return g.ID })
	return gs, nil
}

// Filter selects tags: GroupID "" for any group (else only that group's), AppliesTo ""
// for any, users or chats for the tags that apply to them (those of "both" included),
// both for the tags that apply to both only.
type Filter struct {
	GroupID   string
	AppliesTo string
}

func (f Filter) keeps(t Tag) bool {
	if f.GroupID != "" && t.GroupID != f.GroupID {
		return false
	}
	switch f.AppliesTo {
	case "":
		return true
	case tags.AppliesToBoth:
		return t.AppliesTo == tags.AppliesToBoth
	}
	return t.AppliesTo == f.AppliesTo || t.AppliesTo == tags.AppliesToBoth
}

// Tags returns the organisation's tags that f keeps, ordered by name.
func (s *Service) Tags(ctx context.Context, orgID string, f Filter) ([]Tag, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return nil, err
	}
	all, err := s.store.Tags(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, t := range all {
		if f.keeps(t) {
			out = append(out, t)
		}
	}
	byName(out, func(t Tag) string { return t.Name }, func(t Tag) string { return t.ID })
	return out, nil
}

// auditDoc is the organisation's tags and groups as the audit log sees them: a change of
// a tag's name is the field "<tagId>.name" (tag ids start tag_, group ids tg_), so every
// entry names what it changed.
func auditDoc(id string, fields any) json.RawMessage {
	if fields == nil {
		return json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(map[string]any{id: fields})
	return b
}

func (s *Service) entry(ctx context.Context, orgID, action string, now time.Time, id string, before, after any) (audit.Entry, error) {
	p, _ := auth.FromContext(ctx)
	changes, err := audit.Diff(auditDoc(id, before), auditDoc(id, after))
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{ID: audit.NewID(now), OrgID: orgID, At: now, Actor: p.Subject, Area: tags.Area, Action: action,
		Changes: changes, RequestID: httpx.RequestID(ctx)}, nil
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func subject(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.Subject
}

func precondition(ifMatch string, version int64) error {
	if ifMatch != "" && !optimistic.Matches(ifMatch, version) {
		return problem.New(problem.PreconditionFailed, "If-Match %s does not match the current version %s", ifMatch, optimistic.ETag(version))
	}
	return nil
}

func changedAfter(ifMatch string) error {
	return problem.New(problem.PreconditionFailed, "the record changed after If-Match %s was read", ifMatch)
}

// outcome turns a store write's error into the service's answer: done (nil, false),
// retry (nil, true) after waiting, or the error to return.
func outcome(ctx context.Context, retry *optimistic.Retry, err error, ifMatch string, mapped func(error) error) (bool, error) {
	if err == nil {
		return false, nil
	}
	if m := mapped(err); m != nil {
		return false, m
	}
	if errors.Is(err, tags.ErrChanged) && ifMatch != "" {
		return false, changedAfter(ifMatch)
	}
	if errors.Is(err, tags.ErrChanged) || errors.Is(err, tags.ErrGroupNotEmpty) || errors.Is(err, optimistic.ErrContended) {
		again, werr := retry.Again(ctx)
		if werr != nil {
			return false, werr
		}
		if again {
			return true, nil
		}
	}
	return false, err
}

func groupNotFound() error { return problem.New(problem.NotFound, "tag group not found") }
func tagNotFound() error   { return problem.New(problem.NotFound, "tag not found") }

func (s *Service) group(ctx context.Context, orgID, id string) (Group, error) {
	if err := tags.CheckKeys("tag group", orgID, id); err != nil {
		return Group{}, err
	}
	g, found, err := s.store.Group(ctx, orgID, id)
	if err == nil && !found {
		err = groupNotFound()
	}
	return g, err
}

// Tag returns a tag, or a problem.NotFound error.
func (s *Service) Tag(ctx context.Context, orgID, id string) (Tag, error) {
	if err := tags.CheckKeys("tag", orgID, id); err != nil {
		return Tag{}, err
	}
	t, found, err := s.store.Tag(ctx, orgID, id)
	if err == nil && !found {
		err = tagNotFound()
	}
	return t, err
}

// Group returns a group, or a problem.NotFound error.
func (s *Service) Group(ctx context.Context, orgID, id string) (Group, error) {
	return s.group(ctx, orgID, id)
}

func groupNameTaken(name string) error {
	return problem.New(problem.Conflict, "a tag group named %q exists already (names are unique regardless of case)", name)
}

func tagNameTaken(name string) error {
	return problem.New(problem.Conflict, "a tag named %q exists already (names are unique regardless of case)", name)
}

func noGroup() error {
	return &problem.Error{Code: problem.Invalid, Message: "one or more fields are invalid",
		Fields: []problem.FieldError{{Field: "groupId", Message: "no such tag group"}}}
}

// CreateGroup validates f and stores a new group: problem.Invalid listing every failing
// field, problem.Conflict when the name is taken or the organisation has MaxGroups groups.
func (s *Service) CreateGroup(ctx context.Context, orgID string, f GroupFields) (Group, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return Group{}, err
	}
	f.Prepare()
	if err := f.Validate(); err != nil {
		return Group{}, err
	}
	now := s.stamp()
	g := Group{OrgID: orgID, ID: ids.New(tags.GroupIDPrefix), Name: f.Name, NameKey: caseless.Key(f.Name), Version: 1,
		CreatedAt: now, UpdatedAt: now, UpdatedBy: subject(ctx)}
	entry, err := s.entry(ctx, orgID, "create", now, g.ID, nil, f)
	if err != nil {
		return Group{}, err
	}
	var retry optimistic.Retry
	for {
		again, err := outcome(ctx, &retry, s.store.CreateGroup(ctx, g, entry), "", func(err error) error {
			switch {
			case errors.Is(err, tags.ErrNameTaken):
				return groupNameTaken(f.Name)
			case errors.Is(err, tags.ErrLimit):
				return problem.New(problem.Conflict, "the organisation has %d tag groups, the most it may have; delete one first", tags.MaxGroups)
			}
			return nil
		})
		if !again {
			if err != nil {
				return Group{}, err
			}
			return g, nil
		}
	}
}

// GroupMutation turns a group's current fields into the next ones.
type GroupMutation func(cur GroupFields) (GroupFields, error)

// UpdateGroup applies mutate to the group, as businessunits.Service.Update does to a unit.
func (s *Service) UpdateGroup(ctx context.Context, orgID, id, ifMatch string, mutate GroupMutation) (Group, error) {
	var retry optimistic.Retry
	for {
		cur, err := s.group(ctx, orgID, id)
		if err != nil {
			return Group{}, err
		}
		if err := precondition(ifMatch, cur.Version); err != nil {
			return Group{}, err
		}
		f, err := mutate(groupFields(cur))
		if err != nil {
			return Group{}, err
		}
		f.Prepare()
		if err := f.Validate(); err != nil {
			return Group{}, err
		}
		now := s.stamp()
		entry, err := s.entry(ctx, orgID, "patch", now, id, groupFields(cur), f)
		if err != nil || len(entry.Changes) == 0 {
			return cur, err
		}
		next := cur
		next.Name, next.NameKey, next.Version, next.UpdatedAt, next.UpdatedBy = f.Name, caseless.Key(f.Name), cur.Version+1, now, subject(ctx)
		again, err := outcome(ctx, &retry, s.store.UpdateGroup(ctx, cur, next, entry), ifMatch, func(err error) error {
			if errors.Is(err, tags.ErrNameTaken) {
				return groupNameTaken(f.Name)
			}
			return nil
		})
		if !again {
			if err != nil {
				return Group{}, err
			}
			return next, nil
		}
	}
}

// DeleteGroup removes the group. While it holds tags it is a problem.Conflict whose
// "tags" extension lists them (at most MaxListedTags).
func (s *Service) DeleteGroup(ctx context.Context, orgID, id, ifMatch string) error {
	var retry optimistic.Retry
	for {
		cur, err := s.group(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := precondition(ifMatch, cur.Version); err != nil {
			return err
		}
		if cur.Tags > 0 {
			return s.groupInUse(ctx, cur)
		}
		now := s.stamp()
		entry, err := s.entry(ctx, orgID, "delete", now, id, groupFields(cur), nil)
		if err != nil {
			return err
		}
		again, err := outcome(ctx, &retry, s.store.DeleteGroup(ctx, cur, entry), ifMatch, func(error) error { return nil })
		if !again {
			return err
		}
	}
}

func (s *Service) groupInUse(ctx context.Context, g Group) error {
	in, err := s.Tags(ctx, g.OrgID, Filter{GroupID: g.ID})
	if err != nil {
		return err
	}
	listed := []string{}
	for _, t := range in[:min(len(in), MaxListedTags)] {
		listed = append(listed, t.ID)
	}
	what := "tags; delete them or move them"
	if g.Tags == 1 {
		what = "tag; delete it or move it"
	}
	return problem.New(problem.Conflict, "tag group %q holds %d %s to another group first", g.Name, g.Tags, what).
		With("tags", listed)
}

func (s *Service) tagErrors(f TagFields) func(error) error {
	return func(err error) error {
		switch {
		case errors.Is(err, tags.ErrNoGroup):
			return noGroup()
		case errors.Is(err, tags.ErrNameTaken):
			return tagNameTaken(f.Name)
		case errors.Is(err, tags.ErrLimit):
			return problem.New(problem.Conflict, "the organisation has %d tags, the most it may have; delete one first", tags.MaxTags)
		}
		return nil
	}
}

func (f TagFields) apply(t *Tag) {
	t.Name, t.NameKey, t.AppliesTo, t.GroupID, t.Color = f.Name, caseless.Key(f.Name), f.AppliesTo, "", ""
	if f.GroupID != nil {
		t.GroupID = *f.GroupID
	}
	if f.Color != nil {
		t.Color = *f.Color
	}
}

// CreateTag validates f and stores a new tag: problem.Invalid listing every failing field
// (a group that does not exist is one), problem.Conflict when the name is taken or the
// organisation has MaxTags tags.
func (s *Service) CreateTag(ctx context.Context, orgID string, f TagFields) (Tag, error) {
	if err := tags.CheckOrg(orgID); err != nil {
		return Tag{}, err
	}
	f.Prepare()
	if err := f.Validate(); err != nil {
		return Tag{}, err
	}
	now := s.stamp()
	t := Tag{OrgID: orgID, ID: ids.New(tags.TagIDPrefix), Version: 1, CreatedAt: now, UpdatedAt: now, UpdatedBy: subject(ctx)}
	f.apply(&t)
	entry, err := s.entry(ctx, orgID, "create", now, t.ID, nil, f)
	if err != nil {
		return Tag{}, err
	}
	var retry optimistic.Retry
	for {
		again, err := outcome(ctx, &retry, s.store.CreateTag(ctx, t, entry), "", s.tagErrors(f))
		if !again {
			if err != nil {
				return Tag{}, err
			}
			return t, nil
		}
	}
}

// TagMutation turns a tag's current fields into the next ones.
type TagMutation func(cur TagFields) (TagFields, error)

// UpdateTag applies mutate to the tag, as businessunits.Service.Update does to a unit; a
// group that does not exist is a problem.Invalid on groupId.
func (s *Service) UpdateTag(ctx context.Context, orgID, id, ifMatch string, mutate TagMutation) (Tag, error) {
	var retry optimistic.Retry
	for {
		cur, err := s.Tag(ctx, orgID, id)
		if err != nil {
			return Tag{}, err
		}
		if err := precondition(ifMatch, cur.Version); err != nil {
			return Tag{}, err
		}
		f, err := mutate(tagFields(cur))
		if err != nil {
			return Tag{}, err
		}
		f.Prepare()
		if err := f.Validate(); err != nil {
			return Tag{}, err
		}
		now := s.stamp()
		entry, err := s.entry(ctx, orgID, "patch", now, id, tagFields(cur), f)
		if err != nil || len(entry.Changes) == 0 {
			return cur, err
		}
		next := cur
		f.apply(&next)
		next.Version, next.UpdatedAt, next.UpdatedBy = cur.Version+1, now, subject(ctx)
		again, err := outcome(ctx, &retry, s.store.UpdateTag(ctx, cur, next, entry), ifMatch, s.tagErrors(f))
		if !again {
			if err != nil {
				return Tag{}, err
			}
			return next, nil
		}
	}
}

// DeleteTag removes the tag (and its count in its group).
func (s *Service) DeleteTag(ctx context.Context, orgID, id, ifMatch string) error {
	var retry optimistic.Retry
	for {
		cur, err := s.Tag(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := precondition(ifMatch, cur.Version); err != nil {
			return err
		}
		now := s.stamp()
		entry, err := s.entry(ctx, orgID, "delete", now, id, tagFields(cur), nil)
		if err != nil {
			return err
		}
		again, err := outcome(ctx, &retry, s.store.DeleteTag(ctx, cur, entry), ifMatch, func(error) error { return nil })
		if !again {
			return err
		}
	}
}
