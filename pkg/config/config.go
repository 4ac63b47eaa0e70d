// Package config reads a Lambda function's configuration from the environment once per
// cold start and validates it, so that a misconfigured function fails at start with a
// clear message instead of on the first request.
//
// AWS endpoints are never configured here: the SDK's standard variables
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, AWS_REGION) apply.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/convrs/admin/pkg/signer"
)

// Environment variables read by the functions. The template sets each one a function
// needs; a test checks that they agree.
const (
	EnvTableName      = "TABLE_NAME"
	EnvLogoBucket     = "LOGO_BUCKET"
	EnvLogLevel       = "LOG_LEVEL"
	EnvAuditCursorKey = "AUDIT_CURSOR_KEY"
	EnvPublicBaseURL  = "PUBLIC_BASE_URL"
	// EnvWebchatSecretPrefix names the Secrets Manager secrets of the WebChat key sets:
	// <prefix>orgs/<orgId>/webchat.
	EnvWebchatSecretPrefix = "WEBCHAT_SECRET_PREFIX"
	// EnvEventBusName names the EventBridge bus the product's events go to.
	EnvEventBusName = "EVENT_BUS_NAME"
	// EnvMailFrom is the verified sender address of the email the product sends.
	EnvMailFrom = "MAIL_FROM"
	// EnvSigningKeyID names the KMS key that signs the deployment's tokens (key id, key
	// ARN, alias name or alias ARN).
	EnvSigningKeyID = "SIGNING_KEY_ID"
	// EnvSigningKeysPublished lists further KMS keys to publish, comma-separated: the next
	// key before it signs, the previous ones while their tokens live (rotation).
	EnvSigningKeysPublished = "SIGNING_KEYS_PUBLISHED"
	// EnvTokenIssuer and EnvTokenAudience are the iss and aud of the tokens the deployment
	// issues; the issuer is also the base URL of the published /.well-known documents.
	EnvTokenIssuer   = "TOKEN_ISSUER"
	EnvTokenAudience = "TOKEN_AUDIENCE"
)

// MaxPublishedKeyRefs bounds SIGNING_KEYS_PUBLISHED: with the current key, at most
// signer.MaxPublishedKeys keys are published.
const MaxPublishedKeyRefs = signer.MaxPublishedKeys - 1

// MaxAudienceLen bounds TOKEN_AUDIENCE.
const MaxAudienceLen = 256

// Config is a function's configuration.
type Config struct {
	TableName  string     // the single DynamoDB table
	LogoBucket string     // the private S3 bucket of organisation logos (general only)
	LogLevel   slog.Level // debug, info (default), warn or error
	// AuditCursorKey keys the HMAC of audit listing cursors (at least 32 bytes). The
	// template generates it per deployment in Secrets Manager and passes it in.
	AuditCursorKey []byte
	// PublicBaseURL is the deployment's public https origin (and optional path), with no
	// trailing slash, for absolute URLs the product publishes (SSO's assertion URL).
	PublicBaseURL string
	// WebchatSecretPrefix starts the name of every WebChat key-set secret.
	WebchatSecretPrefix string
	// EventBusName is the EventBridge bus the product's events go to.
	EventBusName string
	// MailFrom is the verified sender of the product's email ("Name <addr>" or "addr").
	MailFrom string
	// SigningKeyID is the KMS key that signs tokens; SigningKeysPublished the further keys
	// whose public halves are published (none, or up to MaxPublishedKeyRefs).
	SigningKeyID         string
	SigningKeysPublished []string
	// TokenIssuer and TokenAudience are the iss and aud of the deployment's tokens.
	TokenIssuer, TokenAudience string
}

// Needs says which variables a function requires.
type Needs struct {
	Table, LogoBucket, AuditCursorKey, PublicBaseURL, WebchatSecretPrefix, EventBus, MailFrom bool
	// Signing means the signing key variables and the token issuer and audience.
	Signing bool
}

