// Package catalog lists every Lambda function of the HTTP API, for the local dev server
// (which mounts them all on one port) and for the tests that check the template, the
// Makefile, events/ and openapi.yaml against the code.
package catalog

import (
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/chathandling"
	"github.com/convrs/admin/pkg/general"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/officehours"
	"github.com/convrs/admin/pkg/wire"
)

// Functions lists every function, in template order.
var Functions = []wire.Function{general.Function, officehours.Function, chathandling.Function, audit.Function}

// MountAll mounts the routes of every function on one API.
func MountAll(api *httpx.API, d wire.Deps) {
	for _, f := range Functions {
		f.Mount(api, d)
	}
}
