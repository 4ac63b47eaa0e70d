package chatsfn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	ttemplate "text/template"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/officehours"
)

// waitForChat is how long a report waits for the chat's own events (Chat Started and its
// messages) to be stored before it goes out with what is known: events arrive in any
// order, and a report without the user's details is worth a few retries.
const waitForChat = 15 * time.Minute

// ReportFunction mails the missed-chat report: one email per missed chat, to the
// office-hours missedChatReport address, when it is enabled.
var ReportFunction = app.Function{Name: "missed-chat-report",
	Needs: app.Needs{ChatReports: true, Mail: true, Events: true, ReadSettings: []string{officehours.AreaName}},
	Events: &app.Consumer{Source: app.ChatSource, DetailTypes: []string{chats.ChatMissed},
		Handler: func(d app.Deps) app.EventHandler {
			return (&reporter{service: newService(d), mail: d.Mail, from: d.MailFrom}).handle
		}}}

type reporter struct {
	*service
	mail mail.Mailer
	from string
}

// errNotYet asks for the event again later: the chat's own events are not stored yet.
var errNotYet = errors.New("the chat's events are not stored yet; the report waits for them")

// handle sends the report of one missed chat, at most once: a marker claimed before
// sending and finished after makes a repeat delivery (or a concurrent one) send nothing.
// A send that certainly did not go out (mail.ErrNotSent) releases the marker and asks for
// the event again; one the mail service rejected is not retried (it would fail the same
// way); one whose outcome is unknown (a 5xx, a lost connection, the invocation running
// out of time) keeps the marker: the report may have gone, and is never sent twice.
func (r *reporter) handle(ctx context.Context, ev app.Event) error {
	in, err := chats.Parse(ev.DetailType, ev.Detail, r.now())
	if err != nil || in.Missed == nil {
		return fmt.Errorf("%w: %v", app.ErrMalformed, err)
	}
	hours, err := r.hours.Read(ctx, in.OrgID, settings.Eventual)
	if err != nil {
		return err
	}
	cfg := hours.Doc.MissedChatReport
	if !cfg.Enabled || cfg.Email == "" {
		return nil
	}
	now := r.now()
	c, found, err := r.store.Chat(ctx, in.OrgID, in.ChatID)
	if err != nil {
		return err
	}
	if (!found || c.StartedAt.IsZero()) && now.Sub(in.At) < waitForChat {
		return errNotYet
	}
	state, err := r.store.ClaimReport(ctx, in.OrgID, in.ChatID, now)
	if err != nil {
		return err
	}
	if !state.Claimed {
		r.log().InfoContext(ctx, "missed-chat report not sent again", "orgId", in.OrgID, "chatId", in.ChatID,
			"sent", state.Sent, "inProgress", state.InProgress)
		return nil
	}
	msgs, more, err := r.store.Transcript(ctx, in.OrgID, in.ChatID, chats.MaxTranscript)
	if err != nil {
		r.release(ctx, in)
		return err
	}
	if !found {
		c = chats.Chat{OrgID: in.OrgID, ChatID: in.ChatID}
	}
	m, err := Render(c, in.At, msgs, more, hours.Doc.TimeZone)
	if err != nil {
		r.release(ctx, in)
		return err
	}
	m.From, m.To = r.from, []string{cfg.Email}
	id, err := r.mail.Send(ctx, m)
	switch {
	case err == nil:
	case errors.Is(err, mail.ErrRejected):
		r.release(ctx, in)
		r.log().ErrorContext(ctx, "missed-chat report rejected by the mail service", "orgId", in.OrgID, "chatId", in.ChatID, "error", err.Error())
		return nil
	case errors.Is(err, mail.ErrNotSent):
		r.release(ctx, in)
		return fmt.Errorf("missed-chat report: %w", err)
	default:
		// A 5xx, a lost connection, a deadline mid-request: the mail service may have
		// taken the message. It is never sent twice, so it is not sent again.
		r.log().ErrorContext(ctx, "missed-chat report: whether it was sent is unknown; it is not sent again",
			"orgId", in.OrgID, "chatId", in.ChatID, "error", err.Error())
		return nil
	}
	fin := context.WithoutCancel(ctx)
	if err := r.store.FinishReport(fin, in.OrgID, in.ChatID, true, cfg.Email, id); err != nil {
		// Sent, but the marker still says in progress: nothing sends it again.
		r.log().ErrorContext(ctx, "missed-chat report sent, marker not updated", "orgId", in.OrgID, "chatId", in.ChatID, "error", err.Error())
	}
	_, err = r.save(fin, chats.Change{Events: []bus.Event{chats.ReportSentEvent(in.OrgID, in.ChatID, cfg.Email, id, now)}})
	return err
}

