package dynamo_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/roles/rolestest"
)

func TestRolesContract(t *testing.T) {
	needLocal(t)
	rolestest.Run(t, func(*testing.T) rolestest.Env {
		return rolestest.Env{Store: dynamo.NewRoles(localClient, localTable), Audit: dynamo.New(localClient, localTable),
			SetHolders: func(t *testing.T, org, role string, n int) {
				_, err := localClient.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(localTable),
					Key: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: "ROLES#" + org}, "sk": &types.AttributeValueMemberS{Value: "ROLE#" + role}},
					UpdateExpression:          aws.String("SET holders = :n"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}}})
				if err != nil {
					t.Fatal(err)
				}
			}}
	})
}
