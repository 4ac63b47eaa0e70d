// Package smsecrets is the AWS Secrets Manager secrets.Store adapter, built on
// aws-sdk-go-v2. Each name is one secret, whose id is a fixed prefix (such as
// "convrs/webchat/") followed by the name; the secret is encrypted with the account's
// default key (aws/secretsmanager) unless an operator created it with another.
//
// Values are written as SecretBinary, which keeps any bytes exactly (SecretString must
// be UTF-8 and is what the console edits). Get also accepts a secret whose current
// version holds a SecretString, such as one seeded by hand with the CLI's
// --secret-string, and returns its bytes. A Put creates a new version and moves the
// AWSCURRENT label to it (AWSPREVIOUS to the one before); Get reads AWSCURRENT. AWS asks
// that a secret's value change at most about once every 10 minutes on average (it keeps
// every version for 24 hours), which key-set rotation is far below.
//
// No value reaches a log or an error: the package logs nothing, errors carry the
// operation, the name and the SDK's error (whose text comes from the service and never
// holds a value), and every call turns the SDK's request and response body logging off
// (aws.LogRequestWithBody, aws.LogResponseWithBody) whatever the client was built with.
//
// The function's role needs secretsmanager:GetSecretValue, PutSecretValue and
// CreateSecret on arn:aws:secretsmanager:<region>:<account>:secret:<prefix>* (the ARN
// ends with a random suffix, which the wildcard covers).
package smsecrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/secrets"
)

// API is the subset of *secretsmanager.Client that Store uses.
type API interface {
	GetSecretValue(ctx context.Context, params *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, params *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	CreateSecret(ctx context.Context, params *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// MaxPrefixLen is the longest prefix accepted, in bytes: with a name of
// secrets.MaxNameLen bytes, a secret id stays well within Secrets Manager's limit.
const MaxPrefixLen = 64

// CurrentStage is the staging label Get reads and Put moves.
const CurrentStage = "AWSCURRENT"

// Description is set on the secrets Put creates, for whoever finds them in the console.
const Description = "Convrs admin API secret (created by pkg/smsecrets); do not edit by hand"

// busy is the client-safe message of an Unavailable error.
const busy = "the secret store is busy, please retry"

// Store is a secrets.Store backed by AWS Secrets Manager. It is safe for concurrent use.
type Store struct {
	client    API
	prefix    string
	prefixErr error
}

var _ secrets.Store = (*Store)(nil)

// New returns a Store keeping each name's value in the secret prefix+name through
// client. An invalid prefix (see ValidatePrefix) makes every method of the Store fail
// with a plain error, before any request; call ValidatePrefix first to fail at start-up.
func New(client API, prefix string) *Store {
	return &Store{client: client, prefix: prefix, prefixErr: ValidatePrefix(prefix)}
}

// NewFromConfig returns a Store on a Secrets Manager client built from ac, with the
// endpoint overridden by AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL when set
// (the SDK's standard variables; the service id "Secrets Manager" becomes
// SECRETS_MANAGER), keeping each name's value in the secret prefix+name. See New for an
// invalid prefix.
func NewFromConfig(ac aws.Config, prefix string) *Store {
	client := secretsmanager.NewFromConfig(ac, func(o *secretsmanager.Options) {
		o.BaseEndpoint = lambdafn.Endpoint(nil, "SECRETS_MANAGER")
	})
	return New(client, prefix)
}

// ValidatePrefix checks a prefix given to New: 1 to MaxPrefixLen bytes of the characters
// secrets.ValidateName allows, not starting with "/" and not containing "..". A prefix
// normally ends with "/" ("convrs/webchat/") so that IAM policies can name the secrets
// by their path. It returns a plain error (a configuration mistake, not a client's), or
// nil.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return errors.New("smsecrets: the secret id prefix must not be empty (a prefix such as convrs/webchat/ scopes the IAM policy)")
	}
	if len(prefix) > MaxPrefixLen {
		return fmt.Errorf("smsecrets: the secret id prefix must be at most %d bytes", MaxPrefixLen)
	}
	// A valid name with a letter after it has the charset and the rules for "/" and "..".
	if err := secrets.ValidateName(prefix + "x"); err != nil {
		return fmt.Errorf("smsecrets: invalid secret id prefix %q: it may hold only letters, digits and / _ + = . @ -, must not start with / and must not contain \"..\" anywhere", prefix)
	}
	return nil
}

// id validates name and returns the id of its secret.
func (s *Store) id(name string) (string, error) {
	if s.prefixErr != nil {
		return "", s.prefixErr
	}
	if err := secrets.ValidateName(name); err != nil {
		return "", err
	}
	return s.prefix + name, nil
}

// noBodyLogs turns off the SDK's logging of request and response bodies for one call,
// since they hold the value.
func noBodyLogs(o *secretsmanager.Options) {
	o.ClientLogMode &^= aws.LogRequestWithBody | aws.LogResponseWithBody
}

// Get returns the current (AWSCURRENT) value of name, from SecretBinary or else
// SecretString. It returns a NotFound *problem.Error when the secret or its current
// version does not exist, a BadRequest *problem.Error for an invalid name, an
// Unavailable *problem.Error (RetryAfter 1s) when Secrets Manager throttles the request
// or fails transiently (awserr), and a plain error, wrapping the cause, for any other
// failure, including a done context, access denied, a secret scheduled for deletion, and
// a value that is empty or over secrets.MaxValueLen.
func (s *Store) Get(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("smsecrets: get: %w", err)
	}
	id, err := s.id(name)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(id),
		VersionStage: aws.String(CurrentStage),
	}, noBodyLogs)
	if err != nil {
		if isCode[*types.ResourceNotFoundException](err, "ResourceNotFoundException") {
			return nil, secrets.NotFound(name, err)
		}
		return nil, mapError("get", name, err)
	}
	var value []byte
	switch {
	case out.SecretBinary != nil:
		value = out.SecretBinary
	case out.SecretString != nil:
		value = []byte(*out.SecretString)
	}
	if len(value) == 0 || len(value) > secrets.MaxValueLen {
		return nil, fmt.Errorf("smsecrets: get %q: the current version holds no value or more than %d bytes", name, secrets.MaxValueLen)
	}
	return value, nil
}

