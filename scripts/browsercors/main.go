// Command browsercors serves the page that scripts/browser-cors.sh opens in headless
// Chromium to show that a browser can use the local API across origins. It listens on
// two loopback ports, prints their origins ("allowed http://127.0.0.1:N" then "foreign
// http://127.0.0.1:M"; the script allows only the first on the API) and serves the same
// page on both until it is stopped. The page reads the API's base URL, a token and its
// mode (allowed or foreign) from its query string and writes what it saw into the DOM.
package main

import (
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

//go:embed page.html
var page []byte

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "browsercors:", err)
		os.Exit(1)
	}
}

func run() error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	errc := make(chan error, 2)
	for _, name := range []string{"allowed", "foreign"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		fmt.Printf("%s http://%s\n", name, ln.Addr())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- srv.Serve(ln) }()
	}
	return <-errc
}
