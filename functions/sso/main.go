// Command sso is the Lambda function that serves the SSO settings routes of the HTTP API.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/sso"
)

func main() { lambdafn.Start(sso.Function, dynamo.Table) }
