package sso_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/sso"
)

const (
	path       = "/v1/orgs/acme/settings/sso"
	mergePatch = "application/merge-patch+json"
)

// samlDoc is a PUT body enabling SAML with the given certificate.
func samlDoc(t testing.TB, cert string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"enabled": true, "provider": "saml", "allowPasswordLogin": false,
		"saml": map[string]any{"ssoUrl": "https://idp.example.com/sso/saml", "certificate": cert, "useRoleFromSaml": true}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What every settings area shares (ETag, If-Match, PATCH, audit, strict decoding, the
// authorisation matrix) is tested once, in apitest.SettingsArea.
func TestSharedBehaviour(t *testing.T) {
	apitest.SettingsArea(t, apitest.Area{
		Name:  sso.AreaName,
		Valid: string(samlDoc(t, samplePEM)),
		Field: "allowPasswordLogin", Patch: `{"allowPasswordLogin":true}`,
		Invalid: `{"enabled":true}`, InvalidField: "provider",
	})
}

func TestGetDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	r := s.Admin(http.MethodGet, path, nil).Expect(t, http.StatusOK)
	want := `{"version":0,"updatedAt":null,"updatedBy":null,"locked":[],"sources":{"allowPasswordLogin":"default","enabled":"default","provider":"default","saml":"default"},"lockedBy":{},"enabled":false,"provider":null,"allowPasswordLogin":true,` +
		`"saml":{"ssoUrl":"","certificate":"","useRoleFromSaml":false,` +
		`"assertionUrl":"https://admin-api.convrs.test/v1/sso/saml/acme/acs","entityId":"https://admin-api.convrs.test/v1/sso/saml/acme","certificateInfo":null}}`
	if string(r.Body) != want {
		t.Errorf("body:\n got %s\nwant %s", r.Body, want)
	}
	// Another organisation gets its own URLs.
	m := s.As("globex", "admin", http.MethodGet, "/v1/orgs/globex/settings/sso", nil).Expect(t, 200).JSON(t)
	if got := m["saml"].(map[string]any)["assertionUrl"]; got != apitest.BaseURL+"/v1/sso/saml/globex/acs" {
		t.Errorf("globex assertionUrl: got %v", got)
	}
}

func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err == nil {
		return got
	}
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Invalid {
		t.Fatalf("got %v, want an Invalid problem", err)
	}
	for _, f := range pe.Fields {
		got[f.Field] = f.Message
	}
	return got
}

func ptr(s string) *string { return &s }

