package outbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxFileSize bounds the files Read parses: the largest message Send writes (two parts
// of mail.MaxBodySize bytes, each at most about 3.2 times longer in quoted-printable),
// with room to spare.
const MaxFileSize = 8 << 20

// maxParts bounds the MIME parts Read looks at.
const maxParts = 4

// fileName matches the names Send gives message files.
var fileName = regexp.MustCompile(`^[0-9]{20}-[0-9a-f]{16}\.eml$`)

// Email is a message read back from an outbox file.
type Email struct {
	// Name is the file's name in the folder.
	Name string
	// ID is the Message-ID, without the angle brackets: what Send returned.
	ID   string
	Date time.Time
	From *netmail.Address
	To   []*netmail.Address
	// Subject is decoded (encoded-words and folding undone).
	Subject string
	// Text and HTML are the decoded parts, with every line break as \n.
	Text, HTML string
}

// List returns the names of the message files in dir, oldest first. Temporary files,
// folders and files not named as Send names them are left out.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && fileName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // ReadDir sorts already; the order is part of the contract
	return names, nil
}

// Read parses the message file name (a name List returns) in dir. It returns a plain
// error naming the file when the name is not one Send gives, or the file is missing,
// larger than MaxFileSize, or not a message as Send writes them.
func Read(dir, name string) (Email, error) {
	if !fileName.MatchString(name) {
		return Email{}, fmt.Errorf("outbox: %q is not the name of a message file", name)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return Email{}, fmt.Errorf("outbox: read: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Email{}, fmt.Errorf("outbox: read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return Email{}, fmt.Errorf("outbox: read %s: larger than %d bytes", name, MaxFileSize)
	}
	e, err := parse(data)
	if err != nil {
		return Email{}, fmt.Errorf("outbox: read %s: %w", name, err)
	}
	e.Name = name
	return e, nil
}

// ReadLatest returns the newest n messages of dir (all of them when there are fewer),
// oldest first. It returns the first error of List or Read.
func ReadLatest(dir string, n int) ([]Email, error) {
	names, err := List(dir)
	if err != nil {
		return nil, err
	}
	names = names[len(names)-min(n, len(names)):]
	out := make([]Email, 0, len(names))
	for _, name := range names {
		e, err := Read(dir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// parse reads a message as writeMessage writes it. It also accepts what a mail program
// might save instead: headers in any order, base64, 7bit or 8bit parts, the charset
// us-ascii or missing.
func parse(data []byte) (Email, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return Email{}, err
	}
	h := msg.Header
	for _, k := range []string{"Date", "Message-Id", "From", "To", "Subject", "Mime-Version", "Content-Type"} {
		if n := len(h[k]); n != 1 {
			return Email{}, fmt.Errorf("%d %s headers, want 1", n, k)
		}
	}
	var e Email
	id := h.Get("Message-Id")
	if len(id) < 3 || id[0] != '<' || id[len(id)-1] != '>' {
		return Email{}, fmt.Errorf("the Message-ID %q is not <id>", id)
	}
	e.ID = id[1 : len(id)-1]
	if e.Date, err = h.Date(); err != nil {
		return Email{}, err
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		return Email{}, fmt.Errorf("the From header: want one address (%v)", err)
	}
	e.From = from[0]
	if e.To, err = h.AddressList("To"); err != nil || len(e.To) == 0 {
		return Email{}, fmt.Errorf("the To header: want addresses (%v)", err)
	}
	if e.Subject, err = new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil {
		return Email{}, fmt.Errorf("the Subject header: %w", err)
	}
	if v := h.Get("Mime-Version"); v != "1.0" {
		return Email{}, fmt.Errorf("the MIME-Version %q, want 1.0", v)
	}
	typ, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || typ != "multipart/alternative" || params["boundary"] == "" {
		return Email{}, fmt.Errorf("the Content-Type %q, want multipart/alternative with a boundary", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var gotText, gotHTML bool
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Email{}, err
		}
		if i == maxParts {
			return Email{}, fmt.Errorf("more than %d parts", maxParts)
		}
		typ, text, err := readPart(p)
		if err != nil {
			return Email{}, fmt.Errorf("part %d: %w", i+1, err)
		}
		switch {
		case typ == "text/plain" && !gotText:
			e.Text, gotText = text, true
		case typ == "text/html" && !gotHTML:
			e.HTML, gotHTML = text, true
		default:
			return Email{}, fmt.Errorf("part %d: unexpected %s", i+1, typ)
		}
	}
	if !gotText || !gotHTML {
		return Email{}, errors.New("want a text/plain and a text/html part")
	}
	return e, nil
}

// readPart returns the media type and the decoded text of a part.
func readPart(p *multipart.Part) (string, string, error) {
	typ, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
	if err != nil {
		return "", "", fmt.Errorf("the Content-Type: %w", err)
	}
	if cs := strings.ToLower(params["charset"]); cs != "utf-8" && cs != "us-ascii" && cs != "" {
		return "", "", fmt.Errorf("charset %q, want utf-8", cs)
	}
	var r io.Reader = p
	switch cte := strings.ToLower(p.Header.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		r = quotedprintable.NewReader(p)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, p) // skips line breaks
	case "", "7bit", "8bit":
	default:
		return "", "", fmt.Errorf("the Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", err
	}
	if !utf8.Valid(b) {
		return "", "", errors.New("not UTF-8")
	}
	return typ, strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
