// Command general is the Lambda function that serves the general settings routes,
// including the organisation logo kept in the LOGO_BUCKET bucket.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/s3blob"
	"github.com/convrs/admin/pkg/settings/general"
)

func main() { lambdafn.Start(general.Function, dynamo.Table, s3blob.Logos) }
