// Package sso is the single sign-on settings area: whether agents sign in through an
// identity provider (Google, Microsoft, Okta, or any SAML 2.0 provider), whether they may
// still use a username and password, and the SAML provider's sign-in URL and signing
// certificate.
//
// The response also shows what the identity provider must be told (the organisation's
// SAML assertion consumer URL and entity ID, derived from the deployment's public base
// URL) and what the pasted certificate says (subject, issuer, validity, SHA-256
// fingerprint); these are never stored and are ignored when a client sends them back.
// A certificate must parse as exactly one X.509 certificate valid now; one that expires
// within ExpiryWarning is saved with a warning.
package sso

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/freetext"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "sso"

// The identity providers.
const (
	ProviderGoogle    = "google"
	ProviderMicrosoft = "microsoft"
	ProviderOkta      = "okta"
	ProviderSAML      = "saml"
)

// MaxSSOURLChars bounds saml.ssoUrl, once trimmed, in characters.
const MaxSSOURLChars = 2048

// Settings is the SSO document.
type Settings struct {
	// Enabled makes agents sign in through the provider.
	Enabled bool `json:"enabled"`
	// Provider is one of the Provider constants; nil (JSON null) for none, which only a
	// disabled SSO may have.
	Provider *string `json:"provider"`
	// AllowPasswordLogin lets agents also sign in with a username and password while SSO
	// is enabled. With SSO disabled, passwords are the only way in whatever it says.
	AllowPasswordLogin bool `json:"allowPasswordLogin"`
	SAML               SAML `json:"saml"`

	// at is the instant Validate judges the certificate's validity at: the area's
	// Prepare sets it from the service's clock; zero means time.Now.
	at time.Time
}

// SAML is the configuration of a SAML 2.0 identity provider. Its client fields are
// required when SSO is enabled with provider saml; otherwise they are optional, and
// checked when given.
type SAML struct {
	// SSOURL is where the identity provider takes sign-in requests (https).
	SSOURL string `json:"ssoUrl"`
	// Certificate is the identity provider's signing certificate, PEM, as pasted (trimmed).
	Certificate string `json:"certificate"`
	// UseRoleFromSAML takes the agent's role from the assertion.
	UseRoleFromSAML bool `json:"useRoleFromSaml"`
	// Derived is nil in the stored document, so that its fields are never stored; the
	// area's Present sets it in every representation.
	*Derived
}

// Derived holds the read-only SAML fields the server derives.
type Derived struct {
	// AssertionURL is the organisation's assertion consumer service URL, to be entered
	// at the identity provider.
	AssertionURL string `json:"assertionUrl"`
	// EntityID is the organisation's service provider entity ID (audience).
	EntityID string `json:"entityId"`
	// CertificateInfo is what the saved certificate says; nil without one.
	CertificateInfo *CertificateInfo `json:"certificateInfo"`
}

// Defaults returns the settings of an organisation that never saved this area: SSO off,
// no provider, passwords allowed.
func Defaults() Settings {
	return Settings{AllowPasswordLogin: true}
}

// Validate returns a problem.Invalid error listing every failing field, judging the
// certificate's validity at the time Prepare recorded (time.Now when none).
func (s Settings) Validate() error {
	at := s.at
	if at.IsZero() {
		at = time.Now()
	}
	return s.ValidateAt(at)
}

// ValidateAt is Validate at the instant now. A provider is required when SSO is enabled;
// a SAML sign-in URL and certificate when it is enabled with provider saml. Given SAML
// fields are checked whatever the provider: the URL must be an absolute https URL with a
// host and no user name, the certificate exactly one PEM X.509 certificate valid at now.
func (s Settings) ValidateAt(now time.Time) error {
	var f problem.Fields
	switch {
	case s.Provider != nil && !knownProvider(*s.Provider):
		f.Add("provider", "must be google, microsoft, okta or saml (or null for none)")
	case s.Provider == nil && s.Enabled:
		f.Add("provider", "is required when SSO is enabled")
	}
	needSAML := s.Enabled && s.Provider != nil && *s.Provider == ProviderSAML
	switch {
	case s.SAML.SSOURL != "":
		if msg := checkSSOURL(s.SAML.SSOURL); msg != "" {
			f.Add("saml.ssoUrl", "%s", msg)
		}
	case needSAML:
		f.Add("saml.ssoUrl", "is required when SSO is enabled with provider saml")
	}
	switch {
	case s.SAML.Certificate != "":
		cert, msg := parseCertificate(s.SAML.Certificate)
		if msg == "" {
			msg = checkValidity(cert, now)
		}
		if msg != "" {
			f.Add("saml.certificate", "%s", msg)
		}
	case needSAML:
		f.Add("saml.certificate", "is required when SSO is enabled with provider saml")
	}
	return f.Err()
}

