package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the table as the deployment template declares it (TableDefinition)
// and waits until the table and its indexes are ACTIVE or ctx is done. It fails when a
// table of that name exists. Tests use it against DynamoDB Local; for local use, point
// the SDK at DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB) and call it once.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, TableDefinition(table))
	if err != nil {
		return fmt.Errorf("dynamo: create table %s: %w", table, err)
	}
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("dynamo: describe table %s: %w", table, err)
		}
		if active(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dynamo: table %s is not active: %w", table, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// TableDefinition is the single table: billing PAY_PER_REQUEST; keys pk and sk, strings;
// the global secondary index auditByArea on ap and sk, and the chat store's overloaded
// sparse indexes gsi1 to gsi3 on g<n>pk and g<n>sk (see chats.go), every index projecting
// every attribute. The Table resource of template.yaml declares the same (a conformance
// test compares them).
func TableDefinition(table string) *dynamodb.CreateTableInput {
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	index := func(name, pk, sk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName: aws.String(name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attr(attrPK), attr(attrSK), attr(attrAP),
			attr(attrG1PK), attr(attrG1SK), attr(attrG2PK), attr(attrG2SK),
			attr(attrG3PK), attr(attrG3SK),
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			index(AuditIndex, attrAP, attrSK),
			index(GSI1, attrG1PK, attrG1SK),
			index(GSI2, attrG2PK, attrG2SK),
			index(GSI3, attrG3PK, attrG3SK),
		},
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}
