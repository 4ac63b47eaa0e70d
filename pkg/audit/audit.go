// Package audit is the audit model every feature writes through: an entry (who, when,
// which area, what action, field-level changes, the request), the diff that computes the
// changes of a JSON document with secret fields redacted, time-ordered entry ids, the
// query and page of a listing, and the authenticated cursors that let clients page
// through it. Settings areas, and later agents, roles and the WebChat secret, all audit
// through it; package auditfn serves the log.
package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/convrs/admin/pkg/problem"
)

// Listing limits.
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// Change is one field-level difference recorded in an entry. From and To are JSON values;
// "null" means the field was absent.
type Change struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from"`
	To    json.RawMessage `json:"to"`
	// Became, in a sub-organisation's settings change, says whether the field became
	// "overridden" (the organisation's own value) or "inherited" (its ancestors' value or
	// the default); empty when the field stayed as it was.
	Became string `json:"became,omitempty"`
}

// What a field became in an inheritance change (Change.Became).
const (
	BecameOverridden = "overridden"
	BecameInherited  = "inherited"
)

// Entry records one change: who, when, which area, what changed, and the request.
type Entry struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Area      string    `json:"area"`
	Action    string    `json:"action"`
	Changes   []Change  `json:"changes"`
	RequestID string    `json:"requestId"`
}

// Query selects a page of an organisation's audit log, newest first.
type Query struct {
	Area  string // "" for every area
	Limit int    // 1-100
	// After is the id of the last entry of the previous page ("" for the first page): the
	// page holds the entries older than it. Clients never see it; they hold an opaque,
	// authenticated cursor (Cursors) that carries it.
	After string
}

// Page is one page of entries.
type Page struct {
	Items []Entry
	// More is true when older entries follow the last item.
	More bool
}

