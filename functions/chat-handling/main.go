// Command chat-handling is the Lambda function that serves the chat-handling routes of the HTTP API.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/chathandling"
)

func main() { lambdafn.Start(chathandling.Function, dynamo.Table) }
