// Command signin is the Lambda function of the public sign-in routes: password login,
// session refresh and logout, and set-password links.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/kmssigner"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/signinfn"
)

func main() { lambdafn.Start(signinfn.Function, dynamo.Table, kmssigner.Keys) }
