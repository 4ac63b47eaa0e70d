// Package blob is the port for storing opaque binary objects (such as organisation
// logos) under string keys. Adapters live in their own packages (dirblob for a local
// directory, s3blob for Amazon S3) and are checked against the shared contract suite in
// package blobtest.
package blob

import (
	"context"
	"fmt"
	"strings"

	"github.com/convrs/admin/pkg/problem"
)

// Object is a stored blob and the content type it was stored with.
type Object struct {
	ContentType string
	Data        []byte
}

// Store keeps blobs under keys. Implementations are safe for concurrent use, validate
// keys with ValidateKey, and return a *problem.Error with code BadRequest for an invalid
// key. A cancelled or expired context makes every method fail.
type Store interface {
	// Put stores data under key with the given content type, replacing any previous
	// object. It returns a BadRequest *problem.Error for an invalid key.
	Put(ctx context.Context, key, contentType string, data []byte) error
	// Get returns the object stored under key. It returns a NotFound *problem.Error when
	// there is none and a BadRequest *problem.Error for an invalid key.
	Get(ctx context.Context, key string) (Object, error)
	// Delete removes the object stored under key; deleting an absent key is not an
	// error. It returns a BadRequest *problem.Error for an invalid key.
	Delete(ctx context.Context, key string) error
}

// MaxKeyLen is the longest key accepted, in bytes.
const MaxKeyLen = 512

// ValidateKey checks that key is usable by every adapter: non-empty, at most MaxKeyLen
// bytes, made only of ASCII letters, digits and "/", "_", ".", "-", not starting or
// ending with "/", and with no empty, "." or ".." path segment. It returns a BadRequest
// *problem.Error describing the first violation, or nil.
func ValidateKey(key string) error {
	if key == "" {
		return problem.New(problem.BadRequest, "blob key must not be empty")
	}
	if len(key) > MaxKeyLen {
		return problem.New(problem.BadRequest, "blob key must be at most %d bytes", MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '/' || c == '_' || c == '.' || c == '-'
		if !ok {
			return problem.New(problem.BadRequest, "blob key may contain only letters, digits and / _ . -")
		}
	}
	if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return problem.New(problem.BadRequest, "blob key must not start or end with /")
	}
	if strings.Contains(key, "..") {
		return problem.New(problem.BadRequest, "blob key must not contain ..")
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." {
			return problem.New(problem.BadRequest, "blob key must not contain empty or . segments")
		}
	}
	return nil
}

// MaxContentTypeLen is the longest content type accepted, in bytes.
const MaxContentTypeLen = 255

// DefaultContentType is stored in place of an empty content type.
const DefaultContentType = "application/octet-stream"

// ContentType checks a content type given to Put and returns the one to store:
// DefaultContentType for an empty one, else contentType itself. It returns a
// BadRequest *problem.Error when contentType is longer than MaxContentTypeLen or
// contains anything other than printable ASCII (so that it is always a safe header
// value).
func ContentType(contentType string) (string, error) {
	if contentType == "" {
		return DefaultContentType, nil
	}
	if len(contentType) > MaxContentTypeLen {
		return "", problem.New(problem.BadRequest, "blob content type must be at most %d bytes", MaxContentTypeLen)
	}
	for i := 0; i < len(contentType); i++ {
		if c := contentType[i]; c < 0x20 || c > 0x7E {
			return "", problem.New(problem.BadRequest, "blob content type must be printable ASCII")
		}
	}
	return contentType, nil
}

// NotFound returns the NotFound *problem.Error that adapters return from Get for an
// absent key. The client-safe message does not name the key; the key and cause, which
// may be nil, are kept for the logs.
func NotFound(key string, cause error) *problem.Error {
	err := fmt.Errorf("blob %q not found", key)
	if cause != nil {
		err = fmt.Errorf("blob %q not found: %w", key, cause)
	}
	return problem.Wrap(problem.NotFound, err, "blob not found")
}
