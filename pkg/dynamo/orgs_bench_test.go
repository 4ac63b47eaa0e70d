package dynamo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/orgs"
)

// BenchmarkOrgLookup is the read the HTTP front makes on every organisation route (the
// path organisation's record, strongly consistent, through the tree store) beside its
// floor, the bare GetItem of the same item, on DynamoDB Local in the same run.
func BenchmarkOrgLookup(b *testing.B) {
	needLocal(b)
	ctx := context.Background()
	store := dynamo.NewOrgs(localClient, localTable)
	root := ids.New("org")
	id := ids.New(orgs.IDPrefix)
	now := time.Now().UTC().Truncate(time.Millisecond)
	o := orgs.Org{ID: id, Name: "Bench", ParentID: root, Path: []string{root, id}, CreatedAt: now}
	e := audit.Entry{ID: audit.NewID(now), OrgID: root, At: now, Actor: "admin", Area: orgs.Area, Action: "create",
		RequestID: "bench", Changes: []audit.Change{{Field: id + ".name", From: json.RawMessage(`null`), To: json.RawMessage(`"Bench"`)}}}
	if err := store.Create(ctx, o, e); err != nil {
		b.Fatal(err)
	}
	b.Run("floor=GetItem", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := localClient.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(localTable), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ORG#" + id}, "sk": &types.AttributeValueMemberS{Value: "ORG"}}})
			if err != nil || out.Item == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, found, err := store.Org(ctx, id)
			if err != nil || !found || len(got.Path) != 2 {
				b.Fatal(found, err)
			}
		}
	})
}
