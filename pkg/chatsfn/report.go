package chatsfn

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
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
	Needs: app.Needs{Chats: app.ChatReports, Mail: true, Events: true, ReadSettings: []string{officehours.AreaName}, Orgs: app.Read},
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
	user := c.User.Name
	if user == "" {
		user = "(no name given)"
	}
	total := max(c.Messages, len(msgs))
	plural := "s"
	if total == 1 {
		plural = ""
	}
	shown := ""
	if more {
		shown = fmt.Sprintf(", the first %d shown", len(msgs))
	}
	noDetails := c.StartedAt.IsZero()
	// Built with the standard library's escaping rather than text/template and
	// html/template: a template's reflection makes the linker keep every method of every
	// reachable type, which took this function's bootstrap from 9.9 MB to 16 MB.
	var t, h strings.Builder
	e := html.EscapeString

	t.WriteString("A chat was missed")
	h.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Missed chat</title></head>\n<body style=\"font-family: sans-serif\">\n<p>A chat was missed")
	if c.Channel != "" {
		t.WriteString(" on " + c.Channel)
		h.WriteString(" on <b>" + e(c.Channel) + "</b>")
	}
	t.WriteString(" at " + stamp(missedAt) + ".\n")
	h.WriteString(" at " + e(stamp(missedAt)) + ".</p>\n")
	if noDetails {
		t.WriteString("\nThe chat's details had not arrived when this report was sent.\n")
		h.WriteString("<p><i>The chat's details had not arrived when this report was sent.</i></p>")
	}
	t.WriteString("\nUser: " + user)
	h.WriteString("\n<table>\n<tr><th align=\"left\">User</th><td>" + e(user) + "</td></tr>\n")
	if c.User.Email != "" {
		t.WriteString("\nEmail: " + c.User.Email)
		h.WriteString("<tr><th align=\"left\">Email</th><td>" + e(c.User.Email) + "</td></tr>")
	}
	h.WriteString("\n")
	if c.User.Phone != "" {
		t.WriteString("\nPhone: " + c.User.Phone)
		h.WriteString("<tr><th align=\"left\">Phone</th><td>" + e(c.User.Phone) + "</td></tr>")
	}
	h.WriteString("\n")
	bu, buHTML := "", ""
	if c.BusinessUnitID != "" {
		bu, buHTML = " (business unit "+c.BusinessUnitID+")", " (business unit "+e(c.BusinessUnitID)+")"
	}
	t.WriteString("\nUser id: " + c.User.ID + "\nChat: " + c.ChatID + bu + "\n\n")
	h.WriteString("<tr><th align=\"left\">User id</th><td>" + e(c.User.ID) + "</td></tr>\n<tr><th align=\"left\">Chat</th><td>" + e(c.ChatID) + buHTML + "</td></tr>\n</table>\n")
	fmt.Fprintf(&t, "Transcript (%d message%s%s):\n", total, plural, shown)
	fmt.Fprintf(&h, "<h3>Transcript (%d message%s%s)</h3>\n", total, plural, shown)
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
		at := stamp(m.SentAt)
		t.WriteString("\n[" + at + "] " + who + ": " + m.Text)
		h.WriteString("<p><small>" + e(at) + "</small> <b>" + e(who) + "</b><br>" + e(m.Text))
		if m.Truncated {
			t.WriteString(" [cut]")
			h.WriteString(" <i>[cut]</i>")
		}
		h.WriteString("</p>\n")
	}
	if len(msgs) == 0 {
		t.WriteString("\n(no messages)")
		h.WriteString("<p>(no messages)</p>")
	}
	t.WriteString("\n")
	h.WriteString("\n</body></html>\n")
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
	return mail.Message{Subject: subject, Text: t.String(), HTML: h.String()}, nil
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
