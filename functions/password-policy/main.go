// Command password-policy is the Lambda function that serves the password-policy routes of the HTTP API.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

func main() { lambdafn.Start(passwordpolicy.Function, dynamo.Table) }
