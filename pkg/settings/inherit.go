package settings

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/problem"
)

// Inheritance (API.md "Organisations and inheritance"). An organisation's record holds
// only the top-level fields it overrides (Record.Data) and the fields it locks for its
// descendants (Record.Locked). The document in effect for an organisation is computed
// from the records of its path, root first: the defaults, then each organisation's
// overrides in turn, except that once an organisation locks a field, the overrides of
// its descendants for that field are ignored. A root's record is its whole story: its
// overrides over the defaults (a record saved before sub-organisations existed holds
// every field, so every field counts as the root's own).

// SourceDefault is the source of a field no organisation of the path sets.
const SourceDefault = "default"

// resolved is the effective state of one area for the last organisation of a path.
type resolved struct {
	doc      map[string]json.RawMessage // the effective top-level fields
	sources  map[string]string          // field -> the organisation whose value is in effect, or SourceDefault
	lockedBy map[string]string          // field -> the ancestor that locks it (not the organisation itself)
	own      map[string]json.RawMessage // the organisation's own overrides
	locked   []string                   // the organisation's own locks
}

// fieldsOf returns the top-level members of a JSON object (nil data: none).
func fieldsOf(data json.RawMessage) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(data) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// resolve computes the effective fields of the last organisation of recs (its path's
// records, root first) over defaults (the area's default document as top-level fields).
// known is the area's top-level fields (those the default leaves out included); stored
// fields that are not the area's (left by an older version) are ignored.
func resolve(defaults map[string]json.RawMessage, known map[string]bool, recs []Record) (resolved, error) {
	r := resolved{doc: maps.Clone(defaults), sources: make(map[string]string, len(known)), lockedBy: map[string]string{}}
	for k := range known {
		r.sources[k] = SourceDefault
	}
	for i, rec := range recs {
		own, err := fieldsOf(rec.Data)
		if err != nil {
			return resolved{}, problem.Wrap(problem.Internal, err, "stored settings are unreadable")
		}
		for k, v := range own {
			if !known[k] {
				delete(own, k)
				continue
			}
			if _, locked := r.lockedBy[k]; locked {
				continue
			}
			r.doc[k], r.sources[k] = v, rec.OrgID
		}
		if i == len(recs)-1 {
			r.own, r.locked = own, rec.Locked
			break
		}
		for _, k := range rec.Locked {
			if _, already := r.lockedBy[k]; !already {
				if known[k] {
					r.lockedBy[k] = rec.OrgID
				}
			}
		}
	}
	return r, nil
}

// checkLocked validates a new list of locked fields: names of the area's top-level fields
// (fields), each once, server-owned ones excluded. Errors are problem.Invalid on
// locked[i].
func checkLocked(locked []string, fields map[string]bool, readOnly []string) error {
	var f problem.Fields
	seen := map[string]int{}
	for i, k := range locked {
		name := "locked[" + strconv.Itoa(i) + "]"
		field := fields[k]
		switch {
		case !field || slices.Contains(readOnly, k):
			f.Add(name, "is not a field of the area that can be locked")
		default:
			if j, dup := seen[k]; dup {
				f.Add(name, "repeats locked[%d]", j)
			}
			seen[k] = i
		}
	}
	return f.Err()
}

// inheritanceChanges returns the audit changes of fields whose inheritance changed from
// own to next (overridden to inherited or back), with the effective values before and
// after (redacted for secret fields), and drops from changes the value changes under
// those fields (the inheritance change carries them).
func inheritanceChanges(changes []audit.Change, own, next, before, after map[string]json.RawMessage, secret []string) []audit.Change {
	var moved []string
	for k := range own {
		if _, still := next[k]; !still {
			moved = append(moved, k)
		}
	}
	for k := range next {
		if _, was := own[k]; !was {
			moved = append(moved, k)
		}
	}
	if len(moved) == 0 {
		return changes
	}
	slices.Sort(moved)
	out := slices.DeleteFunc(changes, func(c audit.Change) bool {
		for _, k := range moved {
			if c.Field == k || len(c.Field) > len(k) && c.Field[:len(k)+1] == k+"." {
				return true
			}
		}
		return false
	})
	null := json.RawMessage("null")
	for _, k := range moved {
		c := audit.Change{Field: k, From: before[k], To: after[k], Became: audit.BecameInherited}
		if _, now := next[k]; now {
			c.Became = audit.BecameOverridden
		}
		if c.From == nil {
			c.From = null
		}
		if c.To == nil {
			c.To = null
		}
		for _, s := range secret {
			if s == k || len(s) > len(k) && s[:len(k)+1] == k+"." {
				c.From, c.To = audit.Redacted, audit.Redacted
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b audit.Change) int {
		switch {
		case a.Field < b.Field:
			return -1
		case a.Field > b.Field:
			return 1
		}
		return 0
	})
	return out
}

// sameFields reports whether two sets of top-level fields hold the same JSON values.
func sameFields(a, b map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(compact(v), compact(w)) {
			return false
		}
	}
	return true
}

// compact returns v without insignificant white space (v itself when it has none or is
// not JSON).
func compact(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}

// jsonFields returns the top-level JSON member names of values of type t (a struct, or a
// pointer to one): each exported field's name or json tag name, embedded structs' fields
// included.
func jsonFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "":
			maps.Copy(out, jsonFields(f.Type))
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		out[name] = true
	}
	return out
}
