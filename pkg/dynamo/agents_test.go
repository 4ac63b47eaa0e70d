package dynamo_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/convrs/admin/pkg/agents/agentstest"
	"github.com/convrs/admin/pkg/dynamo"
)

func TestAgentsContract(t *testing.T) {
	needLocal(t)
	agentstest.Run(t, func(*testing.T) agentstest.Env {
		return agentstest.Env{Store: dynamo.NewAgents(localClient, localTable), Roles: dynamo.NewRoles(localClient, localTable),
			Units: dynamo.NewBusinessUnits(localClient, localTable),
			Audit: dynamo.New(localClient, localTable),
			SetCount: func(t *testing.T, org string, n int) {
				_, err := localClient.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(localTable),
					Key: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: "PEOPLE#" + org}, "sk": &types.AttributeValueMemberS{Value: "COUNT"}},
					UpdateExpression:          aws.String("SET agents = :n"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}}})
				if err != nil {
					t.Fatal(err)
				}
			}}
	})
}
