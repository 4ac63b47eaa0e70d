package token_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convrs/admin/pkg/webchat/token"
)

// The fuzz target's keys and clock are fixed, so that the committed corpus (made by
// TestWriteFuzzSeeds) keeps its meaning: its valid tokens expire in 2031.
var (
	fuzzNow  = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fuzzCur  = token.Key{KID: "wk_fuzzcurrentaaaa", Secret: []byte("fuzz-current-secret-fuzz-current-secret")}
	fuzzPrev = token.Key{KID: "wk_fuzzpreviousbbb", Secret: []byte("fuzz-previous-secret-fuzz-previous-sec")}
	fuzzKS   = token.KeySet{Current: &fuzzCur, Previous: &fuzzPrev, PreviousNotAfter: fuzzNow.Add(24 * time.Hour)}
)

var reasons = []string{token.Malformed, token.AlgorithmNotAllowed, token.UnknownKey, token.BadSignature,
	token.Expired, token.NotYetValid, token.MissingClaim, token.NoSecret}

// FuzzVerify checks Verify's promises on any input, at a time when the previous key is in
// its grace period and at one when it is not: it never panics; a valid result has no
// reason or message, says which key matched and has a subject, and golang-jwt alone
// accepts the token too; a refusal has one of the reasons and a message; the same call
// gives the same result; no message shows a secret or the token.
func FuzzVerify(f *testing.F) {
	f.Add("")
	f.Add(mustSign(f, fuzzCur, map[string]any{"sub": "u", "exp": fuzzNow.Add(time.Hour).Unix()}))
	f.Fuzz(func(t *testing.T, tok string) {
		for _, now := range []time.Time{fuzzNow, fuzzNow.Add(72 * time.Hour)} {
			checkResult(t, tok, now)
		}
	})
}

// FuzzSigned signs any header and payload with the current fuzz key, so that the checks
// after the signature (golang-jwt's parse of what decodeObject accepted, the claims) see
// arbitrary JSON too; the same promises hold.
func FuzzSigned(f *testing.F) {
	exp := fuzzNow.Add(time.Hour).Unix()
	for _, h := range []string{`{"alg":"HS256","kid":"` + fuzzCur.KID + `"}`, `{"alg":"HS256"}`, ` {"alg":"HS256","typ":"JWT"} `} {
		for _, p := range []string{
			fmt.Sprintf(`{"sub":"u","exp":%d}`, exp),
			fmt.Sprintf(`{"sub":"u","exp":%d.999,"nbf":%d,"iat":1e10,"name":"n","email":"e"}`, exp, exp-3600),
			fmt.Sprintf(`{"sub":"\u0000","exp":-%d,"x":[{},[],null,true,"\ud800"]}`, exp),
			`{"sub":"u","exp":8.64e12,"nbf":-8.64e12}`, `{"exp":1}`, `{}`, `[]`,
		} {
			f.Add(h, p)
		}
	}
	f.Fuzz(func(t *testing.T, header, payload string) {
		checkResult(t, craft(header, payload, fuzzCur.Secret), fuzzNow)
	})
}

// checkResult verifies tok at now and checks Verify's promises.
func checkResult(t *testing.T, tok string, now time.Time) {
	t.Helper()
	r := token.Verify(tok, fuzzKS, now)
	if r.Valid {
		checkValid(t, tok, r, now)
	} else if !slices.Contains(reasons, r.Reason) || r.Message == "" || r.Key != "" {
		t.Fatalf("refusal %+v: want one of the reasons, a message and no key", r)
	}
	if r.Message == "the token could not be parsed" {
		t.Fatalf("golang-jwt refused what the checks before it accepted: %q", tok)
	}
	if again := token.Verify(tok, fuzzKS, now); !reflect.DeepEqual(again, r) {
		t.Fatalf("Verify twice: %+v, then %+v", r, again)
	}
	if len(r.Message) > 400 {
		t.Fatalf("a message of %d bytes: %q", len(r.Message), r.Message)
	}
	for _, k := range []token.Key{fuzzCur, fuzzPrev} {
		for _, s := range []string{string(k.Secret), string(k.Secret[:12]), base64.RawURLEncoding.EncodeToString(k.Secret), base64.StdEncoding.EncodeToString(k.Secret), hex.EncodeToString(k.Secret)} {
			if strings.Contains(r.Message, s) {
				t.Fatalf("message %q shows a secret", r.Message)
			}
		}
	}
	if len(tok) > 60 && strings.Contains(r.Message, tok) {
		t.Fatalf("message %q shows the token", r.Message)
	}
}

