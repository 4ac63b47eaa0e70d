package signinfn_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/signinfn"
)

// FuzzSignInBodies posts arbitrary bodies to login and set-password: every answer is a
// client error or a success, never a 5xx, and never a token for a wrong password.
func FuzzSignInBodies(f *testing.F) {
	s := apitest.New(f)
	agent(f, s, "acme", "ana@example.com", auth.RoleAgent)
	for _, seed := range []string{
		`{"email":"ana@example.com","password":"` + password + `"}`,
		`{"email":"ana@example.com","password":"x"}`,
		`{"email":"ANA@EXAMPLE.COM ","password":"x"}`,
		`{"email":"ana@example.com","password":"x","password":"y"}`,
		`{"email":"ana\u0000@example.com","password":"x"}`,
		`{"email":["ana@example.com"],"password":"x"}`,
		`{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","password":"x"}`,
		`{"token":"\u202eAAAA","password":""}`,
		`{}`, `[]`, `null`, `{"email":`, "\xff\xfe",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	n := 0
	f.Fuzz(func(t *testing.T, body string, setPassword bool) {
		path := signinfn.LoginPath
		if setPassword {
			path = signinfn.SetPasswordPath
		}
		n++ // each input from its own address, so the per-address limiter stays out of it
		r := s.Do(apitest.Request{Method: http.MethodPost, Path: path, Body: []byte(body), RemoteAddr: "10.0." + strconv.Itoa(n/250%250) + "." + strconv.Itoa(n%250) + ":1"})
		switch r.Status {
		case http.StatusOK, http.StatusNoContent:
			// Only Ana's password opens (the fuzzer may respell her body: spacing,
			// escapes, the email's case); no link is left to accept.
			var in struct{ Password string }
			if setPassword || json.Unmarshal([]byte(body), &in) != nil || in.Password != password {
				t.Fatalf("%s %q: %d %s", path, body, r.Status, r.Body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusUnsupportedMediaType,
			http.StatusUnprocessableEntity, http.StatusLocked, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s %q: %d %s", path, body, r.Status, r.Body)
		}
	})
}
