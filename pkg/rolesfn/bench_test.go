package rolesfn_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/roles"
)

// BenchmarkAuthorisedRequest is one GET of a settings area through the whole local API
// (routing, token check, authorisation, the settings read, the JSON answer) by a caller
// whose role is predefined (admin: no read to resolve it) and by one whose custom role
// holds settings.manage (one read of the role), side by side.
func BenchmarkAuthorisedRequest(b *testing.B) {
	s := apitest.New(b)
	id := create(&testing.T{}, s, "Settings", auth.PermSettingsManage)["id"].(string)
	for _, tc := range []struct{ name, role string }{{"predefined", auth.RoleAdmin}, {"custom", id}} {
		tok := s.Token("acme", tc.role)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/orgs/acme/settings/chat-handling", Token: tok}); r.Status != 200 {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
		})
	}
}

// BenchmarkResolveDynamo resolves a custom role on DynamoDB Local (auth.Resolve through
// roles.Resolver and the dynamo store) beside its floor, the bare strongly consistent
// GetItem of the same item with the SDK, in the same run. Skipped without
// AWS_ENDPOINT_URL_DYNAMODB.
func BenchmarkResolveDynamo(b *testing.B) {
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		b.Skip("AWS_ENDPOINT_URL_DYNAMODB is not set (DynamoDB Local)")
	}
	ctx := context.Background()
	ac, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		b.Fatal(err)
	}
	client := dynamodb.NewFromConfig(ac)
	table := "roles-bench"
	_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	def := dynamo.TableDefinition(table)
	if _, err := client.CreateTable(ctx, def); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}) })
	store := dynamo.NewRoles(client, table)
	r := roles.Role{OrgID: "acme", ID: "role_bench", Name: "Bench", Permissions: []string{auth.PermSettingsManage}}
	if err := store.Create(ctx, r, benchEntry()); err != nil {
		b.Fatal(err)
	}
	p := auth.Principal{Subject: "s", OrgID: "acme", Role: r.ID}
	resolver := roles.Resolver{Store: store}
	b.Run("floor-getitem", func(b *testing.B) {
		for b.Loop() {
			out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ROLES#acme"}, "sk": &types.AttributeValueMemberS{Value: "ROLE#role_bench"}}})
			if err != nil || out.Item == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resolve-custom", func(b *testing.B) {
		for b.Loop() {
			got, err := auth.Resolve(ctx, resolver, p, nil)
			if err != nil || len(got.Permissions) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("resolve-predefined", func(b *testing.B) {
		for b.Loop() {
			if _, err := auth.Resolve(ctx, resolver, auth.Principal{OrgID: "acme", Role: auth.RoleAdmin}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchEntry() audit.Entry {
	return audit.Entry{ID: audit.NewID(time.Now()), OrgID: "acme", At: time.Now(), Actor: "bench", Area: roles.AuditArea, Action: "create", Changes: []audit.Change{}}
}
