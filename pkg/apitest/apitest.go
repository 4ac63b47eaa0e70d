// Package apitest drives the whole local API (every route, embedded adapters, RS256 dev
// tokens) in tests through net/http/httptest, so area tests exercise exactly what
// `make run` serves.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/freetext/caseless"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/local"
	"github.com/convrs/admin/pkg/orgs"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

// BaseURL is the public base URL the API under test publishes (SSO's assertion URL).
const BaseURL = "https://admin-api.convrs.test"

// Server is the API under test.
type Server struct {
	tb    testing.TB
	API   *httpx.API
	Keys  *devkeys.Keys
	Store *bolt.Store
	// Deps are the embedded adapters the functions run on (Deps.Bus is a *membus.Bus,
	// Deps.Mail the outbox).
	Deps app.Deps
	// Local serves the local server's /local/ routes (events in and out, sweeps); Do
	// sends paths under /local/ to it, as cmd/local does.
	Local *http.ServeMux
	Now   time.Time // the clock the handlers see; tests may move it
	mu    sync.Mutex
}

// New returns a server on fresh embedded adapters in a temporary folder.
func New(tb testing.TB) *Server { return NewWithLogger(tb, discardLogger()) }

// NewWithLogger is New with the API's logger (access lines and errors it logs itself).
func NewWithLogger(tb testing.TB, log *slog.Logger) *Server {
	tb.Helper()
	return newServer(tb, log, BaseURL)
}

// NewAt is New with the API published at baseURL instead of BaseURL (the README tour's
// answers show the local server's own origin).
func NewAt(tb testing.TB, baseURL string) *Server {
	tb.Helper()
	return newServer(tb, discardLogger(), baseURL)
}

// sharedKey returns the signing key every server of the test binary shares (making an
// RSA key per server would cost more than most tests).
func sharedKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() { key, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if keyErr != nil {
		tb.Fatal(keyErr)
	}
	return key
}

