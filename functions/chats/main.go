// Command chats is the Lambda function that serves the read routes of chats and the queue.
package main

import (
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(chatsfn.ReadFunction, dynamo.Table) }
