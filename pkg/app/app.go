// Package app describes the product's functions with no AWS dependency: a Function (its
// name, what it needs and what it serves), the Deps (ports) every function is given, and
// the Needs from which its environment, its cold-start checks and its IAM policy follow.
//
// Area and feature packages declare their Function here; package lambdafn turns one into
// a Lambda entry point with AWS adapters, and package local mounts them all on one server
// with the embedded adapters. A package that defines a port held in Deps (settings, blob,
// audit) never declares a Function, which keeps the import graph acyclic.
package app

import (
	"slices"
	"time"

	"github.com/convrs/admin/pkg/webchat/revision"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/bus"
	"github.com/convrs/admin/pkg/businessunits"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/mail"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/secrets"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/sticky"
	"github.com/convrs/admin/pkg/tags"
)

// Deps are the ports handlers use. A function gets the ones its Needs name.
type Deps struct {
	Settings settings.Store
	Blobs    blob.Store
	Cursors  audit.Cursors
	// Secrets keeps secret documents (the WebChat key sets); Revisions serialises changes
	// to them and tells verifiers when to read them again.
	Secrets   secrets.Store
	Revisions revision.Store
	// Chats keeps chats, transcripts and agent states built from the chat events.
	Chats chats.Store
	// Roles keeps the organisations' custom roles (the HTTP front resolves callers' roles
	// through it).
	Roles roles.Store
	// BusinessUnits keeps the organisations' business units; BusinessUnitMembers lists
	// the agents of a unit when its delete is refused (package agents; nil until then:
	// the refusal then lists no agents, and the members count still guards the delete).
	BusinessUnits       businessunits.Store
	BusinessUnitMembers businessunits.Members
	// Tags keeps the organisations' tags and tag groups.
	Tags tags.Store
	// Sticky keeps which agent each user is stuck to ("User Sticky Changed").
	Sticky sticky.Store
	// Agents keeps the organisations' agents: profiles, credentials, invitations.
	Agents agents.Store
	// Bus publishes the product's events (source convrs.admin).
	Bus bus.Publisher
	// Mail sends email from MailFrom, the configured, verified sender.
	Mail     mail.Mailer
	MailFrom string
	// BaseURL is the deployment's public base URL (no trailing slash), for absolute URLs
	// the product publishes.
	BaseURL string
	Now     func() time.Time
}

// Needs names the ports a function uses and how.
type Needs struct {
	// Settings lists the settings areas whose documents the function reads and writes;
	// every write adds an audit entry.
	Settings []string
	// ReadSettings lists settings areas the function only reads (the rules of the chat
	// events and sweeps follow chat-handling and office-hours).
	ReadSettings []string
	// AuditLog means the function lists organisations' audit logs (and signs cursors).
	AuditLog bool
	// Cursors means the function signs list cursors (with the audit cursor key) for
	// lists other than the audit log.
	Cursors bool
	// Logos means the function keeps organisation logos in the logo bucket.
	Logos bool
	// BaseURL means the function publishes absolute URLs of the deployment.
	BaseURL bool
	// KeySets is how the function uses organisations' WebChat key sets: Read (verifying
	// tokens) or Write (generating, rotating, revoking keys; every change audited).
	KeySets Access
	// Chats is how the function uses the chat records: Read (the read API) or Write
	// (the chat events and the sweeps).
	Chats Access
	// ChatReports means the function sends missed-chat reports: it reads one chat and its
	// transcript, keeps the report markers (which make each report go out at most once)
	// and records the report's event. It needs no other access to chats.
	ChatReports bool
	// Roles is how the function uses custom roles: Read (it resolves callers' custom roles
	// to permissions: every function serving a route that needs a permission, and
	// GET /v1/me) or Write (the roles routes).
	Roles Access
	// Sticky is how the function uses sticky users: Write (chat-events keeps them) or Read.
	Sticky Access
	// Agents is how the function uses agents: Read (profiles: get and search) or Write
	// (the agents routes: creates, edits, status changes, credentials, invitations; and
	// the custom roles' holders counts).
	Agents Access
	// AgentCredentials means the function reads agents' credentials (the current password
	// hash and the history, agents.Store.Credentials) and nothing else of agents: the
	// password-policy check's reuse rule. It is apart from Agents because Read grants
	// profiles only (the credentials are a separate item so that IAM can keep them from
	// every reader of profiles); Write includes it.
	AgentCredentials bool
	// Events means the function publishes events (source convrs.admin).
	Events bool
	// Mail means the function sends email.
	Mail bool
	// BusinessUnits is how the function uses business units: Read, or Write (create,
	// change, delete; every write audited).
	BusinessUnits Access
	// Tags is how the function uses tags and tag groups: Read, or Write (every write
	// audited).
	Tags Access
}

