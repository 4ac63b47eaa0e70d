// Command chat-handling is the Lambda function that serves the chat-handling routes of the HTTP API.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/convrs/admin/pkg/chathandling"
	"github.com/convrs/admin/pkg/wire"
)

func main() {
	handler, err := wire.Lambda(chathandling.Function)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start:", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
