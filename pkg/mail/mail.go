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
	"unicode"
	"unicode/utf8"
)

// Limits of a message: SES v2 accepts up to 40 MB raw, far above what a report needs;
// ours keep a runaway transcript from becoming a giant email.
const (
	MaxSubject  = 998 // one header line (RFC 5322)
	MaxBodySize = 1 << 20
	// MaxRecipients is SES's limit of recipients per message.
	MaxRecipients = 50
	// MaxAddress bounds From and each To as given, display name included, in bytes; the
	// address itself (addr-spec) is at most MaxAddrSpec bytes (RFC 5321's path limit).
	MaxAddress  = 320
	MaxAddrSpec = 254
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
// 1 to MaxRecipients recipients, a subject of printable text within MaxSubject bytes, and
// both parts, each valid UTF-8 within MaxBodySize.
//
// An address is at most MaxAddress bytes of UTF-8 without control characters (no line
// breaks: nothing can add a header), parses as one RFC 5322 address (net/mail), and its
// addr-spec is ASCII (SES does not support SMTPUTF8: an internationalised domain must be
// given in Punycode) within MaxAddrSpec bytes; the display name of From, after decoding
// any encoded-words, holds no control characters either. A recipient has no display
// name. Control characters are Unicode's (C0, DEL and C1, such as NEL).
func (m Message) Check() error {
	var errs []error
	if _, err := checkAddress(m.From); err != nil {
		errs = append(errs, fmt.Errorf("from: %w", err))
	}
	if len(m.To) == 0 || len(m.To) > MaxRecipients {
		errs = append(errs, fmt.Errorf("%d recipients; 1 to %d are allowed", len(m.To), MaxRecipients))
	}
	for i, to := range m.To {
		if i == MaxRecipients {
			break // refused for their number already; a long list is not read through
		}
		a, err := checkAddress(to)
		if err == nil && a.Name != "" {
			err = fmt.Errorf("%q has a display name; a recipient is a bare address", to)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("recipient %d: %w", i+1, err))
		}
	}
	switch {
	case m.Subject == "" || len(m.Subject) > MaxSubject || !utf8.ValidString(m.Subject):
		errs = append(errs, errors.New("the subject must be 1 to 998 bytes of UTF-8"))
	case strings.ContainsFunc(m.Subject, unicode.IsControl):
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

// checkAddress parses s as one address under Check's rules.
func checkAddress(s string) (*mail.Address, error) {
	switch {
	case len(s) > MaxAddress:
		return nil, fmt.Errorf("an address of %d bytes; at most %d are allowed", len(s), MaxAddress)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return nil, fmt.Errorf("%q holds control characters or is not UTF-8", s)
	}
	a, err := mail.ParseAddress(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not an email address", s)
	case len(a.Address) > MaxAddrSpec || strings.ContainsFunc(a.Address, func(r rune) bool { return r >= utf8.RuneSelf }):
		return nil, fmt.Errorf("%q: the address must be ASCII (a domain in Punycode) of at most %d bytes", s, MaxAddrSpec)
	case strings.ContainsFunc(a.Name, unicode.IsControl):
		return nil, fmt.Errorf("%q: the display name holds control characters", s)
	}
	return a, nil
}

// ErrRejected is wrapped by Send when the service refused the message itself (an
// unverified sender, a malformed address): retrying the same message will not help.
var ErrRejected = errors.New("mail: the message was rejected")

// ErrNotSent is wrapped by Send when the message certainly did not go out and sending it
// again may work (the service refused the request before taking the message: throttling,
// a quota, a permission; or the local folder could not be written).
var ErrNotSent = errors.New("mail: the message was not sent")

// Mailer sends email. Send checks m (Message.Check; a failing message wraps
// ErrRejected and is not sent), sends it, and returns the service's message id. An
// error wrapping ErrRejected or ErrNotSent says the message did not go out; any other
// error (a 5xx, a lost connection, a context that ended mid-request) leaves it unknown
// whether it did: a caller that must not send twice must not simply retry then.
type Mailer interface {
	Send(ctx context.Context, m Message) (messageID string, err error)
}