func checkValid(t *testing.T, tok string, r token.Result, now time.Time) {
	t.Helper()
	if r.Reason != "" || r.Message != "" {
		t.Fatalf("valid with reason %q, message %q", r.Reason, r.Message)
	}
	var k token.Key
	switch {
	case r.Key == "current" && r.KID == fuzzCur.KID:
		k = fuzzCur
	case r.Key == "previous" && r.KID == fuzzPrev.KID && !now.After(fuzzKS.PreviousNotAfter):
		k = fuzzPrev
	default:
		t.Fatalf("valid with key %q, kid %q at %v", r.Key, r.KID, now)
	}
	if sub, _ := r.Claims["sub"].(string); sub == "" {
		t.Fatalf("valid without a subject: %v", r.Claims)
	}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return k.Secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithLeeway(token.Leeway), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
		t.Fatalf("Verify accepted a token golang-jwt refuses: %v", err)
	}
}

// fuzzSeeds are the committed corpus of FuzzVerify: each name starts with the reason
// Verify gives at fuzzNow, or "valid".
func fuzzSeeds(t testing.TB) map[string]string {
	exp := fuzzNow.Add(365 * 24 * time.Hour).Unix()
	claims := func(changes map[string]any) map[string]any {
		c := map[string]any{"sub": "user-7", "name": "Grace", "email": "grace@example.com", "iat": fuzzNow.Unix(), "exp": exp}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	hdr := `{"alg":"HS256","kid":"` + fuzzCur.KID + `"}`
	body := fmt.Sprintf(`{"sub":"u","exp":%d}`, exp)
	valid := mustSign(t, fuzzCur, claims(nil))
	garbage := make([]byte, 300)
	for i := range garbage {
		garbage[i] = byte(i*37 + 11)
	}
	seeds := map[string]string{
		"valid-current":               valid,
		"valid-current-no-kid":        mustSign(t, token.Key{Secret: fuzzCur.Secret}, claims(nil)),
		"valid-previous":              mustSign(t, fuzzPrev, claims(nil)),
		"valid-previous-no-kid":       mustSign(t, token.Key{Secret: fuzzPrev.Secret}, claims(nil)),
		"valid-nbf":                   mustSign(t, fuzzCur, claims(map[string]any{"nbf": fuzzNow.Add(20 * time.Second).Unix()})),
		"valid-minimal":               craft(hdr, body, fuzzCur.Secret),
		"valid-nested-claims":         craft(hdr, fmt.Sprintf(`{"sub":"u\u00e9\ud83d\ude00","exp":%d.5,"x":[{"a":null,"b":[true,false,-1e-3]}],"aud":"a"}`, exp), fuzzCur.Secret),
		"valid-white-space":           craft(" {\"alg\" :\"HS256\" } ", "\n"+body+"\t", fuzzCur.Secret),
		"malformed-empty":             "",
		"malformed-dots":              "..",
		"malformed-four":              valid + ".",
		"malformed-huge":              strings.Repeat("eyJh", 1300),
		"malformed-garbage":           string(garbage),
		"malformed-padding":           valid + "=",
		"malformed-line-break":        strings.Replace(valid, ".", "\n.", 1),
		"malformed-dup-sub":           craft(hdr, fmt.Sprintf(`{"sub":"a","exp":%d,"\u0073ub":"b"}`, exp), fuzzCur.Secret),
		"malformed-dup-alg":           craft(`{"alg":"none","alg":"HS256"}`, body, fuzzCur.Secret),
		"malformed-kid-number":        craft(`{"alg":"HS256","kid":1}`, body, fuzzCur.Secret),
		"malformed-array":             craft(hdr, `[{"sub":"u"}]`, fuzzCur.Secret),
		"malformed-deep":              craft(hdr, `{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`, fuzzCur.Secret),
		"malformed-name-type":         mustSign(t, fuzzCur, claims(map[string]any{"name": 1})),
		"algorithm_not_allowed-none":  craft(`{"alg":"none"}`, body, nil)[:len(craft(`{"alg":"none"}`, body, nil))-43],
		"algorithm_not_allowed-hs512": signWithKID(t, jwt.SigningMethodHS512, fuzzCur, claims(nil)),
		"algorithm_not_allowed-rs256": craft(`{"alg":"RS256","kid":"`+fuzzCur.KID+`"}`, body, fuzzCur.Secret),
		"algorithm_not_allowed-case":  craft(`{"alg":"hs256"}`, body, fuzzCur.Secret),
		"unknown_key-kid":             mustSign(t, token.Key{KID: "wk_unknown", Secret: fuzzCur.Secret}, claims(nil)),
		"unknown_key-empty":           craft(`{"alg":"HS256","kid":""}`, body, fuzzCur.Secret),
		"bad_signature-kid":           mustSign(t, token.Key{KID: fuzzCur.KID, Secret: fuzzPrev.Secret}, claims(nil)),
		"bad_signature-no-kid":        mustSign(t, token.Key{Secret: []byte("another-secret-another-secret-another")}, claims(nil)),
		"expired":                     mustSign(t, fuzzCur, claims(map[string]any{"exp": fuzzNow.Add(-31 * time.Second).Unix()})),
		"not_yet_valid":               mustSign(t, fuzzCur, claims(map[string]any{"nbf": fuzzNow.Add(31 * time.Second).Unix()})),
		"missing_claim-sub":           mustSign(t, fuzzCur, claims(map[string]any{"sub": nil})),
		"missing_claim-exp":           mustSign(t, fuzzCur, claims(map[string]any{"exp": "soon"})),
	}
	return seeds
}

func signWithKID(t testing.TB, m jwt.SigningMethod, k token.Key, claims map[string]any) string {
	t.Helper()
	tk := jwt.NewWithClaims(m, jwt.MapClaims(claims))
	tk.Header["kid"] = k.KID
	s, err := tk.SignedString(k.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const corpusDir = "testdata/fuzz/FuzzVerify"

// TestWriteFuzzSeeds writes fuzzSeeds into the corpus, with TOKEN_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TOKEN_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set TOKEN_WRITE_FUZZ_SEEDS=1 to rewrite the seed corpus of FuzzVerify")
	}
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, tok := range fuzzSeeds(t) {
		if err := os.WriteFile(filepath.Join(corpusDir, name), []byte("go test fuzz v1\nstring("+strconv.Quote(tok)+")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzCorpus checks that the committed seeds still mean what their names say, so that
// the corpus keeps reaching every reason.
func TestFuzzCorpus(t *testing.T) {
	t.Parallel()
	want := fuzzSeeds(t)
	seen := map[string]bool{}
	for name := range want {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Errorf("seed %s: %v (TOKEN_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds writes it)", name, err)
			continue
		}
		_, lit, ok := strings.Cut(strings.TrimSpace(string(b)), "\nstring(")
		if !ok || !strings.HasSuffix(lit, ")") {
			t.Errorf("seed %s: not a string seed", name)
			continue
		}
		tok, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Errorf("seed %s: %v", name, err)
			continue
		}
		r := token.Verify(tok, fuzzKS, fuzzNow)
		reason, _, _ := strings.Cut(name, "-")
		if reason == "valid" {
			if !r.Valid {
				t.Errorf("seed %s: %s (%s), want valid", name, r.Reason, r.Message)
			}
		} else if r.Reason != reason {
			t.Errorf("seed %s: reason %q (%s), want %q", name, r.Reason, r.Message, reason)
		}
		seen[reason] = true
	}
	for _, reason := range append(reasons, "valid") {
		if reason != token.NoSecret && !seen[reason] { // no_secret needs another key set
			t.Errorf("no seed for %s", reason)
		}
	}
}
