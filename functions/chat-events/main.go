// Command chat-events is the Lambda function that consumes the convrs.chat events and keeps chats, transcripts and agent states.
package main

import (
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/lambdafn"
)

func main() { lambdafn.Start(chatsfn.EventsFunction, dynamo.Table, ebbus.Events) }
