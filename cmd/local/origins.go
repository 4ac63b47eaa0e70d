package main

import (
	"strings"

	"github.com/convrs/admin/pkg/httpx"
)

// defaultOrigins are the pages -allow-origin allows when it is not given: any port of
// http://localhost and http://127.0.0.1, where a dashboard under development is served.
var defaultOrigins = []string{"http://localhost:*", "http://127.0.0.1:*"}

const allowOriginUsage = "`origins` whose browser pages may call the API (CORS), comma-separated; the flag may be repeated. " +
	"An origin is written as browsers send it (https://admin.example.com, http://127.0.0.1:5173); scheme://host:* allows every port of a host " +
	"(default http://localhost:*,http://127.0.0.1:*: any http://localhost:<port> and http://127.0.0.1:<port>)"

// originsFlag is the -allow-origin flag: repeatable, each value a comma-separated list of
// origin patterns, checked as they are given.
type originsFlag struct{ patterns []string }

func (f *originsFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.patterns, ",")
}

func (f *originsFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if _, err := httpx.NewCORSPolicy(p); err != nil {
			return err
		}
		f.patterns = append(f.patterns, strings.TrimSpace(p))
	}
	return nil
}

// policy returns the CORS policy of the patterns given, or of defaultOrigins when none
// were.
func (f *originsFlag) policy() (httpx.CORSPolicy, error) {
	if len(f.patterns) == 0 {
		return httpx.NewCORSPolicy(defaultOrigins...)
	}
	return httpx.NewCORSPolicy(f.patterns...)
}
