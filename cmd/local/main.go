// Command local serves every route of the API on one port with the embedded adapters
// (bbolt, a folder for logos, files for WebChat secrets and email, an in-process event
// bus), so the whole product runs on a laptop with no AWS account, Docker or network. The
// event and sweep functions run in-process too: POST /local/events hands chat events to
// them, the sweeps run on their schedules and on POST /local/sweeps/{name}:
//
//	go run ./cmd/local [-addr 127.0.0.1:3000] [-data .local]
//	go run ./cmd/local token -org ORG -role ROLE [-sub ID] [-ttl 12h] [-data .local]
//	go run ./cmd/local webchat-token (-key FILE | -kid KID) -sub ID [-name N] [-email E] [-ttl 10m]
//
// Bearer tokens are RS256 JWTs signed by a development key kept in the data folder.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/membus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "token":
			return tokenCmd(args[1:], stdout, stderr)
		case "webchat-token":
			tok, err := local.WebchatToken(args[1:], os.Getenv, os.ReadFile, time.Now(), stderr)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, tok)
			return err
		}
		return fmt.Errorf("unknown command %q: run with flags to serve, `token` to mint an admin token, or `webchat-token` to sign a widget token", args[0])
	}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address")
	data := fs.String("data", ".local", "data folder (settings database, logos, dev signing key)")
	var origins originsFlag
	fs.Var(&origins, "allow-origin", allowOriginUsage)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cors, err := origins.policy()
	if err != nil {
		return err
	}
	cors = cors.WithWidgetPaths(local.WidgetPaths()...)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running? use -addr)", *addr, err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	srv, err := newServer(*data, base, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	token, err := srv.keys.Mint(auth.Principal{Subject: "demo-admin", OrgID: "demo", Role: auth.RoleAdmin}, 12*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Convrs Admin local API on %s (data in %s)

Admin token for org "demo" (valid 12h):
  export TOKEN=%s

Try:
  curl -s -H "Authorization: Bearer $TOKEN" %s/v1/orgs/demo/settings/general

More tokens: go run ./cmd/local token -data %s%s -org demo -role agent

Chat events in: POST %s/local/events (a PutEvents body); events out: GET %s/local/events
Sweeps run every 15 minutes, or now: POST %s/local/sweeps/auto-close (or queue-move)
Email is written to %s
`, base, *data, token, base, shellQuote(*data), issuerFlag(base), base, base, base, filepath.Join(*data, "outbox"))
	hs := &http.Server{Handler: httpx.CORS(cors, srv.api), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	srv.runSchedules(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

// server is the local API with its resources.
type server struct {
	api      http.Handler
	keys     *devkeys.Keys
	triggers *local.Triggers
	close    io.Closer
	stop     context.CancelFunc // ends the schedules
	wg       sync.WaitGroup     // the schedules
}

// newServer opens the data folder and mounts every function; baseURL is the server's own
// origin (what SSO's assertion URL and other published URLs start with).
func newServer(dataDir, baseURL string, logOut io.Writer) (*server, error) {
	keys, err := devkeys.LoadOrCreate(dataDir)
	if err != nil {
		return nil, err
	}
	keys = keys.WithIssuer(baseURL) // the server issues and accepts tokens of its own origin
	deps, store, err := local.Embedded(dataDir)
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("another server is using this data folder (%s): stop it, or give this one its own with -data", dataDir)
	}
	if err != nil {
		return nil, err
	}
	deps.BaseURL = baseURL
	// The server issues tokens as itself: signed with the dev key it authenticates with,
	// its own origin the issuer that serves /.well-known/*.
	deps.Signer, deps.Issuer = keys.Signer(), keys.Issuer()
	log := lambdafn.Logger(logOut, slog.LevelInfo)
	slog.SetDefault(log)
	api := httpx.New(keys, log)
	local.MountAll(api, deps)
	if mb, ok := deps.Bus.(*membus.Bus); ok {
		mb.Subscribe(membus.Log(log))
	}
	triggers, err := local.NewTriggers(deps, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	mux, err := withDocs(api)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	triggers.Routes(mux)
	return &server{api: mux, keys: keys, triggers: triggers, close: store, stop: func() {}}, nil
}

// runSchedules runs the sweeps on their schedules until ctx ends or the server closes.
func (s *server) runSchedules(ctx context.Context) {
	ctx, s.stop = context.WithCancel(ctx)
	s.wg.Go(func() { s.triggers.RunSchedules(ctx) })
}

// Close stops the schedules (waiting for a running sweep to stop) and closes the store.
func (s *server) Close() error {
	s.stop()
	s.wg.Wait()
	return s.close.Close()
}

func tokenCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "organisation id (required)")
	role := fs.String("role", "", "role: admin, agent_manager, client_manager, marketing, compliance, agent or a custom role id (role_...) (required)")
	sub := fs.String("sub", "", "caller id (default <role>@<org>)")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	data := fs.String("data", ".local", "data folder holding the dev signing key")
	issuer := fs.String("issuer", devkeys.DefaultIssuer, "the local server's base URL (its tokens' issuer): http://<the -addr it listens on>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected arguments %q", fs.Args())
	}
	if *org == "" || *role == "" {
		fs.Usage()
		return errors.New("token: -org and -role are required")
	}
	if !ids.Valid(*org) {
		return fmt.Errorf("token: -org %q is not an organisation id (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit)", *org)
	}
	if *sub == "" {
		*sub = *role + "@" + *org
	}
	keys, err := devkeys.LoadOrCreate(*data)
	if err != nil {
		return err
	}
	p := auth.Principal{Subject: *sub, OrgID: *org, Role: *role}
	tok, err := keys.WithIssuer(*issuer).Mint(p, *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// issuerFlag is the token command's -issuer flag for a server at base ("" at the default
// address).
func issuerFlag(base string) string {
	if base == devkeys.DefaultIssuer {
		return ""
	}
	return " -issuer " + shellQuote(base)
}

// shellQuote quotes s for a POSIX shell when it needs quoting, so that the printed
// command can be pasted as is.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
