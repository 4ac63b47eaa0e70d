package outbox

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/mail"
)

// fold is the line break and white space that continue a header on the next line.
const fold = "\r\n "

// maxPlainSubject is the longest subject written as it is (it then fits on one line of 78
// characters with "Subject: ").
const maxPlainSubject = 78 - len("Subject: ")

// writeMessage writes m, which has passed mail.Check, as an RFC 5322 message with the
// Message-ID <id> and the Date date: a multipart/alternative of a text/plain and a
// text/html part, both UTF-8 in quoted-printable. Every line ends with CRLF and is at
// most 998 bytes long; nothing m holds can add a header line.
func writeMessage(w io.Writer, m mail.Message, id string, date time.Time) error {
	from, err := netmail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("from: %w", err)
	}
	to := make([]string, len(m.To))
	for i, s := range m.To {
		a, err := netmail.ParseAddress(s)
		if err != nil {
			return fmt.Errorf("to: %w", err)
		}
		to[i] = formatAddress(&netmail.Address{Address: a.Address})
	}
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	for _, p := range []struct{ typ, data string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(p.typ, map[string]string{"charset": "utf-8"})},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := io.WriteString(qw, p.data); err != nil {
			return err
		}
		if err := qw.Close(); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}

	var h strings.Builder
	header := func(name, value string) { h.WriteString(name + ": " + value + "\r\n") }
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+">")
	header("From", formatAddress(from))
	header("To", strings.Join(to, ","+fold))
	header("Subject", encodeSubject(m.Subject))
	header("MIME-Version", "1.0")
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	h.WriteString("\r\n")
	if _, err := io.WriteString(w, h.String()); err != nil {
		return err
	}
	_, err = io.WriteString(w, body.String())
	return err
}

// formatAddress formats a as net/mail does (a non-ASCII display name in encoded-words
// through mime.QEncoding or BEncoding, an ASCII one quoted when it needs to be), folding
// between the encoded-words so that no line outgrows the limit. Folding inserts CRLF
// only before a single space that separates "?=" and "=?"; unfolding removes it again,
// so even such a run inside a quoted name comes back unchanged.
func formatAddress(a *netmail.Address) string {
	return strings.ReplaceAll(a.String(), "?= =?", "?="+fold+"=?")
}

// encodeSubject returns the subject as it goes in the header: as it is when that reads back
// unchanged (printable ASCII with no encoded-word look-alike, no space at either end,
// short enough for one line), else as folded RFC 2047 encoded-words. (mime.QEncoding
// leaves printable ASCII as it is, however long, and however much it looks like an
// encoded-word, so the subject has its own encoder.)
func encodeSubject(s string) string {
	plain := len(s) <= maxPlainSubject && !strings.Contains(s, "=?") && strings.TrimSpace(s) == s &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' })
	if plain {
		return s
	}
	return strings.Join(encodedWords(s), fold)
}

// encodedWords encodes s (valid UTF-8) as Q encoded-words of at most 75 bytes, never
// splitting a character between two words. Only letters, digits and !*+-/ stay as they
// are (the characters RFC 2047 allows in a phrase, so the words are valid anywhere),
// space becomes _, and every other byte =XX.
func encodedWords(s string) []string {
	const (
		open, end = "=?utf-8?q?", "?="
		maxData   = 75 - len(open) - len(end)
	)
	var words []string
	var word strings.Builder
	var buf [utf8.UTFMax]byte
	for _, r := range s {
		var enc strings.Builder
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			switch {
			case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', strings.IndexByte("!*+-/", b) >= 0:
				enc.WriteByte(b)
			case b == ' ':
				enc.WriteByte('_')
			default:
				fmt.Fprintf(&enc, "=%02X", b)
			}
		}
		if word.Len()+enc.Len() > maxData {
			words = append(words, open+word.String()+end)
			word.Reset()
		}
		word.WriteString(enc.String())
	}
	if word.Len() > 0 || len(words) == 0 {
		words = append(words, open+word.String()+end)
	}
	return words
}
