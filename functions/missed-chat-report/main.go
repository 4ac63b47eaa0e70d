// Command missed-chat-report is the Lambda function that emails the missed-chat report when a chat is missed.
package main

import (
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/sesmail"
)

func main() { lambdafn.Start(chatsfn.ReportFunction, dynamo.Table, ebbus.Events, sesmail.Mail) }
