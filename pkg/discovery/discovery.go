// Package discovery serves what a client needs before anything else: GET /healthz (public,
// for load balancers and uptime checks), GET /v1/me (who the token says the caller is,
// with the permissions the dashboard uses to decide which screens to show), and the
// public documents that let anyone verify the deployment's tokens:
// GET /.well-known/openid-configuration (the issuer and where its keys are) and
// GET /.well-known/jwks.json (the public keys: the current signing key first, then the
// next and previous ones during a rotation). The API Gateway JWT authorizer reads both.
package discovery

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/signer"
)

// Function is the discovery Lambda function. It reads the caller's organisation and
// custom role for /v1/me, and the public halves of the signing keys (never signs).
var Function = app.Function{Name: "discovery", Needs: app.Needs{Roles: app.Read, Orgs: app.Read, Signer: app.Read}, HTTP: Register}

// Cache lifetimes of the published documents (Cache-Control max-age).
//
// The key set changes only in a rotation, whose runbook (README "Signing keys and
// rotation") publishes a new key at least two hours before it signs anything and keeps
// an old key published for two hours plus the longest token lifetime after it stops
// signing. Five minutes is far inside both margins, so no cache that honours it can still
// hold a key set without the key that signs, or drop a key whose tokens still live; it
// also means a key withdrawn in an emergency leaves well-behaved caches within minutes,
// while verifiers polling the set (and the authorizer's refetch on an unknown kid) mostly
// hit caches rather than KMS. The discovery document depends on configuration only (the
// issuer), so it may be kept for an hour.
const (
	JWKSMaxAge      = 5 * time.Minute
	DiscoveryMaxAge = time.Hour
)

// keysRetryAfter is the Retry-After of a 503 when the keys cannot be read for another
// reason than throttling (which carries its own).
const keysRetryAfter = 30 * time.Second

// Me is the body of GET /v1/me.
type Me struct {
	Sub         string   `json:"sub"`
	OrgID       string   `json:"orgId"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
	Scope       string   `json:"scope,omitempty"`
}

var health = []byte(`{"status":"ok"}`)

// Register serves GET /healthz, GET /v1/me and the /.well-known documents of d.Issuer and
// d.Signer.
func Register(api *httpx.API, d app.Deps) {
	api.Handle(http.MethodGet, signer.DiscoveryPath, auth.Public, func(w http.ResponseWriter, r *http.Request) {
		doc, err := signer.OpenIDConfiguration(d.Issuer)
		if err != nil {
			httpx.WriteError(w, r, err) // a misconfiguration config.Load refuses at start
			return
		}
		writePublic(w, doc, DiscoveryMaxAge)
	})
	api.Handle(http.MethodGet, signer.JWKSPath, auth.Public, func(w http.ResponseWriter, r *http.Request) {
		doc, err := jwks(r, d.Signer)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		writePublic(w, doc, JWKSMaxAge)
	})
	api.Handle(http.MethodGet, "/healthz", auth.Public, func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteRawJSON(w, http.StatusOK, health)
	})
	api.Handle(http.MethodGet, "/v1/me", auth.Authenticated.AllowingPasswordScope(), func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		// The caller's organisation, read once: a deleted organisation's callers get 404 as
		// on its other routes, and a custom role may be an ancestor's (the path).
		path := []string{p.OrgID}
		if l := api.Orgs(); l != nil && ids.Valid(p.OrgID) {
			o, found, err := l.Org(r.Context(), p.OrgID)
			if err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			if found && o.Deleted() {
				httpx.WriteError(w, r, problem.New(problem.NotFound, "organisation not found"))
				return
			}
			if found {
				path = o.Path
			}
		}
		p, err := auth.Resolve(r.Context(), api.Roles(), p, path)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		perms := p.Permissions
		if perms == nil || p.Scope != "" {
			perms = []string{} // a password-scope token allows none of them
		}
		httpx.WriteJSON(w, r, http.StatusOK, Me{Sub: p.Subject, OrgID: p.OrgID, Role: p.Role, Permissions: perms, Scope: p.Scope})
	})
}

// jwks returns the key set of s. Any failure to read the keys is a 503 with Retry-After
// (logged with its cause): verifiers keep the set they have and retry, which is what they
// should do whether KMS throttles or the function's role lost access.
func jwks(r *http.Request, s signer.Signer) ([]byte, error) {
	err := errors.New("discovery: no signer")
	var keys []signer.Key
	if s != nil {
		keys, err = s.PublicKeys(r.Context())
	}
	if err == nil {
		var doc []byte
		if doc, err = signer.JWKS(keys); err == nil {
			return doc, nil
		}
	}
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Code == problem.Unavailable && pe.RetryAfter > 0 {
		return nil, err
	}
	return nil, &problem.Error{Code: problem.Unavailable, Message: "the signing keys cannot be read, please retry", RetryAfter: keysRetryAfter, Err: err}
}

// writePublic writes a public JSON document that caches may keep for maxAge.
func writePublic(w http.ResponseWriter, doc []byte, maxAge time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge.Seconds())))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}
