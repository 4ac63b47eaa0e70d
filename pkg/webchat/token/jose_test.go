package token_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/convrs/admin/internal/nodetest"
	"github.com/convrs/admin/pkg/webchat/token"
)

// TestJoseTokens verifies tokens signed by the npm package jose (testdata/jose-sign.mjs,
// run by node), as a customer's Node backend would make them. The secrets go to node on
// standard input.
func TestJoseTokens(t *testing.T) {
	t.Parallel()
	node := nodetest.Jose(t, "tokens signed by the npm package jose cannot be made")
	if _, err := os.ReadFile("testdata/jose-sign.mjs"); err != nil {
		t.Fatal(err)
	}
	current, previous := token.NewKey(), token.NewKey()
	now := time.Now().Truncate(time.Second)
	in, err := json.Marshal(map[string]any{
		"now":      now.Unix(),
		"current":  map[string]string{"kid": current.KID, "secret": b64.EncodeToString(current.Secret)},
		"previous": map[string]string{"kid": previous.KID, "secret": b64.EncodeToString(previous.Secret)},
	})
	if err != nil {
		t.Fatal(err)
	}
	stdout := nodetest.Script(t, node, "testdata/jose-sign.mjs", in)
	var toks map[string]string
	if err := json.Unmarshal(stdout, &toks); err != nil {
		t.Fatalf("node's output: %v\n%s", err, string(stdout))
	}

	ks := token.KeySet{Current: &current, Previous: &previous, PreviousNotAfter: now.Add(48 * time.Hour)}
	want := map[string]struct{ reason, key, kid string }{
		"kid":             {"", "current", current.KID},
		"no_kid":          {"", "current", current.KID},
		"previous_kid":    {"", "previous", previous.KID},
		"previous_no_kid": {"", "previous", previous.KID},
		"expired":         {token.Expired, "", current.KID},
		"nbf_future":      {token.NotYetValid, "", current.KID},
		"nbf_past":        {"", "current", current.KID},
		"hs512":           {token.AlgorithmNotAllowed, "", current.KID},
		"wrong_kid":       {token.BadSignature, "", current.KID},
		"unicode":         {"", "current", current.KID},
	}
	if len(toks) != len(want) {
		t.Errorf("node made %d tokens, want %d: %v", len(toks), len(want), toks)
	}
	for name, w := range want {
		tok, ok := toks[name]
		if !ok {
			t.Errorf("%s: no token from node", name)
			continue
		}
		r := token.Verify(tok, ks, now)
		if r.Reason != w.reason || r.Key != w.key || r.KID != w.kid {
			t.Errorf("%s: got reason %q key %q kid %q (%s), want %q %q %q", name, r.Reason, r.Key, r.KID, r.Message, w.reason, w.key, w.kid)
		}
		if r.Claims["name"] == nil || r.Claims["sub"] == nil {
			t.Errorf("%s: claims %v, want sub and name", name, r.Claims)
		}
	}
	if r := token.Verify(toks["unicode"], ks, now); r.Claims["sub"] != "usér-😀" || r.Claims["name"] != "Zoë \u2028 \"quoted\"" {
		t.Errorf("unicode: claims %v", r.Claims)
	}
	// After the grace period, the previous key's tokens are refused.
	later := now.Add(48*time.Hour + time.Minute)
	if r := token.Verify(toks["previous_kid"], ks, later); r.Reason != token.UnknownKey {
		t.Errorf("previous_kid after the grace period: %+v, want unknown_key", r)
	}
}
