// Package iam derives the IAM permissions each function's policy must grant from its
// Needs (the ports it uses and how). It is used by the conformance tests, which check
// every function's policy in template.yaml against it, and its own test checks the other
// side: the DynamoDB requests the chat functions, the password check and the session
// store send, on DynamoDB Local, against these grants. No function links it.
package iam

import (
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/dynamo"
)

// Grant is one permission a function's IAM policy must give, derived from its Needs: an
// action on a resource of the template, named by logical id with a suffix for a part of
// it ("Table", "Table/index/auditByArea", "LogoBucket", "LogoBucket/orgs/*"), limited by
// a dynamodb:LeadingKeys condition to LeadingKeys when that is set. The conformance tests
// check every function's policy in template.yaml against these: nothing missing, nothing
// more.
type Grant struct {
	Action      string
	Resource    string
	LeadingKeys string
}

// WebchatSecretPrefix is the template's WEBCHAT_SECRET_PREFIX: the key-set secrets of a
// stack are convrs/<stack>/orgs/<orgId>/webchat (package webchat's SecretName).
const WebchatSecretPrefix = "convrs/${AWS::StackName}/"

// WebchatSecrets is the resource (a !Sub text) of every key-set secret of the stack. The
// wildcard also covers the six random characters Secrets Manager appends to an ARN.
const WebchatSecrets = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + WebchatSecretPrefix + "orgs/*"

// MailIdentity is the resource (a !Sub text) of the SES identity the product sends from:
// the template's MailIdentity parameter, a verified domain or address.
const MailIdentity = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailIdentity}"

// The signing keys as the template names them (Grant.Resource): the stack's own KMS key
// (the SigningKey resource, which signs unless SigningKeyArn is set), the SigningKeyArn
// parameter (a key made for a rotation, which signs instead of it once set) and the
// PublishedSigningKeyArns parameter (keys published beside the signing one: the next
// before it signs, the previous while its tokens live). The template gives each statement
// on them under the condition that its key is in use (StackSigningKey,
// RotatedSigningKey, PublishesSigningKeys), so a retired key keeps no grant.
const (
	SigningKey           = "SigningKey"
	SigningKeyParam      = "SigningKeyArn"
	PublishedSigningKeys = "PublishedSigningKeyArns"
)

