// Package tags keeps an organisation's tags and tag groups (API.md "Business units and
// tags"): a tag labels users, chats or both, may have a colour and may sit in a group;
// tag names are unique among the organisation's tags and group names among its groups,
// case-insensitively (freetext.Fold).
//
// This package is the port: the records and the Store (with the contract suite in
// tagstest, passed by package dynamo and package bolt). A store keeps each name key's
// uniqueness item (the record's NameKey, caseless.Key of its name) in the same
// transaction as the tag or group, and every create, change and delete with its audit
// entry (area "tags"). A group counts its tags in the same transactions that add a tag to
// it or take one out, so a group's delete, conditional on that count being 0, can never
// drop a group that still holds a tag, even when the two race. The rules (validation,
// If-Match, retries of writes that lost a race, the audit entries, the refusal to delete
// a group that holds tags) are package tagsfn's service. app.Deps names this package, so
// every function links it: it holds no rules and imports no tables.
package tags

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
)

// Area is the audit area of tags and tag groups.
const Area = "tags"

// Id prefixes (package ids: the prefix, "_" and 26 base32 characters).
const (
	GroupIDPrefix = "tg"
	TagIDPrefix   = "tag"
)

// Bounds.
const (
	// MaxTags bounds an organisation's tags. Agents pick tags from a list while they
	// chat; well before two thousand such a list is past use, and 2,000 keeps the whole
	// list one answer (about 0.5 MB, one DynamoDB Query page).
	MaxTags = 2000
	// MaxGroups bounds an organisation's tag groups, which organise the tag list: 200
	// groups would average 10 tags each at MaxTags.
	MaxGroups = 200
	// MaxNameChars bounds tag and group names, in characters (API.md).
	MaxNameChars = 50
)

// What a tag applies to.
const (
	AppliesToUsers = "users"
	AppliesToChats = "chats"
	AppliesToBoth  = "both"
)

// AppliesTo lists the values of a tag's appliesTo.
var AppliesTo = []string{AppliesToUsers, AppliesToChats, AppliesToBoth}

// Group is a stored tag group.
type Group struct {
	OrgID string
	ID    string
	Name  string // trimmed, NFC
	// NameKey is caseless.Key(Name), the name's uniqueness key (set by the service).
	NameKey string
	// Tags counts the tags in the group; the group cannot be deleted while it is above 0.
	Tags      int
	Version   int64 // 1 when created, +1 per change (not per tag added or removed)
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
}

// Tag is a stored tag.
type Tag struct {
	OrgID     string
	ID        string
	Name      string // trimmed, NFC
	NameKey   string // caseless.Key(Name), set by the service
	GroupID   string // "" when in no group
	AppliesTo string // users, chats or both
	Color     string // "" or #RRGGBB, upper-case
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
}

// errColor is the message of a colour that does not parse.
var errColor = errors.New("must be a colour written #RRGGBB (six hexadecimal digits), or null for none")

// ParseColor reads a colour written "#RRGGBB": "#" and exactly six hexadecimal digits,
// either case, nothing around them. It returns the colour in upper case ("#1A2B3C").
func ParseColor(s string) (string, error) {
	if len(s) != 7 || s[0] != '#' {
		return "", errColor
	}
	b := []byte(s)
	for i := 1; i < 7; i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			b[i] = c - 'a' + 'A'
		default:
			return "", errColor
		}
	}
	return string(b), nil
}

// Errors of the Store. Each means nothing was written.
var (
	// ErrNameTaken: another tag (or group) of the organisation has the name key: the same
	// name regardless of case.
	ErrNameTaken = errors.New("tags: the name is taken")
	// ErrLimit: the organisation has MaxTags tags (or MaxGroups groups) already.
	ErrLimit = errors.New("tags: the organisation has the most it may have")
	// ErrNoGroup: the tag's group does not exist.
	ErrNoGroup = errors.New("tags: no such tag group")
	// ErrChanged: the stored tag or group is not at the version the write was based on,
	// or is gone. (A problem.Conflict, which is what a client sees when retries run out.)
	ErrChanged = problem.New(problem.Conflict, "the tag or tag group was changed by someone else at the same time; reload it and try again")
	// ErrGroupNotEmpty: the group holds tags, so it cannot be deleted.
	ErrGroupNotEmpty = problem.New(problem.Conflict, "the tag group holds tags; delete them or move them to another group first")
)

