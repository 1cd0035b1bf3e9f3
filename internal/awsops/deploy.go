package awsops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
	"github.com/signals-relay/signals-relay/internal/version"
)

// DeployOptions adjusts Deploy.
type DeployOptions struct {
	// CreateRole makes a least-privilege execution role instead of using
	// the one the stage names.
	CreateRole bool
}

// DeployResult is what Deploy made.
type DeployResult struct {
	FunctionARN string
	URL         string
	RoleARN     string
	RoleCreated bool
}

// Deploy creates the stage's function from zipFile and exposes it through a
// Function URL: it refuses when the function exists, resolves or creates the
// execution role, creates the log group with its retention, creates the
// function (provided.al2023, handler bootstrap), waits until it is Active,
// creates the URL with auth type NONE (the relay checks the JWT itself) and
// grants the public both permissions a NONE URL needs.
func (c *Client) Deploy(ctx context.Context, s stage.Settings, zipFile []byte, o DeployOptions) (DeployResult, error) {
	name := s.FunctionName()
	_, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err == nil {
		return DeployResult{}, &Error{Op: "lambda:CreateFunction", Msg: fmt.Sprintf("function %s already exists in %s", name, c.Region),
			Fix: fmt.Sprintf("use `relayctl update %s`, or `relayctl undeploy %s` first", s.Stage, s.Stage)}
	}
	if !isNotFound(err) {
		return DeployResult{}, c.Explain(err)
	}

	roleARN, created, err := c.resolveRole(ctx, s, o.CreateRole)
	if err != nil {
		return DeployResult{}, err
	}
	res := DeployResult{RoleARN: roleARN, RoleCreated: created}

	if err := c.ensureLogGroup(ctx, s); err != nil {
		return res, err
	}

	fnARN, err := c.createFunction(ctx, s, roleARN, zipFile, created)
	if err != nil {
		return res, err
	}
	res.FunctionARN = fnARN
	if err := c.waitActive(ctx, name); err != nil {
		return res, err
	}

	c.progressf("Creating the Function URL (auth NONE; the relay verifies the JWT)…")
	u, err := c.Lambda.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
		FunctionName: &name,
		AuthType:     types.FunctionUrlAuthTypeNone,
		InvokeMode:   types.InvokeModeBuffered,
	})
	if err != nil {
		return res, c.Explain(err)
	}
	res.URL = aws.ToString(u.FunctionUrl)

	// A Function URL with auth NONE needs both statements since October
	// 2025: InvokeFunctionUrl for the URL, InvokeFunction restricted to
	// calls that come through the URL.
	if _, err := c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName:        &name,
		StatementId:         aws.String(StatementInvokeURL),
		Action:              aws.String("lambda:InvokeFunctionUrl"),
		Principal:           aws.String("*"),
		FunctionUrlAuthType: types.FunctionUrlAuthTypeNone,
	}); err != nil {
		return res, c.Explain(err)
	}
	if _, err := c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName:          &name,
		StatementId:           aws.String(StatementInvokeFunction),
		Action:                aws.String("lambda:InvokeFunction"),
		Principal:             aws.String("*"),
		InvokedViaFunctionUrl: aws.Bool(true),
	}); err != nil {
		return res, c.Explain(err)
	}
	return res, nil
}

// createFunction creates the function, retrying while a role made moments
// ago is not yet assumable by Lambda (IAM changes take a few seconds to
// propagate).
func (c *Client) createFunction(ctx context.Context, s stage.Settings, roleARN string, zipFile []byte, newRole bool) (string, error) {
	name := s.FunctionName()
	in := &lambda.CreateFunctionInput{
		FunctionName:  &name,
		Runtime:       types.Runtime(Runtime),
		Handler:       aws.String(Handler),
		Role:          &roleARN,
		Code:          &types.FunctionCode{ZipFile: zipFile},
		PackageType:   types.PackageTypeZip,
		Architectures: []types.Architecture{types.Architecture(s.LambdaArchitecture())},
		MemorySize:    aws.Int32(s.MemoryMB),
		Timeout:       aws.Int32(s.TimeoutSeconds),
		Description:   aws.String("Auth0 Signals relay for Threat Response / XDR (" + version.Product + ")"),
		Environment:   &types.Environment{Variables: copyEnv(s.Environment)},
		Tags:          map[string]string{TagStage: s.Stage, TagCreatedBy: CreatedByValue},
	}
	c.progressf("Uploading %s (%d bytes) and creating %s (%s, %s, %d MB, %ds)…",
		"the package", len(zipFile), name, Runtime, s.LambdaArchitecture(), s.MemoryMB, s.TimeoutSeconds)
	deadline := time.Now().Add(c.maxWait())
	for {
		out, err := c.Lambda.CreateFunction(ctx, in)
		if err == nil {
			return aws.ToString(out.FunctionArn), nil
		}
		_, msg := apiCode(err)
		notAssumable := isCode(err, "InvalidParameterValueException") && strings.Contains(msg, "cannot be assumed")
		switch {
		case notAssumable && newRole && time.Now().Before(deadline):
			c.progressf("The new role is not usable by Lambda yet; retrying…")
			if err := sleep(ctx, c.poll()); err != nil {
				return "", err
			}
			continue
		case notAssumable:
			return "", &Error{Op: "lambda:CreateFunction", Msg: "Lambda cannot assume the execution role " + roleARN, Err: err,
				Fix: "its trust policy must allow lambda.amazonaws.com (deploy/iam/execution-role-trust.json), and you need iam:PassRole on it"}
		case isCode(err, "ResourceConflictException"):
			return "", &Error{Op: "lambda:CreateFunction", Msg: "function " + name + " already exists", Err: err,
				Fix: "use `relayctl update " + s.Stage + "`"}
		}
		return "", c.Explain(err)
	}
}

// ensureLogGroup creates the function's log group if needed and sets its
// retention, so logs never pile up forever.
func (c *Client) ensureLogGroup(ctx context.Context, s stage.Settings) error {
	group := s.LogGroup()
	_, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group})
	if err != nil && !isCode(err, "ResourceAlreadyExistsException") {
		return c.Explain(err)
	}
	_, err = c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
		LogGroupName:    &group,
		RetentionInDays: aws.Int32(s.LogRetentionDays),
	})
	if err != nil {
		return c.Explain(err)
	}
	c.progressf("Log group %s keeps logs %d days.", group, s.LogRetentionDays)
	return nil
}

func copyEnv(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
