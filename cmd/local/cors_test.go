package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAllowOriginFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		want    string   // the policy, normalised
		allowed []string // origins the policy must allow
		refused []string // and refuse
	}{
		{
			name:    "default",
			want:    "http://localhost:*,http://127.0.0.1:*",
			allowed: []string{"http://localhost:5173", "http://localhost:3000", "http://127.0.0.1:49152", "http://localhost"},
			refused: []string{"https://localhost:5173", "https://127.0.0.1:5173", "http://localhost.evil.com", "http://127.0.0.1.nip.io", "https://admin.convrs.com"},
		},
		{
			name:    "comma-separated",
			args:    []string{"-allow-origin", "https://admin.example.com, http://127.0.0.1:5173"},
			want:    "https://admin.example.com,http://127.0.0.1:5173",
			allowed: []string{"https://admin.example.com", "http://127.0.0.1:5173"},
			refused: []string{"http://127.0.0.1:5174", "http://localhost:5173"}, // the default is replaced
		},
		{
			name:    "repeated",
			args:    []string{"-allow-origin", "https://admin.example.com", "-allow-origin", "http://localhost:*,http://127.0.0.1:8080"},
			want:    "https://admin.example.com,http://localhost:*,http://127.0.0.1:8080",
			allowed: []string{"https://admin.example.com", "http://localhost:1234", "http://127.0.0.1:8080"},
			refused: []string{"http://127.0.0.1:8081"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("local", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var f originsFlag
			fs.Var(&f, "allow-origin", allowOriginUsage)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse %q: %v", tc.args, err)
			}
			p, err := f.policy()
			if err != nil {
				t.Fatalf("policy: %v", err)
			}
			if got := p.String(); got != tc.want {
				t.Errorf("policy: got %q, want %q", got, tc.want)
			}
			for _, o := range tc.allowed {
				if !p.Allows(o) {
					t.Errorf("Allows(%q): got false, want true", o)
				}
			}
			for _, o := range tc.refused {
				if p.Allows(o) {
					t.Errorf("Allows(%q): got true, want false", o)
				}
			}
		})
	}
}

func TestAllowOriginFlagRefusesBadOrigins(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"*", "https://admin.example.com/", "admin.example.com", "http://localhost:99999", "https://a.example,"} {
		var stderr bytes.Buffer
		err := realMain(context.Background(), []string{"-allow-origin", v, "-data", t.TempDir()}, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-allow-origin") {
			t.Errorf("-allow-origin %q: got error %v, want one naming -allow-origin", v, err)
		}
	}
}

func TestHelpDocumentsAllowOrigin(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := realMain(context.Background(), []string{"-help"}, io.Discard, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help: got %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-allow-origin", "http://localhost:<port>", "http://127.0.0.1:<port>"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-help: got\n%s\nwant it to mention %s", stderr.String(), want)
		}
	}
}

// startServer runs realMain with args on a free port until the test ends and returns
// its base URL and the admin token it printed.
func startServer(t *testing.T, args ...string) (base, token string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir()}, args...), &out, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m, tk := baseRE.FindStringSubmatch(out.String()), tokenRE.FindStringSubmatch(out.String()); m != nil && tk != nil {
			return m[1], tk[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the server stopped: %v\n%s", err, logs.String())
		default:
		}
	}
	t.Fatalf("the server did not print its URL and token:\n%s\n%s", out.String(), logs.String())
	return "", ""
}

func TestServedHandlerAnswersCORS(t *testing.T) {
	t.Parallel()
	const page = "http://127.0.0.1:5173"
	base, token := startServer(t, "-allow-origin", page)
	url := base + "/v1/orgs/demo/settings/chat-handling"
	do := func(method, origin string, header ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	preflight := []string{"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type,if-match"}

	resp := do(http.MethodOptions, page, preflight...)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight status: got %d, want 204", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  page,
		"Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, X-Request-Id",
		"Access-Control-Allow-Methods": "GET, PUT, PATCH, POST, DELETE, OPTIONS",
		"Vary":                         "Origin",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("preflight %s: got %q, want %q", k, got, want)
		}
	}

	// -allow-origin replaces the default: another localhost port is foreign.
	resp = do(http.MethodOptions, "http://localhost:5173", preflight...)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusNoContent || got != "" {
		t.Errorf("foreign preflight: got %d with Access-Control-Allow-Origin %q, want 204 without it", resp.StatusCode, got)
	}

	resp = do(http.MethodGet, page, "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		t.Errorf("GET: got %d with ETag %q, want 200 with an ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != page {
		t.Errorf("GET Access-Control-Allow-Origin: got %q, want %q", got, page)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "ETag") {
		t.Errorf("GET Access-Control-Expose-Headers: got %q, want ETag among them", got)
	}
}
