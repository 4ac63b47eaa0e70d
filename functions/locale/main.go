// Command locale is the Lambda function that serves the locale settings routes.
package main

import (
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/lambdafn"
	"github.com/convrs/admin/pkg/settings/locale"
)

func main() { lambdafn.Start(locale.Function, dynamo.Table) }
