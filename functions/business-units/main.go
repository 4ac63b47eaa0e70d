// Command business-units is the Lambda function that serves the business unit routes.
package main

import (
	"github.com/convrs/admin/pkg/businessunitsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(businessunitsfn.Function, dynamo.Table) }
