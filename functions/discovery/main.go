// Command discovery is the Lambda function that serves the health check and GET /v1/me.
package main

import (
	"github.com/convrs/admin/pkg/discovery"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(discovery.Function, dynamo.Table) }