// Put stores value as the current value of name: PutSecretValue, and when the secret
// does not exist, CreateSecret (and, when a concurrent Put created it first,
// PutSecretValue again). It returns a BadRequest *problem.Error for an invalid name or
// an empty value, a TooLarge *problem.Error for a value over secrets.MaxValueLen, an
// Unavailable *problem.Error (RetryAfter 1s) when Secrets Manager throttles the request
// or fails transiently (awserr), and a plain error, wrapping the cause, for any other
// failure, including a done context, access denied and a secret scheduled for deletion.
func (s *Store) Put(ctx context.Context, name string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smsecrets: put: %w", err)
	}
	id, err := s.id(name)
	if err != nil {
		return err
	}
	if err := secrets.ValidateValue(value); err != nil {
		return err
	}
	err = s.putVersion(ctx, id, value)
	if isCode[*types.ResourceNotFoundException](err, "ResourceNotFoundException") {
		_, err = s.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name:         aws.String(id),
			Description:  aws.String(Description),
			SecretBinary: value,
		}, noBodyLogs)
		if isCode[*types.ResourceExistsException](err, "ResourceExistsException") {
			err = s.putVersion(ctx, id, value)
		}
	}
	if err != nil {
		return mapError("put", name, err)
	}
	return nil
}

// putVersion adds value as the secret's new AWSCURRENT version. The SDK fills in the
// ClientRequestToken (the version id) once per call and keeps it across its retries, so
// a retried request cannot add a second version.
func (s *Store) putVersion(ctx context.Context, id string, value []byte) error {
	_, err := s.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(id),
		SecretBinary: value,
	}, noBodyLogs)
	return err
}

// isCode reports whether err is (or wraps) the modelled error T or an API error with
// that code.
func isCode[T error](err error, code string) bool {
	if err == nil {
		return false
	}
	var typed T
	if errors.As(err, &typed) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// mapError turns an SDK error into the project's vocabulary through awserr: throttling
// (ThrottlingException, LimitExceededException, 429) and transient failures
// (InternalServiceError, 5xx, connection errors) become Unavailable with RetryAfter 1s,
// anything else a plain (internal) error naming the operation and the secret.
func mapError(op, name string, err error) error {
	return awserr.Problem(fmt.Sprintf("smsecrets: %s %q", op, name), err, busy)
}

// KeySets is the lambdafn.Adapter of the WebChat key sets: a Secrets Manager client on
// the function's AWS configuration (endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER or
// AWS_ENDPOINT_URL) keeping secrets under WEBCHAT_SECRET_PREFIX. Only the functions whose
// main passes it link the Secrets Manager client.
func KeySets(ac aws.Config, cfg config.Config, d *app.Deps) error {
	if err := ValidatePrefix(cfg.WebchatSecretPrefix); err != nil {
		return fmt.Errorf("smsecrets: %s: %w", config.EnvWebchatSecretPrefix, err)
	}
	d.Secrets = NewFromConfig(ac, cfg.WebchatSecretPrefix)
	return nil
}
