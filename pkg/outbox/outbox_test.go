package outbox

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	convrsmail "github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/mail/mailtest"
)

func mustNew(t *testing.T) *Outbox {
	t.Helper()
	o, err := New(filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// sentIn reads back every message of dir for the contract suite.
func sentIn(t *testing.T, dir string) []mailtest.Sent {
	t.Helper()
	emails, err := ReadLatest(dir, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []mailtest.Sent
	for _, e := range emails {
		s := mailtest.Sent{ID: e.ID, From: e.From.String(), Subject: e.Subject, Text: e.Text, HTML: e.HTML}
		for _, a := range e.To {
			s.To = append(s.To, a.String())
		}
		out = append(out, s)
	}
	return out
}

func TestContract(t *testing.T) {
	t.Parallel()
	mailtest.Run(t, func(t *testing.T) (convrsmail.Mailer, func(t *testing.T) []mailtest.Sent) {
		o := mustNew(t)
		return o, func(t *testing.T) []mailtest.Sent { return sentIn(t, o.Dir()) }
	})
}

func TestFile(t *testing.T) {
	t.Parallel()
	o := mustNew(t)
	before := time.Now()
	msg := mailtest.Example()
	id, err := o.Send(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	names, err := List(o.Dir())
	if err != nil || len(names) != 1 {
		t.Fatalf("List = %q, %v; want one file", names, err)
	}
	name := names[0]
	if !fileName.MatchString(name) {
		t.Errorf("file name %q is not <20 digits>-<16 hex>.eml", name)
	}
	if !strings.HasPrefix(id, strings.TrimLeft(name[:20], "0")+"."+name[21:37]+"@"+Domain) {
		t.Errorf("Message-ID %q does not match the file name %q", id, name)
	}

	// Modes: a folder and a file only the owner can use.
	if runtime.GOOS != "windows" {
		for path, want := range map[string]fs.FileMode{o.Dir(): 0o700, filepath.Join(o.Dir(), name): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %v, want %v", path, got, want)
			}
		}
	}

	raw, err := os.ReadFile(filepath.Join(o.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, raw)
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}; !slices.Equal(keys, want) {
		t.Errorf("headers %q, want %q", keys, want)
	}
	if got := m.Header.Get("Message-Id"); got != "<"+id+">" {
		t.Errorf("Message-ID %q, want <%s>", got, id)
	}
	date, err := m.Header.Date()
	if err != nil || date.Before(before.Truncate(time.Second)) || date.After(time.Now()) {
		t.Errorf("Date %v, %v; want the time of Send", date, err)
	}
	for k, want := range map[string]string{
		// Non-ASCII and specials in the name: encoded-words (B, as net/mail chooses).
		"From": "=?utf-8?b?",
		// A non-ASCII subject: folded Q encoded-words.
		"Subject": "=?utf-8?q?Missed_chat=3A_Zo=C3=AB_",
	} {
		if !strings.HasPrefix(m.Header.Get(k), want) {
			t.Errorf("%s %q, want it to start with %q", k, m.Header.Get(k), want)
		}
	}
	for _, want := range []string{
		"Content-Type: text/plain; charset=utf-8\r\n", "Content-Type: text/html; charset=utf-8\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n",
		"Missed chat from Zo=C3=AB =C3=9Cn=C3=AFcode <zoe@example.net>\r\n", // text stays readable
		"trailing spaces  =20\r\n",                                          // trailing white space kept
		"<p>a < b && c > d \"q\" 'a' =3D3D</p>\r\n",
	} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the file lacks %q", want)
		}
	}

	e, err := Read(o.Dir(), name)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != name || e.ID != id || !e.Date.Equal(date) || e.Subject != msg.Subject || e.From.Name != "Zoë Ünïcode, Support (Convrs)" {
		t.Errorf("Read = %+v", e)
	}
}

// checkLines checks that every line of raw ends with CRLF, holds no other CR or LF, and
// is at most 998 bytes long (RFC 5322 2.1.1).
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("the file does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d holds a bare CR or LF: %.60q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long: %.60q...", i+1, len(line), line)
		}
	}
}

func TestPlainSubject(t *testing.T) {
	t.Parallel()
	for subject, encoded := range map[string]bool{
		"Missed chat from Zoe":                 false,
		strings.Repeat("x", maxPlainSubject):   false,
		strings.Repeat("x", maxPlainSubject+1): true,
		" leading space":                       true,
		"trailing space ":                      true,
		"=?utf-8?q?looks_encoded?=":            true,
		"café":                                 true,
		"a  b":                                 false, // inner spaces survive on one line
	} {
		var buf bytes.Buffer
		msg := convrsmail.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: subject, Text: "t", HTML: "h"}
		if err := writeMessage(&buf, msg, "1.x@"+Domain, time.Now()); err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(&buf)
		if err != nil {
			t.Fatal(err)
		}
		raw := m.Header.Get("Subject")
		if got := strings.HasPrefix(raw, "=?utf-8?q?"); got != encoded {
			t.Errorf("subject %q written as %q; encoded %v, want %v", subject, raw, got, encoded)
		}
		if got, _ := new(mime.WordDecoder).DecodeHeader(raw); got != subject {
			t.Errorf("subject %q reads back as %q", subject, got)
		}
	}
}

