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
)

// Config is a function's configuration.
type Config struct {
	TableName  string     // the single DynamoDB table
	LogoBucket string     // the private S3 bucket of organisation logos (general only)
	LogLevel   slog.Level // debug, info (default), warn or error
	// AuditCursorKey keys the HMAC of audit listing cursors (at least 32 bytes). The
	// template generates it per deployment in Secrets Manager and passes it in.
	AuditCursorKey []byte
}

// Needs says which variables a function requires.
type Needs struct {
	Table, LogoBucket, AuditCursorKey bool
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
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s must be debug, info, warn or error, not %q", EnvLogLevel, v))
		}
	}
	return c, errors.Join(errs...)
}
