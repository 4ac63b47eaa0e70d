package token_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/webchat/token"
)

// t0 is the time the tests verify at, unless a case says otherwise.
var t0 = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

// Printable secrets, so that a message quoting one would be caught by strings.Contains.
var (
	cur  = token.Key{KID: "wk_currentcurrentc", Secret: []byte("current-secret-current-secret-current-secret")}
	prev = token.Key{KID: "wk_previousprevious", Secret: []byte("previous-secret-previous-secret-previous-sec")}
	// rotated: prev was replaced by cur at t0-1h and stays valid for 48 hours.
	rotated = token.KeySet{Current: &cur, Previous: &prev, PreviousNotAfter: t0.Add(47 * time.Hour)}
	only    = token.KeySet{Current: &cur}
)

var b64 = base64.RawURLEncoding

// craft builds a token from raw header and payload JSON, signed HS256 with secret: for the
// cases Sign cannot make (duplicate keys, odd types, other algs).
func craft(header, payload string, secret []byte) string {
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + b64.EncodeToString(mac.Sum(nil))
}

func mustSign(t testing.TB, k token.Key, claims map[string]any) string {
	t.Helper()
	s, err := token.Sign(k, claims)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return s
}

// claimsAt returns the usual claims of a token valid at at, with changes applied
// (a nil value removes the claim).
func claimsAt(at time.Time, changes map[string]any) map[string]any {
	c := map[string]any{"sub": "user-1", "name": "Ada Lovelace", "email": "ada@example.com",
		"iat": at.Unix(), "exp": at.Add(10 * time.Minute).Unix()}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// signWith signs claims with another golang-jwt method and key, with cur's kid.
func signWith(t testing.TB, m jwt.SigningMethod, key any, claims map[string]any) string {
	t.Helper()
	tk := jwt.NewWithClaims(m, jwt.MapClaims(claims))
	tk.Header["kid"] = cur.KID
	s, err := tk.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

// segment replaces segment i of tok.
func segment(tok string, i int, s string) string {
	parts := strings.Split(tok, ".")
	parts[i] = s
	return strings.Join(parts, ".")
}

type verifyCase struct {
	name    string
	tok     string
	ks      token.KeySet
	now     time.Time
	reason  string // "" for valid
	key     string // when valid
	kid     string
	message string // a part of the message
}

func verifyCases(t testing.TB) []verifyCase {
	exp := t0.Add(10 * time.Minute).Unix()
	hdr := `{"alg":"HS256","kid":"` + cur.KID + `"}`
	body := fmt.Sprintf(`{"sub":"user-1","exp":%d}`, exp)
	valid := mustSign(t, cur, claimsAt(t0, nil))
	noKID := mustSign(t, token.Key{Secret: cur.Secret}, claimsAt(t0, nil))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(claimsAt(t0, nil))).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	sig := strings.Split(valid, ".")[2]
	// The signature's last character carries 4 bits of the hash and 2 zero bits: setting
	// the zero bits spells the same signature another way.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
	sloppy := sig[:len(sig)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])

	cs := []verifyCase{
		// Valid.
		{name: "current key by kid", tok: valid, ks: rotated, reason: "", key: "current", kid: cur.KID},
		{name: "previous key by kid in its grace period", tok: mustSign(t, prev, claimsAt(t0, nil)), ks: rotated, key: "previous", kid: prev.KID},
		{name: "no kid: current", tok: noKID, ks: rotated, key: "current", kid: cur.KID},
		{name: "no kid: previous", tok: mustSign(t, token.Key{Secret: prev.Secret}, claimsAt(t0, nil)), ks: rotated, key: "previous", kid: prev.KID},
		{name: "no kid: previous only", tok: mustSign(t, token.Key{Secret: prev.Secret}, claimsAt(t0, nil)), ks: token.KeySet{Previous: &prev, PreviousNotAfter: t0.Add(time.Hour)}, key: "previous", kid: prev.KID},
		{name: "only sub and exp", tok: craft(hdr, body, cur.Secret), ks: only, key: "current", kid: cur.KID},
		{name: "exp 29 s ago", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": t0.Add(-29 * time.Second).Unix()})), ks: only, key: "current", kid: cur.KID},
		{name: "exp fractional", tok: craft(hdr, fmt.Sprintf(`{"sub":"u","exp":%d.25}`, t0.Unix()-30), cur.Secret), ks: only, key: "current", kid: cur.KID},
		{name: "nbf 29 s ahead", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"nbf": t0.Add(29 * time.Second).Unix()})), ks: only, key: "current", kid: cur.KID},
		{name: "nbf 30 s ahead", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"nbf": t0.Add(30 * time.Second).Unix()})), ks: only, key: "current", kid: cur.KID},
		{name: "iat far in the future is ignored", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"iat": t0.Add(24 * time.Hour).Unix()})), ks: only, key: "current", kid: cur.KID},
		{name: "no name or email", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"name": nil, "email": nil})), ks: only, key: "current", kid: cur.KID},
		{name: "other claims and headers pass", tok: craft(`{"alg":"HS256","typ":"JWT","kid":"`+cur.KID+`","jku":"https://evil.example/keys"}`, fmt.Sprintf(`{"sub":"u","exp":%d,"aud":["x"],"iss":"acme","plan":{"tier":"gold"}}`, exp), cur.Secret), ks: only, key: "current", kid: cur.KID},
		{name: "JSON white space", tok: craft(" {\"alg\" : \"HS256\"}\n", "\t"+body+" ", cur.Secret), ks: only, key: "current", kid: cur.KID},

		// malformed: size and shape.
		{name: "empty", tok: "", ks: only, reason: token.Malformed, message: "empty"},
		{name: "one segment", tok: "abc", ks: only, reason: token.Malformed, message: "this one has 1"},
		{name: "two segments", tok: "abc.def", ks: only, reason: token.Malformed, message: "this one has 2"},
		{name: "four segments", tok: valid + ".x", ks: only, reason: token.Malformed, message: "this one has 4"},
		{name: "header not base64url", tok: segment(valid, 0, "!!!"), ks: only, reason: token.Malformed, message: "the header is not unpadded base64url"},
		{name: "header padded", tok: segment(valid, 0, b64.EncodeToString([]byte(hdr+" "))+"="), ks: only, reason: token.Malformed, message: "header is not unpadded"},
		{name: "payload padded", tok: segment(valid, 1, strings.Split(valid, ".")[1]+"=="), ks: only, reason: token.Malformed, message: "the payload is not unpadded base64url"},
		{name: "payload with standard base64", tok: segment(valid, 1, strings.ReplaceAll(strings.ReplaceAll(strings.Split(valid, ".")[1], "-", "+"), "_", "/")+"+"), ks: only, reason: token.Malformed, message: "the payload is not unpadded base64url"},
		{name: "payload with a line break", tok: segment(valid, 1, strings.Split(valid, ".")[1][:8]+"\n"+strings.Split(valid, ".")[1][8:]), ks: only, reason: token.Malformed, message: "the payload is not unpadded base64url"},
		{name: "signature padded", tok: valid + "=", ks: only, reason: token.Malformed, message: "the signature is not unpadded base64url"},
		{name: "signature with stray bits", tok: segment(valid, 2, sloppy), ks: only, reason: token.Malformed, message: "the signature is not unpadded base64url"},
		{name: "header not JSON", tok: craft(`{"alg":"HS256"`, body, cur.Secret), ks: only, reason: token.Malformed, message: "the header is not valid JSON"},
		{name: "header an array", tok: craft(`["HS256"]`, body, cur.Secret), ks: only, reason: token.Malformed, message: "the header is not a JSON object"},
		{name: "header duplicate alg", tok: craft(`{"alg":"none","alg":"HS256"}`, body, cur.Secret), ks: only, reason: token.Malformed, message: `the header has the key "alg" twice`},
		{name: "header duplicate kid", tok: craft(`{"alg":"HS256","kid":"`+prev.KID+`","kid":"`+cur.KID+`"}`, body, cur.Secret), ks: rotated, reason: token.Malformed, message: `"kid" twice`},
		{name: "kid a number", tok: craft(`{"alg":"HS256","kid":7}`, body, cur.Secret), ks: only, reason: token.Malformed, message: "kid header must be a string"},
		{name: "kid null", tok: craft(`{"alg":"HS256","kid":null}`, body, cur.Secret), ks: only, reason: token.Malformed, message: "kid header must be a string"},
		{name: "no alg", tok: craft(`{"kid":"`+cur.KID+`"}`, body, cur.Secret), ks: only, reason: token.Malformed, kid: cur.KID, message: "no alg"},
		{name: "alg a number", tok: craft(`{"alg":256}`, body, cur.Secret), ks: only, reason: token.Malformed, message: "alg header must be a string"},
		{name: "crit", tok: craft(`{"alg":"HS256","crit":["b64"],"b64":false}`, body, cur.Secret), ks: only, reason: token.Malformed, message: "crit"},
		{name: "payload duplicate sub", tok: craft(hdr, fmt.Sprintf(`{"sub":"admin","exp":%d,"sub":"user-1"}`, exp), cur.Secret), ks: only, reason: token.Malformed, kid: cur.KID, message: `the payload has the key "sub" twice`},
		{name: "payload duplicate sub, escaped", tok: craft(hdr, fmt.Sprintf(`{"sub":"admin","exp":%d,"\u0073ub":"user-1"}`, exp), cur.Secret), ks: only, reason: token.Malformed, kid: cur.KID, message: `"sub" twice`},
		{name: "payload duplicate nested", tok: craft(hdr, fmt.Sprintf(`{"sub":"u","exp":%d,"x":[{"a":1,"a":2}]}`, exp), cur.Secret), ks: only, reason: token.Malformed, message: `"a" twice`},
		{name: "payload an array", tok: craft(hdr, `[1,2]`, cur.Secret), ks: only, reason: token.Malformed, message: "the payload is not a JSON object"},
		{name: "payload a string", tok: craft(hdr, `"sub"`, cur.Secret), ks: only, reason: token.Malformed, message: "not a JSON object"},
		{name: "payload null", tok: craft(hdr, `null`, cur.Secret), ks: only, reason: token.Malformed, message: "not a JSON object"},
		{name: "payload a number", tok: craft(hdr, `12`, cur.Secret), ks: only, reason: token.Malformed, message: "not a JSON object"},
		{name: "payload empty", tok: craft(hdr, ``, cur.Secret), ks: only, reason: token.Malformed, message: "the payload is not valid JSON"},
		{name: "payload trailing data", tok: craft(hdr, body+"{}", cur.Secret), ks: only, reason: token.Malformed, message: "the payload is not valid JSON"},
		{name: "payload nested too deep", tok: craft(hdr, fmt.Sprintf(`{"sub":"u","exp":%d,"x":%s}`, exp, deep), cur.Secret), ks: only, reason: token.Malformed, message: "levels deep"},
		{name: "payload number out of range", tok: craft(hdr, fmt.Sprintf(`{"sub":"u","exp":%d,"x":1e999}`, exp), cur.Secret), ks: only, reason: token.Malformed, message: "the payload is not valid JSON"},
		{name: "header judged before payload", tok: craft(`{"alg":"HS256","alg":"HS256"}`, `[]`, cur.Secret), ks: only, reason: token.Malformed, message: "header"},

		// malformed: optional claims of the wrong type (judged after the signature).
		{name: "name a number", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"name": 42})), ks: only, reason: token.Malformed, kid: cur.KID, message: "the name claim must be a string"},
		{name: "email an object", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"email": map[string]any{"a": "b"}})), ks: only, reason: token.Malformed, kid: cur.KID, message: "the email claim must be a string"},
		{name: "nbf a string", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"nbf": "now"})), ks: only, reason: token.Malformed, kid: cur.KID, message: "the nbf claim must be a number"},
		{name: "iat a string", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"iat": "2027-03-01"})), ks: only, reason: token.Malformed, kid: cur.KID, message: "the iat claim must be a number"},
		{name: "iat out of range", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"iat": 1e300})), ks: only, reason: token.Malformed, kid: cur.KID, message: "the iat claim is out of range"},
		{name: "name a number, bad signature", tok: mustSign(t, prev, claimsAt(t0, map[string]any{"name": 42})), ks: token.KeySet{Current: &token.Key{KID: prev.KID, Secret: cur.Secret}}, reason: token.BadSignature, kid: prev.KID},

		// algorithm_not_allowed.
		{name: "HS384 with the right key", tok: signWith(t, jwt.SigningMethodHS384, cur.Secret, claimsAt(t0, nil)), ks: only, reason: token.AlgorithmNotAllowed, kid: cur.KID, message: `"HS384"; only HS256`},
		{name: "HS512 with the right key", tok: signWith(t, jwt.SigningMethodHS512, cur.Secret, claimsAt(t0, nil)), ks: only, reason: token.AlgorithmNotAllowed, kid: cur.KID, message: `"HS512"`},
		{name: "RS256", tok: signWith(t, jwt.SigningMethodRS256, rsaKey, claimsAt(t0, nil)), ks: only, reason: token.AlgorithmNotAllowed, kid: cur.KID, message: `"RS256"`},
		{name: "ES256", tok: signWith(t, jwt.SigningMethodES256, ecKey, claimsAt(t0, nil)), ks: only, reason: token.AlgorithmNotAllowed, kid: cur.KID, message: `"ES256"`},
		{name: "none, empty signature", tok: none, ks: only, reason: token.AlgorithmNotAllowed, message: `"none"`},
		{name: "none, no key set", tok: none, reason: token.AlgorithmNotAllowed},
		{name: "hs256 in lower case", tok: craft(`{"alg":"hs256","kid":"`+cur.KID+`"}`, body, cur.Secret), ks: only, reason: token.AlgorithmNotAllowed, kid: cur.KID, message: `"hs256"`},
		{name: "HS256 and a space", tok: craft(`{"alg":"HS256 ","kid":"`+cur.KID+`"}`, body, cur.Secret), ks: only, reason: token.AlgorithmNotAllowed, kid: cur.KID, message: `"HS256 "`},
		{name: "empty alg", tok: craft(`{"alg":""}`, body, cur.Secret), ks: only, reason: token.AlgorithmNotAllowed},
		{name: "long alg is cut in the message", tok: craft(`{"alg":"`+strings.Repeat("A", 500)+`"}`, body, cur.Secret), ks: only, reason: token.AlgorithmNotAllowed, message: `…"`},

		// no_secret.
		{name: "no keys", tok: valid, reason: token.NoSecret, kid: cur.KID, message: "no WebChat signing secret"},
		{name: "a key with a short secret counts as none", tok: craft(hdr, body, []byte("short")), ks: token.KeySet{Current: &token.Key{KID: cur.KID, Secret: []byte("short")}}, reason: token.NoSecret},
		{name: "a key with an empty secret counts as none", tok: craft(hdr, body, nil), ks: token.KeySet{Current: &token.Key{KID: cur.KID}}, reason: token.NoSecret},

		// unknown_key.
		{name: "unknown kid", tok: mustSign(t, token.Key{KID: "wk_other", Secret: cur.Secret}, claimsAt(t0, nil)), ks: rotated, reason: token.UnknownKey, kid: "wk_other", message: `"wk_other"`},
		{name: "empty kid", tok: craft(`{"alg":"HS256","kid":""}`, body, cur.Secret), ks: only, reason: token.UnknownKey, message: "kid header is empty"},
		{name: "previous kid, no previous key", tok: mustSign(t, prev, claimsAt(t0, nil)), ks: only, reason: token.UnknownKey, kid: prev.KID},
		{name: "previous kid after the grace period", tok: mustSign(t, prev, claimsAt(t0, nil)), ks: rotated, now: t0.Add(48 * time.Hour), reason: token.UnknownKey, kid: prev.KID, message: "grace period ended at 2027-03-03T11:00:00Z"},
		{name: "no kid, only a previous key past its grace period", tok: mustSign(t, token.Key{Secret: prev.Secret}, claimsAt(t0, nil)), ks: token.KeySet{Previous: &prev, PreviousNotAfter: t0.Add(-time.Second)}, reason: token.UnknownKey, message: "no key is in force"},

		// bad_signature.
		{name: "kid of current, signed with previous", tok: mustSign(t, token.Key{KID: cur.KID, Secret: prev.Secret}, claimsAt(t0, nil)), ks: rotated, reason: token.BadSignature, kid: cur.KID, message: `the current key "` + cur.KID},
		{name: "kid of previous, signed with current", tok: mustSign(t, token.Key{KID: prev.KID, Secret: cur.Secret}, claimsAt(t0, nil)), ks: rotated, reason: token.BadSignature, kid: prev.KID, message: "previous key"},
		{name: "no kid, neither key", tok: mustSign(t, token.Key{Secret: bytes.Repeat([]byte("x"), 32)}, claimsAt(t0, nil)), ks: rotated, reason: token.BadSignature, message: "neither the current key nor the previous one"},
		{name: "no kid, previous past its grace period", tok: mustSign(t, token.Key{Secret: prev.Secret}, claimsAt(t0, nil)), ks: rotated, now: t0.Add(48 * time.Hour), reason: token.BadSignature, message: "grace period ended"},
		{name: "payload changed", tok: segment(valid, 1, b64.EncodeToString([]byte(body))), ks: only, reason: token.BadSignature, kid: cur.KID},
		{name: "signature cut", tok: valid[:len(valid)-3], ks: only, reason: token.BadSignature, kid: cur.KID},
		{name: "signature empty", tok: segment(valid, 2, ""), ks: only, reason: token.BadSignature, kid: cur.KID},
		{name: "expired and bad signature", tok: mustSign(t, token.Key{KID: cur.KID, Secret: prev.Secret}, claimsAt(t0.Add(-time.Hour), nil)), ks: only, reason: token.BadSignature},

		// expired, not_yet_valid.
		{name: "exp 31 s ago", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": t0.Add(-31 * time.Second).Unix()})), ks: only, reason: token.Expired, kid: cur.KID, message: "expired at 2027-03-01T11:59:29Z (exp), 31s before now"},
		{name: "exp 30 s ago", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": t0.Add(-30 * time.Second).Unix()})), ks: only, reason: token.Expired, kid: cur.KID},
		{name: "exp 0", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": 0})), ks: only, reason: token.Expired, kid: cur.KID},
		{name: "exp negative", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": -1e12})), ks: only, reason: token.Expired, kid: cur.KID},
		{name: "nbf 31 s ahead", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"nbf": t0.Add(31 * time.Second).Unix()})), ks: only, reason: token.NotYetValid, kid: cur.KID, message: "not valid before 2027-03-01T12:00:31Z (nbf), 31s after now"},
		{name: "nbf after exp: expired first", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": t0.Add(-time.Hour).Unix(), "nbf": t0.Add(time.Hour).Unix()})), ks: only, reason: token.Expired, kid: cur.KID},
		{name: "previous key, expired token", tok: mustSign(t, prev, claimsAt(t0.Add(-time.Hour), nil)), ks: rotated, reason: token.Expired, kid: prev.KID},
		{name: "no kid, previous key, expired token", tok: mustSign(t, token.Key{Secret: prev.Secret}, claimsAt(t0.Add(-time.Hour), nil)), ks: rotated, reason: token.Expired, kid: prev.KID},

		// missing_claim.
		{name: "no sub", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"sub": nil})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "the sub claim is missing"},
		{name: "sub empty", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"sub": ""})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "the sub claim is empty"},
		{name: "sub a number", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"sub": 42})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "the sub claim must be a non-empty string"},
		{name: "sub null", tok: craft(hdr, fmt.Sprintf(`{"sub":null,"exp":%d}`, exp), cur.Secret), ks: only, reason: token.MissingClaim, message: "sub"},
		{name: "no exp", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": nil})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "the exp claim is missing"},
		{name: "exp a string", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": fmt.Sprint(exp)})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "the exp claim must be a number"},
		{name: "exp null", tok: craft(hdr, `{"sub":"u","exp":null}`, cur.Secret), ks: only, reason: token.MissingClaim, message: "the exp claim must be a number"},
		{name: "exp out of range", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"exp": 1e300})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "the exp claim is out of range"},
		{name: "missing sub before expired", tok: mustSign(t, cur, claimsAt(t0.Add(-time.Hour), map[string]any{"sub": nil})), ks: only, reason: token.MissingClaim, kid: cur.KID, message: "sub"},
		{name: "missing sub before a wrong name", tok: mustSign(t, cur, claimsAt(t0, map[string]any{"sub": nil, "name": 1})), ks: only, reason: token.MissingClaim, kid: cur.KID},
		{name: "wrong name before expired", tok: mustSign(t, cur, claimsAt(t0.Add(-time.Hour), map[string]any{"name": 1})), ks: only, reason: token.Malformed, kid: cur.KID},
	}
	return cs
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, c := range verifyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			now := c.now
			if now.IsZero() {
				now = t0
			}
			r := token.Verify(c.tok, c.ks, now)
			if got, want := r.Reason, c.reason; got != want {
				t.Fatalf("Reason = %q (%s), want %q", got, r.Message, want)
			}
			if r.Valid != (c.reason == "") {
				t.Errorf("Valid = %v with Reason %q", r.Valid, r.Reason)
			}
			if r.Key != c.key {
				t.Errorf("Key = %q, want %q", r.Key, c.key)
			}
			if c.kid != "" && r.KID != c.kid {
				t.Errorf("KID = %q, want %q", r.KID, c.kid)
			}
			if !strings.Contains(r.Message, c.message) {
				t.Errorf("Message = %q, want it to contain %q", r.Message, c.message)
			}
			if c.reason != "" && r.Message == "" {
				t.Error("a refusal without a message")
			}
			if c.reason == "" && r.Message != "" {
				t.Errorf("Message = %q on a valid token", r.Message)
			}
			checkSafe(t, c.tok, r)
		})
	}
}