// The provider rules and when the SAML fields are required.
func TestValidateProviderRules(t *testing.T) {
	t.Parallel()
	cert := certPEM(t, validSpec())
	const (
		required    = "is required when SSO is enabled"
		urlRequired = "is required when SSO is enabled with provider saml"
		unknown     = "must be google, microsoft, okta or saml (or null for none)"
	)
	tests := []struct {
		name string
		mod  func(*sso.Settings)
		want map[string]string
	}{
		{"defaults", func(*sso.Settings) {}, nil},
		{"enabled without provider", func(s *sso.Settings) { s.Enabled = true }, map[string]string{"provider": required}},
		{"empty provider", func(s *sso.Settings) { s.Provider = ptr("") }, map[string]string{"provider": unknown}},
		{"unknown provider", func(s *sso.Settings) { s.Enabled, s.Provider = true, ptr("adfs") }, map[string]string{"provider": unknown}},
		{"wrongly cased provider", func(s *sso.Settings) { s.Provider = ptr("Google") }, map[string]string{"provider": unknown}},
		{"google needs no SAML fields", func(s *sso.Settings) { s.Enabled, s.Provider = true, ptr("google") }, nil},
		{"microsoft", func(s *sso.Settings) { s.Enabled, s.Provider = true, ptr("microsoft") }, nil},
		{"okta", func(s *sso.Settings) { s.Enabled, s.Provider = true, ptr("okta") }, nil},
		{"saml without URL and certificate", func(s *sso.Settings) { s.Enabled, s.Provider = true, ptr("saml") },
			map[string]string{"saml.ssoUrl": urlRequired, "saml.certificate": urlRequired}},
		{"saml without certificate", func(s *sso.Settings) {
			s.Enabled, s.Provider, s.SAML.SSOURL = true, ptr("saml"), "https://idp.example.com/sso"
		}, map[string]string{"saml.certificate": urlRequired}},
		{"saml complete", func(s *sso.Settings) {
			s.Enabled, s.Provider, s.SAML.SSOURL, s.SAML.Certificate = true, ptr("saml"), "https://idp.example.com/sso", cert
		}, nil},
		{"disabled saml may be incomplete", func(s *sso.Settings) { s.Provider = ptr("saml") }, nil},
		{"disabled keeps what is typed", func(s *sso.Settings) { s.SAML.SSOURL = "https://idp.example.com/sso" }, nil},
		{"disabled still checks what is given", func(s *sso.Settings) {
			s.SAML.SSOURL, s.SAML.Certificate = "http://idp.example.com/sso", "not a certificate"
		}, map[string]string{"saml.ssoUrl": "must be an https URL", "saml.certificate": sso.MsgNotPEM}},
		{"google checks SAML fields given", func(s *sso.Settings) {
			s.Enabled, s.Provider, s.SAML.Certificate = true, ptr("google"), "not a certificate"
		}, map[string]string{"saml.certificate": sso.MsgNotPEM}},
		{"every failing field at once", func(s *sso.Settings) {
			s.Enabled, s.Provider, s.SAML.SSOURL = true, ptr("saml"), "ftp://idp.example.com"
		}, map[string]string{"saml.ssoUrl": "must be an https URL", "saml.certificate": urlRequired}},
		{"password login off with SSO disabled", func(s *sso.Settings) { s.AllowPasswordLogin = false }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sso.Defaults()
			tc.mod(&s)
			got := fieldErrors(t, s.ValidateAt(testNow))
			if fmt.Sprint(got) != fmt.Sprint(orEmpty(tc.want)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func TestValidateSSOURL(t *testing.T) {
	t.Parallel()
	long := "https://idp.example.com/" + strings.Repeat("a", 2048-len("https://idp.example.com/"))
	tests := []struct{ url, want string }{
		{"https://idp.example.com/sso/saml", ""},
		{"https://accounts.google.com/o/saml2/idp?idpid=C01abcdef", ""},
		{"https://login.microsoftonline.com/0f1e2d3c/saml2", ""},
		{"https://idp.example.com:8443/sso", ""},
		{"HTTPS://IDP.EXAMPLE.COM/sso", ""},
		{"https://[2001:db8::1]/sso", ""},
		{long, ""},
		{long + "a", "must be at most 2048 characters"},
		{"http://idp.example.com/sso", "must be an https URL"},
		{"ftp://idp.example.com/sso", "must be an https URL"},
		{"idp.example.com/sso", "must be an absolute https URL, such as https://idp.example.com/sso/saml"},
		{"/sso/saml", "must be an absolute https URL, such as https://idp.example.com/sso/saml"},
		{"javascript:alert(1)", "must be an absolute https URL, such as https://idp.example.com/sso/saml"},
		{"https:idp.example.com", "must be an absolute https URL, such as https://idp.example.com/sso/saml"},
		{"https://", "must name a host, such as https://idp.example.com/sso/saml"},
		{"https:///sso", "must name a host, such as https://idp.example.com/sso/saml"},
		{"https://:443/sso", "must name a host, such as https://idp.example.com/sso/saml"},
		{"https://admin:secret@idp.example.com/sso", "must not contain a user name or password"},
		{"https://admin@idp.example.com/sso", "must not contain a user name or password"},
		{"https://idp.example.com/sso#top", "must not have a fragment (#...)"},
		{"https://idp.example.com/sso#", "must not have a fragment (#...)"},
		{"https://idp.example.com:0/sso", "must have a port between 1 and 65535"},
		{"https://idp.example.com:65536/sso", "must have a port between 1 and 65535"},
		{"https://idp.example.com/s so", "must not contain spaces (encode them as %20)"},
		{"https://idp.example.com/s\u00a0so", "must not contain spaces (encode them as %20)"},
		{"https://idp.example.com/\x07", "must not contain control characters"},
		{"https://idp.example.com/\u0085", "must not contain control characters"},
		{"https://idp.example.com/\u202e", "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"},
		{"https://idp.example.com/\xff", "must be valid UTF-8 text"},
		{"https://idp.exa%mple.com/", "must be an absolute https URL, such as https://idp.example.com/sso/saml"},
	}
	for _, tc := range tests {
		s := sso.Defaults()
		s.SAML.SSOURL = tc.url
		got := fieldErrors(t, s.ValidateAt(testNow))["saml.ssoUrl"]
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.url, got, tc.want)
		}
	}
}

// Validity periods are judged at the service's clock: expired and not yet valid are
// refused; the boundaries (NotBefore and NotAfter themselves) are valid.
func TestCertificateValidityFollowsTheClock(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	expired := certPEM(t, certSpec{notBefore: testNow.AddDate(-2, 0, 0), notAfter: testNow.Add(-time.Second)})
	future := certPEM(t, certSpec{notBefore: testNow.Add(time.Hour), notAfter: testNow.AddDate(1, 0, 0)})
	atEdges := certPEM(t, certSpec{notBefore: testNow, notAfter: testNow.AddDate(0, 2, 0)})
	lastSecond := certPEM(t, certSpec{notBefore: testNow.AddDate(-1, 0, 0), notAfter: testNow})

	r := s.Admin(http.MethodPut, path, samlDoc(t, expired)).Expect(t, 422)
	want := "the certificate expired on " + testNow.Add(-time.Second).Format(time.RFC3339) + "; ask the identity provider for its current signing certificate"
	if got := r.FieldErrors(t); len(got) != 1 || got["saml.certificate"] != want {
		t.Errorf("expired: got %v, want saml.certificate: %s", got, want)
	}
	r = s.Admin(http.MethodPut, path, samlDoc(t, future)).Expect(t, 422)
	want = "the certificate is not valid until 2026-11-25T11:00:00Z; paste a certificate that is valid now"
	if got := r.FieldErrors(t)["saml.certificate"]; got != want {
		t.Errorf("not yet valid: got %q, want %q", got, want)
	}
	s.Admin(http.MethodPut, path, samlDoc(t, atEdges)).Expect(t, 200)
	s.Admin(http.MethodPut, path, samlDoc(t, lastSecond)).Expect(t, 200)

	// The clock decides: the not-yet-valid certificate is accepted once its time comes.
	s.SetNow(testNow.Add(2 * time.Hour))
	s.Admin(http.MethodPut, path, samlDoc(t, future)).Expect(t, 200)
}

// The certificate the response describes, and the derived URLs: in every representation,
// never taken from a client, never stored.
func TestDerivedFields(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	spec := validSpec()
	spec.issued = true
	cert, der := mustCert(t, spec)
	var doc map[string]any
	if err := json.Unmarshal(samlDoc(t, "\r\n  "+strings.ReplaceAll(cert, "\n", "\r\n")+"  \n"), &doc); err != nil {
		t.Fatal(err)
	}
	saml := doc["saml"].(map[string]any)
	saml["assertionUrl"], saml["entityId"] = "https://evil.example.com/acs", "forged-entity"
	saml["certificateInfo"] = map[string]any{"subject": "CN=forged", "sha256": 1, "extra": []int{1}}
	body, _ := json.Marshal(doc)

	wantInfo := map[string]any{
		"subject":   "CN=idp.example.com,O=Example IdP",
		"issuer":    "CN=Test Root CA,O=Convrs Tests",
		"notBefore": spec.notBefore.Format(time.RFC3339),
		"notAfter":  spec.notAfter.Format(time.RFC3339),
		"sha256":    fingerprintOf(der),
	}
	check := func(what string, r apitest.Response) {
		t.Helper()
		m := r.JSON(t)
		got := m["saml"].(map[string]any)
		if got["assertionUrl"] != apitest.BaseURL+"/v1/sso/saml/acme/acs" || got["entityId"] != apitest.BaseURL+"/v1/sso/saml/acme" {
			t.Errorf("%s: got assertionUrl %v, entityId %v", what, got["assertionUrl"], got["entityId"])
		}
		if fmt.Sprint(got["certificateInfo"]) != fmt.Sprint(wantInfo) {
			t.Errorf("%s: certificateInfo\n got %v\nwant %v", what, got["certificateInfo"], wantInfo)
		}
		if want := strings.ReplaceAll(strings.TrimSpace(cert), "\n", "\r\n"); got["certificate"] != want {
			t.Errorf("%s: certificate %q, want it as pasted, trimmed: %q", what, got["certificate"], want)
		}
		if _, ok := m["warnings"]; ok {
			t.Errorf("%s: warnings %v for a certificate valid a year", what, m["warnings"])
		}
	}
	check("PUT", s.Admin(http.MethodPut, path, body).Expect(t, 200))
	check("GET", s.Admin(http.MethodGet, path, nil).Expect(t, 200))
	check("PATCH", s.Admin(http.MethodPatch, path, []byte(`{"saml":{"useRoleFromSaml":false,"assertionUrl":"x","certificateInfo":null}}`), "Content-Type", mergePatch).Expect(t, 200))

	rec, err := s.Store.Get(context.Background(), "acme", sso.AreaName, settings.Strong)
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"assertionUrl", "entityId", "certificateInfo", "evil", "forged", "warnings", "sha256"} {
		if strings.Contains(string(rec.Data), banned) {
			t.Errorf("the stored record holds %q: %s", banned, rec.Data)
		}
	}

	// Removing the certificate removes what it says.
	m := s.Admin(http.MethodPatch, path, []byte(`{"enabled":false,"saml":{"certificate":null}}`), "Content-Type", mergePatch).Expect(t, 200).JSON(t)
	if got := m["saml"].(map[string]any); got["certificateInfo"] != nil || got["certificate"] != "" {
		t.Errorf("after removing the certificate: got %v", got)
	}
}

// A read-only field of the wrong shape is still ignored; a nested unknown field is not.
func TestEchoedReadOnlyFieldsOfAnyShape(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, []byte(`{"saml":{"assertionUrl":42,"entityId":[],"certificateInfo":"x"},"warnings":7}`)).Expect(t, 200)
	r := s.Admin(http.MethodPut, path, []byte(`{"saml":{"assertionURL":"x"}}`)).Expect(t, 400)
	if got := r.FieldErrors(t); got["saml.assertionURL"] != "unknown field" {
		t.Errorf("got %v, want saml.assertionURL: unknown field", got)
	}
	s.Admin(http.MethodPut, path, []byte(`{"saml":null}`)).Expect(t, 200)
	s.Admin(http.MethodPut, path, []byte(`{"saml":"x"}`)).Expect(t, 400)
}

