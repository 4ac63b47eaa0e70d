// Command agents is the Lambda function that serves the agents of organisations.
package main

import (
	"github.com/convrs/admin/pkg/agentsfn"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/ebbus"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/sesmail"
)

func main() { lambdafn.Start(agentsfn.Function, dynamo.Table, ebbus.Events, sesmail.Mail) }
