package signinfn_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/signinfn"
)

// BenchmarkArgon2idVerify is the floor of a login: one argon2id verify with the
// parameters the product hashes with (passwords.DefaultParams).
func BenchmarkArgon2idVerify(b *testing.B) {
	hash, err := passwords.HashPassword(password)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := passwords.VerifyPassword(hash, password); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkLogin is a successful POST /v1/auth/login through the whole local API: the
// email, agent, credentials, organisation and three settings read, the argon2id verify,
// the success recorded, a session created, a token minted with the dev key (RSA 2048).
// The clock moves 7 s per login so that the per-account limiter (one every 6 s) refills.
func BenchmarkLogin(b *testing.B) {
	s := apitest.New(b)
	agent(b, s, "acme", "ana@example.com", auth.RoleAgent)
	body := []byte(`{"email":"ana@example.com","password":"` + password + `"}`)
	b.ReportAllocs()
	for b.Loop() {
		s.SetNow(s.Now.Add(7 * time.Second))
		if r := s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, Body: body}); r.Status != http.StatusOK {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
}

// BenchmarkRefresh is POST /v1/auth/refresh: the token verified, the session, the
// organisation, three settings and the agent read, the session touched, a token minted.
func BenchmarkRefresh(b *testing.B) {
	s := apitest.New(b)
	agent(b, s, "acme", "ana@example.com", auth.RoleAgent)
	r := s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, Body: []byte(`{"email":"ana@example.com","password":"` + password + `"}`)})
	if r.Status != http.StatusOK {
		b.Fatalf("%d %s", r.Status, r.Body)
	}
	tok := r.JSON(b)["token"].(string)
	b.ReportAllocs()
	for b.Loop() {
		s.SetNow(s.Now.Add(2 * time.Second)) // the per-address limiter: one every 2 s
		r := s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.RefreshPath, Token: tok})
		if r.Status != http.StatusOK {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
		tok = r.JSON(b)["token"].(string)
	}
}
