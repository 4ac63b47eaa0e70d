// Package token verifies the WebChat widget's user tokens: JWTs that an organisation's own
// backend signs with the organisation's WebChat secret, and that the widget hands to us
// (API.md, "WebChat signing secret"). It is pure: keys and time come from the caller and
// nothing is read, written or logged. Signature and time checks are golang-jwt/v5's.
//
// Verify checks a token in this order and reports the first failure:
//
//  1. Size and shape, malformed: at most MaxLen bytes; three segments separated by dots;
//     each segment unpadded, canonical base64url (RFC 7515: no "=", no "+" or "/", no line
//     breaks, no stray low bits in the last character, so that a token has exactly one
//     spelling); header and payload each a single JSON object that gives no key twice at
//     any depth (two "sub" values would be read differently by different readers) and nests
//     at most 32 levels; in the header, alg present and a string, kid absent or a string
//     (a kid of another type, such as a number, is malformed, not unknown_key), and no
//     "crit" (no critical extension is supported). The header is judged before the payload.
//  2. Algorithm, algorithm_not_allowed: alg must be exactly "HS256"; "none", HS384, HS512,
//     RS256, ES256, "hs256", "HS256 " and anything else are refused before any key is
//     looked at. Header parameters that name or carry keys (jku, jwk, x5u, x5c) are
//     ignored: keys come only from the KeySet.
//  3. Keys, no_secret: the KeySet has neither a current nor a previous key. A key whose
//     secret is shorter than 32 bytes counts as absent (an HMAC under an empty or short
//     key proves nothing).
//  4. Key lookup, unknown_key: a kid is looked up among the current and previous keys; a
//     kid naming neither, or an empty kid, is unknown_key; the previous key's kid after
//     PreviousNotAfter is unknown_key with a message saying its grace period ended. A
//     token without kid is tried against the current key, then the previous one while in
//     its grace period.
//  5. Signature, bad_signature: HMAC-SHA256, compared in constant time (golang-jwt uses
//     hmac.Equal).
//  6. Claims, judged only once the signature matched, in this priority: sub (a non-empty
//     string) and exp (a number) absent or unusable, missing_claim naming which; nbf or
//     iat not a number, or name or email not a string, malformed naming which; exp more
//     than Leeway in the past, expired; nbf more than Leeway in the future,
//     not_yet_valid. A numeric date must lie within ±8.64e12 s (a JavaScript Date's range),
//     so that every platform converts it the same way. iat is accepted as is, even in the
//     future: it restricts nothing that exp and nbf do not, and refusing a token for a
//     skewed iat would only break customers whose clocks drift. iss, aud, jti and other
//     claims are not checked; they are returned in Claims.
//
// The previous key's grace period uses the caller's clock without leeway: it is accepted
// while now is not after PreviousNotAfter.
//
// Claims in a Result are decoded from the payload whatever the outcome (so the verify route
// can show them for a refused token), except when the payload is not one JSON object or
// gives a key twice, where they are nil. Messages name the problem for a developer; they
// quote at most 40 bytes of any value taken from the token and never contain a secret or
// the token.
package token

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Key is one signing key of an organisation.
type Key struct {
	KID    string // the key id, in the token's "kid" header
	Secret []byte // at least 32 bytes
}

// Format prints a Key with its secret redacted, whatever the verb, so that a key that ends
// up in a log line or an error message never shows its secret.
func (k Key) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{KID:%s Secret:[redacted]}", k.KID)
}

// LogValue makes slog print a Key with its secret redacted.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.KID), slog.String("secret", "[redacted]"))
}

// KeySet is an organisation's keys: the current one and, during the grace period after a
// rotation, the previous one, valid until PreviousNotAfter.
type KeySet struct {
	Current          *Key
	Previous         *Key
	PreviousNotAfter time.Time
}

// Reasons a token is refused (API.md).
const (
	Malformed           = "malformed"
	AlgorithmNotAllowed = "algorithm_not_allowed"
	UnknownKey          = "unknown_key"
	BadSignature        = "bad_signature"
	Expired             = "expired"
	NotYetValid         = "not_yet_valid"
	MissingClaim        = "missing_claim"
	NoSecret            = "no_secret"
)

// Result is what Verify found. Claims holds whatever claims could be decoded (nil when the
// payload is not a JSON object), for the verify route to show, even when the token is
// refused.
type Result struct {
	Valid   bool
	Key     string // "current" or "previous" when valid
	KID     string // the kid of the key that matched (or the token's kid header)
	Claims  map[string]any
	Reason  string // one of the reasons when not valid
	Message string // a sentence for a developer, safe to show: never the secret
}

