// Command roles is the Lambda function that serves the permission catalogue and the roles of organisations.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/rolesfn"
)

func main() { lambdafn.Start(rolesfn.Function, dynamo.Table) }
