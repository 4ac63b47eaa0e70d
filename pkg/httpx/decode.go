package httpx

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/problem"
)

// Media types accepted by the write routes.
const (
	MediaJSON       = "application/json"
	MediaMergePatch = "application/merge-patch+json"
)

// ReadBody reads the whole request body, refusing more than limit bytes. A body over the
// limit is tooBig (problem.BadRequest for JSON bodies, problem.TooLarge for uploads).
func ReadBody(r *http.Request, limit int64, tooBig problem.Code) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, problem.New(tooBig, "body is larger than %d bytes", limit)
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, problem.Wrap(problem.BadRequest, err, "could not read the request body")
	}
	if int64(len(data)) > limit {
		return nil, problem.New(tooBig, "body is larger than %d bytes", limit)
	}
	return data, nil
}

// RequireMediaType checks the request's Content-Type against the allowed media types
// (parameters such as charset are ignored) and returns problem.UnsupportedMedia otherwise.
func RequireMediaType(r *http.Request, allowed ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, a := range allowed {
			if strings.EqualFold(mt, a) {
				return nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	}
	return problem.New(problem.UnsupportedMedia, "content type %s is not accepted here; send %s", ct, strings.Join(allowed, " or "))
}

// ReadJSON checks the media type and reads a JSON body of at most MaxJSONBody bytes.
func ReadJSON(r *http.Request, mediaTypes ...string) ([]byte, error) {
	if err := RequireMediaType(r, mediaTypes...); err != nil {
		return nil, err
	}
	return ReadBody(r, MaxJSONBody, problem.BadRequest)
}

// Unmarshal decodes one JSON object strictly into dst: unknown fields, wrong types,
// malformed JSON and trailing data are problem.BadRequest errors naming the field.
//
// Object keys must match the JSON names of dst's fields exactly (encoding/json alone
// matches them case-insensitively), an object may not repeat a key, and objects and
// arrays nest at most maxDepth (64) levels. A wrongly cased or unknown key is reported as
// an unknown field, by its dotted path (array indices left out, map keys kept). Values
// decoded by a json.Unmarshaler or encoding.TextUnmarshaler (json.RawMessage, time.Time)
// and values of interface type are not checked for names, only for duplicate keys; so a
// pointer that an interface field of dst already holds, which encoding/json decodes
// into, is not checked either.
func Unmarshal(data []byte, dst any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return problem.New(problem.BadRequest, "body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		return problem.New(problem.BadRequest, "body must be a JSON object")
	}
	if err := checkNames(data, reflect.TypeOf(dst)); err != nil {
		return err
	}
	// The walk has checked the syntax, the names and that there is one value; the
	// decoder checks the types. DisallowUnknownFields stays as a second line.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	return nil
}

// HasMember reports whether data, one JSON object, has a member named name exactly (no
// case folding), whatever its value: null included, which decodes like a missing member
// into a pointer, so that a required member that may be null can be told from an absent
// one. It is false for anything but a JSON object.
func HasMember(data []byte, name string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	_, ok := m[name]
	return ok
}

func decodeProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && strings.HasSuffix(syn.Error(), "exceeded max depth"):
		return problem.New(problem.BadRequest, "body is nested too deeply (more than %d levels)", maxDepth)
	case errors.As(err, &syn):
		return problem.New(problem.BadRequest, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.BadRequest, "malformed JSON: unexpected end of body")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &problem.Error{Code: problem.BadRequest, Message: "a field has the wrong type",
			Fields: []problem.FieldError{{Field: field, Message: "must be " + kindName(typ.Type) + ", not " + typ.Value}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &problem.Error{Code: problem.BadRequest, Message: "unknown field",
			Fields: []problem.FieldError{{Field: name, Message: "unknown field"}}}
	}
	return problem.Wrap(problem.BadRequest, err, "malformed JSON")
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return fmt.Sprintf("a %s", t.Kind())
}

// MergePatch applies an RFC 7396 JSON merge patch to doc and returns the result. The
// patch must be one JSON object without duplicate keys at any level, nested at most
// maxDepth levels (problem.BadRequest otherwise). Keys merge by exact name; the caller
// decodes the result with Unmarshal, so a wrongly cased key becomes an unknown field.
func MergePatch(doc, patch []byte) ([]byte, error) {
	var d, p any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("merge patch: stored document: %w", err)
	}
	trimmed := bytes.TrimSpace(patch)
	if len(trimmed) == 0 {
		return nil, problem.New(problem.BadRequest, "body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		return nil, problem.New(problem.BadRequest, "a merge patch must be a JSON object")
	}
	if err := checkNames(patch, nil); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, decodeProblem(err)
	}
	return json.Marshal(mergeValue(d, p))
}

func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}

