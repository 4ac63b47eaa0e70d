// Package sesmail is the Amazon SES mail.Mailer adapter, built on aws-sdk-go-v2's SES v2
// client: one SendEmail per message with Simple content (Subject, Body.Text and
// Body.Html, each with the charset UTF-8), from which SES builds the MIME message itself.
// The From address goes as net/mail formats it (a non-ASCII display name in RFC 2047
// encoded-words, as SES requires), the recipients as bare addresses.
//
// Errors: a message that fails mail.Message.Check is refused before any request. A
// refusal by SES of the message or the sender (MessageRejected,
// MailFromDomainNotVerifiedException, AccountSuspendedException, SendingPausedException,
// BadRequestException, or the SDK's own parameter validation) wraps mail.ErrRejected:
// sending the same message again will not help. Throttling (TooManyRequestsException,
// LimitExceededException, 429) and transient failures (5xx, connection errors) become an
// Unavailable *problem.Error (awserr), after the SDK's own retries; anything else
// (access denied, a missing configuration set, a done context) is a plain error.
//
// SendEmail has no idempotency token, so a message must never be sent again unless SES
// certainly did not take it. The SDK's retries are therefore limited to answers that say
// so (throttling: 429, TooManyRequestsException, LimitExceededException): a 5xx or a
// lost connection may come after SES accepted the message, and is not retried here. An
// error that says the message did not go out (any 4xx answer, throttling included) wraps
// mail.ErrNotSent; a 5xx, a transport failure or a context that ended mid-request wraps
// neither it nor ErrRejected: whether the message went out is unknown, and the caller
// decides (the missed-chat report does not send again).
//
// No message content reaches a log or an error: the package logs nothing, errors carry the
// operation and the SDK's error (whose text comes from the service and names addresses at
// most), and every call turns the SDK's request and response body logging off whatever
// the client was built with.
//
// The function's role needs ses:SendEmail on the sending identity,
// arn:aws:ses:<region>:<account>:identity/<domain or address of MAIL_FROM> (with a
// configuration set, SES also checks the action on
// arn:aws:ses:<region>:<account>:configuration-set/<name>; this adapter sets none).
package sesmail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/mail"
)

