// Package wire assembles a process: the adapters the handlers use (Deps), the Lambda
// functions of the HTTP API and what each mounts (Function), and the Lambda entry point
// every functions/*/main.go starts. Each area package declares its own Function, so a
// function's binary links only its own area and adapters.
package wire

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/settings"
)

// Deps are the adapters the handlers use.
type Deps struct {
	Settings settings.Store
	Blobs    blob.Store
	Cursors  audit.Cursors
	Now      func() time.Time
}

// Function describes one Lambda function: its name (the folder under functions/), the
// configuration it needs and the routes it mounts.
type Function struct {
	Name  string
	Needs config.Needs
	Mount func(api *httpx.API, d Deps)
}

// EntryPoint is the Lambda handler of an HTTP API function (payload format 2.0).
type EntryPoint func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// API returns the function's routes behind API Gateway JWT-authorizer claims.
func (f Function) API(d Deps, log *slog.Logger) *httpx.API {
	api := httpx.New(auth.Claims{}, log)
	f.Mount(api, d)
	return api
}

// EntryPoint wraps the function's API for API Gateway.
func (f Function) EntryPoint(d Deps, log *slog.Logger) EntryPoint {
	return httpadapter.NewV2(f.API(d, log)).ProxyWithContext
}

// Logger returns the JSON logger every process uses (Lambda's JSON log format).
func Logger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Adapter adds an adapter that only some functions need (such as the logo bucket) to d.
type Adapter func(ac aws.Config, cfg config.Config, d *Deps)

// Lambda is everything a function's main does before lambda.Start: read and validate
// the configuration, build the AWS clients once per cold start (the settings table, and
// whatever extra adds), and wrap the routes. Errors say which variable or step failed.
func Lambda(f Function, extra ...Adapter) (EntryPoint, error) {
	cfg, err := config.Load(f.Needs, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: configuration: %w", f.Name, err)
	}
	ac, err := AWSConfig(nil)
	if err != nil {
		return nil, fmt.Errorf("%s: aws config: %w", f.Name, err)
	}
	db := dynamodb.NewFromConfig(ac, func(o *dynamodb.Options) { o.BaseEndpoint = Endpoint(nil, "DYNAMODB") })
	d := Deps{Settings: dynamo.New(db, cfg.TableName), Now: time.Now}
	if f.Needs.AuditCursorKey {
		if d.Cursors, err = audit.NewCursors(cfg.AuditCursorKey); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	for _, add := range extra {
		add(ac, cfg, &d)
	}
	log := Logger(os.Stdout, cfg.LogLevel)
	slog.SetDefault(log)
	return f.EntryPoint(d, log), nil
}
