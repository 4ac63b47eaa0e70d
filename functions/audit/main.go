// Command audit is the Lambda function that serves the audit routes of the HTTP API.
package main

import (
	"github.com/convrs/admin/pkg/auditfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(auditfn.Function, dynamo.Table) }
