package token

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays in a header or payload. A token is at
// most 4 KiB, so this only keeps a hostile token from recursing two thousand levels deep;
// no real claim set comes near it.
const maxDepth = 32

// jsonError says why a segment is not a JSON object we accept.
type jsonError struct {
	msg string // "is not valid JSON", ...; the caller prefixes "the header"/"the payload"
	dup bool   // the reason is a key given twice: key, decoded
	key string
}

// decodeObject decodes b, which must hold one JSON object, into the values encoding/json
// gives for an `any` (map[string]any, []any, float64, string, bool, nil), and gives the
// same result as json.Unmarshal wherever it succeeds (tested and fuzzed against it). It is
// stricter than json.Unmarshal in three ways: an object that holds a key twice, at any
// depth, is refused (encoding/json keeps the last one, so two "sub" values would be read
// differently by different readers), nesting is bounded by maxDepth, and the top level must
// be an object. Keys are compared after unescaping, so "sub" and "\u0073ub" are the same
// key.
func decodeObject(b []byte) (map[string]any, *jsonError) {
	p := decoder{b: b}
	p.space()
	if p.i >= len(b) || b[p.i] != '{' {
		if json.Valid(b) {
			return nil, &jsonError{msg: "is not a JSON object"}
		}
		return nil, &jsonError{msg: "is not valid JSON"}
	}
	m, ok := p.object()
	if ok {
		p.space()
		if p.i != len(b) {
			ok = false
		}
	}
	if !ok {
		if p.err == nil {
			p.err = &jsonError{msg: "is not valid JSON"}
		}
		return nil, p.err
	}
	return m, nil
}

type decoder struct {
	b     []byte
	i     int
	depth int
	err   *jsonError
}

func (p *decoder) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value decodes the value at p.i (after white space). It reports false on any error, with
// p.err set for the errors that are not plain syntax errors.
func (p *decoder) value() (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		m, ok := p.object()
		return m, ok
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, false
}

func (p *decoder) literal(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

func (p *decoder) nest() bool {
	p.depth++
	if p.depth > maxDepth {
		p.err = &jsonError{msg: "nests objects and arrays more than " + strconv.Itoa(maxDepth) + " levels deep"}
		return false
	}
	return true
}

func (p *decoder) object() (map[string]any, bool) {
	if !p.nest() {
		return nil, false
	}
	p.i++ // '{'
	m := make(map[string]any)
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return m, true
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			p.err = &jsonError{msg: "has the key " + quote(k) + " twice", dup: true, key: k}
			return nil, false
		}
		m[k] = v
		p.space()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return m, true
		default:
			return nil, false
		}
	}
}

func (p *decoder) array() (any, bool) {
	if !p.nest() {
		return nil, false
	}
	p.i++ // '['
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return a, true
	}
	for {
		p.space()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return a, true
		default:
			return nil, false
		}
	}
}

// number follows the JSON grammar, then converts like encoding/json: strconv.ParseFloat,
// refusing what it refuses (out of range). Short integers, the usual case for exp, nbf and
// iat, are converted exactly without it.
func (p *decoder) number() (any, bool) {
	b, start := p.b, p.i
	i := start
	neg := b[i] == '-'
	if neg {
		i++
	}
	if i >= len(b) {
		return nil, false
	}
	intStart := i
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	intEnd := i
	simple := true
	if i < len(b) && b[i] == '.' {
		simple = false
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		simple = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	p.i = i
	if simple && intEnd-intStart <= 15 { // below 2^53: exact in a float64
		var n int64
		for _, c := range b[intStart:intEnd] {
			n = n*10 + int64(c-'0')
		}
		f := float64(n)
		if neg {
			f = math.Copysign(f, -1)
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(b[start:i]), 64)
	if err != nil {
		return nil, false
	}
	return f, true
}

// str decodes the string at p.i like encoding/json: invalid UTF-8 bytes and unpaired
// surrogate escapes become U+FFFD.
func (p *decoder) str() (string, bool) {
	b := p.b
	start := p.i + 1
	i := start
	for i < len(b) {
		c := b[i]
		if c == '"' {
			p.i = i + 1
			return intern(b[start:i]), true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	buf := make([]byte, i-start, i-start+32)
	copy(buf, b[start:i])
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(buf), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if i+1 >= len(b) {
				return "", false
			}
			switch b[i+1] {
			case '"', '\\', '/':
				buf = append(buf, b[i+1])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := getu4(b[i:])
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if dec := utf16.DecodeRune(r, getu4(b[i:])); dec != utf8.RuneError {
						i += 6
						buf = utf8.AppendRune(buf, dec)
						continue
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, b[i:i+size]...)
			}
			i += size
		}
	}
	return "", false
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// intern returns the usual header and claim names and header values without allocating.
func intern(b []byte) string {
	switch string(b) {
	case "alg":
		return "alg"
	case "kid":
		return "kid"
	case "typ":
		return "typ"
	case "JWT":
		return "JWT"
	case "HS256":
		return "HS256"
	case "sub":
		return "sub"
	case "exp":
		return "exp"
	case "iat":
		return "iat"
	case "nbf":
		return "nbf"
	case "name":
		return "name"
	case "email":
		return "email"
	}
	return string(b)
}
