package relayctl

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

// cmdDeploy creates the function and its URL, or finishes a deploy that
// stopped half-way.
func (a *app) cmdDeploy(ctx context.Context, args []string) error {
	fs, c := a.newFlags("deploy")
	open := a.packageFlags(fs, c)
	createRole := fs.Bool("create-role", false, "create a least-privilege execution role (it may only write the function's logs), bounded by "+boundaryPolicyName)
	s, cl, zip, err := open(ctx, args)
	if err != nil {
		return err
	}
	res, err := cl.Deploy(ctx, s, zip, *createRole)
	switch {
	case err != nil && res.Created:
		return fmt.Errorf("%w (function %s exists but is not finished: run `relayctl deploy %s` again to finish it)", err, s.FunctionName(), s.Stage)
	case err != nil && res.RoleCreated:
		return fmt.Errorf("%w (role %s was created: running the command again uses it, `relayctl undeploy %s` removes it)", err, res.RoleARN, s.Stage)
	case err != nil:
		return err
	}
	a.printResult("Deployed", s, res)
	if !res.SecretSet {
		fmt.Fprintf(a.stdout, "\nNext: `relayctl jwt %s --set-secret` makes SECRET_KEY and the JWT; then create the Threat Response module with this URL and the JWT.\n", s.Stage)
	}
	return nil
}

// Deploy creates the stage's function from zipFile and releases it: it
// resolves the execution role (or creates it, with createRole), creates
// the log group with its retention and the function, and waits until it
// is Active. On a function relayctl created for the stage it does what
// Update does, so a deploy that stopped half-way is finished by running it
// again; any other existing function is refused.
func (c *awsClient) Deploy(ctx context.Context, s stage.Settings, zipFile []byte, createRole bool) (result, error) {
	name := s.FunctionName()
	tags, err := c.functionTags(ctx, name)
	switch {
	case err == nil && tags[tagCreatedBy] == createdByValue && tags[tagStage] == s.Stage:
		c.progressf("%s exists (relayctl created it for stage %s): updating it and adding what it lacks…", name, s.Stage)
		return c.Update(ctx, s, zipFile)
	case err == nil:
		return result{}, &opError{Op: "lambda:CreateFunction", Msg: fmt.Sprintf("function %s already exists in %s, and relayctl did not create it for stage %s", name, c.Region, s.Stage),
			Fix: fmt.Sprintf("use `relayctl update %s` to deploy to it, or set another function_name", s.Stage)}
	case !isNotFound(err):
		return result{}, c.Explain(err)
	}

	role, err := c.resolveRole(ctx, s, createRole)
	if err != nil {
		return result{}, err
	}
	res := result{RoleARN: role.arn, RoleCreated: role.created}
	if err := c.ensureLogGroup(ctx, s); err != nil {
		return res, err
	}
	if err := c.createFunction(ctx, s, role, zipFile); err != nil {
		return res, err
	}
	res.Created = true
	cfg, err := c.finished(ctx, s, "creation")
	if err != nil {
		return res, err
	}
	return res, c.release(ctx, s, cfg, nil, "deploy", &res) // a function just created has no alias
}

// functionTags returns the function's tags. GetFunction returns them only
// to a caller allowed lambda:ListTags, and otherwise succeeds without them
// (since 27 July 2024: https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html,
// "Tags"); a function with none asks ListTags, so a missing permission is
// an access denied error naming lambda:ListTags rather than a function
// that seems to be someone else's.
func (c *awsClient) functionTags(ctx context.Context, name string) (map[string]string, error) {
	fn, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err != nil {
		return nil, err
	}
	if len(fn.Tags) > 0 {
		return fn.Tags, nil
	}
	out, err := c.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.Configuration.FunctionArn})
	if err != nil {
		return nil, c.Explain(err)
	}
	return out.Tags, nil
}

// recentRole is how old a role may be for CreateFunction to keep retrying
// while Lambda cannot assume it yet: IAM changes take a while to reach
// Lambda, also for a role made by an earlier run or by hand.
const recentRole = 10 * time.Minute

// createFunction creates the function, retrying while a recently created
// role is not yet assumable by Lambda.
func (c *awsClient) createFunction(ctx context.Context, s stage.Settings, role execRole, zipFile []byte) error {
	name := s.FunctionName()
	in := &lambda.CreateFunctionInput{
		FunctionName:  &name,
		Runtime:       types.Runtime(lambdaRuntime),
		Handler:       aws.String(lambdaHandler),
		Role:          &role.arn,
		Code:          &types.FunctionCode{ZipFile: zipFile},
		PackageType:   types.PackageTypeZip,
		Architectures: []types.Architecture{types.Architecture(s.LambdaArchitecture())},
		MemorySize:    aws.Int32(s.MemoryMB),
		Timeout:       aws.Int32(s.TimeoutSeconds),
		Description:   aws.String("Auth0 Signals relay for Threat Response / XDR (" + version.Product + ")"),
		Environment:   &types.Environment{Variables: copyEnv(s.Environment)},
		Tags:          map[string]string{tagStage: s.Stage, tagCreatedBy: createdByValue},
	}
	c.progressf("Uploading the package (%d bytes) and creating %s (%s, %s, %d MB, %ds)…",
		len(zipFile), name, lambdaRuntime, s.LambdaArchitecture(), s.MemoryMB, s.TimeoutSeconds)
	deadline := time.Now().Add(c.MaxWait)
	recent := role.created || c.Now().Sub(role.createdAt) < recentRole
	for {
		_, err := c.Lambda.CreateFunction(ctx, in)
		if err == nil {
			return nil
		}
		_, msg := apiCode(err)
		notAssumable := isCode(err, "InvalidParameterValueException") && strings.Contains(msg, "cannot be assumed")
		switch {
		case notAssumable && recent && time.Now().Before(deadline):
			c.progressf("The role was created moments ago and Lambda cannot use it yet; retrying…")
			if err := sleep(ctx, c.Poll); err != nil {
				return err
			}
			continue
		case notAssumable:
			return &opError{Op: "lambda:CreateFunction", Msg: "Lambda cannot assume the execution role " + role.arn, Err: err,
				Fix: "its trust policy must allow lambda.amazonaws.com (deploy/iam/execution-role-trust.json)"}
		case isCode(err, "ResourceConflictException"):
			return &opError{Op: "lambda:CreateFunction", Msg: "function " + name + " was created by someone else meanwhile", Err: err,
				Fix: "use `relayctl update " + s.Stage + "`"}
		}
		return c.Explain(err)
	}
}

// ensureLogGroup creates the function's log group if needed and sets its
// retention, so logs never pile up forever.
func (c *awsClient) ensureLogGroup(ctx context.Context, s stage.Settings) error {
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
