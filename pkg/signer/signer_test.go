package signer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

var (
	keyOnce sync.Once
	keys    [3]*rsa.PrivateKey
)

// testKey returns one of three 2048-bit keys made once per test binary.
func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		for j := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[j] = k
		}
	})
	return keys[i]
}

func TestKeySignerContract(t *testing.T) {
	t.Parallel()
	signertest.Run(t, func(t *testing.T) signer.Signer { return signer.FromKey(testKey(t, 0)) })
}

// TestPreviousKeyStillVerifies: after a rotation, a token signed by the previous key
// verifies against the new signer's JWKS, which lists the previous key after the current.
func TestPreviousKeyStillVerifies(t *testing.T) {
	t.Parallel()
	old := signer.FromKey(testKey(t, 0))
	oldKey, _ := old.Current(context.Background())
	now := time.Now().Truncate(time.Second)
	tok := signertest.MustMint(t, old, signertest.Claims(now))
	rotated := signer.FromKey(testKey(t, 1), oldKey)
	if _, kid, err := signertest.Verify(tok, signertest.MustJWKS(t, rotated), now); err != nil || kid != oldKey.ID {
		t.Errorf("a token of the previous key against the rotated JWKS: kid %s, %v", kid, err)
	}
	if _, _, err := signertest.Verify(tok, signertest.MustJWKS(t, signer.FromKey(testKey(t, 1))), now); err == nil {
		t.Error("a token of a key no longer published verifies")
	}
}

func TestFromKeyRefusesBadKeys(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	k0 := testKey(t, 0)
	self := signer.Key{ID: signer.Thumbprint(&k0.PublicKey), Public: &k0.PublicKey}
	for name, s := range map[string]*signer.KeySigner{
		"nil key":        signer.FromKey(nil),
		"1024-bit key":   signer.FromKey(small),
		"duplicate kid":  signer.FromKey(k0, self),
		"bad also kid":   signer.FromKey(k0, signer.Key{ID: "a b", Public: &testKey(t, 1).PublicKey}),
		"also no public": signer.FromKey(k0, signer.Key{ID: "x"}),
	} {
		if _, err := s.Current(context.Background()); err == nil {
			t.Errorf("%s: Current succeeded", name)
		}
		if _, err := signer.Mint(context.Background(), s, signertest.Claims(time.Now())); err == nil {
			t.Errorf("%s: Mint succeeded", name)
		}
	}
}

