package main

import (
	"fmt"
	"net/http"

	admin "github.com/convrs/admin"
	"github.com/convrs/admin/pkg/apidocs"
)

// withDocs serves the API contract beside the API, without a token (on the local server
// only; the deployed API has neither route): openapi.yaml at /openapi.yaml and its
// rendered reference at /docs. Every other request goes to api. The caller may mount more
// local-only routes on the returned mux.
func withDocs(api http.Handler) (*http.ServeMux, error) {
	docs, err := apidocs.Handler(admin.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/openapi.yaml", apidocs.SpecHandler(admin.OpenAPI))
	mux.Handle("/docs", docs)
	mux.Handle("/", api)
	return mux, nil
}
