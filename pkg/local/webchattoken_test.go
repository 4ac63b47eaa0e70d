package local_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/webchat/token"
)

func TestWebchatToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	const kid, secret = "wk_abcdefghijklmnop", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s"
	files := map[string]string{
		"key.json":     `{"kid":"` + kid + `","secret":"` + secret + `","createdAt":"2026-11-26T12:00:00Z","previous":{"kid":"wk_x"}}`,
		"status.json":  `{"current":{"kid":"` + kid + `"},"previous":null}`,
		"garbage.json": `not json but maybe a secret: hunter2hunter2`,
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	env := map[string]string{local.SecretEnv: secret}
	run := func(args ...string) (string, error) {
		return local.WebchatToken(args, func(k string) string { return env[k] }, readFile, now, io.Discard)
	}
	ks := token.KeySet{Current: &token.Key{KID: kid, Secret: []byte(secret)}}

	for _, args := range [][]string{
		{"-key", "key.json", "-sub", "user-42", "-name", "Ada", "-email", "ada@example.com"},
		{"-kid", kid, "-sub", "user-42", "-name", "Ada", "-email", "ada@example.com"},
	} {
		tok, err := run(args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		res := token.Verify(tok, ks, now)
		if !res.Valid || res.KID != kid || res.Claims["sub"] != "user-42" || res.Claims["name"] != "Ada" || res.Claims["email"] != "ada@example.com" {
			t.Errorf("%q: %+v", args, res)
		}
		if res := token.Verify(tok, ks, now.Add(10*time.Minute+31*time.Second)); res.Reason != token.Expired {
			t.Errorf("%q: the token outlives its 10-minute default: %+v", args, res)
		}
	}
	if tok, _ := run("-key", "key.json", "-sub", "u", "-ttl", "-1h"); token.Verify(tok, ks, now).Reason != token.Expired {
		t.Error("-ttl -1h does not make an expired token")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-key", "key.json"}, "-sub is required"},
		{[]string{"-sub", "u"}, "-key FILE or -kid KID is required"},
		{[]string{"-key", "key.json", "-kid", kid, "-sub", "u"}, "not both"},
		{[]string{"-key", "missing.json", "-sub", "u"}, "not exist"},
		{[]string{"-key", "status.json", "-sub", "u"}, "is not a generate or rotate answer"},
		{[]string{"-key", "garbage.json", "-sub", "u"}, "is not a generate or rotate answer"},
		{[]string{"-key", "key.json", "-sub", "u", "extra"}, "unexpected arguments"},
	} {
		_, err := run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error quotes the file: %v", tc.args, err)
		}
	}
	delete(env, local.SecretEnv)
	if _, err := run("-kid", kid, "-sub", "u"); err == nil || !strings.Contains(err.Error(), local.SecretEnv) {
		t.Errorf("-kid without the environment variable: %v", err)
	}
}
