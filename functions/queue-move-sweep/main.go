// Command queue-move-sweep is the Lambda function that moves chats waiting longer than the org's queue-move period back to the queue, on a schedule.
package main

import (
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(chatsfn.QueueMoveFunction, dynamo.Table, ebbus.Events) }
