// Command webchat-secret is the Lambda function that serves the admin routes of the WebChat signing secret.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/smsecrets"
	"github.com/convrs/admin/pkg/webchatfn"
)

func main() { lambdafn.Start(webchatfn.SecretFunction, dynamo.Table, smsecrets.KeySets) }
