package signinfn_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/signinfn"
)

// An unknown email takes as long to refuse as a wrong password: the median times of the
// two paths, measured alternately through the whole API, differ by less than a fifth
// (both are one argon2id run, about 50 ms here; the known path's extra reads and its
// failure count are well under a millisecond on the embedded store). Each attempt comes
// from its own address so that the limiters stay out of it.
func TestUnknownEmailTakesAsLong(t *testing.T) {
	s := apitest.New(t)
	setting(t, s, "acme", "security", map[string]any{"loginAttempts": 20})
	agent(t, s, "acme", "ana@example.com", auth.RoleAgent)
	const pairs = 9 // below the per-account burst (10) and loginAttempts
	var known, unknown []time.Duration
	at := func(email string, i int) time.Duration {
		start := time.Now()
		s.Do(apitest.Request{Method: http.MethodPost, Path: signinfn.LoginPath, RemoteAddr: "198.51.100." + strconv.Itoa(i) + ":1",
			Body: mustJSON(t, map[string]string{"email": email, "password": "wrong-password"})}).Expect(t, http.StatusUnauthorized)
		return time.Since(start)
	}
	for i := range pairs {
		known = append(known, at("ana@example.com", 2*i))
		unknown = append(unknown, at("nobody"+strconv.Itoa(i)+"@example.com", 2*i+1))
	}
	mk, mu := median(known), median(unknown)
	t.Logf("median: wrong password %v, unknown email %v", mk, mu)
	if d := mk - mu; d > mk/5 || -d > mk/5 {
		t.Errorf("median times differ by more than a fifth: wrong password %v, unknown email %v", mk, mu)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
