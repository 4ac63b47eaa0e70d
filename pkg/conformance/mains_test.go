package conformance_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/kmssigner"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/s3blob"
	"github.com/convrs/admin/pkg/sesmail"
	"github.com/convrs/admin/pkg/smsecrets"
)

// adapters are the lambdafn adapters a functions/<name>/main.go may pass, by the name it
// writes them with.
var adapters = map[string]lambdafn.Adapter{
	"dynamo.Table": dynamo.Table, "s3blob.Logos": s3blob.Logos, "smsecrets.KeySets": smsecrets.KeySets,
	"ebbus.Events": ebbus.Events, "sesmail.Mail": sesmail.Mail, "kmssigner.Keys": kmssigner.Keys,
}

// Every functions/<name>/main.go passes the adapters its function's Needs call for: with
// the whole configuration set, lambdafn.Build of the function and those adapters succeeds
// (a missing adapter would stop the function at every cold start in AWS, naming the port).
func TestMainsPassTheAdaptersTheirFunctionsNeed(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
		"TABLE_NAME": "convrs", "LOGO_BUCKET": "logos", "AUDIT_CURSOR_KEY": strings.Repeat("k", 48),
		"PUBLIC_BASE_URL": "https://admin-api.example.com", "WEBCHAT_SECRET_PREFIX": "convrs/stack/",
		"EVENT_BUS_NAME": "convrs-admin", "MAIL_FROM": "Convrs <reports@example.com>",
		"SIGNING_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:key/0b1d6c8e-6f0a-4c1e-9a52-3f4c8a7e2d10",
		"TOKEN_ISSUER":   "https://admin-api.example.com", "TOKEN_AUDIENCE": "convrs-admin",
	}
	call := regexp.MustCompile(`lambdafn\.Start\(\s*([A-Za-z0-9_]+\.[A-Za-z0-9_]+)((?:\s*,\s*[A-Za-z0-9_]+\.[A-Za-z0-9_]+)*)\s*\)`)
	for _, f := range local.Functions {
		src, err := os.ReadFile(repoPath(filepath.Join("functions", f.Name, "main.go")))
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		m := call.FindSubmatch(src)
		if m == nil {
			t.Errorf("functions/%s/main.go: no lambdafn.Start(<pkg>.<Function>, adapters...) call", f.Name)
			continue
		}
		var passed []lambdafn.Adapter
		known := true
		for _, name := range names(m[2]) {
			a, ok := adapters[name]
			if !ok {
				t.Errorf("functions/%s/main.go passes %s, which this test does not know: add it to adapters", f.Name, name)
				known = false
				continue
			}
			passed = append(passed, a)
		}
		if !known {
			continue
		}
		getenv := func(k string) string { return env[k] }
		if _, _, err := lambdafn.Build(f, getenv, passed...); err != nil {
			t.Errorf("functions/%s/main.go: %v", f.Name, err)
			continue
		}
		// And no adapter it does not need: each links an SDK client into the bootstrap
		// (size, cold start) and the function's role has no grant for it anyway.
		for i, name := range names(m[2]) {
			without := append(append([]lambdafn.Adapter{}, passed[:i]...), passed[i+1:]...)
			if _, _, err := lambdafn.Build(f, getenv, without...); err == nil {
				t.Errorf("functions/%s/main.go passes %s, which %s's needs do not call for: drop it", f.Name, name, f.Name)
			}
		}
	}
}

// names splits the adapters of a lambdafn.Start call (", a.B, c.D") into their names.
func names(args []byte) []string {
	var out []string
	for _, name := range strings.Split(string(args), ",") {
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out
}
