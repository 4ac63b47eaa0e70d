// Package dirblob is the embedded blob.Store adapter: it keeps each object as one file
// under a root directory, such as the local development server's .local/blobs.
//
// A key's segments map to nested directories. So that a key can be both an object and
// the prefix of other objects, as in S3, every directory is named after its segment with
// a ".d" suffix and every object file after its last segment with a ".blob" suffix:
// "orgs/demo/logo" is stored at root/orgs.d/demo.d/logo.blob. Each file starts with a
// one-line header holding the content type, so that data and content type are replaced
// together by a single atomic rename. Directories are created 0700 and files 0600.
package dirblob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/problem"
)

const (
	dirSuffix  = ".d"
	fileSuffix = ".blob"
	// magic starts every object file; the content type and a newline follow it.
	magic = "dirblob/1 "
	// maxSegmentLen keeps every file name within the common 255-byte limit.
	maxSegmentLen = 255 - len(fileSuffix)
)

// Store is a blob.Store backed by a directory. It is safe for concurrent use, including
// by several processes sharing the directory.
type Store struct {
	root string
}

var _ blob.Store = (*Store)(nil)

// New returns a Store keeping its objects under root, creating root (mode 0700) if it
// does not exist. It returns a plain error when root is empty, cannot be created, or is
// not a directory.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("dirblob: root directory must not be empty")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("dirblob: create root: %w", err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("dirblob: stat root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("dirblob: root %q is not a directory", root)
	}
	return &Store{root: root}, nil
}

// path validates key and returns the file that holds its object.
func (s *Store) path(key string) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", err
	}
	segs := strings.Split(key, "/")
	elems := make([]string, 0, len(segs)+1)
	elems = append(elems, s.root)
	for i, seg := range segs {
		if len(seg) > maxSegmentLen {
			return "", problem.New(problem.BadRequest, "blob key segments must be at most %d bytes", maxSegmentLen)
		}
		if i == len(segs)-1 {
			elems = append(elems, seg+fileSuffix)
		} else {
			elems = append(elems, seg+dirSuffix)
		}
	}
	return filepath.Join(elems...), nil
}

// Put stores data under key, atomically replacing any previous object: the file is
// written and synced under a temporary name, then renamed into place. It returns a
// BadRequest *problem.Error for an invalid key or content type, the context's error
// (wrapped) when ctx is done, and a plain error when the file system fails.
func (s *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dirblob: put: %w", err)
	}
	name, err := s.path(key)
	if err != nil {
		return err
	}
	ct, err := blob.ContentType(contentType)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("dirblob: put %q: %w", key, err)
	}
	// The temporary name never ends in fileSuffix or dirSuffix, so it cannot collide
	// with an object or a directory.
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("dirblob: put %q: %w", key, err)
	}
	tmp := f.Name()
	if err := writeObject(f, ct, data); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dirblob: put %q: %w", key, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dirblob: put %q: %w", key, err)
	}
	return nil
}

// writeObject writes the header and data to f, syncs and closes it.
func writeObject(f *os.File, contentType string, data []byte) error {
	header := magic + contentType + "\n"
	_, err := f.WriteString(header)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get returns the object stored under key. It returns a NotFound *problem.Error when
// there is none, a BadRequest *problem.Error for an invalid key, the context's error
// (wrapped) when ctx is done, and a plain error when the file cannot be read or is
// corrupt.
func (s *Store) Get(ctx context.Context, key string) (blob.Object, error) {
	if err := ctx.Err(); err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: get: %w", err)
	}
	name, err := s.path(key)
	if err != nil {
		return blob.Object{}, err
	}
	raw, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return blob.Object{}, blob.NotFound(key, err)
	}
	if err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: get %q: %w", key, err)
	}
	rest, ok := bytes.CutPrefix(raw, []byte(magic))
	if !ok {
		return blob.Object{}, fmt.Errorf("dirblob: get %q: corrupt object header", key)
	}
	ct, data, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return blob.Object{}, fmt.Errorf("dirblob: get %q: corrupt object header", key)
	}
	return blob.Object{ContentType: string(ct), Data: data}, nil
}

// Delete removes the object stored under key; an absent key is not an error. Empty
// directories are left in place so that a concurrent Put below them cannot lose its
// directory. It returns a BadRequest *problem.Error for an invalid key, the context's
// error (wrapped) when ctx is done, and a plain error when the file system fails.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dirblob: delete: %w", err)
	}
	name, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dirblob: delete %q: %w", key, err)
	}
	return nil
}
