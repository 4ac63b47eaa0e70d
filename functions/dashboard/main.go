// Command dashboard is the Lambda function that serves the dashboard settings routes.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/dashboard"
)

func main() { lambdafn.Start(dashboard.Function, dynamo.Table) }
