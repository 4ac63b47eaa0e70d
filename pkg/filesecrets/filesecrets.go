// Package filesecrets is the embedded secrets.Store adapter: it keeps each secret as one
// file under a root folder, such as the local development server's .local/secrets.
//
// A name is never used as a path. It is hex-encoded (lower case, so that names differing
// only in case stay apart on case-insensitive file systems), and the hex is cut into
// chunks of at most chunkLen characters so that every path element stays within the
// common 255-byte limit: every chunk but the last names a folder (suffix ".d"), the last
// one the file (suffix ".secret"). "org/a" is stored at root/6f72672f61.secret; a name of
// over 120 bytes spans folders. Only [0-9a-f] and the two suffixes reach the file system,
// so no name can escape root, and the mapping is injective (nameOf inverts it).
//
// The file holds the value's bytes and nothing else, so a developer can read a local key
// set with cat. Folders are created 0700 and files 0600; the root folder must not be
// accessible to group or others. Put writes a temporary file, syncs it and renames it
// over the old one, so that readers, in this process or another sharing the folder,
// see the previous value or the new one and never a mixture. The package logs nothing.
package filesecrets

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/convrs/admin/pkg/secrets"
)

const (
	// chunkLen is the most hex characters in one path element: 120 bytes of the name,
	// 247 bytes with the file suffix.
	chunkLen   = 240
	dirSuffix  = ".d"
	fileSuffix = ".secret"
	// tmpPrefix starts the temporary files of Put; they never end with a suffix above.
	tmpPrefix = ".tmp-"
)

// Store is a secrets.Store backed by a folder. It is safe for concurrent use, including
// by several processes sharing the folder.
type Store struct {
	root string
}

var _ secrets.Store = (*Store)(nil)

// New returns a Store keeping its secrets under root, creating root (mode 0700) if it
// does not exist. It returns a plain error when root is empty, cannot be created, is not
// a folder, or (except on Windows) is accessible to group or others.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("filesecrets: root folder must not be empty")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("filesecrets: create root: %w", err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("filesecrets: stat root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("filesecrets: root %q is not a folder", root)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("filesecrets: root %q has mode %v: secrets need a folder only its owner can use (chmod 700 it)", root, fi.Mode().Perm())
	}
	return &Store{root: root}, nil
}

// relPath returns the path, relative to the root folder and with "/" separators, of the
// file holding name's value. It returns the BadRequest *problem.Error of
// secrets.ValidateName for an invalid name.
func relPath(name string) (string, error) {
	if err := secrets.ValidateName(name); err != nil {
		return "", err
	}
	h := hex.EncodeToString([]byte(name))
	var b strings.Builder
	for len(h) > chunkLen {
		b.WriteString(h[:chunkLen])
		b.WriteString(dirSuffix + "/")
		h = h[chunkLen:]
	}
	b.WriteString(h)
	b.WriteString(fileSuffix)
	return b.String(), nil
}

// nameOf returns the name whose value relPath places at path, or false when path is not
// one relPath returns.
func nameOf(path string) (string, bool) {
	elems := strings.Split(path, "/")
	var h strings.Builder
	for i, e := range elems {
		last := i == len(elems)-1
		suffix := dirSuffix
		if last {
			suffix = fileSuffix
		}
		chunk, ok := strings.CutSuffix(e, suffix)
		if !ok || chunk == "" || len(chunk) > chunkLen || !last && len(chunk) != chunkLen {
			return "", false
		}
		h.WriteString(chunk)
	}
	raw, err := hex.DecodeString(h.String())
	if err != nil || hex.EncodeToString(raw) != h.String() { // lower case only
		return "", false
	}
	name := string(raw)
	if secrets.ValidateName(name) != nil {
		return "", false
	}
	return name, true
}

// file validates name and returns the file that holds its value.
func (s *Store) file(name string) (string, error) {
	rel, err := relPath(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(rel)), nil
}

// Get returns the current value of name. It returns a NotFound *problem.Error when there
// is none, a BadRequest *problem.Error for an invalid name, the context's error (wrapped)
// when ctx is done, and a plain error when the file cannot be read or holds no value or
// more than secrets.MaxValueLen bytes (edited by hand).
func (s *Store) Get(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filesecrets: get: %w", err)
	}
	path, err := s.file(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, secrets.NotFound(name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("filesecrets: get %q: %w", name, err)
	}
	defer f.Close()
	value, err := io.ReadAll(io.LimitReader(f, secrets.MaxValueLen+1))
	if err != nil {
		return nil, fmt.Errorf("filesecrets: get %q: %w", name, err)
	}
	if len(value) == 0 || len(value) > secrets.MaxValueLen {
		return nil, fmt.Errorf("filesecrets: get %q: the file holds no value or more than %d bytes", name, secrets.MaxValueLen)
	}
	return value, nil
}

// Put stores value as the current value of name, atomically replacing any previous one:
// the value is written and synced under a temporary name in the same folder, renamed
// into place, and the folder synced. It returns a BadRequest *problem.Error for an
// invalid name or an empty value, a TooLarge *problem.Error for a value over
// secrets.MaxValueLen, the context's error (wrapped) when ctx is done, and a plain error
// when the file system fails.
func (s *Store) Put(ctx context.Context, name string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filesecrets: put: %w", err)
	}
	path, err := s.file(name)
	if err != nil {
		return err
	}
	if err := secrets.ValidateValue(value); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("filesecrets: put %q: %w", name, err)
	}
	// CreateTemp makes the file 0600 with a name no other writer uses.
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("filesecrets: put %q: %w", name, err)
	}
	tmp := f.Name()
	if err := writeSync(f, value); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("filesecrets: put %q: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("filesecrets: put %q: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("filesecrets: put %q: sync folder: %w", name, err)
	}
	return nil
}

// writeSync writes value to f, syncs and closes it.
func writeSync(f *os.File, value []byte) error {
	_, err := f.Write(value)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable. Windows cannot sync a folder; there the rename
// is as durable as the file system makes it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
