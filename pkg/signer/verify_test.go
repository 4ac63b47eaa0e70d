package signer_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

// signRaw signs any header and payload JSON with key: tokens Mint would never write.
func signRaw(t testing.TB, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(header)) + "." + enc([]byte(payload))
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc(sig)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s := signer.FromKey(testKey(t, 0))
	keys, err := s.PublicKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kid := keys[0].ID
	want := signer.Expect{Issuer: signertest.Issuer, Audience: signertest.Audience, Now: now.Add(time.Minute), Leeway: 30 * time.Second}
	c := signertest.Claims(now)
	tok := signertest.MustMint(t, s, c)
	got, err := signer.Verify(tok, keys, want)
	if err != nil {
		t.Fatalf("Verify of a minted token: %v", err)
	}
	if got.Subject != c.Subject || got.OrgID != c.OrgID || got.Role != c.Role || got.SessionID != c.SessionID ||
		!got.IssuedAt.Equal(c.IssuedAt) || !got.ExpiresAt.Equal(c.ExpiresAt) || got.Issuer != c.Issuer || got.Audience != c.Audience {
		t.Errorf("claims %+v, want %+v", got, c)
	}

	// Within the leeway of exp it passes; after, it is expired (and only that).
	at := want
	at.Now = c.ExpiresAt.Add(29 * time.Second)
	if _, err := signer.Verify(tok, keys, at); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
	at.Now = c.ExpiresAt.Add(31 * time.Second)
	if _, err := signer.Verify(tok, keys, at); !errors.Is(err, signer.ErrExpired) || !errors.Is(err, signer.ErrInvalidToken) {
		t.Errorf("after exp: %v, want ErrExpired and ErrInvalidToken", err)
	}
	at.Now = c.IssuedAt.Add(-31 * time.Second)
	if _, err := signer.Verify(tok, keys, at); err == nil || errors.Is(err, signer.ErrExpired) {
		t.Errorf("before iat: %v", err)
	}
	at = want
	at.Leeway = time.Hour // capped at a minute
	at.Now = c.ExpiresAt.Add(2 * time.Minute)
	if _, err := signer.Verify(tok, keys, at); !errors.Is(err, signer.ErrExpired) {
		t.Errorf("a leeway of an hour: %v, want expired (capped at a minute)", err)
	}
	// ExpiredFor (refresh and logout) accepts a token expired that long ago, capped at
	// MaxExpiredFor; a scoped token's scope comes back.
	at = want
	at.ExpiredFor = time.Hour
	at.Now = c.ExpiresAt.Add(time.Hour + 29*time.Second)
	if got, err := signer.Verify(tok, keys, at); err != nil || got.SessionID != c.SessionID {
		t.Errorf("expired 1h ago with ExpiredFor 1h: %+v, %v", got, err)
	}
	at.Now = c.ExpiresAt.Add(time.Hour + 31*time.Second)
	if _, err := signer.Verify(tok, keys, at); !errors.Is(err, signer.ErrExpired) {
		t.Errorf("expired over 1h ago with ExpiredFor 1h: %v, want ErrExpired", err)
	}
	at.ExpiredFor, at.Now = 48*time.Hour, c.ExpiresAt.Add(25*time.Hour)
	if _, err := signer.Verify(tok, keys, at); !errors.Is(err, signer.ErrExpired) {
		t.Errorf("expired 25h ago with ExpiredFor 48h: %v, want ErrExpired (capped at %v)", err, signer.MaxExpiredFor)
	}
	sc := c
	sc.Scope = auth.ScopePassword
	if got, err := signer.Verify(signertest.MustMint(t, s, sc), keys, want); err != nil || got.Scope != auth.ScopePassword {
		t.Errorf("scoped token: %+v, %v", got, err)
	}

	k := testKey(t, 0)
	hdr := `{"alg":"RS256","kid":"` + kid + `","typ":"JWT"}`
	pl := func(extra string) string {
		return `{"iss":"` + signertest.Issuer + `","sub":"u1","aud":"` + signertest.Audience + `","exp":` +
			itoa(now.Add(10*time.Minute).Unix()) + `,"iat":` + itoa(now.Unix()) + `,"org_id":"acme","role":"admin","sid":"s1"` + extra + `}`
	}
	if _, err := signer.Verify(signRaw(t, k, hdr, pl("")), keys, want); err != nil {
		t.Fatalf("a hand-made token like Mint's: %v", err)
	}
	other := signer.FromKey(testKey(t, 1))
	for name, bad := range map[string]string{
		"empty":              "",
		"two parts":          "a.b",
		"four parts":         tok + ".x",
		"padded":             tok + "=",
		"huge":               strings.Repeat("a", signer.MaxTokenLen+1),
		"other key":          signertest.MustMint(t, other, c),
		"extra claim":        signRaw(t, k, hdr, pl(`,"admin":true`)),
		"duplicate role":     signRaw(t, k, hdr, pl(`,"role":"owner"`)),
		"wrong-case claim":   signRaw(t, k, hdr, strings.Replace(pl(""), `"sid"`, `"SID"`, 1)),
		"no sid":             signRaw(t, k, hdr, strings.Replace(pl(""), `,"sid":"s1"`, "", 1)),
		"empty scope":        signRaw(t, k, hdr, pl(`,"scope":""`)),
		"other scope":        signRaw(t, k, hdr, pl(`,"scope":"admin"`)),
		"string exp":         signRaw(t, k, hdr, strings.Replace(pl(""), `"exp":`+itoa(now.Add(10*time.Minute).Unix()), `"exp":"`+itoa(now.Add(10*time.Minute).Unix())+`"`, 1)),
		"fractional exp":     signRaw(t, k, hdr, strings.Replace(pl(""), `"exp":`+itoa(now.Add(10*time.Minute).Unix()), `"exp":`+itoa(now.Add(10*time.Minute).Unix())+`.5`, 1)),
		"audience array":     signRaw(t, k, hdr, strings.Replace(pl(""), `"aud":"`+signertest.Audience+`"`, `"aud":["`+signertest.Audience+`"]`, 1)),
		"wrong issuer":       signRaw(t, k, hdr, strings.Replace(pl(""), signertest.Issuer, "https://evil.example.com", 1)),
		"alg RS512 header":   signRaw(t, k, strings.Replace(hdr, "RS256", "RS512", 1), pl("")),
		"alg none":           signRaw(t, k, `{"alg":"none","kid":"`+kid+`","typ":"JWT"}`, pl("")),
		"no typ":             signRaw(t, k, `{"alg":"RS256","kid":"`+kid+`"}`, pl("")),
		"header extra":       signRaw(t, k, `{"alg":"RS256","kid":"`+kid+`","typ":"JWT","jku":"https://evil"}`, pl("")),
		"duplicate kid":      signRaw(t, k, `{"alg":"RS256","kid":"x","kid":"`+kid+`","typ":"JWT"}`, pl("")),
		"unknown kid":        signRaw(t, k, `{"alg":"RS256","kid":"x","typ":"JWT"}`, pl("")),
		"lifetime too long":  signRaw(t, k, hdr, strings.Replace(pl(""), `"exp":`+itoa(now.Add(10*time.Minute).Unix()), `"exp":`+itoa(now.Add(25*time.Hour).Unix()), 1)),
		"role with newline":  signRaw(t, k, hdr, strings.Replace(pl(""), `"role":"admin"`, `"role":"admin\n"`, 1)),
		"zero-width org":     signRaw(t, k, hdr, strings.Replace(pl(""), `"org_id":"acme"`, `"org_id":"ac\u200bme"`, 1)),
		"payload not object": signRaw(t, k, hdr, `[]`),
	} {
		if _, err := signer.Verify(bad, keys, want); !errors.Is(err, signer.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		} else if len(bad) > 40 && strings.Contains(err.Error(), bad[:40]) {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// FuzzVerify: Verify never panics, and what it accepts passes Claims.Validate and is
// exactly what Mint writes for those claims (Mint and PKCS#1 v1.5 are deterministic), so
// no second spelling of a token verifies.
func FuzzVerify(f *testing.F) {
	s := signer.FromKey(testKey(f, 0))
	keys, _ := s.PublicKeys(context.Background())
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tok, err := signer.Mint(context.Background(), s, signertest.Claims(now))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-1])
	f.Add("e30.e30.e30")
	f.Add(signRaw(f, testKey(f, 0), `{"alg":"RS256","kid":"`+keys[0].ID+`","typ":"JWT","typ":"JWT"}`, `{}`))
	want := signer.Expect{Issuer: signertest.Issuer, Audience: signertest.Audience, Now: now}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := signer.Verify(token, keys, want)
		if err != nil {
			if !errors.Is(err, signer.ErrInvalidToken) {
				t.Fatalf("an error that is not ErrInvalidToken: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted invalid claims: %v", err)
		}
		again, err := signer.Mint(context.Background(), s, c)
		if err != nil || again != token {
			t.Fatalf("accepted a token Mint does not write for its claims: %v", err)
		}
	})
}
