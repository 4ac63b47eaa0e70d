// Command reports is the Lambda function that serves the reports routes of the HTTP API.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/reports"
)

func main() { lambdafn.Start(reports.Function, dynamo.Table) }
