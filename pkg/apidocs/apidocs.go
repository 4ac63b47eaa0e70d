// Package apidocs renders an OpenAPI 3.1 document as one self-contained HTML reference page
// (every operation grouped by tag, with its parameters, request body and responses, and
// every schema as a nested field table), and serves the document and the page. The page is
// built once, from the parsed document, with html/template; it has inline CSS only and
// loads nothing from anywhere, so it works offline and under a strict Content Security
// Policy.
package apidocs

import (
	"bytes"
	_ "embed" // for go:embed
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

//go:embed page.tmpl
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"lower": strings.ToLower,
	"indent": func(depth int) template.CSS {
		return template.CSS("padding-left:" + strconv.Itoa(depth*18+6) + "px")
	},
}).Parse(pageText))

// Render parses an OpenAPI document (YAML or JSON) and returns the reference page. Errors
// are Parse's.
func Render(spec []byte) ([]byte, error) {
	doc, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := page.Execute(&b, doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Handler returns a handler that serves the reference page of spec, rendered once here.
// The error is Parse's: spec is not an OpenAPI document.
func Handler(spec []byte) (http.Handler, error) {
	html, err := Render(spec)
	if err != nil {
		return nil, err
	}
	return static(html, "text/html; charset=utf-8"), nil
}

// SpecHandler returns a handler that serves spec itself as application/yaml.
func SpecHandler(spec []byte) http.Handler {
	return static(bytes.Clone(spec), "application/yaml")
}

// static serves body to GET and HEAD.
func static(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
