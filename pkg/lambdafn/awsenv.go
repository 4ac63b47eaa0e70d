package lambdafn

import (
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWSConfig builds the SDK configuration from the variables the Lambda runtime (and SAM
// local) sets: AWS_REGION (or AWS_DEFAULT_REGION) and the AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN of the execution role. The SDK's config
// package would also do this, but it links every credential source (SSO, STS, IMDS) and
// adds over 2 MiB to each bootstrap; a function only ever has environment credentials.
// getenv nil means os.Getenv. It returns an error naming what is missing.
func AWSConfig(getenv func(string) string) (aws.Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set"))
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"))
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, err
	}
	return aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
		BaseEndpoint: Endpoint(getenv, ""),
	}, nil
}

// Endpoint returns the endpoint override for a service from the SDK's standard variables:
// AWS_ENDPOINT_URL_<SERVICE> (service "DYNAMODB", "S3"), else AWS_ENDPOINT_URL, both
// ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. nil means the AWS default.
func Endpoint(getenv func(string) string, service string) *string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return nil
	}
	if service != "" {
		if v := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(service)); v != "" {
			return aws.String(v)
		}
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		return aws.String(v)
	}
	return nil
}