// MaxLen is the longest token accepted (4 KiB).
const MaxLen = 4 << 10

// Leeway is the clock skew allowed on exp and nbf (30 s).
const Leeway = 30 * time.Second

const (
	hs256        = "HS256"
	minSecretLen = 32
	// maxDate bounds numeric dates (seconds) to a JavaScript Date's range, well inside
	// what an int64 of seconds and time.Time hold.
	maxDate = 8.64e12
)

// b64 decodes segments once validSegment has accepted them.
var b64 = base64.RawURLEncoding.Strict()

// Verify checks tok against ks at now, in the order the package documentation gives, and
// reports the first failure. It never panics and does no I/O.
func Verify(tok string, ks KeySet, now time.Time) Result {
	if len(tok) > MaxLen {
		return Result{Reason: Malformed, Message: fmt.Sprintf("the token is %d bytes long; at most %d are accepted", len(tok), MaxLen)}
	}
	hseg, rest, ok1 := strings.Cut(tok, ".")
	pseg, sseg, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sseg, ".") {
		if tok == "" {
			return Result{Reason: Malformed, Message: "the token is empty"}
		}
		return Result{Reason: Malformed, Message: fmt.Sprintf("a token is three base64url segments separated by dots (header.payload.signature); this one has %d", strings.Count(tok, ".")+1)}
	}

	var r Result
	// The payload first, so that its claims are shown whatever else is wrong; its faults
	// are reported after the header's.
	var payload []byte
	var pmsg string
	if !validSegment(pseg) {
		pmsg = "the payload is not unpadded base64url"
	} else {
		payload, _ = b64.DecodeString(pseg)
		m, jerr := decodeObject(payload)
		if jerr != nil {
			pmsg = "the payload " + jerr.msg
		} else {
			r.Claims = m
		}
	}
	h, hmsg := parseHeader(hseg)
	r.KID = h.kid
	switch {
	case hmsg != "":
		return refuse(r, Malformed, hmsg)
	case pmsg != "":
		return refuse(r, Malformed, pmsg)
	case !validSegment(sseg):
		return refuse(r, Malformed, "the signature is not unpadded base64url")
	case h.alg != hs256:
		return refuse(r, AlgorithmNotAllowed, "the token is signed with alg "+quote(h.alg)+"; only HS256 is accepted")
	}

	cur, prev := usable(ks.Current), usable(ks.Previous)
	if cur == nil && prev == nil {
		return refuse(r, NoSecret, "the organisation has no WebChat signing secret: generate one, then sign tokens with it")
	}
	inGrace := prev != nil && !now.After(ks.PreviousNotAfter)
	graceEnded := ""
	if prev != nil && !inGrace {
		graceEnded = "the previous key " + quote(prev.KID) + " was replaced by a rotation and its grace period ended at " + stamp(ks.PreviousNotAfter)
	}

	// The keys to try, in order, and what to call them.
	var keys [2]*Key
	var names [2]string
	n := 0
	if h.hasKID {
		switch {
		case h.kid == "":
			return refuse(r, UnknownKey, "the kid header is empty; leave it out or give the kid of the organisation's key")
		case cur != nil && h.kid == cur.KID:
			keys[0], names[0], n = cur, "current", 1
		case prev != nil && h.kid == prev.KID:
			if !inGrace {
				return refuse(r, UnknownKey, graceEnded+": sign with the current key")
			}
			keys[0], names[0], n = prev, "previous", 1
		default:
			return refuse(r, UnknownKey, "no key of the organisation has the kid "+quote(h.kid))
		}
	} else {
		if cur != nil {
			keys[n], names[n] = cur, "current"
			n++
		}
		if inGrace {
			keys[n], names[n] = prev, "previous"
			n++
		}
		if n == 0 {
			return refuse(r, UnknownKey, "the token has no kid and no key is in force: "+graceEnded)
		}
	}

	v := pool.Get().(*verifier)
	defer v.release()
	v.now = now
	v.claims.set(payload, r.Claims)
	var err error
	matched := -1
	for i := range n {
		v.key = keys[i].Secret
		_, err = v.parser.ParseWithClaims(tok, &v.claims, v.keyfunc)
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			matched = i
			break
		}
	}
	if matched < 0 {
		var msg string
		switch {
		case h.hasKID:
			msg = "the signature does not match the " + names[0] + " key " + quote(keys[0].KID)
		case n == 2:
			msg = "the token has no kid, and its signature matches neither the current key nor the previous one"
		default:
			msg = "the token has no kid, and its signature does not match the " + names[0] + " key"
			if graceEnded != "" {
				msg += "; " + graceEnded
			}
		}
		return refuse(r, BadSignature, msg)
	}
	r.KID = keys[matched].KID
	if err == nil {
		r.Valid, r.Key = true, names[matched]
		return r
	}
	var ce *claimError
	switch {
	case errors.As(err, &ce):
		return refuse(r, ce.reason, ce.msg)
	case errors.Is(err, jwt.ErrTokenExpired):
		exp := v.claims.expAt.Time
		return refuse(r, Expired, fmt.Sprintf("the token expired at %s (exp), %s before now; %s of clock skew is allowed", stamp(exp), ago(now.Sub(exp)), Leeway))
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		nbf := v.claims.nbfAt.Time
		return refuse(r, NotYetValid, fmt.Sprintf("the token is not valid before %s (nbf), %s after now; %s of clock skew is allowed", stamp(nbf), ago(nbf.Sub(now)), Leeway))
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse(r, MissingClaim, "a required claim is missing")
	}
	// Not reached: every other error of golang-jwt comes from checks made above.
	return refuse(r, Malformed, "the token could not be parsed")
}