// Grants lists the permissions that follow from n.
func Grants(n app.Needs) []Grant {
	var out []Grant
	for _, area := range n.Settings {
		keys := dynamo.SettingsKeys(area)
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", keys},
			// A sub-organisation's document in effect: one BatchGetItem of its path.
			Grant{"dynamodb:BatchGetItem", "Table", keys},
			Grant{"dynamodb:PutItem", "Table", keys},
			// A sub-organisation's save checks its ancestors' versions (ConditionCheck items).
			Grant{"dynamodb:ConditionCheckItem", "Table", keys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
		)
	}
	if n.AuditLog {
		out = append(out,
			Grant{"dynamodb:Query", "Table", dynamo.AuditKeys},
			Grant{"dynamodb:Query", "Table/index/" + dynamo.AuditIndex, dynamo.AuditKeys},
		)
	}
	if n.KeySets != app.NoAccess {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.WebchatKeys},
			Grant{"secretsmanager:GetSecretValue", WebchatSecrets, ""},
		)
	}
	if n.KeySets == app.Write {
		out = append(out,
			// Claim and Commit put the revision item; Commit puts the audit entry.
			Grant{"dynamodb:PutItem", "Table", dynamo.WebchatKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
			Grant{"secretsmanager:PutSecretValue", WebchatSecrets, ""},
			Grant{"secretsmanager:CreateSecret", WebchatSecrets, ""},
		)
	}
	for _, area := range n.ReadSettings {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.SettingsKeys(area)},
			Grant{"dynamodb:BatchGetItem", "Table", dynamo.SettingsKeys(area)}, // a sub-organisation's path
		)
	}
	out = append(out, chatGrants(n.Chats)...)
	if n.Sticky != app.NoAccess {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.StickyKeys},
			Grant{"dynamodb:Query", "Table", dynamo.StickyKeys}, // an agent's sticky users
		)
	}
	if n.Sticky == app.Write {
		// Apply: the user item (Put) and the agents' items (Put, Delete) in one transaction.
		out = append(out,
			Grant{"dynamodb:PutItem", "Table", dynamo.StickyKeys},
			Grant{"dynamodb:DeleteItem", "Table", dynamo.StickyKeys},
		)
	}
	if n.Roles != app.NoAccess {
		// The HTTP front resolves a caller's custom role, which may be an ancestor's: one
		// GetItem for a root's caller, one BatchGetItem of the caller's path otherwise.
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.RoleKeys},
			Grant{"dynamodb:BatchGetItem", "Table", dynamo.RoleKeys},
		)
	}
	if n.Orgs != app.NoAccess {
		// The HTTP front reads the path organisation's record: one GetItem.
		out = append(out, Grant{"dynamodb:GetItem", "Table", dynamo.OrgKeys})
	}
	if n.Orgs == app.Read && len(n.Settings) > 0 {
		// A settings write checks the descendants that inherit it (settings.Service).
		out = append(out, Grant{"dynamodb:Query", "Table", dynamo.SuborgKeys})
	}
	if n.Orgs == app.Write {
		out = append(out,
			Grant{"dynamodb:Query", "Table", dynamo.SuborgKeys}, // the descendants, paged
			// Create and Delete are TransactWriteItems (IAM checks each item as its own
			// action): the record (Put; Update for the delete's deletedAt), the parent's
			// children count (Update), the descendants index (Put, Delete), the audit entry.
			Grant{"dynamodb:PutItem", "Table", dynamo.OrgKeys},
			Grant{"dynamodb:UpdateItem", "Table", dynamo.OrgKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.SuborgKeys},
			Grant{"dynamodb:DeleteItem", "Table", dynamo.SuborgKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
		)
	}
	if n.Roles == app.Write {
		out = append(out,
			Grant{"dynamodb:Query", "Table", dynamo.RoleKeys},
			// Create, Update and Delete are TransactWriteItems of Put, Update and Delete
			// items (IAM checks each as its own action), with the audit entry.
			Grant{"dynamodb:PutItem", "Table", dynamo.RoleKeys},
			Grant{"dynamodb:UpdateItem", "Table", dynamo.RoleKeys},
			Grant{"dynamodb:DeleteItem", "Table", dynamo.RoleKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.RoleNameKeys},
			Grant{"dynamodb:DeleteItem", "Table", dynamo.RoleNameKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
		)
	}
	for _, port := range []struct {
		access app.Access
		keys   string
	}{{n.BusinessUnits, dynamo.BusinessUnitKeys}, {n.Tags, dynamo.TagKeys}} {
		if port.access != app.NoAccess {
			out = append(out,
				Grant{"dynamodb:GetItem", "Table", port.keys},
				Grant{"dynamodb:Query", "Table", port.keys}, // the list: one partition per org
			)
		}
		if port.access == app.Write {
			// Every write is one TransactWriteItems (IAM checks each item as the single-item
			// action): the record (Put, Update, Delete), its name item (Put, Delete), the
			// organisation's count and a tag group's count (Update), the audit entry (Put).
			out = append(out,
				Grant{"dynamodb:PutItem", "Table", port.keys},
				Grant{"dynamodb:UpdateItem", "Table", port.keys},
				Grant{"dynamodb:DeleteItem", "Table", port.keys},
				Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
			)
		}
	}
	if n.AgentSignIn {
		out = append(out,
			// ByEmail, then the profile and the credentials.
			Grant{"dynamodb:GetItem", "Table", dynamo.EmailKeys},
			Grant{"dynamodb:GetItem", "Table", dynamo.PeopleKeys},
			Grant{"dynamodb:GetItem", "Table", dynamo.CredsKeys},
			// LoginFailed: the count's ADD, the suspension's transaction (the profile's
			// update, the count's check, the audit entry); LoginSucceeded: the profile's
			// update and the count's reset.
			Grant{"dynamodb:UpdateItem", "Table", dynamo.PeopleKeys},
			Grant{"dynamodb:UpdateItem", "Table", dynamo.CredsKeys},
			Grant{"dynamodb:ConditionCheckItem", "Table", dynamo.CredsKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
			// Set-password: the invitation's index read, then SetCredentials (the profile's
			// update, the credentials' put, the index's delete, the audit entry).
			Grant{"dynamodb:GetItem", "Table", dynamo.InviteKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.CredsKeys},
			Grant{"dynamodb:DeleteItem", "Table", dynamo.InviteKeys},
		)
	}
	if n.Agents != app.NoAccess {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.PeopleKeys},
			Grant{"dynamodb:Query", "Table", dynamo.PeopleKeys}, // search
		)
	}
	if n.Agents == app.Write {
		out = append(out,
			// Create, Update and SetCredentials are TransactWriteItems (IAM checks each
			// item as its own action): the profile and the organisation's counter, the
			// email claim, the credentials, the invitation index, the custom roles'
			// holders, the audit entry.
			Grant{"dynamodb:PutItem", "Table", dynamo.PeopleKeys},
			Grant{"dynamodb:UpdateItem", "Table", dynamo.PeopleKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.EmailKeys},
			// Sign-in: ByEmail reads the email claim.
			Grant{"dynamodb:GetItem", "Table", dynamo.EmailKeys},
			Grant{"dynamodb:GetItem", "Table", dynamo.CredsKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.CredsKeys},
			// The failure count beside the credentials: LoginFailed's ADD, its reset by
			// LoginSucceeded and by an Update that lifts a suspension (enable); the
			// suspension's transaction checks the count is still at the limit.
			Grant{"dynamodb:UpdateItem", "Table", dynamo.CredsKeys},
			Grant{"dynamodb:ConditionCheckItem", "Table", dynamo.CredsKeys},
			Grant{"dynamodb:GetItem", "Table", dynamo.InviteKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.InviteKeys},
			Grant{"dynamodb:DeleteItem", "Table", dynamo.InviteKeys},
			Grant{"dynamodb:UpdateItem", "Table", dynamo.RoleKeys},
			// The members count of the business units the agent joins and leaves.
			Grant{"dynamodb:UpdateItem", "Table", dynamo.BusinessUnitKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AuditKeys},
		)
	}
	if n.AgentCredentials {
		// passwords.History: one GetItem of the agent's credentials item per check.
		out = append(out, Grant{"dynamodb:GetItem", "Table", dynamo.CredsKeys})
	}
	if n.Signer != app.NoAccess {
		// kmssigner reads each key's public half once per container (GetPublicKey, which
		// also resolves an alias to the key); the signing key signs (Sign, a digest). It
		// calls nothing else (no DescribeKey): GetPublicKey answers the key's spec and usage.
		out = append(out,
			Grant{"kms:GetPublicKey", SigningKey, ""},
			Grant{"kms:GetPublicKey", SigningKeyParam, ""},
			Grant{"kms:GetPublicKey", PublishedSigningKeys, ""},
		)
	}
	if n.Signer == app.Write {
		out = append(out,
			Grant{"kms:Sign", SigningKey, ""},
			Grant{"kms:Sign", SigningKeyParam, ""},
		)
	}
	if n.Sessions != app.NoAccess {
		out = append(out, Grant{"dynamodb:GetItem", "Table", dynamo.SessionKeys})
	}
	if n.Sessions == app.Write {
		// Create is a conditional PutItem; Touch and End are conditional UpdateItems (a
		// failed condition returns the old item: no read permission beyond UpdateItem).
		out = append(out,
			Grant{"dynamodb:PutItem", "Table", dynamo.SessionKeys},
			Grant{"dynamodb:UpdateItem", "Table", dynamo.SessionKeys},
		)
	}
	if n.Events {
		out = append(out, Grant{"events:PutEvents", "EventBus", ""})
	}
	if n.Mail {
		out = append(out, Grant{"ses:SendEmail", MailIdentity, ""})
	}
	if n.Logos {
		objects := "LogoBucket/" + app.LogoKeyPrefix + "*"
		out = append(out,
			Grant{"s3:GetObject", objects, ""},
			Grant{"s3:PutObject", objects, ""},
			Grant{"s3:DeleteObject", objects, ""},
			// S3 answers a GetObject of a missing key with 404 only to a caller that may
			// list the bucket (else 403); the check carries no s3:prefix, so the grant
			// covers the bucket, which holds nothing but logos.
			Grant{"s3:ListBucket", "LogoBucket", ""},
		)
	}
	return dedupe(out)
}

