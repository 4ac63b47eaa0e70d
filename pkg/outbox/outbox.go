// Package outbox is the embedded mail.Mailer adapter: instead of sending, it writes each
// message as a complete RFC 5322 file (.eml, which any mail program opens) into a
// folder, such as the local development server's .local/outbox.
//
// A message is a multipart/alternative of a text/plain and a text/html part, both UTF-8
// in quoted-printable, with Date, Message-ID, From, To, Subject and MIME-Version headers;
// a non-ASCII subject or display name is in RFC 2047 encoded-words, and long headers are
// folded, so every line stays within RFC 5322's 998 bytes. Line breaks in the parts are
// written as CRLF, as MIME requires, and read back as \n.
//
// A file is named <unix nanoseconds, 20 digits>-<16 random hex digits>.eml, so that names
// sort by time and never collide; its Message-ID is <nanoseconds>.<hex>@outbox.invalid
// (the reserved .invalid domain says that it was never sent). Send writes and syncs a
// temporary file in the folder, then links it under its final name, which fails rather
// than replace an existing file: a message is never overwritten, and a reader sees a
// complete file or none. The folder is created 0700 and the files 0600, for they hold
// customers' names and transcripts.
//
// List and Read parse the files back (net/mail, mime/multipart), for tests and for the
// development server to show what was sent. The package logs nothing.
package outbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/convrs/admin/pkg/mail"
)

const (
	// Ext ends the name of every message file.
	Ext = ".eml"
	// Domain is the right-hand side of every Message-ID.
	Domain = "outbox.invalid"
	// tmpPrefix starts the temporary files of Send; they never end with Ext.
	tmpPrefix = ".tmp-"
	// attempts bounds the names Send tries when one is taken (a clock gone back and the
	// same 64 random bits: never, in practice).
	attempts = 3
)

// Outbox is a mail.Mailer writing into a folder. It is safe for concurrent use, including
// by several processes sharing the folder.
type Outbox struct {
	dir string
	now func() time.Time
}

var _ mail.Mailer = (*Outbox)(nil)

// New returns an Outbox writing into dir, creating it (mode 0700) if it does not exist.
// It returns a plain error when dir is empty, cannot be created, is not a folder, or
// (except on Windows) is accessible to group or others.
func New(dir string) (*Outbox, error) {
	if dir == "" {
		return nil, errors.New("outbox: the folder must not be empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: create the folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("outbox: %q is not a folder", dir)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("outbox: %q has mode %v: messages hold customers' data and need a folder only its owner can use (chmod 700 it)", dir, fi.Mode().Perm())
	}
	return &Outbox{dir: dir, now: time.Now}, nil
}

// Dir returns the folder the Outbox writes into.
func (o *Outbox) Dir() string { return o.dir }

// Send writes m into a new file of the folder and returns its Message-ID (without the
// angle brackets). It returns an error wrapping mail.ErrRejected when m fails
// mail.Message.Check, the context's error (wrapped, with mail.ErrNotSent) when ctx is
// done before the file is in place, and an error wrapping mail.ErrNotSent when the file
// system fails; in each case no message file is left.
func (o *Outbox) Send(ctx context.Context, m mail.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("outbox: send: %w: %w", mail.ErrNotSent, err)
	}
	if err := m.Check(); err != nil {
		return "", fmt.Errorf("outbox: %w: %w", mail.ErrRejected, err)
	}
	for range attempts {
		now := o.now()
		var rnd [8]byte
		_, _ = rand.Read(rnd[:]) // never fails (crypto/rand)
		nanos, hexRnd := now.UnixNano(), hex.EncodeToString(rnd[:])
		id := fmt.Sprintf("%d.%s@%s", nanos, hexRnd, Domain)
		name := fmt.Sprintf("%020d-%s%s", nanos, hexRnd, Ext)
		var buf bytes.Buffer
		if err := writeMessage(&buf, m, id, now); err != nil {
			return "", fmt.Errorf("outbox: encode: %w: %w", mail.ErrNotSent, err)
		}
		err := o.place(ctx, name, buf.Bytes())
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", mail.ErrNotSent, err)
		}
		return id, nil
	}
	return "", fmt.Errorf("outbox: send: %w: %d file names were taken", mail.ErrNotSent, attempts)
}

// place writes data to a temporary file, syncs it, and links it as name, which fails
// with fs.ErrExist rather than replace a file. The temporary file is removed in every
// case.
func (o *Outbox) place(ctx context.Context, name string, data []byte) error {
	f, err := os.CreateTemp(o.dir, tmpPrefix+"*") // 0600
	if err != nil {
		return fmt.Errorf("outbox: send: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("outbox: send: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox: send: %w", err)
	}
	final := filepath.Join(o.dir, name)
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("outbox: send: %w", err)
	}
	if err := syncDir(o.dir); err != nil {
		_ = os.Remove(final) // not known to be durable: not sent
		return fmt.Errorf("outbox: send: sync the folder: %w", err)
	}
	return nil
}

// syncDir makes a new name in dir durable (a no-op on Windows, which cannot sync a
// folder).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
