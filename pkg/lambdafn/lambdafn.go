// Package lambdafn is the Lambda bootstrap: it turns an app.Function into a Lambda entry
// point. It reads and validates the configuration once per cold start, builds the AWS
// configuration, attaches the adapters the function's main passes (dynamo.Table for
// the table, s3blob.Logos for the logo bucket, kmssigner.Keys for the signing keys, ...:
// each links its SDK client only into the binaries that need it), refuses to start when a port the function's Needs name is
// missing, and wraps the routes for API Gateway.
//
// Every functions/<name>/main.go is one line: lambdafn.Start(<pkg>.Function, adapters...).
package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/roles"
)

// HTTPEntry is the Lambda handler of an HTTP API function (payload format 2.0).
type HTTPEntry func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Adapter attaches a port that only some functions need to d, built on the function's
// AWS configuration and its config (such as s3blob.Logos for the logo bucket).
type Adapter func(ac aws.Config, cfg config.Config, d *app.Deps) error

// Logger returns the JSON logger every process uses (Lambda's JSON log format).
func Logger(w io.Writer, level slog.Level) *slog.Logger { return httpx.NewLogger(w, level) }

// API returns the function's routes behind API Gateway JWT-authorizer claims.
func API(f app.Function, d app.Deps, log *slog.Logger) *httpx.API {
	api := httpx.New(auth.Claims{}, log)
	if d.Roles != nil {
		api.SetRoles(roles.Resolver{Store: d.Roles})
	}
	if d.Orgs != nil {
		api.SetOrgs(d.Orgs)
	}
	if f.HTTP != nil {
		f.HTTP(api, d)
	}
	return api
}

// EntryPoint wraps the function's routes for API Gateway (HTTP API, payload format
// 2.0). An event in any other shape (a REST API event, or payload format 1.0) means the
// integration is misconfigured: read as 2.0 it would route as "GET /" and answer 404, so
// it is answered with a 500 problem that says what to fix, and logged as an error.
func EntryPoint(f app.Function, d app.Deps, log *slog.Logger) HTTPEntry {
	proxy := httpadapter.NewV2(API(f, d, log))
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if req.Version != "2.0" {
			log.ErrorContext(ctx, "misconfigured integration: the event is not API Gateway HTTP API payload format 2.0",
				"function", f.Name, "version", req.Version, "fix", "set the route's PayloadFormatVersion to 2.0 (AWS::Serverless::HttpApi event)")
			return misconfigured(req), nil
		}
		return proxy.ProxyWithContext(httpx.Scope(ctx, req.RequestContext.RequestID), req)
	}
}

// misconfigured is the answer to an event of the wrong payload format.
func misconfigured(req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	rid := req.RequestContext.RequestID
	body, _ := json.Marshal(httpx.Problem{
		Type:      "https://docs.convrs.com/problems/misconfigured",
		Title:     httpx.Title(http.StatusInternalServerError),
		Status:    http.StatusInternalServerError,
		Detail:    "this function reads API Gateway HTTP API events in payload format 2.0; the integration sent another format",
		RequestID: rid,
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
		Body:       string(body),
	}
}

// Build is everything a function's main does before lambda.Start: read and validate the
// configuration through getenv (os.Getenv when nil), build the AWS clients once per cold
// start, attach the extra adapters, check that every port the function needs is there,
// and make the entry point of its kind: an HTTPEntry (API Gateway), an EventEntry
// (EventBridge rule) or a SweepEntry (EventBridge Scheduler). Errors name every variable
// or port that is missing.
func Build(f app.Function, getenv func(string) string, extra ...Adapter) (handler any, log *slog.Logger, err error) {
	d, log, err := deps(f, getenv, extra...)
	if err != nil {
		return nil, nil, err
	}
	switch f.Kind() {
	case app.KindEvent:
		return EventEntryPoint(f, d, log), log, nil
	case app.KindSweep:
		return SweepEntryPoint(f, d, log), log, nil
	}
	return EntryPoint(f, d, log), log, nil
}

// deps builds the function's ports and logger from its configuration and adapters.
func deps(f app.Function, getenv func(string) string, extra ...Adapter) (app.Deps, *slog.Logger, error) {
	cfg, err := config.Load(f.Needs.Config(), getenv)
	if err != nil {
		return app.Deps{}, nil, fmt.Errorf("%s: configuration: %w", f.Name, err)
	}
	ac, err := AWSConfig(getenv)
	if err != nil {
		return app.Deps{}, nil, fmt.Errorf("%s: aws config: %w", f.Name, err)
	}
	d := app.Deps{Now: time.Now, BaseURL: cfg.PublicBaseURL, Issuer: cfg.TokenIssuer, Audience: cfg.TokenAudience}
	if f.Needs.Config().AuditCursorKey {
		if d.Cursors, err = audit.NewCursors(cfg.AuditCursorKey); err != nil {
			return app.Deps{}, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	var errs []error
	for _, add := range extra {
		errs = append(errs, add(ac, cfg, &d))
	}
	if err := errors.Join(errs...); err != nil {
		return app.Deps{}, nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if missing := f.Needs.Missing(d); len(missing) > 0 {
		return app.Deps{}, nil, fmt.Errorf("%s: needs %s, which main did not provide", f.Name, strings.Join(missing, ", "))
	}
	return d, Logger(os.Stdout, cfg.LogLevel), nil
}

// Start builds the function and serves it with lambda.Start. When the function cannot
// be built it prints why to stderr and exits 1, so the Lambda init fails with the reason
// in the logs rather than answering 500 later.
func Start(f app.Function, extra ...Adapter) {
	entry, log, err := Build(f, nil, extra...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start:", err)
		os.Exit(1)
	}
	slog.SetDefault(log)
	lambda.Start(entry)
}
