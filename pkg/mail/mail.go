// Package mail is the mailer port: the product sends email (the missed-chat report)
// through a Mailer. In AWS the adapter is SES (package sesmail, SES v2 SendEmail); locally
// an outbox folder of .eml files (package outbox). Both pass the contract suite in
// package mailtest.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Limits of a message: SES v2 accepts up to 40 MB raw, far above what a report needs;
// ours keep a runaway transcript from becoming a giant email.
const (
	MaxSubject  = 998 // one header line (RFC 5322)
	MaxBodySize = 1 << 20
)

// Message is one email with a text and an HTML part.
type Message struct {
	From    string // a verified sender address, "Name <addr>" or "addr"
	To      []string
	Subject string
	Text    string
	HTML    string
}

// Check reports what is wrong with m, or nil: From and every To a single valid address,
// 1-50 recipients, a subject of printable text within MaxSubject bytes, and both parts,
// each valid UTF-8 within MaxBodySize.
func (m Message) Check() error {
	var errs []error
	if _, err := mail.ParseAddress(m.From); err != nil {
		errs = append(errs, fmt.Errorf("from %q is not an email address", m.From))
	}
	if len(m.To) == 0 || len(m.To) > 50 {
		errs = append(errs, fmt.Errorf("%d recipients; 1 to 50 are allowed", len(m.To)))
	}
	for _, to := range m.To {
		if a, err := mail.ParseAddress(to); err != nil || a.Name != "" {
			errs = append(errs, fmt.Errorf("recipient %q is not an email address", to))
		}
	}
	switch {
	case m.Subject == "" || len(m.Subject) > MaxSubject || !utf8.ValidString(m.Subject):
		errs = append(errs, errors.New("the subject must be 1 to 998 bytes of UTF-8"))
	case strings.ContainsFunc(m.Subject, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		errs = append(errs, errors.New("the subject must not hold control characters (line breaks included)"))
	}
	if m.Text == "" || m.HTML == "" {
		errs = append(errs, errors.New("both a text and an HTML part are needed"))
	}
	if len(m.Text) > MaxBodySize || len(m.HTML) > MaxBodySize || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		errs = append(errs, fmt.Errorf("each part must be valid UTF-8 of at most %d bytes", MaxBodySize))
	}
	return errors.Join(errs...)
}

// ErrRejected is wrapped by Send when the service refused the message itself (an
// unverified sender, a malformed address): retrying the same message will not help.
var ErrRejected = errors.New("mail: the message was rejected")

// Mailer sends email. Send checks m (Message.Check; a failing message wraps
// ErrRejected and is not sent), sends it, and returns the service's message id. An error
// that does not wrap ErrRejected may be transient: the caller may retry.
type Mailer interface {
	Send(ctx context.Context, m Message) (messageID string, err error)
}
