// Command native-app is the Lambda function that serves the native-app settings routes.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/nativeapp"
)

func main() { lambdafn.Start(nativeapp.Function, dynamo.Table) }
