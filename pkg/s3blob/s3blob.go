// Package s3blob is the Amazon S3 blob.Store adapter, built on aws-sdk-go-v2. Objects
// are stored in one bucket under their keys; server-side encryption is left to the
// bucket's default configuration.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/awserr"
	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/lambdafn"
)

// API is the subset of *s3.Client that Store uses.
type API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ API = (*s3.Client)(nil)

// CacheControl is the Cache-Control metadata set on every stored object.
const CacheControl = "no-cache"

// Store is a blob.Store backed by one S3 bucket. It is safe for concurrent use.
type Store struct {
	client API
	bucket string
}

var _ blob.Store = (*Store)(nil)

// New returns a Store keeping its objects in bucket through client.
func New(client API, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// Put stores data under key with the given content type and Cache-Control "no-cache",
// replacing any previous object. It returns a BadRequest *problem.Error for an invalid
// key or content type, an Unavailable *problem.Error (RetryAfter 1s) when S3 throttles
// the request or fails transiently (awserr), and a plain error, wrapping the cause, for
// any other failure, including a done context.
func (s *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	ct, err := blob.ContentType(contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3blob: put %q: %w", key, err)
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(ct),
		CacheControl:  aws.String(CacheControl),
	})
	if err != nil {
		return mapError("put", key, err)
	}
	return nil
}

// Get returns the object stored under key. It returns a NotFound *problem.Error when
// there is none, a BadRequest *problem.Error for an invalid key, an Unavailable
// *problem.Error (RetryAfter 1s) when S3 throttles the request or fails transiently
// (awserr), and a plain error, wrapping the cause, for any other failure, including a
// done context.
func (s *Store) Get(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Object{}, fmt.Errorf("s3blob: get %q: %w", key, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		if isNotFound(err) {
			return blob.Object{}, blob.NotFound(key, err)
		}
		return blob.Object{}, mapError("get", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return blob.Object{}, mapError("get", key, err)
	}
	ct := aws.ToString(out.ContentType)
	if ct == "" {
		ct = blob.DefaultContentType
	}
	return blob.Object{ContentType: ct, Data: data}, nil
}

// Delete removes the object stored under key; an absent key is not an error. It returns
// a BadRequest *problem.Error for an invalid key, an Unavailable *problem.Error
// (RetryAfter 1s) when S3 throttles the request or fails transiently (awserr), and a
// plain error, wrapping the cause, for any other failure, including a done context.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3blob: delete %q: %w", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil && !isNotFound(err) {
		return mapError("delete", key, err)
	}
	return nil
}

// isNotFound reports whether err says that the object (not the bucket) is absent.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	return httpStatus(err) == http.StatusNotFound && !hasErrorCode(err, "NoSuchBucket")
}

func hasErrorCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

func httpStatus(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// mapError turns an SDK error into the project's vocabulary through awserr: throttling
// (SlowDown, 429) and transient failures (5xx, connection errors) become Unavailable with
// RetryAfter 1s, anything else a plain (internal) error naming the operation.
func mapError(op, key string, err error) error {
	return awserr.Problem(fmt.Sprintf("s3blob: %s %q", op, key), err, "storage is busy, please retry")
}

// Logos is the lambdafn.Adapter of the logo bucket: an S3 client on the function's AWS
// configuration (endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) keeping objects in
// LOGO_BUCKET. Only the functions whose main passes it link the S3 client.
func Logos(ac aws.Config, cfg config.Config, d *app.Deps) error {
	if cfg.LogoBucket == "" {
		return errors.New("s3blob: LOGO_BUCKET is not set")
	}
	d.Blobs = New(s3.NewFromConfig(ac, func(o *s3.Options) { o.BaseEndpoint = lambdafn.Endpoint(nil, "S3") }), cfg.LogoBucket)
	return nil
}
