// Command audit is the Lambda function that serves the audit routes of the HTTP API.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/convrs/admin/pkg/auditfn"
	"github.com/convrs/admin/pkg/wire"
)

func main() {
	handler, err := wire.Lambda(auditfn.Function)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start:", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