// A certificate expiring within 30 days saves with a warning, which follows the clock;
// the boundary (exactly 30 days) warns, a second more does not.
func TestExpiryWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		notAfter time.Time
		want     string // "" for no warning
	}{
		{"in 10 days", testNow.AddDate(0, 0, 10), "the certificate expires on 2026-12-05 (in 10 days)"},
		{"in exactly 30 days", testNow.Add(30 * 24 * time.Hour), "the certificate expires on 2026-12-25 (in 30 days)"},
		{"in 30 days and a second", testNow.Add(30*24*time.Hour + time.Second), ""},
		{"in a day and an hour", testNow.Add(25 * time.Hour), "the certificate expires on 2026-11-26 (tomorrow)"},
		{"in 15 hours, after midnight", testNow.Add(15 * time.Hour), "the certificate expires on 2026-11-26 (tomorrow)"},
		{"in an hour", testNow.Add(time.Hour), "the certificate expires on 2026-11-25 (today)"},
		{"in 9 days and 23 hours", testNow.Add(10*24*time.Hour - time.Hour), "the certificate expires on 2026-12-05 (in 10 days)"},
		{"in 29 days and 15 hours, 30 calendar days", testNow.Add(30*24*time.Hour - 9*time.Hour), "the certificate expires on 2026-12-25 (in 30 days)"},
		{"in a year", testNow.AddDate(1, 0, 0), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := apitest.New(t)
			cert := certPEM(t, certSpec{notBefore: testNow.AddDate(-1, 0, 0), notAfter: tc.notAfter})
			for _, r := range []apitest.Response{
				s.Admin(http.MethodPut, path, samlDoc(t, cert)).Expect(t, 200),
				s.Admin(http.MethodGet, path, nil).Expect(t, 200),
			} {
				var m struct{ Warnings []settings.Warning }
				if err := json.Unmarshal(r.Body, &m); err != nil {
					t.Fatal(err)
				}
				var want []settings.Warning
				if tc.want != "" {
					want = []settings.Warning{{Field: "saml.certificate", Message: tc.want}}
				}
				if fmt.Sprint(m.Warnings) != fmt.Sprint(want) {
					t.Errorf("got warnings %v, want %v", m.Warnings, want)
				}
				if tc.want == "" && strings.Contains(string(r.Body), `"warnings"`) {
					t.Errorf("got a warnings member without warnings: %s", r.Body)
				}
			}
		})
	}
}

