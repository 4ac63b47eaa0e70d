// Command general is the Lambda function that serves the general settings routes,
// including the organisation logo kept in the LOGO_BUCKET bucket.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/general"
	"github.com/convrs/admin/pkg/s3blob"
	"github.com/convrs/admin/pkg/wire"
)

func main() {
	handler, err := wire.Lambda(general.Function, func(ac aws.Config, cfg config.Config, d *wire.Deps) {
		d.Blobs = s3blob.New(s3.NewFromConfig(ac, func(o *s3.Options) { o.BaseEndpoint = wire.Endpoint(nil, "S3") }), cfg.LogoBucket)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start:", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
