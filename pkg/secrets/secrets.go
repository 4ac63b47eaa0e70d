// Package secrets is the port for small secret documents kept under names, such as an
// organisation's WebChat signing key set. Adapters live in their own packages
// (filesecrets for a local folder, smsecrets for AWS Secrets Manager) and are checked
// against the shared contract suite in package secretstest.
//
// A value is secret: no implementation logs it, puts it in an error, or lets it reach an
// audit entry. Names are not secret; errors name them so that the logs say which secret
// failed.
package secrets

import (
	"context"
	"fmt"
	"strings"

	"github.com/convrs/admin/pkg/problem"
)

// Store keeps small secret documents (at most MaxValueLen bytes) under names, such as an
// organisation's WebChat key set. Implementations never log a value, are safe for
// concurrent use, and make every method fail once ctx is done.
//
// Both methods return a BadRequest *problem.Error for a name ValidateName refuses, before
// touching storage, and an error wrapping the context's error when ctx is done. An
// adapter whose backing service throttles or fails transiently returns an Unavailable
// *problem.Error (503 with Retry-After); any other failure is a plain error, which
// clients see as a 500 without its text.
type Store interface {
	// Get returns the current value of name, or a problem.NotFound error when there is none.
	// The returned slice belongs to the caller.
	Get(ctx context.Context, name string) ([]byte, error)
	// Put stores value as the current value of name, creating it when absent. Readers see
	// either the previous value or the new one, never a mixture. Put returns the error of
	// ValidateValue for an empty or oversized value. The store keeps no reference to value.
	Put(ctx context.Context, name string, value []byte) error
}

// MaxValueLen is the largest value a Store accepts, in bytes. Secrets Manager allows
// 64 KiB per secret value; a WebChat key set (a current and a previous key with their
// ids and dates) is under 1 KiB. 16 KiB leaves room for growth while keeping every
// adapter far from the service limit (SecretBinary travels base64-encoded, a third
// larger) and a value cheap to cache in every container.
const MaxValueLen = 16 << 10

// MaxNameLen is the longest name accepted, in bytes. It leaves room for an adapter's
// prefix (smsecrets allows 64 bytes) within Secrets Manager's limit on secret names.
const MaxNameLen = 256

// ValidateName checks that name is usable by every adapter: 1 to MaxNameLen bytes of
// ASCII letters, digits and / _ + = . @ - (the characters Secrets Manager allows in a
// secret name), not starting or ending with "/" and not containing "..". It returns a
// BadRequest *problem.Error describing the first violation, or nil.
//
// Prefer names that do not end with a hyphen and six characters ("acme-abc123"), which
// Secrets Manager advises against because they look like the random suffix it adds to
// a secret's ARN. A fixed last segment ("orgs/acme-abc123/webchat") avoids that.
func ValidateName(name string) error {
	if name == "" {
		return problem.New(problem.BadRequest, "secret name must not be empty")
	}
	if len(name) > MaxNameLen {
		return problem.New(problem.BadRequest, "secret name must be at most %d bytes", MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return problem.New(problem.BadRequest, "secret name may contain only letters, digits and / _ + = . @ -")
		}
	}
	if strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return problem.New(problem.BadRequest, "secret name must not start or end with /")
	}
	if strings.Contains(name, "..") {
		return problem.New(problem.BadRequest, "secret name must not contain ..")
	}
	return nil
}

func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("/_+=.@-", c) >= 0
}

// ValidateValue checks a value given to Put. It returns a BadRequest *problem.Error for
// an empty value (Secrets Manager refuses one, and a key set is never empty, so an empty
// value is a caller's bug rather than a way to clear a secret), a TooLarge
// *problem.Error for one over MaxValueLen, or nil. The messages never quote the value.
func ValidateValue(value []byte) error {
	if len(value) == 0 {
		return problem.New(problem.BadRequest, "secret value must not be empty")
	}
	if len(value) > MaxValueLen {
		return problem.New(problem.TooLarge, "secret value must be at most %d bytes", MaxValueLen)
	}
	return nil
}

// NotFound returns the NotFound *problem.Error that adapters return from Get for an
// absent name. The client-safe message does not name the secret; the name and cause,
// which may be nil, are kept for the logs.
func NotFound(name string, cause error) *problem.Error {
	err := fmt.Errorf("secret %q not found", name)
	if cause != nil {
		err = fmt.Errorf("secret %q not found: %w", name, cause)
	}
	return problem.Wrap(problem.NotFound, err, "secret not found")
}
