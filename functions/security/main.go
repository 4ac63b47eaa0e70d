// Command security is the Lambda function that serves the security settings routes.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/security"
)

func main() { lambdafn.Start(security.Function, dynamo.Table) }
