// Package admin is the root of the Convrs Admin module. It holds only the API contract,
// openapi.yaml, embedded so that the local server can serve it; the file itself stays at
// the repository root, where tools, tests and readers find it.
package admin

import _ "embed" // for go:embed

// OpenAPI is openapi.yaml, byte for byte.
//
//go:embed openapi.yaml
var OpenAPI []byte