func knownProvider(p string) bool {
	switch p {
	case ProviderGoogle, ProviderMicrosoft, ProviderOkta, ProviderSAML:
		return true
	}
	return false
}

// checkSSOURL returns what is wrong with a (normalized) sign-in URL, or "".
func checkSSOURL(v string) string {
	if msg := freetext.Problem(v, 0, MaxSSOURLChars); msg != "" {
		return msg
	}
	if strings.ContainsFunc(v, unicode.IsSpace) {
		return "must not contain spaces (encode them as %20)"
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Scheme == "" || u.Opaque != "":
		return "must be an absolute https URL, such as https://idp.example.com/sso/saml"
	case u.Scheme != "https":
		return "must be an https URL"
	case u.Hostname() == "":
		return "must name a host, such as https://idp.example.com/sso/saml"
	case u.User != nil:
		return "must not contain a user name or password"
	case strings.Contains(v, "#"):
		return "must not have a fragment (#...)"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "must have a port between 1 and 65535"
		}
	}
	return ""
}

// NewArea returns the area of a deployment whose public base URL is baseURL (no trailing
// slash), judging certificates at now (time.Now when nil).
func NewArea(baseURL string, now func() time.Time) settings.Area[Settings] {
	if now == nil {
		now = time.Now
	}
	var certs certCache
	return settings.Area[Settings]{
		Name:     AreaName,
		Defaults: Defaults,
		ReadOnly: []string{"saml.assertionUrl", "saml.entityId", "saml.certificateInfo"},
		Prepare: func(_ Settings, next *Settings) {
			next.SAML.Derived = nil
			next.SAML.SSOURL = freetext.Normalize(next.SAML.SSOURL)
			next.SAML.Certificate = TrimCertificate(next.SAML.Certificate)
			next.at = now()
		},
		Present: func(org string, d *Settings) {
			d.SAML.Derived = &Derived{AssertionURL: AssertionURL(baseURL, org), EntityID: EntityID(baseURL, org)}
			_, d.SAML.CertificateInfo = certs.parse(d.SAML.Certificate)
		},
		Warnings: func(d Settings, at time.Time) []settings.Warning {
			cert, _ := certs.parse(d.SAML.Certificate)
			if cert == nil {
				return nil
			}
			if msg := expiryWarning(cert, at); msg != "" {
				return []settings.Warning{{Field: "saml.certificate", Message: msg}}
			}
			return nil
		},
	}
}

// EntityID is the SAML service provider entity ID of organisation org on the deployment
// at baseURL: <base>/v1/sso/saml/<org>. (The SAML routes themselves are not served yet.)
func EntityID(baseURL, org string) string { return baseURL + "/v1/sso/saml/" + org }

// AssertionURL is the assertion consumer service URL of organisation org on the
// deployment at baseURL: <base>/v1/sso/saml/<org>/acs.
func AssertionURL(baseURL, org string) string { return EntityID(baseURL, org) + "/acs" }

// Register serves the area's routes (admin only) for the deployment at baseURL; now may
// be nil for time.Now.
func Register(api *httpx.API, store settings.Store, baseURL string, now func() time.Time) *settings.Service[Settings] {
	svc := settings.NewService(NewArea(baseURL, now), store, now)
	svc.Register(api, auth.Permission(auth.PermSettingsManage))
	return svc
}

// Function is the SSO Lambda function. It publishes absolute URLs, so it needs the
// deployment's public base URL (PUBLIC_BASE_URL).
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, BaseURL: true, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.BaseURL, d.Now)
}}
