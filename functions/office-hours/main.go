// Command office-hours is the Lambda function that serves the office-hours routes of the HTTP API.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/officehours"
)

func main() { lambdafn.Start(officehours.Function, dynamo.Table) }