func refuse(r Result, reason, msg string) Result {
	r.Valid, r.Key, r.Reason, r.Message = false, "", reason, msg
	return r
}

func usable(k *Key) *Key {
	if k == nil || len(k.Secret) < minSecretLen {
		return nil
	}
	return k
}

// validSegment reports whether s is canonical unpadded base64url: only the URL alphabet
// (the decoders of encoding/base64 skip line breaks, which would give a token several
// spellings), a length that is not 1 modulo 4, and zero bits left over in the last
// character.
func validSegment(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	var last byte
	for i := 0; i < len(s); i++ {
		if last = b64Values[s[i]]; last == invalidB64 {
			return false
		}
	}
	switch len(s) % 4 {
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

const invalidB64 = 0xff

// b64Values maps each byte to its value in the base64url alphabet, or invalidB64.
var b64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = invalidB64
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = byte(i)
	}
	return t
}()

type header struct {
	alg    string
	kid    string
	hasKID bool
}

// parseHeader decodes the header segment; the message says what is wrong with it, or is
// empty.
func parseHeader(seg string) (header, string) {
	if !validSegment(seg) {
		return header{}, "the header is not unpadded base64url"
	}
	var buf [192]byte // room for a usual header, so that it is decoded without allocating
	raw, _ := b64.AppendDecode(buf[:0], []byte(seg))
	m, jerr := decodeObject(raw)
	if jerr != nil {
		return header{}, "the header " + jerr.msg
	}
	var h header
	if kid, ok := m["kid"]; ok {
		s, ok := kid.(string)
		if !ok {
			return header{}, "the kid header must be a string"
		}
		h.kid, h.hasKID = s, true
	}
	alg, ok := m["alg"]
	if !ok {
		return h, "the header has no alg; only HS256 is accepted"
	}
	if h.alg, ok = alg.(string); !ok {
		return h, "the alg header must be a string; only HS256 is accepted"
	}
	if _, ok := m["crit"]; ok {
		return h, "the header has crit: no critical header extension is supported"
	}
	return h, ""
}

// claimError is a problem with the claims found before golang-jwt's checks, returned from
// claims.Validate so that it is reported only once the signature matched.
type claimError struct{ reason, msg string }

func (e *claimError) Error() string { return e.msg }

// claims is the jwt.Claims that Verify hands golang-jwt: the payload already decoded by
// decodeObject, so that golang-jwt does not decode it again (and could not decode it
// differently), and exp and nbf converted once.
type claims struct {
	raw          []byte // the payload's JSON object, without surrounding white space
	m            map[string]any
	exp, nbf     *jwt.NumericDate // nil when absent or unusable
	expAt, nbfAt jwt.NumericDate
	problem      *claimError
}

var _ jwt.ClaimsValidator = (*claims)(nil)

var errPayloadChanged = errors.New("the payload is not the one decoded")

