// Command data-processors is the Lambda function that serves the data-processors settings routes.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/dataprocessors"
)

func main() { lambdafn.Start(dataprocessors.Function, dynamo.Table) }