// ValidArea reports whether s can be an audit area (a settings area such as
// "office-hours", or "agents", "roles", ...): 1-40 lower-case ASCII letters and "-", so
// that it can never contain a key separator.
func ValidArea(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// Redacted replaces secret material in audit entries.
var Redacted = json.RawMessage(`"[redacted]"`)

var lastNanos atomic.Int64

// NewID returns a new entry id. Ids sort by time (newest last), so a store
// lists newest first by walking ids in descending order. Within one process ids are
// strictly increasing even when the clock does not move, so two changes made in the same
// instant still list in the order they were made.
func NewID(at time.Time) string {
	n := at.UnixNano()
	for {
		last := lastNanos.Load()
		if n <= last {
			n = last + 1
		}
		if lastNanos.CompareAndSwap(last, n) {
			break
		}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%019d-%s", n, hex.EncodeToString(b[:]))
}

// ValidID reports whether id has the form NewID makes.
func ValidID(id string) bool {
	ts, rnd, ok := strings.Cut(id, "-")
	if !ok || len(ts) != 19 || len(rnd) != 12 {
		return false
	}
	for _, c := range ts {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range rnd {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// MinCursorKeyLen is the shortest cursor key accepted, in bytes.
const MinCursorKeyLen = 32

// Cursors issues and checks the opaque cursors of audit listings. A cursor carries the id
// of the last entry of a page and an HMAC-SHA256 over the organisation, the area filter
// and that id, keyed with a per-deployment secret (AUDIT_CURSOR_KEY in AWS, a generated
// file in the local data folder). Without the key nobody can mint a cursor, and a cursor
// issued for one organisation or filter is refused for another.
type Cursors struct {
	key []byte
}

// NewCursors returns the cursor codec for key. It returns an error when key is shorter
// than MinCursorKeyLen bytes.
func NewCursors(key []byte) (Cursors, error) {
	if len(key) < MinCursorKeyLen {
		return Cursors{}, fmt.Errorf("audit cursor key must be at least %d bytes, got %d", MinCursorKeyLen, len(key))
	}
	return Cursors{key: bytes.Clone(key)}, nil
}

// Ready reports whether c has a key (the zero Cursors has none and refuses every cursor).
func (c Cursors) Ready() bool { return len(c.key) >= MinCursorKeyLen }

func (c Cursors) mac(orgID, area, lastID string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("convrs-audit-cursor\x00" + orgID + "\x00" + area + "\x00" + lastID))
	return m.Sum(nil)[:16]
}

// Encode returns the opaque cursor that continues a listing after lastID.
func (c Cursors) Encode(orgID, area, lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastID)) + "." +
		base64.RawURLEncoding.EncodeToString(c.mac(orgID, area, lastID))
}

// Decode returns the audit id a cursor continues after. A cursor that was altered, made
// without the key, or issued for another organisation or area filter is
// problem.BadRequest.
func (c Cursors) Decode(orgID, area, cursor string) (string, error) {
	bad := &problem.Error{Code: problem.BadRequest, Message: "invalid query",
		Fields: []problem.FieldError{{Field: "cursor", Message: "is not a cursor of this listing"}}}
	if len(c.key) == 0 {
		return "", errors.New("settings: audit cursors used without a key")
	}
	idPart, macPart, ok := strings.Cut(cursor, ".")
	if !ok || len(cursor) > 128 || strings.ContainsFunc(cursor, notBase64URL) {
		return "", bad
	}
	id, err1 := base64.RawURLEncoding.Strict().DecodeString(idPart)
	mac, err2 := base64.RawURLEncoding.Strict().DecodeString(macPart)
	if err1 != nil || err2 != nil || !ValidID(string(id)) {
		return "", bad
	}
	if !hmac.Equal(mac, c.mac(orgID, area, string(id))) {
		return "", bad
	}
	return string(id), nil
}

// MaxPositionLen bounds a list position a cursor carries (Seal), in bytes.
const MaxPositionLen = 256

// Seal makes the cursor of a list position other than an audit id (such as a chat list's
// store position) for the list scope of an organisation: the position, readable, and an
// HMAC over organisation, scope and position, so that a client can neither forge nor
// move one to another list. Scopes of other lists must contain a "/" ("chats/open"),
// which no audit area name does.
func (c Cursors) Seal(orgID, scope, position string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(position)) + "." +
		base64.RawURLEncoding.EncodeToString(c.mac(orgID, scope, position))
}

// Open returns the position a cursor made by Seal carries. A cursor that was altered,
// made without the key, or issued for another organisation or scope is
// problem.BadRequest.
func (c Cursors) Open(orgID, scope, cursor string) (string, error) {
	bad := &problem.Error{Code: problem.BadRequest, Message: "invalid query",
		Fields: []problem.FieldError{{Field: "cursor", Message: "is not a cursor of this listing"}}}
	if len(c.key) == 0 {
		return "", errors.New("audit: cursors used without a key")
	}
	posPart, macPart, ok := strings.Cut(cursor, ".")
	if !ok || len(cursor) > 2*MaxPositionLen || strings.ContainsFunc(cursor, notBase64URL) {
		return "", bad
	}
	pos, err1 := base64.RawURLEncoding.Strict().DecodeString(posPart)
	mac, err2 := base64.RawURLEncoding.Strict().DecodeString(macPart)
	if err1 != nil || err2 != nil || len(pos) == 0 || len(pos) > MaxPositionLen {
		return "", bad
	}
	if !hmac.Equal(mac, c.mac(orgID, scope, string(pos))) {
		return "", bad
	}
	return string(pos), nil
}

// notBase64URL reports whether r is outside the unpadded base64url alphabet and the "."
// between a cursor's parts (the decoder itself skips newlines, which would give one cursor
// several spellings).
func notBase64URL(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
}

// Normalize applies the default limit, rejects limits outside 1-100 with
// problem.Invalid, and an After that is not an entry id or an Area that is not an area
// name with problem.BadRequest.
func Normalize(q *Query) error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return &problem.Error{Code: problem.Invalid, Message: "invalid query",
			Fields: []problem.FieldError{{Field: "limit", Message: "must be between 1 and 100"}}}
	}
	if q.After != "" && !ValidID(q.After) {
		return problem.New(problem.BadRequest, "the listing does not continue after %q", q.After)
	}
	if q.Area != "" && !ValidArea(q.Area) {
		return &problem.Error{Code: problem.BadRequest, Message: "invalid query",
			Fields: []problem.FieldError{{Field: "area", Message: "must be a settings area name such as general or office-hours"}}}
	}
	return nil
}

// Diff returns the field-level changes between two JSON objects, as dotted paths sorted
// by name. Arrays and scalars are compared as whole values. Fields listed in secret
// (dotted paths) are reported with both sides redacted.
func Diff(before, after json.RawMessage, secret ...string) ([]Change, error) {
	fb, fa := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	if err := flatten("", before, fb); err != nil {
		return nil, fmt.Errorf("diff: before: %w", err)
	}
	if err := flatten("", after, fa); err != nil {
		return nil, fmt.Errorf("diff: after: %w", err)
	}
	null := json.RawMessage("null")
	var out []Change
	seen := map[string]bool{}
	for _, m := range []map[string]json.RawMessage{fb, fa} {
		for k := range m {
			if seen[k] {
				continue
			}
			seen[k] = true
			from, ok := fb[k]
			if !ok {
				from = null
			}
			to, ok := fa[k]
			if !ok {
				to = null
			}
			if bytes.Equal(from, to) {
				continue
			}
			for _, s := range secret {
				if k == s || strings.HasPrefix(k, s+".") {
					from, to = Redacted, Redacted
				}
			}
			out = append(out, Change{Field: k, From: from, To: to})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out, nil
}

func flatten(prefix string, raw json.RawMessage, out map[string]json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] != '{' {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		canon, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out[prefix] = canon
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if len(m) == 0 && prefix != "" {
		out[prefix] = json.RawMessage("{}")
	}
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if err := flatten(p, v, out); err != nil {
			return err
		}
	}
	return nil
}