func (c *claims) set(payload []byte, m map[string]any) {
	*c = claims{raw: bytes.Trim(payload, " \t\r\n"), m: m}
	fail := func(reason, msg string) {
		if c.problem == nil {
			c.problem = &claimError{reason, msg}
		}
	}
	const seconds = "a number of seconds since 1970-01-01T00:00:00Z"
	switch sub, ok := m["sub"]; {
	case !ok:
		fail(MissingClaim, "the sub claim is missing: it is required, a non-empty string (the user id)")
	case sub == "":
		fail(MissingClaim, "the sub claim is empty: it is required, a non-empty string (the user id)")
	default:
		if _, ok := sub.(string); !ok {
			fail(MissingClaim, "the sub claim must be a non-empty string (the user id)")
		}
	}
	switch t, msg := date(m, "exp"); {
	case msg == "absent":
		fail(MissingClaim, "the exp claim is missing: it is required, "+seconds)
	case msg != "":
		fail(MissingClaim, "the exp claim "+msg)
	default:
		c.expAt.Time = t
		c.exp = &c.expAt
	}
	for _, k := range [...]string{"nbf", "iat"} {
		switch t, msg := date(m, k); {
		case msg == "absent":
		case msg != "":
			fail(Malformed, "the "+k+" claim "+msg)
		case k == "nbf":
			c.nbfAt.Time = t
			c.nbf = &c.nbfAt
		}
	}
	for _, k := range [...]string{"name", "email"} {
		if v, ok := m[k]; ok {
			if _, ok := v.(string); !ok {
				fail(Malformed, "the "+k+" claim must be a string")
			}
		}
	}
}

// date reads the numeric date m[k]; msg is "absent", a reason it is unusable, or empty.
func date(m map[string]any, k string) (t time.Time, msg string) {
	v, ok := m[k]
	if !ok {
		return time.Time{}, "absent"
	}
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, "must be a number of seconds since 1970-01-01T00:00:00Z"
	}
	if f < -maxDate || f > maxDate {
		return time.Time{}, "is out of range: it must be a number of seconds since 1970-01-01T00:00:00Z"
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)), ""
}

// UnmarshalJSON is called by golang-jwt with the payload Verify has decoded already.
func (c *claims) UnmarshalJSON(b []byte) error {
	if !bytes.Equal(b, c.raw) {
		return errPayloadChanged
	}
	return nil
}

func (c *claims) Validate() error {
	if c.problem != nil {
		return c.problem
	}
	return nil
}

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.exp, nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.nbf, nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *claims) GetIssuer() (string, error)                   { return "", nil }
func (c *claims) GetSubject() (string, error)                  { return "", nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// verifier holds a golang-jwt parser whose options are fixed and whose clock and key are
// set for each Verify; pooled, so that a Verify builds no parser, validator or closure.
type verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	now     time.Time
	key     []byte
	claims  claims
}

var pool = sync.Pool{New: func() any {
	v := &verifier{}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{hs256}),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return v.now }),
	)
	v.keyfunc = func(*jwt.Token) (any, error) { return v.key, nil }
	return v
}}

func (v *verifier) release() {
	v.key, v.claims, v.now = nil, claims{}, time.Time{}
	pool.Put(v)
}

// quote quotes a value taken from the token for a message, cut to 40 bytes.
func quote(s string) string {
	const max = 40
	if len(s) <= max {
		return strconv.Quote(s)
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strconv.Quote(s[:i] + "…")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func ago(d time.Duration) time.Duration { return d.Round(time.Second) }

// Sign makes an HS256 token with k.KID in its kid header (none when KID is empty) for
// claims, as they are: it does not add or check any claim, so tests can make refused
// tokens too. It returns an error when the secret is shorter than 32 bytes, when a claim
// cannot be encoded as JSON, or when the token would be longer than MaxLen.
func Sign(k Key, claims map[string]any) (string, error) {
	if len(k.Secret) < minSecretLen {
		return "", fmt.Errorf("token: the secret is %d bytes; at least %d are needed", len(k.Secret), minSecretLen)
	}
	if claims == nil {
		claims = map[string]any{}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	if k.KID != "" {
		t.Header["kid"] = k.KID
	}
	s, err := t.SignedString(k.Secret)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	if len(s) > MaxLen {
		return "", fmt.Errorf("token: the token would be %d bytes; at most %d are accepted", len(s), MaxLen)
	}
	return s, nil
}

var kidEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey returns a new key: 32 random bytes (256 bits) and a random kid, "wk_" and 16
// base32 characters (80 bits), a valid id in the sense of pkg/ids.
func NewKey() Key {
	secret := make([]byte, 32)
	var id [10]byte
	// crypto/rand.Read never returns an error: it crashes the program instead.
	_, _ = rand.Read(secret)
	_, _ = rand.Read(id[:])
	return Key{KID: "wk_" + kidEncoding.EncodeToString(id[:]), Secret: secret}
}
