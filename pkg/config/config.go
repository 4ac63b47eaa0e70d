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
	"strings"
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
)

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
}

// Needs says which variables a function requires.
type Needs struct {
	Table, LogoBucket, AuditCursorKey, PublicBaseURL, WebchatSecretPrefix, EventBus, MailFrom bool
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
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s must be debug, info, warn or error, not %q", EnvLogLevel, v))
		}
	}
	return c, errors.Join(errs...)
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
