// Command chats is the Lambda function that serves the chats and the queue, and closes or transfers chats.
package main

import (
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(chatsfn.ReadFunction, dynamo.Table, ebbus.Events) }