// API is the subset of *sesv2.Client that Mailer uses.
type API interface {
	SendEmail(ctx context.Context, params *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ API = (*sesv2.Client)(nil)

// Charset is the character set declared for the subject and both parts.
const Charset = "UTF-8"

// busy is the client-safe message of an Unavailable error.
const busy = "the mail service is busy, please retry"

// rejectedCodes are the SES v2 errors that refuse the message or the sender.
var rejectedCodes = map[string]bool{
	"MessageRejected":                    true,
	"MailFromDomainNotVerifiedException": true,
	"AccountSuspendedException":          true,
	"SendingPausedException":             true,
	"BadRequestException":                true,
}

// Mailer is a mail.Mailer sending through SES v2. It is safe for concurrent use.
type Mailer struct {
	client API
}

var _ mail.Mailer = (*Mailer)(nil)

// New returns a Mailer sending through client.
func New(client API) *Mailer {
	return &Mailer{client: client}
}

// NewFromConfig returns a Mailer on an SES v2 client built from ac, with the endpoint
// overridden by AWS_ENDPOINT_URL_SESV2 or AWS_ENDPOINT_URL when set (the SDK's standard
// variables; the service id is "SESv2").
func NewFromConfig(ac aws.Config) *Mailer {
	return New(sesv2.NewFromConfig(ac, func(o *sesv2.Options) {
		o.BaseEndpoint = lambdafn.Endpoint(nil, "SESV2")
	}))
}

// sendOptions turns off the SDK's logging of request and response bodies for one call
// (the request holds the message) and limits its retries to throttling answers.
func sendOptions(o *sesv2.Options) {
	o.ClientLogMode &^= aws.LogRequestWithBody | aws.LogResponseWithBody
	if o.Retryer != nil {
		o.Retryer = throttlesOnly{o.Retryer}
	}
}

// throttlesOnly is the client's retryer (its attempts, backoff and quota) retrying only
// answers that say the request was not taken.
type throttlesOnly struct{ aws.Retryer }

func (r throttlesOnly) IsErrorRetryable(err error) bool {
	return awserr.Classify(err) == awserr.Throttled && r.Retryer.IsErrorRetryable(err)
}

// Send sends m with SES v2 SendEmail and returns the message id SES assigned. See the
// package comment for the errors.
func (s *Mailer) Send(ctx context.Context, m mail.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sesmail: send: %w", err)
	}
	if err := m.Check(); err != nil {
		return "", fmt.Errorf("sesmail: %w: %w", mail.ErrRejected, err)
	}
	from, err := netmail.ParseAddress(m.From)
	if err != nil { // Check parsed it already
		return "", fmt.Errorf("sesmail: %w: %w", mail.ErrRejected, err)
	}
	fromHeader := addrSpec(from.Address)
	if from.Name != "" {
		fromHeader = from.String()
	}
	to := make([]string, len(m.To))
	for i, s := range m.To {
		a, err := netmail.ParseAddress(s)
		if err != nil {
			return "", fmt.Errorf("sesmail: %w: %w", mail.ErrRejected, err)
		}
		to[i] = addrSpec(a.Address)
	}
	content := func(s string) *types.Content {
		return &types.Content{Data: aws.String(s), Charset: aws.String(Charset)}
	}
	out, err := s.client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(fromHeader),
		Destination:      &types.Destination{ToAddresses: to},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: content(m.Subject),
			Body:    &types.Body{Text: content(m.Text), Html: content(m.HTML)},
		}},
	}, sendOptions)
	if err != nil {
		return "", mapError(err)
	}
	if out.MessageId == nil || *out.MessageId == "" {
		// SES accepted the message; what it answered is not understood.
		return "", errors.New("sesmail: send: SES answered without a message id")
	}
	return *out.MessageId, nil
}

// addrSpec returns an address as it is written between angle brackets: net/mail quotes a
// local part that needs it ("a b"@example.com).
func addrSpec(address string) string {
	s := (&netmail.Address{Address: address}).String()
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// mapError turns an SDK error into the port's vocabulary: a refusal of the message or
// the sender wraps mail.ErrRejected; anything else goes through awserr (throttling and
// transient failures become Unavailable with RetryAfter 1s, the rest a plain error).
func mapError(err error) error {
	var apiErr smithy.APIError
	var invalid smithy.InvalidParamsError
	if errors.As(err, &apiErr) && rejectedCodes[apiErr.ErrorCode()] || errors.As(err, &invalid) {
		return fmt.Errorf("sesmail: send: %w: %w", mail.ErrRejected, err)
	}
	var resp interface{ HTTPStatusCode() int }
	if awserr.Classify(err) == awserr.Throttled || errors.As(err, &resp) && resp.HTTPStatusCode() >= 400 && resp.HTTPStatusCode() < 500 {
		// SES answered and refused the request: the message did not go out.
		return fmt.Errorf("%w: %w", mail.ErrNotSent, awserr.Problem("sesmail: send", err, busy))
	}
	return awserr.Problem("sesmail: send", err, busy)
}

// Mail is the lambdafn.Adapter of the mailer: an SES v2 client on the function's AWS
// configuration (endpoint from AWS_ENDPOINT_URL_SESV2 or AWS_ENDPOINT_URL) and the
// configured sender MAIL_FROM. Only the functions whose main passes it link the SES
// client.
func Mail(ac aws.Config, cfg config.Config, d *app.Deps) error {
	if cfg.MailFrom == "" {
		return fmt.Errorf("sesmail: %s is not set", config.EnvMailFrom)
	}
	d.Mail = NewFromConfig(ac)
	d.MailFrom = cfg.MailFrom
	return nil
}
