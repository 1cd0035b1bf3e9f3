// Package awsops carries out relayctl's AWS operations for one stage: deploy
// the relay as a Lambda function whose alias "live" serves a published
// version behind a Function URL, update its code and configuration (and
// finish a deployment that stopped half-way), roll the alias back, report
// its status, call it as XDR does, read its logs, set its SECRET_KEY, and
// remove it again.
//
// It calls only these APIs, which the deployment policy shipped in
// deploy/iam/ allows:
//
//   - Lambda: GetFunction, GetFunctionConfiguration, CreateFunction,
//     UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction,
//     PublishVersion, ListVersionsByFunction, GetAlias, CreateAlias,
//     UpdateAlias, CreateFunctionUrlConfig, GetFunctionUrlConfig,
//     DeleteFunctionUrlConfig, AddPermission, GetPolicy (plus TagResource,
//     which CreateFunction needs for tags);
//   - IAM: GetRole, CreateRole (with TagRole for its tags) and PutRolePolicy,
//     both only with the permissions boundary BoundaryPolicyName,
//     ListRolePolicies, DeleteRolePolicy, DeleteRole, and PassRole when the
//     function is created;
//   - STS: GetCallerIdentity (which needs no permission), for the account a
//     role's boundary lives in;
//   - CloudWatch Logs: CreateLogGroup, PutRetentionPolicy, FilterLogEvents,
//     DeleteLogGroup.
//
// Besides, setting SECRET_KEY after a rollback downloads the served
// version's code from the presigned Code.Location GetFunction returns,
// which needs no permission of its own.
//
// Every error leaving the package has gone through Explain, so it reads as
// one line naming the failed call, the fix when known, and AWS's own error
// code, message and request id.
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

	"github.com/signals-relay/signals-relay/internal/stage"
)

// Fixed parts of the function relayctl creates.
const (
	// Runtime is the OS-only runtime the static bootstrap runs on.
	Runtime = "provided.al2023"
	// Handler is ignored by provided runtimes; Lambda's convention is the
	// executable's name.
	Handler = "bootstrap"
	// TagCreatedBy marks roles and functions relayctl created; undeploy
	// deletes a role only when it carries this tag with CreatedByValue.
	TagCreatedBy   = "signals-relay:created-by"
	CreatedByValue = "relayctl"
	// TagFunction names the function a created role belongs to.
	TagFunction = "signals-relay:function"
	// TagStage names the stage a function was deployed for.
	TagStage = "signals-relay:stage"
	// LogPolicyName is the inline policy of a role relayctl created.
	LogPolicyName = "signals-relay-logs"
	// Alias is the alias the Function URL serves; every deploy, update and
	// SECRET_KEY change publishes a version and moves it there, and
	// rollback moves it back.
	Alias = "live"
	// URL permission statement ids, as the Lambda console names them.
	StatementInvokeURL      = "FunctionURLAllowPublicAccess"
	StatementInvokeFunction = "FunctionURLAllowInvokeAction"
)

// Client performs the operations. Its zero Poll, MaxWait and Now take the
// defaults.
type Client struct {
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
	// tail --follow. Default 2s.
	Poll time.Duration
	// MaxWait bounds each wait. Default 5 minutes.
	MaxWait time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// New returns a Client whose service clients use cfg.
func New(cfg aws.Config) *Client {
	return &Client{
		Lambda: lambda.NewFromConfig(cfg),
		IAM:    iam.NewFromConfig(cfg),
		Logs:   cloudwatchlogs.NewFromConfig(cfg),
		STS:    sts.NewFromConfig(cfg),
		Region: cfg.Region,
	}
}

// LoadConfig loads the SDK configuration for s: its region, and its profile
// unless profile overrides it (empty profile and profile_name leave the
// SDK's default chain: AWS_PROFILE, environment credentials, instance
// roles).
func LoadConfig(ctx context.Context, s stage.Settings, profile string) (aws.Config, error) {
	if profile == "" {
		profile = s.Profile
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(s.Region)}
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
func (c *Client) CheckCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return c.noCredentials(nil)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return c.credentialsError(err)
	}
	return nil
}

func (c *Client) progressf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// httpClient is HTTPClient, or a client with this timeout.
func (c *Client) httpClient(timeout time.Duration) *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: timeout}
}

func (c *Client) poll() time.Duration {
	if c.Poll > 0 {
		return c.Poll
	}
	return 2 * time.Second
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return 5 * time.Minute
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
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
