package relayctl

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Fixed parts of the function relayctl creates.
const (
	// lambdaRuntime is the OS-only runtime the static bootstrap runs on.
	lambdaRuntime = "provided.al2023"
	// lambdaHandler is ignored by provided runtimes; Lambda's convention is the
	// executable's name.
	lambdaHandler = "bootstrap"
	// tagCreatedBy marks roles and functions relayctl created; undeploy
	// deletes a role only when it carries this tag with CreatedByValue.
	tagCreatedBy   = "signals-relay:created-by"
	createdByValue = "relayctl"
	tagFunction    = "signals-relay:function" // the function a created role belongs to
	tagStage       = "signals-relay:stage"    // the stage a function was deployed for
	logPolicyName  = "signals-relay-logs"     // the inline policy of a role relayctl created
	// aliasName is the alias the Function URL serves; every deploy, update and
	// SECRET_KEY change publishes a version and moves it there, and
	// rollback moves it back.
	aliasName = "live"
	// URL permission statement ids, as the Lambda console names them.
	statementInvokeURL      = "FunctionURLAllowPublicAccess"
	statementInvokeFunction = "FunctionURLAllowInvokeAction"
)

// awsClient performs the AWS operations for a stage. Build it with
// newAWSClient.
type awsClient struct {
	Lambda *lambda.Client
	IAM    *iam.Client
	Logs   *cloudwatchlogs.Client
	STS    *sts.Client
	// HTTPClient calls the Function URL for Invoke and downloads a
	// version's code from its Code.Location. Nil means a client with a
	// one-minute (download: five-minute) timeout.
	HTTPClient *http.Client
	// Region is the region the clients talk to, for messages.
	Region string
	// Profile is the AWS profile in use, for messages.
	Profile string
	// Progress receives one line per long step. Nil discards them.
	Progress io.Writer
	// Poll is the delay between polls of a settling function, between
	// retries while a new role propagates, and between log reads with
	// tail --follow.
	Poll time.Duration
	// MaxWait bounds each wait.
	MaxWait time.Duration
	// Now is the clock; newAWSClient sets time.Now.
	Now func() time.Time
}

// newAWSClient returns an awsClient whose service clients use cfg, polling every 2s
// for at most 5 minutes.
func newAWSClient(cfg aws.Config) *awsClient {
	return &awsClient{
		Lambda:  lambda.NewFromConfig(cfg),
		IAM:     iam.NewFromConfig(cfg),
		Logs:    cloudwatchlogs.NewFromConfig(cfg),
		STS:     sts.NewFromConfig(cfg),
		Region:  cfg.Region,
		Poll:    2 * time.Second,
		MaxWait: 5 * time.Minute,
		Now:     time.Now,
	}
}

// loadConfig loads the SDK configuration for region and profile; an empty
// profile leaves the SDK's default chain (AWS_PROFILE, environment
// credentials, instance roles).
func loadConfig(ctx context.Context, region, profile string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, explainConfig(err, profile)
	}
	return cfg, nil
}

// CheckCredentials fails early, in one line, when no credentials can be
// found for the configured profile.
func (c *awsClient) CheckCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return c.noCredentials(nil)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return c.credentialsError(err)
	}
	return nil
}

func (c *awsClient) progressf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// httpClient is HTTPClient, or a client with this timeout.
func (c *awsClient) httpClient(timeout time.Duration) *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: timeout}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