// Access says how a function uses a port.
type Access int

// Accesses of a port.
const (
	NoAccess Access = iota
	Read
	Write
)

// Table reports whether the function uses the DynamoDB table.
func (n Needs) Table() bool {
	return len(n.Settings) > 0 || len(n.ReadSettings) > 0 || n.AuditLog || n.KeySets != NoAccess || n.Chats != NoAccess || n.ChatReports ||
		n.Roles != NoAccess || n.BusinessUnits != NoAccess || n.Tags != NoAccess || n.Sticky != NoAccess || n.Agents != NoAccess || n.AgentCredentials
}

// Config is the configuration the function needs from its environment.
func (n Needs) Config() config.Needs {
	return config.Needs{Table: n.Table(), LogoBucket: n.Logos, AuditCursorKey: n.AuditLog || n.Cursors, PublicBaseURL: n.BaseURL,
		WebchatSecretPrefix: n.KeySets != NoAccess, EventBus: n.Events, MailFrom: n.Mail}
}

// Missing names the ports of d the needs require but d lacks ("" when none), so that a
// function refuses to start rather than answer 500 later.
func (n Needs) Missing(d Deps) []string {
	var out []string
	if (len(n.Settings) > 0 || len(n.ReadSettings) > 0 || n.AuditLog) && d.Settings == nil {
		out = append(out, "settings store")
	}
	if n.KeySets != NoAccess && d.Revisions == nil {
		out = append(out, "WebChat key-set revisions")
	}
	if n.KeySets != NoAccess && d.Secrets == nil {
		out = append(out, "secret store")
	}
	if (n.Chats != NoAccess || n.ChatReports) && d.Chats == nil {
		out = append(out, "chat store")
	}
	if n.Sticky != NoAccess && d.Sticky == nil {
		out = append(out, "sticky-user store")
	}
	if n.Roles != NoAccess && d.Roles == nil {
		out = append(out, "role store")
	}
	if n.BusinessUnits != NoAccess && d.BusinessUnits == nil {
		out = append(out, "business unit store")
	}
	if n.Tags != NoAccess && d.Tags == nil {
		out = append(out, "tag store")
	}
	if (n.Agents != NoAccess || n.AgentCredentials) && d.Agents == nil {
		out = append(out, "agent store")
	}
	if n.Events && d.Bus == nil {
		out = append(out, "event bus")
	}
	if n.Mail && (d.Mail == nil || d.MailFrom == "") {
		out = append(out, "mailer and sender address")
	}
	if n.Logos && d.Blobs == nil {
		out = append(out, "logo blob store")
	}
	if (n.AuditLog || n.Cursors) && !d.Cursors.Ready() {
		out = append(out, "audit cursor key")
	}
	if n.BaseURL && d.BaseURL == "" {
		out = append(out, "public base URL")
	}
	if d.Now == nil {
		out = append(out, "clock")
	}
	return out
}

// LogoKeyPrefix starts the blob key of every organisation logo
// (orgs/<orgId>/logo/<id>); the logo bucket policy is limited to it.
const LogoKeyPrefix = "orgs/"

// Function describes one function of the product.
type Function struct {
	// Name is the function's folder under functions/ and its name everywhere else (the
	// template's logical id is its CamelCase form plus "Function").
	Name  string
	Needs Needs
	// HTTP mounts the function's routes (functions invoked by API Gateway).
	HTTP func(api *httpx.API, d Deps)
	// Events makes the function an EventBridge consumer; Sweep a scheduled sweep. A
	// function has exactly one of HTTP, Events and Sweep.
	Events *Consumer
	Sweep  *Sweep
	// Widget publishes the function on the widget API instead of the admin API: public
	// routes called by the chat widget from customers' sites, open to any origin and
	// throttled. (An HTTP API has one CORS configuration for all its routes.)
	Widget bool
}

// Writes reports whether the function writes the settings area.
func (f Function) Writes(area string) bool { return slices.Contains(f.Needs.Settings, area) }
