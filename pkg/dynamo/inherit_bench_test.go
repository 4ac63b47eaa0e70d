package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ids"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

// BenchmarkEffectiveRead reads the chat-handling document in effect for an organisation
// at depth 1 (a root: one GetItem) and at depth 8 (the deepest sub-organisation: one
// BatchGetItem of the eight records of its path, every level overriding a field), through
// settings.Service on DynamoDB Local, beside the bare SDK calls they need (the floor):
// a GetItem and a BatchGetItem of eight keys. calls/op counts the requests sent.
func BenchmarkEffectiveRead(b *testing.B) {
	needLocal(b)
	ctx := context.Background()
	path := make([]string, orgs.MaxDepth)
	for i := range path {
		path[i] = ids.New("org")
	}
	admin := auth.WithPrincipal(ctx, auth.Principal{Subject: "admin", OrgID: path[0], Role: auth.RoleAdmin})
	store := dynamo.New(localClient, localTable)
	svc := settings.NewService(chathandling.Area, store, nil)
	for i, org := range path {
		body := fmt.Sprintf(`{"maxChatsPerAgent":%d}`, i%9+1)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"autoCloseAfterDays":%d}`, i)
		}
		if _, err := svc.Patch(orgs.WithPath(admin, path[:i+1]), org, "", []byte(body)); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([]map[string]types.AttributeValue, len(path))
	for i, org := range path {
		keys[i] = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SETTINGS#chat-handling#" + org},
			"sk": &types.AttributeValueMemberS{Value: "DOC"}}
	}
	counted := &countingAPI{next: localClient}
	counting := settings.NewService(chathandling.Area, dynamo.New(counted, localTable), nil)
	calls := func(b *testing.B, f func()) {
		counted.mu.Lock()
		counted.gets, counted.queries = nil, 0
		counted.mu.Unlock()
		b.ReportAllocs()
		for b.Loop() {
			f()
		}
		counted.mu.Lock()
		b.ReportMetric(float64(len(counted.gets)+counted.queries)/float64(b.N), "calls/op")
		counted.mu.Unlock()
	}
	for _, depth := range []int{1, orgs.MaxDepth} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			org := path[depth-1]
			rctx := orgs.WithPath(admin, path[:depth])
			calls(b, func() {
				cur, err := counting.Load(rctx, org)
				if err != nil || cur.Version != 1 {
					b.Fatal(cur.Version, err)
				}
			})
		})
	}
	b.Run("floor=GetItem", func(b *testing.B) {
		calls(b, func() {
			out, err := counted.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(localTable), Key: keys[0], ConsistentRead: aws.Bool(true)})
			if err != nil || out.Item == nil {
				b.Fatal(err)
			}
			var v map[string]json.RawMessage
			_ = json.Unmarshal([]byte(out.Item["data"].(*types.AttributeValueMemberS).Value), &v)
		})
	})
	b.Run("floor=BatchGetItem8", func(b *testing.B) {
		calls(b, func() {
			out, err := counted.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				localTable: {Keys: keys, ConsistentRead: aws.Bool(true)}}})
			if err != nil || len(out.Responses[localTable]) != len(keys) {
				b.Fatal(err)
			}
		})
	})
}
