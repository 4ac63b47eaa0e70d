// Command webchat-identify is the Lambda function that serves the public route the chat widget calls to identify its user.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/smsecrets"
	"github.com/convrs/admin/pkg/webchatfn"
)

func main() { lambdafn.Start(webchatfn.IdentifyFunction, dynamo.Table, smsecrets.KeySets) }
