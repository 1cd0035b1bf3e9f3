package awsops_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/signals-relay/signals-relay/internal/awsops"
)

func opErr(service, op string, err error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	api := func(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }
	tests := []struct {
		name    string
		profile string
		err     error
		want    string
	}{
		{"access denied", "serverless", opErr("IAM", "CreateRole", api("AccessDenied", "User is not authorized")),
			`iam:CreateRole: AWS denied iam:CreateRole to AWS profile "serverless" — allow iam:CreateRole by attaching deploy/iam/deployment-policy.json to the deploying user or role (see docs/aws.md)`},
		{"bad key", "serverless", opErr("Lambda", "GetFunction", api("UnrecognizedClientException", "The security token included in the request is invalid.")),
			`lambda:GetFunction: AWS rejected the credentials of AWS profile "serverless" (UnrecognizedClientException) — check the access key in ~/.aws/credentials, or run ` + "`aws configure --profile serverless`"},
		{"expired", "", opErr("CloudWatch Logs", "FilterLogEvents", api("ExpiredTokenException", "expired")),
			"logs:FilterLogEvents: the AWS session of the default AWS credentials has expired — sign in again (e.g. `aws sso login`) or refresh the temporary credentials"},
		{"no credentials", "serverless", opErr("Lambda", "GetFunction", fmt.Errorf("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found")),
			`no AWS credentials found (looked at profile "serverless" in ~/.aws/credentials and ~/.aws/config) — run ` + "`aws configure --profile serverless`, or change profile_name in the settings file"},
		{"wrong region", "", opErr("Lambda", "GetFunction", fmt.Errorf("send request: %w", &net.DNSError{Err: "no such host", Name: "lambda.us-esat-1.amazonaws.com"})),
			"lambda:GetFunction: cannot reach the AWS endpoint lambda.us-esat-1.amazonaws.com — check aws_region (us-east-1) in the settings file and your network"},
		{"throttled", "", opErr("Lambda", "UpdateFunctionCode", api("TooManyRequestsException", "Rate exceeded")),
			"lambda:UpdateFunctionCode: AWS throttled the call: Rate exceeded — wait a moment and run the command again"},
		{"other code, multi-line message", "", opErr("Lambda", "CreateFunction", api("InvalidParameterValueException", "Unzipped size must be smaller\nthan 262144000 bytes")),
			"lambda:CreateFunction: InvalidParameterValueException: Unzipped size must be smaller than 262144000 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := awsops.New(aws.Config{Region: "us-east-1"})
			c.Profile = tc.profile
			got := c.Explain(tc.err)
			if got.Error() != tc.want {
				t.Errorf("Explain =\n%s\nwant\n%s", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Error("the explained error does not wrap the original")
			}
		})
	}
	c := awsops.New(aws.Config{})
	if c.Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
	if err := c.Explain(fmt.Errorf("x: %w", context.Canceled)); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "—") {
		t.Errorf("Explain(canceled) = %v", err)
	}
}

func TestLoadConfigMissingProfile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	_, err := awsops.LoadConfig(t.Context(), settings(t, baseStage), "serverless")
	want := `AWS profile "serverless" not found in ~/.aws/config or ~/.aws/credentials — create it with ` + "`aws configure --profile serverless`"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("LoadConfig = %v\nwant prefix %s", err, want)
	}
	var notExist config.SharedConfigProfileNotExistError
	if !errors.As(err, &notExist) {
		t.Error("error does not wrap SharedConfigProfileNotExistError")
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	c := awsops.New(aws.Config{Region: "us-east-1"})
	c.Profile = "serverless"
	cfg := aws.Config{Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no valid providers in chain")
	})}
	err := c.CheckCredentials(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), `no AWS credentials found (looked at profile "serverless"`) {
		t.Errorf("CheckCredentials = %v", err)
	}
}