// Load reads the configuration through getenv (os.Getenv when nil) and returns an error
// naming every missing or invalid variable.
func Load(n Needs, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Config
	var errs []error
	c.TableName = strings.TrimSpace(getenv(EnvTableName))
	if n.Table && len(c.TableName) < 3 {
		errs = append(errs, fmt.Errorf("%s must name the DynamoDB table (at least 3 characters)", EnvTableName))
	}
	c.LogoBucket = strings.TrimSpace(getenv(EnvLogoBucket))
	if n.LogoBucket && c.LogoBucket == "" {
		errs = append(errs, fmt.Errorf("%s must name the logo bucket", EnvLogoBucket))
	}
	if v := getenv(EnvAuditCursorKey); v != "" || n.AuditCursorKey {
		if len(v) < 32 {
			errs = append(errs, fmt.Errorf("%s must hold at least 32 bytes of secret", EnvAuditCursorKey))
		} else {
			c.AuditCursorKey = []byte(v)
		}
	}
	if v := getenv(EnvPublicBaseURL); v != "" || n.PublicBaseURL {
		u, err := ParseBaseURL(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %w", EnvPublicBaseURL, err))
		}
		c.PublicBaseURL = u
	}
	c.WebchatSecretPrefix = getenv(EnvWebchatSecretPrefix)
	if n.WebchatSecretPrefix && c.WebchatSecretPrefix == "" {
		errs = append(errs, fmt.Errorf("%s must name the prefix of the WebChat key-set secrets", EnvWebchatSecretPrefix))
	}
	c.EventBusName = strings.TrimSpace(getenv(EnvEventBusName))
	if n.EventBus && c.EventBusName == "" {
		errs = append(errs, fmt.Errorf("%s must name the EventBridge bus the events go to", EnvEventBusName))
	}
	if v := strings.TrimSpace(getenv(EnvMailFrom)); v != "" || n.MailFrom {
		if a, err := mail.ParseAddress(v); err != nil {
			errs = append(errs, fmt.Errorf("%s must be the verified sender address (\"Name <addr>\" or \"addr\"), not %q", EnvMailFrom, v))
		} else {
			c.MailFrom = a.String()
		}
	}
	errs = append(errs, c.loadSigning(n.Signing, getenv)...)
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s must be debug, info, warn or error, not %q", EnvLogLevel, v))
		}
	}
	return c, errors.Join(errs...)
}

// loadSigning reads the signing key references and the token issuer and audience. The
// key references are checked here for presence, count and repeats only; the KMS adapter
// checks their form (kmssigner.ValidateKeyRefs) when it is attached.
func (c *Config) loadSigning(needed bool, getenv func(string) string) []error {
	var errs []error
	c.SigningKeyID = strings.TrimSpace(getenv(EnvSigningKeyID))
	if needed && c.SigningKeyID == "" {
		errs = append(errs, fmt.Errorf("%s must name the KMS key that signs tokens (key id, key ARN or alias ARN)", EnvSigningKeyID))
	}
	if v := strings.TrimSpace(getenv(EnvSigningKeysPublished)); v != "" {
		refs := strings.Split(v, ",")
		for i := range refs {
			refs[i] = strings.TrimSpace(refs[i])
		}
		switch {
		case len(refs) > MaxPublishedKeyRefs:
			errs = append(errs, fmt.Errorf("%s lists %d keys, at most %d may be published beside the current one", EnvSigningKeysPublished, len(refs), MaxPublishedKeyRefs))
		case slices.Contains(refs, ""):
			errs = append(errs, fmt.Errorf("%s must be a comma-separated list of KMS keys with no empty item, not %q", EnvSigningKeysPublished, v))
		case slices.Contains(refs, c.SigningKeyID):
			errs = append(errs, fmt.Errorf("%s lists the current key %s, which is published anyway: list only the next and previous keys", EnvSigningKeysPublished, c.SigningKeyID))
		default:
			c.SigningKeysPublished = refs
		}
	}
	if v := strings.TrimSpace(getenv(EnvTokenIssuer)); v != "" || needed {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s must be the deployment's public https base URL, the URL that serves /.well-known/* (no trailing slash)", EnvTokenIssuer))
		} else if err := signer.ValidateIssuer(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvTokenIssuer, err))
		} else {
			c.TokenIssuer = v
		}
	}
	if v := strings.TrimSpace(getenv(EnvTokenAudience)); v != "" || needed {
		if v == "" || len(v) > MaxAudienceLen || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f || r > 0x7e }) {
			errs = append(errs, fmt.Errorf("%s must be the tokens' audience: 1 to %d printable ASCII characters without spaces, not %q", EnvTokenAudience, MaxAudienceLen, v))
		} else {
			c.TokenAudience = v
		}
	}
	return errs
}

// ParseBaseURL checks a public base URL and returns it without a trailing slash: an
// absolute https URL with a host and no query or fragment (http is allowed for localhost
// and 127.0.0.1, for the local server). It returns an error saying what is wrong.
func ParseBaseURL(v string) (string, error) {
	u, err := url.Parse(v)
	switch {
	case v == "":
		return "", errors.New("must be set to the deployment's public https URL")
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("must be an absolute URL such as https://admin-api.example.com, not %q", v)
	case u.Scheme == "https":
	case u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"):
	default:
		return "", fmt.Errorf("must be an https URL, not %q", v)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
