// Command auto-close-sweep is the Lambda function that closes chats idle for longer than the org's auto-close period, on a schedule.
package main

import (
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(chatsfn.AutoCloseFunction, dynamo.Table, ebbus.Events) }
