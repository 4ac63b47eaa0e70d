// Package iam derives the IAM permissions each function's policy must grant from its
// Needs (the ports it uses and how). It is used by the conformance tests, which check
// every function's policy in template.yaml against it; no function links it.
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

// Grants lists the permissions that follow from n.
func Grants(n app.Needs) []Grant {
	var out []Grant
	for _, area := range n.Settings {
		keys := dynamo.SettingsKeys(area)
		out = append(out,
			Grant{"dynamodb:GetItem", "Table", keys},
			Grant{"dynamodb:PutItem", "Table", keys},
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
	return out
}