// chatGrants lists the permissions of the chat store's jobs (app.ChatUse), from what
// each store call of pkg/dynamo/chats.go touches:
//
//	Chat, Transcript          GetItem, Query of the chat's partition        CHAT#
//	Agent                     GetItem                                       AGENT#
//	Save                      TransactWriteItems of Puts (IAM checks each    CHAT# (the chat, a message and its id
//	                          as PutItem)                                   marker), AGENT#, EVENT#; ORGS# (PutItem,
//	                                                                        before it) for a chat saved as new
//	Published                 BatchWriteItem (deletes)                      EVENT#
//	List                      Query gsi1                                    STATUS#
//	Pending                   Query gsi1                                    EVENT#
//	LoggedInBefore            Query gsi1                                    LOGIN#
//	Idle, Online              Query gsi2                                    LIVE#, ONLINE#
//	Awaiting, ActiveChats,    Query gsi3                                    OPEN#
//	OpenChats
//	Orgs                      Query                                         ORGS#
//	Cursor, SetCursor         GetItem, PutItem                              SWEEP#
//	ClaimReport, FinishReport UpdateItem                                    CHAT# (the report marker)
func chatGrants(u app.ChatUse) []Grant {
	var out []Grant
	gsi := func(index string) string { return "Table/index/" + index }
	if u.Has(app.ChatRead) {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.ChatKeys},
			Grant{"dynamodb:Query", "Table", dynamo.ChatKeys}, // transcripts
			Grant{"dynamodb:Query", gsi(dynamo.GSI1), dynamo.StatusKeys},
		)
	}
	if u&(app.ChatActions|app.ChatIngest|app.ChatAutoClose|app.ChatQueueMove) != 0 {
		// What every job that changes chats shares: read a chat, save it (with a message,
		// when ingesting) and its events, forget the events once published, and recount
		// the busy state of the agents whose active chats changed (their state, their open
		// chats, the state saved with its event).
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.ChatKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.ChatKeys},
			Grant{"dynamodb:GetItem", "Table", dynamo.AgentKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.AgentKeys},
			Grant{"dynamodb:Query", gsi(dynamo.GSI3), dynamo.OpenKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.EventKeys},
			Grant{"dynamodb:BatchWriteItem", "Table", dynamo.EventKeys},
		)
	}
	if u.Has(app.ChatIngest) {
		out = append(out,
			Grant{"dynamodb:PutItem", "Table", dynamo.ChatOrgKeys}, // a new chat registers its organisation
			Grant{"dynamodb:Query", gsi(dynamo.GSI2), dynamo.OnlineKeys},
		)
	}
	if u&(app.ChatAutoClose|app.ChatQueueMove) != 0 {
		out = append(out,
			Grant{"dynamodb:Query", gsi(dynamo.GSI1), dynamo.EventKeys}, // events left pending
			Grant{"dynamodb:Query", "Table", dynamo.ChatOrgKeys},
			Grant{"dynamodb:GetItem", "Table", dynamo.SweepKeys},
			Grant{"dynamodb:PutItem", "Table", dynamo.SweepKeys},
		)
	}
	if u.Has(app.ChatAutoClose) {
		out = append(out, Grant{"dynamodb:Query", gsi(dynamo.GSI2), dynamo.LiveKeys})
	}
	if u.Has(app.ChatQueueMove) {
		out = append(out, Grant{"dynamodb:Query", gsi(dynamo.GSI1), dynamo.LoginKeys})
	}
	if u.Has(app.ChatReports) {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.ChatKeys},
			Grant{"dynamodb:Query", "Table", dynamo.ChatKeys}, // the transcript
			// The report marker on the chat's partition: claimed, then finished.
			Grant{"dynamodb:UpdateItem", "Table", dynamo.ChatKeys},
			// The "Missed Chat Report Sent" event goes through the pending-event outbox.
			Grant{"dynamodb:PutItem", "Table", dynamo.EventKeys},
			Grant{"dynamodb:BatchWriteItem", "Table", dynamo.EventKeys},
		)
	}
	if u.Has(app.ChatAgentLoad) {
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", dynamo.AgentKeys},
			Grant{"dynamodb:Query", gsi(dynamo.GSI3), dynamo.OpenKeys},
		)
	}
	return out
}

// dedupe drops repeated grants, keeping the first of each.
func dedupe(gs []Grant) []Grant {
	seen := map[Grant]bool{}
	out := gs[:0]
	for _, g := range gs {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}