// maxDepth bounds the nesting of objects and arrays in a body, so that a hostile body
// cannot exhaust the stack of the name check (the body is at most MaxJSONBody bytes).
const maxDepth = 64

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkNames checks data, one JSON value, against the Go type t (nil: any value) and
// returns a problem.BadRequest error for malformed JSON, data after the value, a key
// that is not the exact JSON name of a field of the struct it lands in, a key repeated in
// one object, or nesting deeper than maxDepth. It does not check the types of values:
// encoding/json does that when it decodes.
func checkNames(data []byte, t reflect.Type) error {
	// Checking the syntax first, without allocating, lets the walk below read valid JSON
	// byte by byte (json.Decoder.Token allocates for every value: three times slower).
	if !json.Valid(data) {
		return syntaxProblem(data)
	}
	w := walker{data: data}
	w.space()
	return w.value(t, 0)
}

// syntaxProblem explains why data, which is not one valid JSON value, was refused.
func syntaxProblem(data []byte) error {
	var raw json.RawMessage
	err := json.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err == nil {
		return problem.New(problem.BadRequest, "body must hold exactly one JSON object")
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return decodeProblem(err)
}

// walker is one walk of checkNames over valid JSON.
type walker struct {
	data []byte
	pos  int
	path [][]byte // the quoted keys from the top to the current value
}

// space skips white space.
func (w *walker) space() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// value walks the value at pos, for Go type t, inside depth containers.
func (w *walker) value(t reflect.Type, depth int) error {
	switch w.data[w.pos] {
	case '{', '[':
		if depth >= maxDepth {
			return problem.New(problem.BadRequest, "body is nested too deeply (more than %d levels)", maxDepth)
		}
		if w.data[w.pos] == '{' {
			return w.object(shapeOf(t), depth+1)
		}
		return w.array(shapeOf(t), depth+1)
	case '"':
		w.str()
	default: // a number, true, false or null: its type is encoding/json's business
		for w.pos < len(w.data) {
			switch w.data[w.pos] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return nil
			}
			w.pos++
		}
	}
	return nil
}

// str skips the string at pos and returns what is between its quotes and whether that
// holds an escape.
func (w *walker) str() (raw []byte, escaped bool) {
	start := w.pos + 1
	for i := start; ; i++ {
		switch w.data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			w.pos = i + 1
			return w.data[start:i], escaped
		}
	}
}

// array walks the elements of the array at pos, up to and including its bracket.
func (w *walker) array(s *shape, depth int) error {
	var elem reflect.Type // any value, unless t is a slice or array
	if s.kind == shapeList {
		elem = s.elem
	}
	w.pos++
	w.space()
	if w.data[w.pos] == ']' {
		w.pos++
		return nil
	}
	for {
		if err := w.value(elem, depth); err != nil {
			return err
		}
		w.space()
		w.pos++
		if w.data[w.pos-1] == ']' {
			return nil
		}
		w.space()
	}
}

// object walks the members of the object at pos, up to and including its brace.
func (w *walker) object(s *shape, depth int) error {
	var fields fieldSet
	var keys keySet
	w.pos++
	w.space()
	if w.data[w.pos] == '}' {
		w.pos++
		return nil
	}
	for {
		start := w.pos
		key, escaped := w.str()
		quoted := w.data[start:w.pos]
		if escaped || !utf8.Valid(key) {
			key = unquote(quoted) // as encoding/json reads it
		}
		w.space()
		w.pos++ // :
		w.space()
		var t reflect.Type // any value, unless the key names a field or map element
		switch s.kind {
		case shapeStruct:
			i, ok := s.names[string(key)]
			if !ok {
				return w.fail(quoted, "unknown field")
			}
			if fields.add(i) {
				return w.fail(quoted, "duplicate field")
			}
			t = s.types[i]
		case shapeMap:
			t = s.elem
			if keys.add(canonicalKey(key, s.keyKind)) {
				return w.fail(quoted, "duplicate field")
			}
		default:
			if keys.add(key) {
				return w.fail(quoted, "duplicate field")
			}
		}
		w.path = append(w.path, quoted)
		if err := w.value(t, depth); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		w.space()
		w.pos++
		if w.data[w.pos-1] == '}' {
			return nil
		}
		w.space()
	}
}

// unquote returns the string a quoted JSON string holds, as encoding/json reads it
// (invalid UTF-8 becomes U+FFFD).
func unquote(quoted []byte) []byte {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return quoted // not reached: the walk reads valid JSON
	}
	return []byte(s)
}

// fail returns the error for the key quoted at the current path: the dotted path of
// object keys, array indices left out.
func (w *walker) fail(quoted []byte, msg string) error {
	parts := make([]string, 0, len(w.path)+1)
	for _, q := range append(w.path, quoted) {
		parts = append(parts, string(unquote(q)))
	}
	return &problem.Error{Code: problem.BadRequest, Message: msg,
		Fields: []problem.FieldError{{Field: strings.Join(parts, "."), Message: msg}}}
}

// fieldSet is the set of struct fields (by index) seen in one object.
type fieldSet struct {
	low  uint64
	high []uint64 // fields 64 and up, rare
}

