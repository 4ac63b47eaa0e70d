package agents

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/problem"
)

// InvitationTTL is how long a set-password link is valid.
const InvitationTTL = 72 * time.Hour

// Tokens of set-password links: TokenBytes random bytes, unpadded base64url, so TokenLen
// characters of A-Z a-z 0-9 - _ (safe in a URL as they are).
const (
	TokenBytes = 32
	TokenLen   = 43
)

// SetPasswordPath is the path, below the base URL, of the page a link opens.
const SetPasswordPath = "/set-password"

// tokenEncoding is base64url without padding; Strict refuses stray trailing bits, so that
// each token has exactly one spelling.
var tokenEncoding = base64.RawURLEncoding.Strict()

// Invitation is a pending set-password link: the SHA-256 of its token (the token itself
// is only in the email) and when it stops working. It is single use: whoever sets the
// password removes it in the same write (AcceptPassword drops it from Credentials, and
// a store that keeps an index by TokenHash deletes that conditionally).
type Invitation struct {
	// TokenHash is the hex SHA-256 of the token's bytes: 64 characters of 0-9 a-f, a
	// well-formed id (pkg/ids), so it can key a lookup by token.
	TokenHash string    `json:"tokenHash"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// NewInvitation returns a new token, to be sent once (InvitationEmail) and never
// stored, and the invitation to store, valid for InvitationTTL from now.
func NewInvitation(now time.Time) (token string, inv Invitation) {
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	sum := sha256.Sum256(b[:])
	return tokenEncoding.EncodeToString(b[:]), Invitation{TokenHash: hex.EncodeToString(sum[:]), ExpiresAt: now.UTC().Add(InvitationTTL)}
}

// errToken is what ParseToken returns; it never quotes the token.
var errToken = errors.New("agents: not a set-password token")

// ParseToken reads a token as a link carries it: exactly TokenLen characters of
// unpadded base64url decoding to TokenBytes bytes. It returns the hex SHA-256 of those
// bytes (to look the invitation up by, and to compare with Invitation.TokenHash), or an
// error that never quotes the token.
func ParseToken(token string) (string, error) {
	if len(token) != TokenLen {
		return "", errToken
	}
	for i := 0; i < len(token); i++ { // encoding/base64 would skip line breaks
		if c := token[i]; !isAlnum(c) && c != '-' && c != '_' {
			return "", errToken
		}
	}
	b, err := tokenEncoding.DecodeString(token)
	if err != nil || len(b) != TokenBytes {
		return "", errToken
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// InvalidToken is the answer for a token that is malformed, unknown or already used:
// a problem.Invalid error on token that says no more (which of these is not told).
func InvalidToken() error {
	return invalid("token", "is not a valid set-password link: it may have been used already; ask an administrator to send a new invitation")
}

// ExpiredToken is the answer for a token whose invitation has expired.
func ExpiredToken() error {
	return invalid("token", "this set-password link has expired (links are valid for 72 hours); ask an administrator to send a new invitation")
}

// Check returns nil when token is inv's and inv has not expired at now, else
// InvalidToken or ExpiredToken. The hashes are compared in constant time.
func (inv Invitation) Check(token string, now time.Time) error {
	h, err := ParseToken(token)
	if err != nil || subtle.ConstantTimeCompare([]byte(h), []byte(inv.TokenHash)) != 1 {
		return InvalidToken()
	}
	if !now.Before(inv.ExpiresAt) {
		return ExpiredToken()
	}
	return nil
}

// InvitationEmail is what the invitation email says.
type InvitationEmail struct {
	// From is the deployment's verified sender; To the agent's email.
	From, To string
	// Name is the agent's name (free text as ParseName returns it); Organisation, when
	// not empty, the organisation's name as its general settings give it.
	Name, Organisation string
	// BaseURL is the absolute URL the link starts with: the dashboard's address, or the
	// deployment's PUBLIC_BASE_URL (config.ParseBaseURL's rules; a trailing slash is
	// dropped). The link is BaseURL + SetPasswordPath + "?token=" + Token.
	BaseURL string
	// Token is the token NewInvitation returned.
	Token string
	// ExpiresAt is the invitation's.
	ExpiresAt time.Time
}

// Message returns the email: a subject, a text part and an HTML part (everything taken
// from the agent or organisation escaped) with the set-password link and when it
// expires. It never holds a password. The error says what is wrong with the base URL,
// the token or the addresses (mail.Message.Check); it never quotes the token.
//
// Built with strings.Builder and escapeHTML, not text/template or html/template: their
// reflection makes the linker keep every method of the AWS clients in a function (a
// conformance test refuses them in function binaries).
func (e InvitationEmail) Message() (mail.Message, error) {
	base, err := config.ParseBaseURL(e.BaseURL)
	if err != nil {
		return mail.Message{}, errors.New("agents: invitation link: base URL " + err.Error())
	}
	if _, err := ParseToken(e.Token); err != nil {
		return mail.Message{}, err
	}
	link := base + SetPasswordPath + "?token=" + e.Token
	expires := e.ExpiresAt.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	org := oneLine(e.Organisation)
	where := "Convrs"
	if org != "" {
		where = org + " on Convrs"
	}
	x := escapeHTML

	var t, h strings.Builder
	t.WriteString("Hello " + e.Name + ",\n\n")
	t.WriteString("You have been added as an agent of " + where + ". To start, set your password:\n\n")
	t.WriteString(link + "\n\n")
	t.WriteString("The link works once and expires on " + expires + " (72 hours after it was sent). ")
	t.WriteString("Your sign-in email is " + e.To + ".\n\n")
	t.WriteString("If you did not expect this email, ignore it: nothing happens until the link is used.\n")

	h.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Set your password</title></head>\n<body style=\"font-family: sans-serif\">\n")
	h.WriteString("<p>Hello " + x(e.Name) + ",</p>\n")
	h.WriteString("<p>You have been added as an agent of <b>" + x(where) + "</b>. To start, set your password:</p>\n")
	h.WriteString("<p><a href=\"" + x(link) + "\">Set your password</a></p>\n")
	h.WriteString("<p>Or copy this address into your browser:<br>" + x(link) + "</p>\n")
	h.WriteString("<p>The link works once and expires on " + x(expires) + " (72 hours after it was sent). ")
	h.WriteString("Your sign-in email is " + x(e.To) + ".</p>\n")
	h.WriteString("<p><small>If you did not expect this email, ignore it: nothing happens until the link is used.</small></p>\n</body></html>\n")

	m := mail.Message{From: e.From, To: []string{e.To}, Subject: "Set your password for " + where, Text: t.String(), HTML: h.String()}
	if err := m.Check(); err != nil {
		return mail.Message{}, err
	}
	return m, nil
}

// oneLine keeps a header value on one line: control characters become spaces (names are
// free text, which refuses them already; this is the second line of defence).
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if hidden(r) {
			return ' '
		}
		return r
	}, s))
}

// escapeHTML escapes exactly what html.EscapeString escapes, the same way. Package html
// is not used because its entity table (about 64 KB) would then be in every function:
// this package is linked by all of them (app.Deps holds its store port). The replacer is
// built per call, not at init, for the same reason (an email is rare).
func escapeHTML(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;").Replace(s)
}

// invalid returns a problem.Invalid error on field with message.
func invalid(field, message string) error {
	var f problem.Fields
	f.Add(field, "%s", message)
	return f.Err()
}