func newServer(tb testing.TB, log *slog.Logger, baseURL string) *Server {
	tb.Helper()
	key := sharedKey(tb)
	deps, store, err := local.Embedded(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	deps.BaseURL = baseURL
	tb.Cleanup(func() { _ = store.Close() })
	s := &Server{tb: tb, Store: store, Now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	// Tokens are minted and checked on the handlers' clock, as the sign-in routes mint
	// them; the API issues them (Signer, Issuer, Audience) with the same key.
	s.Keys = devkeys.New(key, s.clock)
	s.API = httpx.New(s.Keys, log)
	deps.Now = s.clock
	deps.Signer, deps.Issuer, deps.Audience = s.Keys.Signer(), s.Keys.Issuer(), devkeys.Audience
	local.MountAll(s.API, deps)
	s.Deps = deps
	tr, err := local.NewTriggers(deps, log)
	if err != nil {
		tb.Fatal(err)
	}
	s.Local = http.NewServeMux()
	tr.Routes(s.Local)
	return s
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Now
}

// SetNow moves the handlers' clock.
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	s.Now = t
	s.mu.Unlock()
}

// Token mints a bearer token for sub in org with role.
func (s *Server) Token(org, role string) string {
	s.tb.Helper()
	tok, err := s.Keys.Mint(auth.Principal{Subject: role + "@" + org, OrgID: org, Role: role}, time.Hour)
	if err != nil {
		s.tb.Fatal(err)
	}
	return tok
}

// Request describes one call.
type Request struct {
	Method, Path string
	Token        string // "" for none
	ContentType  string // default application/json when Body is set
	Header       map[string]string
	HeaderLines  map[string][]string // several field lines of one header
	Body         []byte
	// RemoteAddr is the caller's address (host:port; default httptest's 192.0.2.1:1234).
	RemoteAddr string
}

// Response is a finished call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do serves r and returns the response.
func (s *Server) Do(r Request) Response {
	req := httptest.NewRequest(r.Method, r.Path, bytes.NewReader(r.Body))
	if r.RemoteAddr != "" {
		req.RemoteAddr = r.RemoteAddr
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	for k, lines := range r.HeaderLines {
		for _, v := range lines {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	if strings.HasPrefix(r.Path, "/local/") {
		s.Local.ServeHTTP(rec, req)
	} else {
		s.API.ServeHTTP(rec, req)
	}
	return Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// As is Do with a token for org and role.
func (s *Server) As(org, role, method, path string, body []byte, header ...string) Response {
	s.tb.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	r := Request{Method: method, Path: path, Token: s.Token(org, role), Body: body, Header: h}
	if ct, ok := h["Content-Type"]; ok {
		r.ContentType = ct
	}
	return s.Do(r)
}

// Admin is As for the admin of org "acme".
func (s *Server) Admin(method, path string, body []byte, header ...string) Response {
	s.tb.Helper()
	return s.As("acme", auth.RoleAdmin, method, path, body, header...)
}

// JSON decodes the body into a generic map, failing the test on bad JSON.
func (r Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("response body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// FieldErrors returns the problem's errors as field -> message.
func (r Response) FieldErrors(tb testing.TB) map[string]string {
	tb.Helper()
	var p httpx.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		tb.Fatalf("response body is not a problem: %v\n%s", err, r.Body)
	}
	out := map[string]string{}
	for _, f := range p.Errors {
		out[f.Field] = f.Message
	}
	return out
}

// Expect fails the test unless the status is want; it prints the body to explain.
func (r Response) Expect(tb testing.TB, want int) Response {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("status: got %d, want %d\n%s", r.Status, want, r.Body)
	}
	if want >= 400 {
		if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
			tb.Fatalf("error content type: got %q, want application/problem+json", ct)
		}
	}
	return r
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// BusinessUnits creates business units of org with the given ids (named after them), as
// an admin would through the business-units routes, for tests that need agents in
// them: the agents function refuses a unit that does not exist.
func (s *Server) BusinessUnits(org string, unitIDs ...string) {
	s.tb.Helper()
	SeedBusinessUnits(s.tb, s.Deps, org, unitIDs...)
}

// SeedBusinessUnits creates business units of org with the given ids in d's store.
func SeedBusinessUnits(tb testing.TB, d app.Deps, org string, unitIDs ...string) {
	tb.Helper()
	for _, id := range unitIDs {
		name := "Unit " + id
		at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		u := businessunits.Unit{OrgID: org, ID: id, Name: name, NameKey: caseless.Key(name), ChatbotIDs: []string{}, Version: 1,
			CreatedAt: at, UpdatedAt: at, UpdatedBy: "admin@" + org}
		entry := audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Actor: "admin@" + org, Area: businessunits.Area, Action: "create",
			RequestID: "seed", Changes: []audit.Change{}}
		if err := d.BusinessUnits.Create(context.Background(), u, entry); err != nil {
			tb.Fatalf("business unit %s of %s: %v", id, org, err)
		}
	}
}

// SubOrg creates a sub-organisation of parent (a root, or a sub-organisation made before)
// named name, as POST /v1/orgs/{parent}/suborgs would, and returns its id.
func (s *Server) SubOrg(parent, name string) string {
	s.tb.Helper()
	return SeedSubOrg(s.tb, s.Deps, parent, name)
}

// SeedSubOrg creates a sub-organisation of parent named name in d's store and returns its
// id.
func SeedSubOrg(tb testing.TB, d app.Deps, parent, name string) string {
	tb.Helper()
	ctx := context.Background()
	p, found, err := d.Orgs.Org(ctx, parent)
	if err != nil {
		tb.Fatal(err)
	}
	if !found {
		p = orgs.Root(parent)
	}
	id := ids.New(orgs.IDPrefix)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	o := orgs.Org{ID: id, Name: name, ParentID: parent, Path: append(slices.Clone(p.Path), id), CreatedAt: at}
	entry := audit.Entry{ID: audit.NewID(at), OrgID: parent, At: at, Actor: "admin@" + parent, Area: orgs.Area, Action: "create",
		RequestID: "seed", Changes: []audit.Change{}}
	if err := d.Orgs.Create(ctx, o, entry); err != nil {
		tb.Fatalf("sub-organisation %q of %s: %v", name, parent, err)
	}
	return id
}