// TestThumbprintRFC7638 checks the kid of a dev key against the example of RFC 7638
// section 3.1.
func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	keys, err := signer.ParseJWKS([]byte(`{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"k","n":"` + n + `","e":"AQAB"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := signer.Thumbprint(keys[0].Public), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint %s, want %s", got, want)
	}
}

func TestClaimsValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for name, change := range map[string]func(*signer.Claims){
		"no sub":             func(c *signer.Claims) { c.Subject = "" },
		"bad org":            func(c *signer.Claims) { c.OrgID = "ACME!" },
		"no role":            func(c *signer.Claims) { c.Role = "" },
		"no iss":             func(c *signer.Claims) { c.Issuer = "" },
		"no aud":             func(c *signer.Claims) { c.Audience = "" },
		"no sid":             func(c *signer.Claims) { c.SessionID = "" },
		"sid with space":     func(c *signer.Claims) { c.SessionID = " s" },
		"sid with nbsp":      func(c *signer.Claims) { c.SessionID = "s\u00a0" },
		"aud control":        func(c *signer.Claims) { c.Audience = "a\u0085b" },
		"iss invalid utf-8":  func(c *signer.Claims) { c.Issuer = "a\xffb" },
		"sid too long":       func(c *signer.Claims) { c.SessionID = strings.Repeat("s", 257) },
		"role with newline":  func(c *signer.Claims) { c.Role = "admin\n" },
		"exp before iat":     func(c *signer.Claims) { c.ExpiresAt = now.Add(-time.Second) },
		"exp equals iat":     func(c *signer.Claims) { c.ExpiresAt = now.Add(999 * time.Millisecond) },
		"lifetime too long":  func(c *signer.Claims) { c.ExpiresAt = now.Add(signer.MaxLifetime + time.Second) },
		"zero times":         func(c *signer.Claims) { c.IssuedAt, c.ExpiresAt = time.Time{}, time.Time{} },
		"sub surround space": func(c *signer.Claims) { c.Subject = "u1 " },
	} {
		c := signertest.Claims(now)
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := signertest.Claims(now)
	c.ExpiresAt = now.Add(signer.MaxLifetime)
	c.SessionID = "sé\u00a0s"
	if err := c.Validate(); err != nil {
		t.Errorf("valid claims refused: %v", err)
	}
}

func TestJWKSDocument(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0)
	doc, err := signer.JWKS([]signer.Key{{ID: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", Public: &k.PublicKey}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &got); err != nil || len(got.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", doc, err)
	}
	j := got.Keys[0]
	if j["kty"] != "RSA" || j["use"] != "sig" || j["alg"] != "RS256" || j["e"] != "AQAB" || len(j) != 6 ||
		j["kid"] != "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" {
		t.Errorf("JWK %v", j)
	}
	if len(j["n"]) != 342 || strings.ContainsAny(j["n"], "+/=") {
		t.Errorf("n %q: want 342 base64url characters without padding (256 bytes)", j["n"])
	}
	back, err := signer.ParseJWKS(doc)
	if err != nil || len(back) != 1 || !back[0].Public.Equal(&k.PublicKey) {
		t.Errorf("ParseJWKS(JWKS(k)): %v, %v", back, err)
	}
	if _, err := signer.JWKS(nil); err == nil {
		t.Error("an empty set was published")
	}
}

func TestParseJWKSRefuses(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0)
	good, err := signer.JWKS([]signer.Key{{ID: "k1", Public: &k.PublicKey}})
	if err != nil {
		t.Fatal(err)
	}
	var doc signer.JWKSDocument
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Keys[0]
	twice, _ := json.Marshal(signer.JWKSDocument{Keys: []signer.JWK{n, n}})
	variant := func(change func(*signer.JWK)) string {
		j := n
		change(&j)
		b, _ := json.Marshal(signer.JWKSDocument{Keys: []signer.JWK{j}})
		return string(b)
	}
	for name, data := range map[string]string{
		"empty":            ``,
		"array":            `[]`,
		"no keys":          `{"keys":[]}`,
		"null keys":        `{"keys":null}`,
		"unknown member":   strings.Replace(string(good), `"kty"`, `"x5c":[],"kty"`, 1),
		"wrong case":       strings.Replace(string(good), `"kid"`, `"KID"`, 1),
		"duplicate member": strings.Replace(string(good), `"kid":"k1"`, `"kid":"k1","kid":"k2"`, 1),
		"trailing data":    string(good) + `{}`,
		"kty EC":           variant(func(j *signer.JWK) { j.Kty = "EC" }),
		"use enc":          variant(func(j *signer.JWK) { j.Use = "enc" }),
		"alg RS512":        variant(func(j *signer.JWK) { j.Alg = "RS512" }),
		"alg lower case":   variant(func(j *signer.JWK) { j.Alg = "rs256" }),
		"padded n":         variant(func(j *signer.JWK) { j.N += "==" }),
		"standard base64":  variant(func(j *signer.JWK) { j.N = strings.NewReplacer("-", "+", "_", "/").Replace(j.N) + "+" }),
		"leading zero n":   variant(func(j *signer.JWK) { j.N = "AA" + j.N[2:] }),
		"empty e":          variant(func(j *signer.JWK) { j.E = "" }),
		"even e":           variant(func(j *signer.JWK) { j.E = "AQAA" }),
		"huge e":           variant(func(j *signer.JWK) { j.E = "AQAAAAE" }),
		"small n":          variant(func(j *signer.JWK) { j.N = j.N[:170] }),
		"huge n":           variant(func(j *signer.JWK) { j.N = strings.Repeat("A", 700) + "B" }),
		"kid with space":   variant(func(j *signer.JWK) { j.Kid = "k 1" }),
		"kid zero width":   variant(func(j *signer.JWK) { j.Kid = "k\u200b1" }),
		"no kid":           variant(func(j *signer.JWK) { j.Kid = "" }),
		"too large":        `{"keys":[` + strings.Repeat(" ", signer.MaxJWKSLen) + `]}`,
		"two same kids":    string(twice),
	} {
		if ks, err := signer.ParseJWKS([]byte(data)); err == nil {
			t.Errorf("%s: accepted as %v", name, ks)
		}
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	doc, err := signer.OpenIDConfiguration("https://api.example.com/prod")
	if err != nil {
		t.Fatal(err)
	}
	var got signer.DiscoveryDocument
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Issuer != "https://api.example.com/prod" || got.JWKSURI != "https://api.example.com/prod/.well-known/jwks.json" ||
		len(got.IDTokenSigningAlgValuesSupported) != 1 || got.IDTokenSigningAlgValuesSupported[0] != "RS256" ||
		len(got.SubjectTypesSupported) == 0 || len(got.ResponseTypesSupported) == 0 {
		t.Errorf("discovery document %s", doc)
	}
	for _, ok := range []string{"https://api.example.com", "http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080", "https://x.execute-api.eu-west-1.amazonaws.com/v1"} {
		if err := signer.ValidateIssuer(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "api.example.com", "https://", "https://api.example.com/", "http://api.example.com",
		"https://u:p@api.example.com", "https://api.example.com?x=1", "https://api.example.com?", "https://api.example.com#f",
		"ftp://api.example.com", "https://api.example.com/" + strings.Repeat("a", 256), "http://localhost.evil.com",
		"https://api.example.com/a b", "https://api.example.com\n"} {
		if _, err := signer.OpenIDConfiguration(bad); err == nil {
			t.Errorf("issuer %q accepted", bad)
		}
	}
}

// FuzzParseJWKS: ParseJWKS never panics, and what it accepts is a valid set that JWKS
// writes back and ParseJWKS reads again to the same keys.
func FuzzParseJWKS(f *testing.F) {
	k := testKey(f, 0)
	good, _ := signer.JWKS([]signer.Key{{ID: "k1", Public: &k.PublicKey}, {ID: "arn:aws:kms:eu-west-1:1:key/2", Public: &testKey(f, 1).PublicKey}})
	f.Add(good)
	f.Add([]byte(`{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"k","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kty":"EC"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := signer.ParseJWKS(data)
		if err != nil {
			return
		}
		out, err := signer.JWKS(keys)
		if err != nil {
			t.Fatalf("accepted keys cannot be published: %v", err)
		}
		again, err := signer.ParseJWKS(out)
		if err != nil || len(again) != len(keys) {
			t.Fatalf("republished set refused: %v", err)
		}
		for i := range keys {
			if again[i].ID != keys[i].ID || !again[i].Public.Equal(keys[i].Public) {
				t.Fatalf("key %d changed in the round trip", i)
			}
		}
	})
}

// TestBigExponentRoundTrip: e other than 65537 round-trips (KMS keys use 65537, but the
// format carries any).
func TestBigExponentRoundTrip(t *testing.T) {
	t.Parallel()
	k := testKey(t, 2)
	pub := &rsa.PublicKey{N: new(big.Int).Set(k.N), E: 3}
	doc, err := signer.JWKS([]signer.Key{{ID: "e3", Public: pub}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := signer.ParseJWKS(doc)
	if err != nil || back[0].Public.E != 3 {
		t.Errorf("e=3: %v, %v", back, err)
	}
}
