package lambdafn

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestAWSConfig(t *testing.T) {
	cfg, err := AWSConfig(env(map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKID" || creds.SessionToken != "tok" || cfg.BaseEndpoint != nil {
		t.Errorf("got region %q creds %+v endpoint %v err %v", cfg.Region, creds, cfg.BaseEndpoint, err)
	}
	_, err = AWSConfig(env(map[string]string{}))
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("missing everything: got %v", err)
	}
	cfg, err = AWSConfig(env(map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}))
	if err != nil || cfg.Region != "us-west-2" {
		t.Errorf("AWS_DEFAULT_REGION: got %q, %v", cfg.Region, err)
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		env     map[string]string
		service string
		want    string
	}{
		{map[string]string{}, "DYNAMODB", ""},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all"}, "DYNAMODB", "http://all"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb"}, "DYNAMODB", "http://ddb"},
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb"}, "S3", ""},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "S3", ""},
	}
	for _, tc := range tests {
		if got := aws.ToString(Endpoint(env(tc.env), tc.service)); got != tc.want {
			t.Errorf("Endpoint(%v, %s): got %q, want %q", tc.env, tc.service, got, tc.want)
		}
	}
}
