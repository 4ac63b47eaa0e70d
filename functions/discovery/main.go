// Command discovery is the Lambda function that serves the health check, GET /v1/me and
// the public /.well-known documents of the deployment's signing keys.
package main

import (
	"github.com/convrs/admin/pkg/discovery"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/kmssigner"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(discovery.Function, dynamo.Table, kmssigner.Keys) }
