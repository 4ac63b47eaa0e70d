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
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/secrets"
	"github.com/convrs/admin/pkg/sessions"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/signer"
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
	// Orgs keeps the organisation tree (the HTTP front reads the path organisation's
	// record through it on every organisation route).
	Orgs orgs.Store
	// BusinessUnits keeps the organisations' business units (the agents store counts
	// their members).
	BusinessUnits businessunits.Store
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
	// Signer signs the tokens the sign-in routes issue (an AWS KMS asymmetric key in AWS,
	// the dev key locally) and lists the public keys the deployment publishes.
	Signer signer.Signer
	// Issuer and Audience are the iss and aud of the tokens the deployment issues, which
	// the API Gateway JWT authorizer (and the local server) require.
	Issuer, Audience string
	// Sessions keeps the sign-in sessions (the tokens' sid).
	Sessions sessions.Store
	Now      func() time.Time
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
	// Chats is how the function uses the chat store (package chats: chats, transcripts,
	// agent states, pending events, sweep positions, report markers): a set of ChatUse,
	// one per job, each granting (package iam) the actions and keys of the store calls
	// that job makes and nothing else. The zero set is no access.
	Chats ChatUse
	// Roles is how the function uses custom roles: Read (it resolves callers' custom roles
	// to permissions: every function serving a route that needs a permission, and
	// GET /v1/me) or Write (the roles routes).
	Roles Access
	// Orgs is how the function uses the organisation tree: Read (the HTTP front reads the
	// path organisation's record on every route with an {orgId}, and GET /v1/me the
	// caller's, for its path: every function serving a route that needs a token) or
	// Write (the orgs routes: create, list, delete sub-organisations; every write audited).
	Orgs Access
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
	// AgentSignIn means the function signs agents in, and nothing else of agents: it finds
	// an agent by email (ByEmail), reads its profile and credentials, counts failures and
	// suspends (LoginFailed), records a sign-in (LoginSucceeded), and sets a password from
	// an invitation (Invitation, SetCredentials). Narrower than Agents Write, which also
	// creates agents, moves role holders and business unit members.
	AgentSignIn bool
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
	// Signer is how the function uses the deployment's token signing keys: Read (it
	// publishes the public keys and the issuer: the discovery documents) or Write (it
	// signs tokens: the sign-in routes). Both need Deps.Issuer and Deps.Audience.
	Signer Access
	// Sessions is how the function uses sign-in sessions: Write (the sign-in routes
	// create, refresh and end them).
	Sessions Access
}

// ChatUse is a set of the jobs a function does with the chat store, combined with |. The
// jobs are apart because their footprints on the table differ (pkg/dynamo/chats.go
// lists the items and indexes; pkg/iam derives the grants): a function that closes one
// chat must not be able to move sweep positions or read every agent's login time.
type ChatUse uint8

// The jobs of the chat store.
const (
	// ChatRead is the read API: chats by status (gsi1 STATUS#), a chat and its
	// transcript (the chat's partition).
	ChatRead ChatUse = 1 << iota
	// ChatActions is an admin's close or transfer of one chat: the chat and the target's
	// agent state read, the chat saved on condition of its version with its event
	// (through the pending-event outbox, forgotten once on the bus), then the busy state
	// of the agents whose active chats changed (their state, their open chats on gsi3,
	// saved with "Agent Busy Changed" when it flips). No new chat (so no organisations
	// registry), no sweep position, no other list.
	ChatActions
	// ChatIngest is the chat platform's events (chat-events): chats, messages and agent
	// states read and saved, a new chat registering its organisation (ORGS#) for the
	// sweeps, online agents (gsi2 ONLINE#) and their open chats (gsi3) for offline
	// reallocation, the busy recount, the outbox.
	ChatIngest
	// ChatAutoClose and ChatQueueMove are the sweeps. Both walk the organisations
	// registry (ORGS#), keep their position (SWEEP#), republish events left pending
	// (gsi1 EVENT#), change chats that exist and recount busy agents, as ChatActions
	// does. Auto-close reads the idle chats (gsi2 LIVE#); queue-move the agents by last
	// login (gsi1 LOGIN#) and their unanswered chats (gsi3).
	ChatAutoClose
	ChatQueueMove
	// ChatReports is the missed-chat report: one chat and its transcript, the report
	// marker beside the chat (updated: claimed, then finished, so that a report goes out
	// at most once), the report's event through the outbox.
	ChatReports
	// ChatAgentLoad is what the agents function reads of chats: agents' states (the
	// status board's presence, busy and last login) and their open chats (gsi3: the
	// board's counts, and the disable rule). No chat item.
	ChatAgentLoad
)

// Has reports whether u holds every job of v.
func (u ChatUse) Has(v ChatUse) bool { return u&v == v }

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
	return len(n.Settings) > 0 || len(n.ReadSettings) > 0 || n.AuditLog || n.KeySets != NoAccess || n.Chats != 0 ||
		n.Roles != NoAccess || n.Orgs != NoAccess || n.BusinessUnits != NoAccess || n.Tags != NoAccess || n.Sticky != NoAccess || n.Agents != NoAccess || n.AgentCredentials ||
		n.Sessions != NoAccess
}

// Config is the configuration the function needs from its environment.
func (n Needs) Config() config.Needs {
	return config.Needs{Table: n.Table(), LogoBucket: n.Logos, AuditCursorKey: n.AuditLog || n.Cursors, PublicBaseURL: n.BaseURL,
		WebchatSecretPrefix: n.KeySets != NoAccess, EventBus: n.Events, MailFrom: n.Mail, Signing: n.Signer != NoAccess}
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
	if n.Chats != 0 && d.Chats == nil {
		out = append(out, "chat store")
	}
	if n.Sticky != NoAccess && d.Sticky == nil {
		out = append(out, "sticky-user store")
	}
	if n.Roles != NoAccess && d.Roles == nil {
		out = append(out, "role store")
	}
	if n.Orgs != NoAccess && d.Orgs == nil {
		out = append(out, "organisation store")
	}
	if n.BusinessUnits != NoAccess && d.BusinessUnits == nil {
		out = append(out, "business unit store")
	}
	if n.Tags != NoAccess && d.Tags == nil {
		out = append(out, "tag store")
	}
	if (n.Agents != NoAccess || n.AgentCredentials || n.AgentSignIn) && d.Agents == nil {
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
	if n.Signer != NoAccess && (d.Signer == nil || d.Issuer == "" || d.Audience == "") {
		out = append(out, "token signer, issuer and audience")
	}
	if n.Sessions != NoAccess && d.Sessions == nil {
		out = append(out, "session store")
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
