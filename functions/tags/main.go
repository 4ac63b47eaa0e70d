// Command tags is the Lambda function that serves the tag and tag group routes.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/tagsfn"
)

func main() { lambdafn.Start(tagsfn.Function, dynamo.Table) }
