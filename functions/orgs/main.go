// Command orgs is the Lambda function that serves the organisation tree: an
// organisation, its sub-organisations, their creation and deletion.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/orgsfn"
)

func main() { lambdafn.Start(orgsfn.Function, dynamo.Table) }