// add adds field i and reports whether it was there already.
func (f *fieldSet) add(i int) bool {
	word := &f.low
	if i >= 64 {
		j := i/64 - 1
		for len(f.high) <= j {
			f.high = append(f.high, 0)
		}
		word = &f.high[j]
	}
	bit := uint64(1) << (i % 64)
	dup := *word&bit != 0
	*word |= bit
	return dup
}

// keySet is the set of keys seen in one object of a map or untyped value: a short list,
// turned into a map when the object is large.
type keySet struct {
	list [][]byte
	m    map[string]struct{}
}

// add adds key and reports whether it was there already.
func (k *keySet) add(key []byte) bool {
	if k.m == nil {
		for _, s := range k.list {
			if bytes.Equal(s, key) {
				return true
			}
		}
		if len(k.list) < 16 {
			k.list = append(k.list, key)
			return false
		}
		k.m = make(map[string]struct{}, 2*len(k.list))
		for _, s := range k.list {
			k.m[string(s)] = struct{}{}
		}
		k.list = nil
	}
	if _, ok := k.m[string(key)]; ok {
		return true
	}
	k.m[string(key)] = struct{}{}
	return false
}

// canonicalKey returns the key under which encoding/json stores key in a map whose key
// kind is kind: integer keys "1", "01" and "+1" are the same key. A key that is not an
// integer is returned as is (encoding/json rejects it).
func canonicalKey(key []byte, kind reflect.Kind) []byte {
	switch kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(string(key), 10, 64); err == nil {
			return strconv.AppendInt(nil, n, 10)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(string(key), 10, 64); err == nil {
			return strconv.AppendUint(nil, n, 10)
		}
	}
	return key
}

// A shape is what the walk needs to know of a Go type.
type shape struct {
	kind    shapeKind
	elem    reflect.Type   // shapeMap, shapeList: the element type
	keyKind reflect.Kind   // shapeMap: the key kind if integer keys are parsed, else Invalid
	names   map[string]int // shapeStruct: exact JSON name -> index in types
	types   []reflect.Type // shapeStruct: the field types
}

type shapeKind uint8

const (
	shapeAny    shapeKind = iota // names unchecked: interfaces, scalars, self-decoding types
	shapeStruct                  // keys must be field names
	shapeMap                     // any key; values of the element type
	shapeList                    // slices and arrays; elements of the element type
)

var (
	anyShape = &shape{}
	shapes   sync.Map // reflect.Type -> *shape
)

// shapeOf returns the (cached) shape of t; nil is any value.
func shapeOf(t reflect.Type) *shape {
	if t == nil {
		return anyShape
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s, _ := shapes.LoadOrStore(t, newShape(t))
	return s.(*shape)
}

func newShape(t reflect.Type) *shape {
	for {
		if decodesItself(t) {
			return anyShape
		}
		if t.Kind() != reflect.Pointer {
			break
		}
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := jsonFields(t)
		s := &shape{kind: shapeStruct, names: make(map[string]int, len(fields)), types: make([]reflect.Type, len(fields))}
		for i, f := range fields {
			s.names[f.name] = i
			s.types[i] = f.typ
		}
		return s
	case reflect.Map:
		s := &shape{kind: shapeMap, elem: t.Elem()}
		if !reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
			s.keyKind = t.Key().Kind()
		}
		return s
	case reflect.Slice, reflect.Array:
		return &shape{kind: shapeList, elem: t.Elem()}
	}
	return anyShape
}

// decodesItself reports whether encoding/json hands a value of type t (addressable, as
// every value under a pointer is) to a json.Unmarshaler or encoding.TextUnmarshaler.
func decodesItself(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		if t.Name() == "" {
			return false // encoding/json takes the address of named types only
		}
		t = reflect.PointerTo(t)
	}
	return t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType)
}

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
}

// jsonFields returns the fields encoding/json decodes into for struct type t, with the
// rules of its typeFields: exported fields (and the exported fields of embedded structs,
// exported or not), named by a valid json tag or else the Go name, json:"-" skipped;
// fields of embedded structs are promoted unless a shallower field, or at the same
// depth a tagged one, has the same name; an ambiguous name names no field.
func jsonFields(t reflect.Type) []jsonField {
	var current []jsonField
	next := []jsonField{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []jsonField
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := range f.typ.NumField() {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !isValidTag(name) {
					name = ""
				}
				index := append(slices.Clip(f.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, jsonField{name: name, tagged: tagged, index: index, typ: sf.Type})
					if count[f.typ] > 1 {
						// Two embeddings of one type at one depth: let the
						// dominance rule below see the name twice.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, jsonField{name: ft.Name(), index: index, typ: ft})
				}
			}
		}
	}
	slices.SortFunc(fields, func(a, b jsonField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		// The first field dominates, unless the second is as shallow and as tagged.
		if j-i == 1 || len(fields[i].index) != len(fields[i+1].index) || fields[i].tagged != fields[i+1].tagged {
			out = append(out, fields[i])
		}
		i = j
	}
	return out
}

// isValidTag is encoding/json's test of a json tag name.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