func TestWarningsFollowTheClock(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	notAfter := testNow.AddDate(0, 0, 14)
	cert := certPEM(t, certSpec{notBefore: testNow.AddDate(-1, 0, 0), notAfter: notAfter})
	warnings := func() any { return s.Admin(http.MethodGet, path, nil).Expect(t, 200).JSON(t)["warnings"] }

	r := s.Admin(http.MethodPut, path, samlDoc(t, cert)).Expect(t, 200)
	if got := fmt.Sprint(r.JSON(t)["warnings"]); got != "[map[field:saml.certificate message:the certificate expires on 2026-12-09 (in 14 days)]]" {
		t.Errorf("PUT: got warnings %s", got)
	}
	// The representation with its warnings may be sent back as is.
	echo := s.Admin(http.MethodGet, path, nil).Expect(t, 200)
	s.Admin(http.MethodPut, path, echo.Body).Expect(t, 200)
	s.Admin(http.MethodPatch, path, echo.Body, "Content-Type", mergePatch).Expect(t, 200)

	s.SetNow(testNow.AddDate(0, 0, -20))
	if got := warnings(); got != nil {
		t.Errorf("20 days earlier: got warnings %v, want none", got)
	}
	s.SetNow(notAfter.Add(time.Hour))
	if got := fmt.Sprint(warnings()); got != "[map[field:saml.certificate message:the certificate expired on 2026-12-09; SAML sign-in fails until it is replaced]]" {
		t.Errorf("after expiry: got warnings %s", got)
	}
	// Once expired, the certificate must be replaced before anything else is saved.
	r = s.Admin(http.MethodPatch, path, []byte(`{"allowPasswordLogin":true}`), "Content-Type", mergePatch).Expect(t, 422)
	if got := r.FieldErrors(t)["saml.certificate"]; !strings.HasPrefix(got, "the certificate expired on 2026-12-09T10:00:00Z") {
		t.Errorf("PATCH with an expired certificate: got %v", r.FieldErrors(t))
	}
	s.Admin(http.MethodPatch, path, []byte(`{"saml":{"certificate":`+jsonString(samplePEM)+`}}`), "Content-Type", mergePatch).Expect(t, 200)
	if got := warnings(); got != nil {
		t.Errorf("after replacing the certificate: got warnings %v", got)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Switching providers keeps the SAML fields as typed; SSO can be switched off with an
// incomplete SAML configuration left behind, but not on.
func TestProviderSwitches(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	s.Admin(http.MethodPut, path, samlDoc(t, samplePEM)).Expect(t, 200)
	m := s.Admin(http.MethodPatch, path, []byte(`{"provider":"okta"}`), "Content-Type", mergePatch).Expect(t, 200).JSON(t)
	if saml := m["saml"].(map[string]any); m["provider"] != "okta" || saml["ssoUrl"] != "https://idp.example.com/sso/saml" || saml["certificateInfo"] == nil {
		t.Errorf("got %v, want okta with the SAML fields kept", m)
	}
	s.Admin(http.MethodPatch, path, []byte(`{"provider":"saml","saml":{"ssoUrl":null}}`), "Content-Type", mergePatch).Expect(t, 422)
	s.Admin(http.MethodPatch, path, []byte(`{"enabled":false,"provider":"saml","saml":{"ssoUrl":null}}`), "Content-Type", mergePatch).Expect(t, 200)
	r := s.Admin(http.MethodPatch, path, []byte(`{"enabled":true}`), "Content-Type", mergePatch).Expect(t, 422)
	if got := r.FieldErrors(t); len(got) != 1 || got["saml.ssoUrl"] == "" {
		t.Errorf("enabling an incomplete SAML configuration: got %v", got)
	}
	r = s.Admin(http.MethodPatch, path, []byte(`{"provider":null,"enabled":true}`), "Content-Type", mergePatch).Expect(t, 422)
	if got := r.FieldErrors(t); got["provider"] != "is required when SSO is enabled" {
		t.Errorf("enabling without a provider: got %v", got)
	}
	m = s.Admin(http.MethodPatch, path, []byte(`{"provider":null}`), "Content-Type", mergePatch).Expect(t, 200).JSON(t)
	if v, ok := m["provider"]; !ok || v != nil {
		t.Errorf("provider reset: got %v (present %v), want null", v, ok)
	}
	m = s.Admin(http.MethodPut, path, []byte(`{"saml":{"ssoUrl":"  https://idp.example.com/x\u200b "}}`)).Expect(t, 200).JSON(t)
	if got := m["saml"].(map[string]any)["ssoUrl"]; got != "https://idp.example.com/x" {
		t.Errorf("ssoUrl: got %q, want it trimmed", got)
	}
}

// Whatever was refused is neither stored nor audited.
func TestRefusedCertificatesChangeNothing(t *testing.T) {
	t.Parallel()
	s := apitest.New(t)
	for name, k := range keyPEMs(t) {
		r := s.Admin(http.MethodPut, path, samlDoc(t, k)).Expect(t, 422)
		if got := r.FieldErrors(t)["saml.certificate"]; got != sso.MsgPrivateKey {
			t.Errorf("%s: got %q, want %q", name, got, sso.MsgPrivateKey)
		}
		assertNoKey(t, name+" response", string(r.Body), k)
	}
	if _, err := s.Store.Get(context.Background(), "acme", sso.AreaName, settings.Strong); !problem.Is(err, problem.NotFound) {
		t.Errorf("refused writes stored a record: %v", err)
	}
	a := s.Admin(http.MethodGet, "/v1/orgs/acme/audit", nil).Expect(t, 200).JSON(t)
	if n := len(a["items"].([]any)); n != 0 {
		t.Errorf("refused writes were audited: %v", a)
	}
}

// assertNoKey fails when text holds any line of a key's base64.
func assertNoKey(t *testing.T, what, text, key string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(key), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) > 16 && strings.Contains(text, line) {
			t.Errorf("%s holds the key's text %q", what, line)
		}
	}
}
