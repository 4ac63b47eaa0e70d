// Package catalog lists every Lambda function of the HTTP API, for the local dev server
// (which mounts them all on one port) and for the tests that check the template, the
// Makefile, events/ and openapi.yaml against the code.
package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/chathandling"
	"github.com/convrs/admin/pkg/dirblob"
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

// Embedded opens the embedded adapters on the data folder dir (created 0700): settings
// and audit in dir/convrs.db (bbolt), logos under dir/blobs. The clock is time.Now.
// Close the returned store when done. Errors name the file that could not be opened.
func Embedded(dir string) (wire.Deps, *bolt.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return wire.Deps{}, nil, fmt.Errorf("data folder: %w", err)
	}
	store, err := bolt.Open(filepath.Join(dir, "convrs.db"))
	if err != nil {
		return wire.Deps{}, nil, err
	}
	blobs, err := dirblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		_ = store.Close()
		return wire.Deps{}, nil, err
	}
	return wire.Deps{Settings: store, Blobs: blobs, Now: time.Now}, store, nil
}