func TestNeverOverwrites(t *testing.T) {
	t.Parallel()
	o := mustNew(t)
	fixed := time.Unix(1_700_000_000, 0)
	o.now = func() time.Time { return fixed }
	// place refuses a name that is taken, leaving the file there as it was.
	if err := o.place(t.Context(), "00000000000000000001-0000000000000000.eml", []byte("first")); err != nil {
		t.Fatal(err)
	}
	err := o.place(t.Context(), "00000000000000000001-0000000000000000.eml", []byte("second"))
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("place over an existing file = %v, want fs.ErrExist", err)
	}
	got, _ := os.ReadFile(filepath.Join(o.Dir(), "00000000000000000001-0000000000000000.eml"))
	if string(got) != "first" {
		t.Errorf("the existing file holds %q, want first", got)
	}
	// Messages sent at the same instant still get their own files.
	for range 5 {
		if _, err := o.Send(t.Context(), mailtest.Example()); err != nil {
			t.Fatal(err)
		}
	}
	if names, _ := List(o.Dir()); len(names) != 6 {
		t.Errorf("List = %q, want 6 files", names)
	}
	noTemporaries(t, o.Dir())
}

func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestNothingLeftOnFailure(t *testing.T) {
	t.Parallel()
	o := mustNew(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A context that ends between the write and the link: place checks it last.
	if err := o.place(ctx, "00000000000000000001-0000000000000000.eml", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("place with a canceled context = %v", err)
	}
	if _, err := o.Send(t.Context(), convrsmail.Message{}); !errors.Is(err, convrsmail.ErrRejected) {
		t.Errorf("Send of an empty message = %v", err)
	}
	entries, _ := os.ReadDir(o.Dir())
	if len(entries) != 0 {
		t.Errorf("the folder holds %d entries after failures, want none", len(entries))
	}
}

func TestSortedByTime(t *testing.T) {
	t.Parallel()
	o := mustNew(t)
	at := time.Unix(9, 0) // a name of few digits still sorts: they are zero-padded
	o.now = func() time.Time { return at }
	var ids []string
	for i := range 12 {
		at = at.Add(time.Duration(i) * 99 * time.Second) // 9s, 9s, 108s, ... crosses digit counts
		msg := mailtest.Example()
		msg.Subject = "n" + strings.Repeat("x", i)
		id, err := o.Send(t.Context(), msg)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	emails, err := ReadLatest(o.Dir(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range emails {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("ReadLatest order %q, want the order sent %q", got, ids)
	}
	latest, err := ReadLatest(o.Dir(), 3)
	if err != nil || len(latest) != 3 || latest[2].ID != ids[11] || latest[0].ID != ids[9] {
		t.Errorf("ReadLatest(3) = %d emails, %v; want the last three sent", len(latest), err)
	}
	if none, err := ReadLatest(o.Dir(), 0); err != nil || len(none) != 0 {
		t.Errorf("ReadLatest(0) = %d, %v", len(none), err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := New(""); err == nil {
		t.Error("New(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file); err == nil {
		t.Error("New of a file succeeded")
	}
	if runtime.GOOS != "windows" {
		open := filepath.Join(t.TempDir(), "open")
		if err := os.Mkdir(open, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(open, 0o755); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if _, err := New(open); err == nil || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("New of a 0755 folder = %v, want a refusal", err)
		}
	}
}

func TestListAndRead(t *testing.T) {
	t.Parallel()
	o := mustNew(t)
	if _, err := o.Send(t.Context(), mailtest.Example()); err != nil {
		t.Fatal(err)
	}
	dir := o.Dir()
	// Not messages: a temporary file, a folder, other names.
	for _, name := range []string{tmpPrefix + "123", "notes.txt", "00000000000000000001-0000000000000000.eml.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "00000000000000000002-0000000000000000.eml"), 0o700); err != nil {
		t.Fatal(err)
	}
	names, err := List(dir)
	if err != nil || len(names) != 1 {
		t.Fatalf("List = %q, %v; want the one message", names, err)
	}
	for _, name := range []string{"../x.eml", "notes.txt", "/etc/passwd", names[0] + "/x", ""} {
		if _, err := Read(dir, name); err == nil {
			t.Errorf("Read(%q) succeeded", name)
		}
	}
	if _, err := List(filepath.Join(dir, "missing")); err == nil {
		t.Error("List of a missing folder succeeded")
	}
	// Too large.
	big := "00000000000000000003-0000000000000000.eml"
	if err := os.WriteFile(filepath.Join(dir, big), bytes.Repeat([]byte("x"), MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir, big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Read of an oversize file = %v", err)
	}
}

// TestLargestFits: the largest message Send accepts, with parts that quoted-printable
// expands the most, stays within MaxFileSize.
func TestLargestFits(t *testing.T) {
	t.Parallel()
	part := strings.Repeat("\u00a0", convrsmail.MaxBodySize/2) // every byte =XX
	msg := convrsmail.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: strings.Repeat("é", convrsmail.MaxSubject/2), Text: part, HTML: part}
	for i := range convrsmail.MaxRecipients - 1 {
		msg.To = append(msg.To, strings.Repeat("b", 60)+"@"+strings.Repeat("d", 180)+strings.Repeat("x", i%10)+".com")
	}
	var buf bytes.Buffer
	if err := writeMessage(&buf, msg, "1.x@"+Domain, time.Now()); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > MaxFileSize {
		t.Errorf("the largest message is %d bytes, over MaxFileSize %d", buf.Len(), MaxFileSize)
	}
	t.Logf("largest message: %d bytes (MaxFileSize %d)", buf.Len(), MaxFileSize)
	e, err := parse(buf.Bytes())
	if err != nil || e.Text != part || e.HTML != part || len(e.To) != convrsmail.MaxRecipients {
		t.Errorf("parse of the largest message: %v", err)
	}
}

// TestReadsOtherEncodings: a message saved by a mail program, in base64 and 8bit with
// headers in another order, reads back.
func TestReadsOtherEncodings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "00000000000000000001-0123456789abcdef.eml"
	raw := "Subject: =?UTF-8?B?Q2Fmw6k=?=\r\nTo: A <a@example.com>, b@example.com\r\nFrom: x@example.com\r\n" +
		"Message-ID: <abc@example.com>\r\nDate: Mon, 02 Jan 2006 15:04:05 -0700\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\nQ2Fmw6kK\r\nbGluZQ==\r\n" +
		"--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>café</p>\r\n--b--\r\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := Read(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Café" || e.Text != "Café\nline" || e.HTML != "<p>café</p>" || e.ID != "abc@example.com" || len(e.To) != 2 || e.To[0].Name != "A" {
		t.Errorf("Read = %+v", e)
	}
}

func TestReadRefusesMalformed(t *testing.T) {
	t.Parallel()
	good := func() string {
		var buf bytes.Buffer
		msg := convrsmail.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: "s", Text: "t", HTML: "h"}
		if err := writeMessage(&buf, msg, "1.x@"+Domain, time.Now()); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}()
	if _, err := parse([]byte(good)); err != nil {
		t.Fatalf("parse of a good message: %v", err)
	}
	boundary := good[strings.Index(good, "boundary=")+len("boundary="):]
	boundary = boundary[:strings.Index(boundary, "\r\n")]
	for name, raw := range map[string]string{
		"empty":              "",
		"no body":            "From: a@example.com\r\n",
		"two From":           "From: c@example.com\r\n" + good,
		"no Message-ID":      strings.Replace(good, "Message-ID: <1.x@outbox.invalid>\r\n", "", 1),
		"bad Message-ID":     strings.Replace(good, "<1.x@outbox.invalid>", "1.x", 1),
		"bad Date":           strings.Replace(good, "Date: ", "Date: not ", 1),
		"two addresses From": strings.Replace(good, "From: <a@example.com>", "From: a@example.com, c@example.com", 1),
		"bad To":             strings.Replace(good, "To: <b@example.com>", "To: nobody", 1),
		"MIME 2.0":           strings.Replace(good, "MIME-Version: 1.0", "MIME-Version: 2.0", 1),
		"mixed":              strings.Replace(good, "multipart/alternative", "multipart/mixed", 1),
		"no text part":       good[:strings.Index(good, "--"+boundary)] + good[strings.Index(good, "--"+boundary+"\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html"):],
		"latin-1":            strings.Replace(good, "charset=utf-8", "charset=iso-8859-1", 1),
		"uuencode":           strings.Replace(good, "quoted-printable", "x-uuencode", 1),
		"not UTF-8":          strings.Replace(good, "\r\n\r\nt\r\n", "\r\n\r\nt=FF\r\n", 1),
		"two text parts":     strings.Replace(good, "text/html", "text/plain", 1),
		"cut short":          good[:len(good)-20],
	} {
		if raw == good {
			t.Errorf("%s: the test's edit did nothing", name)
			continue
		}
		if _, err := parse([]byte(raw)); err == nil {
			t.Errorf("%s: parse succeeded", name)
		}
	}
}