// release gives the claim back after a send that certainly did not happen.
func (r *reporter) release(ctx context.Context, in chats.In) {
	if err := r.store.FinishReport(context.WithoutCancel(ctx), in.OrgID, in.ChatID, false, "", ""); err != nil {
		r.log().ErrorContext(ctx, "missed-chat report: could not release the claim", "orgId", in.OrgID, "chatId", in.ChatID, "error", err.Error())
	}
}

// reportView is what the report templates show.
type reportView struct {
	Chat      chats.Chat
	MissedAt  string
	User      string
	Messages  []lineView
	Total     int
	More      bool
	TimeZone  string
	NoDetails bool
}

type lineView struct {
	At, Who, Text string
	Truncated     bool
}

var (
	textTemplate = ttemplate.Must(ttemplate.New("text").Parse(`A chat was missed{{with .Chat.Channel}} on {{.}}{{end}} at {{.MissedAt}}.
{{if .NoDetails}}
The chat's details had not arrived when this report was sent.
{{end}}
User: {{.User}}
{{- with .Chat.User.Email}}
Email: {{.}}{{end}}
{{- with .Chat.User.Phone}}
Phone: {{.}}{{end}}
User id: {{.Chat.User.ID}}
Chat: {{.Chat.ChatID}}{{with .Chat.BusinessUnitID}} (business unit {{.}}){{end}}

Transcript ({{.Total}} message{{if ne .Total 1}}s{{end}}{{if .More}}, the first {{len .Messages}} shown{{end}}):
{{range .Messages}}
[{{.At}}] {{.Who}}: {{.Text}}{{if .Truncated}} [cut]{{end}}{{else}}
(no messages){{end}}
`))
	htmlReport = template.Must(template.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Missed chat</title></head>
<body style="font-family: sans-serif">
<p>A chat was missed{{with .Chat.Channel}} on <b>{{.}}</b>{{end}} at {{.MissedAt}}.</p>
{{if .NoDetails}}<p><i>The chat's details had not arrived when this report was sent.</i></p>{{end}}
<table>
<tr><th align="left">User</th><td>{{.User}}</td></tr>
{{with .Chat.User.Email}}<tr><th align="left">Email</th><td>{{.}}</td></tr>{{end}}
{{with .Chat.User.Phone}}<tr><th align="left">Phone</th><td>{{.}}</td></tr>{{end}}
<tr><th align="left">User id</th><td>{{.Chat.User.ID}}</td></tr>
<tr><th align="left">Chat</th><td>{{.Chat.ChatID}}{{with .Chat.BusinessUnitID}} (business unit {{.}}){{end}}</td></tr>
</table>
<h3>Transcript ({{.Total}} message{{if ne .Total 1}}s{{end}}{{if .More}}, the first {{len .Messages}} shown{{end}})</h3>
{{range .Messages}}<p><small>{{.At}}</small> <b>{{.Who}}</b><br>{{.Text}}{{if .Truncated}} <i>[cut]</i>{{end}}</p>
{{else}}<p>(no messages)</p>{{end}}
</body></html>
`))
)

// Render makes the report of a chat missed at missedAt with its transcript (more: it
// has more messages than those given), times shown in the organisation's time zone
// (office hours; UTC when unknown). The HTML part escapes everything taken from the
// chat; the text part is plain text. The subject names the user.
func Render(c chats.Chat, missedAt time.Time, msgs []chats.Message, more bool, zone string) (mail.Message, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		loc, zone = time.UTC, "UTC"
	}
	stamp := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	v := reportView{Chat: c, MissedAt: stamp(missedAt), User: c.User.Name, Total: max(c.Messages, len(msgs)), More: more,
		TimeZone: zone, NoDetails: c.StartedAt.IsZero()}
	if v.User == "" {
		v.User = "(no name given)"
	}
	for _, m := range msgs {
		who := m.Sender
		switch m.Sender {
		case chats.SenderUser:
			who = "User"
			if c.User.Name != "" {
				who = c.User.Name
			}
		case chats.SenderAgent:
			who = "Agent " + m.AgentID
		case chats.SenderBot:
			who = "Bot"
		case chats.SenderSystem:
			who = "System"
		}
		v.Messages = append(v.Messages, lineView{At: stamp(m.SentAt), Who: who, Text: m.Text, Truncated: m.Truncated})
	}
	var text, html bytes.Buffer
	if err := textTemplate.Execute(&text, v); err != nil {
		return mail.Message{}, err
	}
	if err := htmlReport.Execute(&html, v); err != nil {
		return mail.Message{}, err
	}
	who := c.User.Name
	if who == "" {
		who = c.User.ID
	}
	if who == "" {
		who = "a visitor"
	}
	subject := "Missed chat from " + oneLine(who)
	if c.Channel != "" {
		subject += " (" + oneLine(c.Channel) + ")"
	}
	return mail.Message{Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// oneLine keeps a header value on one line (the event parser already refuses control
// characters; this is the second line of defence against header injection).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
