package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/signer"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	baseRE  = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	tokenRE = regexp.MustCompile(`export TOKEN=(\S+)`)
)

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeAndTokens(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- realMain(ctx, []string{"-addr", "127.0.0.1:0", "-data", data}, &out, &logs) }()
	var base, token string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m, tk := baseRE.FindStringSubmatch(out.String()), tokenRE.FindStringSubmatch(out.String()); m != nil && tk != nil {
			base, token = m[1], tk[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("the server did not print its URL and token:\n%s\n%s", out.String(), logs.String())
	}
	if !strings.Contains(out.String(), "curl -s -H \"Authorization: Bearer $TOKEN\" "+base+"/v1/orgs/demo/settings/general") {
		t.Errorf("no sample curl in:\n%s", out.String())
	}
	for _, area := range []string{"general", "office-hours", "chat-handling"} {
		if code, body := get(t, base+"/v1/orgs/demo/settings/"+area, token); code != 200 {
			t.Errorf("GET %s with the printed admin token: %d %s", area, code, body)
		}
	}
	var tok bytes.Buffer
	if err := realMain(ctx, []string{"token", "-org", "demo", "-role", "agent", "-data", data}, &tok, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The server issues (and accepts) tokens of its own origin: one minted for the
	// default address is refused by this one, on another port.
	if code, _ := get(t, base+"/v1/orgs/demo/office-hours/status", strings.TrimSpace(tok.String())); code != 401 {
		t.Errorf("a token of issuer %s at %s: %d, want 401", devkeys.DefaultIssuer, base, code)
	}
	tok.Reset()
	if err := realMain(ctx, []string{"token", "-org", "demo", "-role", "agent", "-data", data, "-issuer", base}, &tok, io.Discard); err != nil {
		t.Fatal(err)
	}
	agent := strings.TrimSpace(tok.String())
	if code, _ := get(t, base+"/v1/orgs/demo/office-hours/status", agent); code != 200 {
		t.Errorf("status with a minted agent token: %d", code)
	}
	if code, _ := get(t, base+"/v1/orgs/demo/settings/general", agent); code != 403 {
		t.Errorf("settings with an agent token: %d, want 403", code)
	}
	if code, _ := get(t, base+"/v1/orgs/demo/audit", "not-a-token"); code != 401 {
		t.Errorf("bad token: %d, want 401", code)
	}
	if want := "go run ./cmd/local token -data " + data + " -issuer " + base + " -org demo -role agent"; !strings.Contains(out.String(), want) {
		t.Errorf("the banner does not print %q:\n%s", want, out.String())
	}
	// The event functions run in-process: a chat event in, the chat readable, the
	// published events logged; the banner says where events, sweeps and email are.
	for _, want := range []string{base + "/local/events", base + "/local/sweeps/auto-close", filepath.Join(data, "outbox")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner does not mention %s:\n%s", want, out.String())
		}
	}
	ev := `{"Entries":[{"Source":"convrs.chat","DetailType":"Chat Started","Detail":"{\"orgId\":\"demo\",\"chatId\":\"c1\",\"startedAt\":\"2026-11-02T09:00:00Z\",\"channel\":\"web\",\"user\":{\"id\":\"u1\"}}"}]}`
	resp, err := http.Post(base+"/local/events", "application/json", strings.NewReader(ev))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"outcome":"handled"`) {
		t.Errorf("POST /local/events: %d %s", resp.StatusCode, b)
	}
	if code, body := get(t, base+"/v1/orgs/demo/queue", token); code != 200 || !strings.Contains(body, `"chatId":"c1"`) {
		t.Errorf("the queue after Chat Started: %d %s", code, body)
	}
	if code, body := get(t, base+"/local/events", ""); code != 200 || !strings.Contains(body, `"events":[]`) {
		t.Errorf("GET /local/events: %d %s", code, body)
	}
	// The server publishes itself as the issuer, with the dev key it verifies tokens with
	// (the kid of the printed token is the published key's).
	if code, body := get(t, base+"/.well-known/openid-configuration", ""); code != 200 ||
		!strings.Contains(body, `"issuer":"`+base+`"`) || !strings.Contains(body, `"jwks_uri":"`+base+`/.well-known/jwks.json"`) {
		t.Errorf("discovery document: %d %s", code, body)
	}
	code, body := get(t, base+"/.well-known/jwks.json", "")
	keys, err := signer.ParseJWKS([]byte(body))
	if code != 200 || err != nil || len(keys) != 1 {
		t.Fatalf("key set: %d %s %v", code, body, err)
	}
	dev, err := devkeys.LoadOrCreate(data)
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := dev.Signer().Current(ctx); err != nil || keys[0].ID != cur.ID || !keys[0].Public.Equal(cur.Public) {
		t.Errorf("published key %s, want the dev key %s (%v)", keys[0].ID, cur.ID, err)
	}
	// A second server on the same data folder is told at once.
	start := time.Now()
	err = realMain(ctx, []string{"-addr", "127.0.0.1:0", "-data", data}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "another server is using this data folder") || time.Since(start) > 3*time.Second {
		t.Errorf("second server: %v after %v, want \"another server is using this data folder\" at once", err, time.Since(start))
	}
	if !strings.Contains(logs.String(), `"msg":"request"`) || strings.Contains(logs.String(), token) {
		t.Errorf("access log missing, or it contains a token:\n%s", logs.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
}

func TestTokenNeedsOrgAndRole(t *testing.T) {
	err := realMain(context.Background(), []string{"token", "-org", "demo", "-data", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-org and -role are required") {
		t.Errorf("got %v", err)
	}
}

func TestUnknownCommandsAndStrayArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve"}, {"tokens", "-org", "demo"}, {"-data", dir, "extra"},
		{"token", "-org", "demo", "-role", "admin", "-data", dir, "stray"},
	} {
		err := realMain(context.Background(), args, io.Discard, io.Discard)
		if err == nil || !(strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "unexpected arguments")) {
			t.Errorf("%q: got %v, want an error naming the unknown command or stray arguments", args, err)
		}
	}
}