// checkSafe fails when r's message shows a secret or the token.
func checkSafe(t *testing.T, tok string, r token.Result) {
	t.Helper()
	for _, k := range []token.Key{cur, prev} {
		for _, s := range []string{string(k.Secret), string(k.Secret[:16]), b64.EncodeToString(k.Secret), base64.StdEncoding.EncodeToString(k.Secret)} {
			if strings.Contains(r.Message, s) {
				t.Errorf("Message %q shows a secret", r.Message)
			}
		}
	}
	if len(tok) > 60 && strings.Contains(r.Message, tok) {
		t.Errorf("Message %q shows the token", r.Message)
	}
}

func TestVerifyPreviousKeyGracePeriod(t *testing.T) {
	t.Parallel()
	rotation := time.Date(2027, 5, 10, 9, 30, 0, 0, time.UTC)
	ks := token.KeySet{Current: &cur, Previous: &prev, PreviousNotAfter: rotation.Add(48 * time.Hour)}
	for _, c := range []struct {
		after  time.Duration
		reason string
	}{
		{0, ""},
		{47*time.Hour + 59*time.Minute, ""},
		{48 * time.Hour, ""}, // PreviousNotAfter itself is still inside
		{48*time.Hour + time.Second, token.UnknownKey},
		{48*time.Hour + time.Minute, token.UnknownKey},
		{30 * 24 * time.Hour, token.UnknownKey},
	} {
		now := rotation.Add(c.after)
		tok := mustSign(t, prev, claimsAt(now, nil))
		r := token.Verify(tok, ks, now)
		if r.Reason != c.reason {
			t.Errorf("%v after the rotation: Reason = %q (%s), want %q", c.after, r.Reason, r.Message, c.reason)
			continue
		}
		if c.reason == "" && (r.Key != "previous" || r.KID != prev.KID) {
			t.Errorf("%v after the rotation: Key, KID = %q, %q, want previous, %q", c.after, r.Key, r.KID, prev.KID)
		}
		if c.reason != "" && !strings.Contains(r.Message, "grace period ended at 2027-05-12T09:30:00Z") {
			t.Errorf("%v after the rotation: Message = %q, want the end of the grace period", c.after, r.Message)
		}
		// The current key is not affected.
		if r := token.Verify(mustSign(t, cur, claimsAt(now, nil)), ks, now); !r.Valid || r.Key != "current" {
			t.Errorf("%v after the rotation: current key refused: %+v", c.after, r)
		}
	}
}