// Store keeps tags and tag groups. Adapters: package dynamo and package bolt; both pass
// the contract suite in package tagstest. Every method refuses an organisation, tag or
// group id that is not valid (package ids) with a problem.NotFound error. A write that
// collided with a concurrent transaction returns an error matching
// optimistic.ErrContended, having written nothing. Reads are strongly consistent.
type Store interface {
	// Groups returns every group of the organisation (at most MaxGroups), in no set order.
	Groups(ctx context.Context, orgID string) ([]Group, error)
	// Group returns a group; found is false when there is none.
	Group(ctx context.Context, orgID, id string) (g Group, found bool, err error)
	// CreateGroup stores g (Version 1, Tags 0) with its name's uniqueness item and its
	// audit entry in one transaction: ErrNameTaken, ErrLimit, or everything.
	CreateGroup(ctx context.Context, g Group, entry audit.Entry) error
	// UpdateGroup replaces prev with next (the Tags count left as stored) on condition
	// that the stored version is still prev.Version: ErrChanged, ErrNameTaken, or
	// everything.
	UpdateGroup(ctx context.Context, prev, next Group, entry audit.Entry) error
	// DeleteGroup removes g and its uniqueness item on condition that the stored version
	// is still g.Version and the group holds no tag: ErrChanged, ErrGroupNotEmpty, or
	// everything.
	DeleteGroup(ctx context.Context, g Group, entry audit.Entry) error

	// Tags returns every tag of the organisation (at most MaxTags), in no set order.
	Tags(ctx context.Context, orgID string) ([]Tag, error)
	// Tag returns a tag; found is false when there is none.
	Tag(ctx context.Context, orgID, id string) (t Tag, found bool, err error)
	// CreateTag stores t (Version 1) with its uniqueness item, one more tag counted in its
	// group (when it has one) and its audit entry: ErrNoGroup, ErrNameTaken, ErrLimit
	// (reported in that order when several hold), or everything.
	CreateTag(ctx context.Context, t Tag, entry audit.Entry) error
	// UpdateTag replaces prev with next on condition that the stored version is still
	// prev.Version, moving the uniqueness item on a rename and the count from group to
	// group on a move: ErrChanged, ErrNoGroup (next's group does not exist), ErrNameTaken,
	// or everything.
	UpdateTag(ctx context.Context, prev, next Tag, entry audit.Entry) error
	// DeleteTag removes t, its uniqueness item and its count in its group, on condition
	// that the stored version is still t.Version: ErrChanged, or everything.
	DeleteTag(ctx context.Context, t Tag, entry audit.Entry) error
}

// CheckOrg returns a problem.NotFound error unless orgID is a valid id.
func CheckOrg(orgID string) error {
	if !ids.Valid(orgID) {
		return problem.New(problem.NotFound, "organisation not found")
	}
	return nil
}

// CheckKeys returns a problem.NotFound error unless orgID and id (of a tag or a group:
// what names which) are valid ids; stores call it first.
func CheckKeys(what, orgID, id string) error {
	if err := CheckOrg(orgID); err != nil {
		return err
	}
	if !ids.Valid(id) {
		return problem.New(problem.NotFound, "%s not found", what)
	}
	return nil
}

func checkEntry(orgID, kind, id string, entry audit.Entry) error {
	if entry.OrgID != orgID || entry.Area != Area || !audit.ValidID(entry.ID) {
		return fmt.Errorf("tags: audit entry %q of org %q area %q does not belong to the change of %s %s", entry.ID, entry.OrgID, entry.Area, kind, id)
	}
	return nil
}

// CheckGroup checks what a store is asked to write: valid keys, a stored name, and an
// audit entry of the group's organisation and area. It returns a plain error (a bug,
// not a client's mistake) otherwise, or the problem.NotFound of CheckKeys.
func CheckGroup(g Group, entry audit.Entry) error {
	if err := CheckKeys("tag group", g.OrgID, g.ID); err != nil {
		return err
	}
	if g.Name == "" || !utf8.ValidString(g.Name) || !validNameKey(g.NameKey) || g.Version < 1 || g.Tags < 0 {
		return fmt.Errorf("tags: group %s of %s is not a valid record (version %d)", g.ID, g.OrgID, g.Version)
	}
	return checkEntry(g.OrgID, "group", g.ID, entry)
}

// CheckTag is CheckGroup for a tag: its group, when set, must be a valid id, its
// appliesTo one of AppliesTo, its colour "" or parsed.
func CheckTag(t Tag, entry audit.Entry) error {
	if err := CheckKeys("tag", t.OrgID, t.ID); err != nil {
		return err
	}
	bad := t.Name == "" || !utf8.ValidString(t.Name) || !validNameKey(t.NameKey) || t.Version < 1 || (t.GroupID != "" && !ids.Valid(t.GroupID))
	switch t.AppliesTo {
	case AppliesToUsers, AppliesToChats, AppliesToBoth:
	default:
		bad = true
	}
	if c, err := ParseColor(t.Color); t.Color != "" && (err != nil || c != t.Color) {
		bad = true
	}
	if bad {
		return fmt.Errorf("tags: tag %s of %s is not a valid record (version %d)", t.ID, t.OrgID, t.Version)
	}
	return checkEntry(t.OrgID, "tag", t.ID, entry)
}

// validNameKey reports whether k has the form of caseless.Key: 64 lower-case hex digits.
// (Checked here rather than by importing package caseless, whose tables every function
// would then link.)
func validNameKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