func TestVerifyNoKIDTriesBothKeys(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		secret []byte
		key    string
		kid    string
	}{
		{"current", cur.Secret, "current", cur.KID},
		{"previous", prev.Secret, "previous", prev.KID},
	} {
		tok := mustSign(t, token.Key{Secret: c.secret}, claimsAt(t0, nil))
		if strings.Contains(tok, ".") && strings.Contains(string(mustDecode(t, strings.Split(tok, ".")[0])), "kid") {
			t.Fatalf("%s: Sign without KID wrote a kid header", c.name)
		}
		r := token.Verify(tok, rotated, t0)
		if !r.Valid || r.Key != c.key || r.KID != c.kid {
			t.Errorf("%s: got %+v, want valid with the %s key %s", c.name, r, c.key, c.kid)
		}
		// A KeySet with the keys swapped finds them in the other slots.
		swapped := token.KeySet{Current: rotated.Previous, Previous: rotated.Current, PreviousNotAfter: rotated.PreviousNotAfter}
		if r := token.Verify(tok, swapped, t0); !r.Valid || r.KID != c.kid {
			t.Errorf("%s, keys swapped: got %+v", c.name, r)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sized crafts a valid token of exactly n bytes, padding a claim and the header's white
// space (a base64url segment cannot have every length).
func sized(t *testing.T, n int) string {
	t.Helper()
	exp := t0.Add(time.Minute).Unix()
	for spaces := range 4 {
		hdr := `{"alg":"HS256",` + strings.Repeat(" ", spaces) + `"kid":"` + cur.KID + `"}`
		for pad := 0; pad < n; pad++ {
			tok := craft(hdr, fmt.Sprintf(`{"sub":"u","exp":%d,"pad":"%s"}`, exp, strings.Repeat("p", pad)), cur.Secret)
			if len(tok) == n {
				return tok
			}
			if len(tok) > n {
				break
			}
		}
	}
	t.Fatalf("no token of %d bytes", n)
	return ""
}

func TestVerifyMaxLen(t *testing.T) {
	t.Parallel()
	if token.MaxLen != 4096 {
		t.Fatalf("MaxLen = %d, want 4096", token.MaxLen)
	}
	if r := token.Verify(sized(t, 4096), only, t0); !r.Valid {
		t.Errorf("4096 bytes: %+v, want valid", r)
	}
	r := token.Verify(sized(t, 4097), only, t0)
	if r.Reason != token.Malformed || !strings.Contains(r.Message, "4097 bytes") || r.Claims != nil {
		t.Errorf("4097 bytes: %+v, want malformed, the length, and no claims", r)
	}
	if r := token.Verify(strings.Repeat("a", 1<<20), only, t0); r.Reason != token.Malformed {
		t.Errorf("1 MiB: %+v, want malformed", r)
	}
}

func TestVerifyShowsClaimsOfRefusedTokens(t *testing.T) {
	t.Parallel()
	want := claimsAt(t0.Add(-time.Hour), nil)
	wantJSON := map[string]any{}
	for k, v := range want {
		if n, ok := v.(int64); ok {
			v = float64(n)
		}
		wantJSON[k] = v
	}
	for _, c := range []struct {
		name, tok, reason string
		ks                token.KeySet
	}{
		{"expired", mustSign(t, cur, want), token.Expired, only},
		{"bad signature", mustSign(t, token.Key{KID: cur.KID, Secret: prev.Secret}, want), token.BadSignature, only},
		{"unknown key", mustSign(t, token.Key{KID: "wk_gone", Secret: cur.Secret}, want), token.UnknownKey, only},
		{"no secret", mustSign(t, cur, want), token.NoSecret, token.KeySet{}},
		{"algorithm", signWith(t, jwt.SigningMethodHS512, cur.Secret, want), token.AlgorithmNotAllowed, only},
		{"malformed signature", mustSign(t, cur, want) + "=", token.Malformed, only},
		{"malformed header", segment(mustSign(t, cur, want), 0, b64.EncodeToString([]byte(`{"alg":1}`))), token.Malformed, only},
	} {
		r := token.Verify(c.tok, c.ks, t0)
		if r.Reason != c.reason {
			t.Errorf("%s: Reason = %q (%s), want %q", c.name, r.Reason, r.Message, c.reason)
		}
		if !reflect.DeepEqual(r.Claims, wantJSON) {
			t.Errorf("%s: Claims = %v, want %v", c.name, r.Claims, wantJSON)
		}
	}
	// Claims are nil when there is no one object to show.
	hdr := `{"alg":"HS256"}`
	for _, payload := range []string{`[{"sub":"u"}]`, `{"sub":"a","sub":"b"}`, `{"sub":`} {
		if r := token.Verify(craft(hdr, payload, cur.Secret), only, t0); r.Claims != nil || r.Reason != token.Malformed {
			t.Errorf("payload %s: %+v, want malformed and no claims", payload, r)
		}
	}
}

func TestVerifyValidResult(t *testing.T) {
	t.Parallel()
	r := token.Verify(mustSign(t, cur, claimsAt(t0, map[string]any{"name": "Zoë \u2028 <b>", "plan": []any{"a", 1.5}})), rotated, t0)
	want := token.Result{Valid: true, Key: "current", KID: cur.KID, Claims: map[string]any{
		"sub": "user-1", "name": "Zoë \u2028 <b>", "email": "ada@example.com", "plan": []any{"a", 1.5},
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(10 * time.Minute).Unix()),
	}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	// The claims are the caller's to keep: a second Verify does not reuse them.
	r2 := token.Verify(mustSign(t, cur, claimsAt(t0, map[string]any{"sub": "user-2"})), rotated, t0)
	if r.Claims["sub"] != "user-1" || r2.Claims["sub"] != "user-2" {
		t.Errorf("claims shared between results: %v, %v", r.Claims, r2.Claims)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	toks := map[string]string{}
	for i := range 8 {
		sub := fmt.Sprintf("user-%d", i)
		k := cur
		if i%2 == 1 {
			k = token.Key{Secret: prev.Secret}
		}
		toks[sub] = mustSign(t, k, claimsAt(t0, map[string]any{"sub": sub}))
	}
	done := make(chan error)
	for sub, tok := range toks {
		go func() {
			for range 200 {
				r := token.Verify(tok, rotated, t0)
				if !r.Valid || r.Claims["sub"] != sub {
					done <- fmt.Errorf("%s: %+v", sub, r)
					return
				}
			}
			done <- nil
		}()
	}
	for range toks {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	if _, err := token.Sign(token.Key{KID: "k", Secret: make([]byte, 31)}, claimsAt(t0, nil)); err == nil {
		t.Error("Sign with a 31-byte secret: no error")
	}
	if _, err := token.Sign(cur, map[string]any{"x": make(chan int)}); err == nil {
		t.Error("Sign with a claim JSON cannot encode: no error")
	}
	if _, err := token.Sign(cur, map[string]any{"pad": strings.Repeat("x", token.MaxLen)}); err == nil || !strings.Contains(err.Error(), "at most 4096") {
		t.Errorf("Sign of a token over MaxLen: %v", err)
	}
	tok := mustSign(t, cur, nil)
	if got := string(mustDecode(t, strings.Split(tok, ".")[1])); got != "{}" {
		t.Errorf("Sign(nil claims) payload = %s, want {}", got)
	}
	if got := string(mustDecode(t, strings.Split(tok, ".")[0])); got != `{"alg":"HS256","kid":"`+cur.KID+`","typ":"JWT"}` {
		t.Errorf("Sign header = %s", got)
	}
	claims := claimsAt(t0, nil)
	before := maps.Clone(claims)
	if r := token.Verify(mustSign(t, cur, claims), only, t0); !r.Valid {
		t.Errorf("Sign then Verify: %+v", r)
	}
	if !reflect.DeepEqual(claims, before) {
		t.Errorf("Sign changed its claims: %v", claims)
	}
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		k := token.NewKey()
		if len(k.Secret) != 32 {
			t.Fatalf("secret of %d bytes, want 32", len(k.Secret))
		}
		if !ids.Valid(k.KID) || !strings.HasPrefix(k.KID, "wk_") || len(k.KID) != 19 {
			t.Fatalf("kid %q: want wk_ and 16 base32 characters, a valid id", k.KID)
		}
		if seen[k.KID] || seen[string(k.Secret)] {
			t.Fatalf("NewKey repeated %q", k.KID)
		}
		seen[k.KID], seen[string(k.Secret)] = true, true
		tok := mustSign(t, k, claimsAt(t0, nil))
		if r := token.Verify(tok, token.KeySet{Current: &k}, t0); !r.Valid || r.KID != k.KID {
			t.Fatalf("a token of a new key: %+v", r)
		}
	}
}

func TestKeyPrintsNoSecret(t *testing.T) {
	t.Parallel()
	k := token.Key{KID: "wk_print", Secret: []byte("print-secret-print-secret-print-secret")}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, fmt.Sprintf(verb, k), fmt.Sprintf(verb, &k))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("key", "key", k)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("key", "key", k)
	out = append(out, buf.String())
	for _, s := range out {
		if !strings.Contains(s, "wk_print") {
			t.Errorf("%q does not show the kid", s)
		}
		for _, secret := range []string{string(k.Secret), fmt.Sprintf("%x", k.Secret), fmt.Sprint(k.Secret), base64.StdEncoding.EncodeToString(k.Secret)} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows the secret", s)
			}
		}
	}
}
