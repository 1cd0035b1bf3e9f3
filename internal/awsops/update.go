package awsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// UpdateResult describes the updated function.
type UpdateResult struct {
	CodeSHA256 string
	CodeSize   int64
	URL        string
}

// Update replaces the function's code with zipFile (and its architecture),
// waits for the update, then applies the stage's configuration: memory,
// timeout, runtime and the stage's environment merged over the function's
// current one, so SECRET_KEY and other variables set outside the settings
// file are kept. The Function URL does not change.
func (c *Client) Update(ctx context.Context, s stage.Settings, zipFile []byte) (UpdateResult, error) {
	name := s.FunctionName()
	if _, err := c.getConfiguration(ctx, s); err != nil {
		return UpdateResult{}, err
	}
	if err := c.waitUpdated(ctx, name); err != nil {
		return UpdateResult{}, err
	}
	c.progressf("Uploading the package (%d bytes) to %s…", len(zipFile), name)
	code, err := c.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
		FunctionName:  &name,
		ZipFile:       zipFile,
		Architectures: []types.Architecture{types.Architecture(s.LambdaArchitecture())},
	})
	if err != nil {
		return UpdateResult{}, c.Explain(err)
	}
	c.progressf("Waiting for the new code to be deployed…")
	if err := c.waitUpdated(ctx, name); err != nil {
		return UpdateResult{}, err
	}

	cur, err := c.getConfiguration(ctx, s)
	if err != nil {
		return UpdateResult{}, err
	}
	env := currentEnv(cur)
	for k, v := range s.Environment {
		env[k] = v
	}
	c.progressf("Applying the configuration (%d MB, %ds, %d environment variables)…", s.MemoryMB, s.TimeoutSeconds, len(env))
	if _, err := c.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: &name,
		Runtime:      types.Runtime(Runtime),
		Handler:      aws.String(Handler),
		MemorySize:   aws.Int32(s.MemoryMB),
		Timeout:      aws.Int32(s.TimeoutSeconds),
		Environment:  &types.Environment{Variables: env},
		RevisionId:   cur.RevisionId,
	}); err != nil {
		return UpdateResult{}, c.explainRevision(err)
	}
	if err := c.waitUpdated(ctx, name); err != nil {
		return UpdateResult{}, err
	}
	if err := c.ensureLogGroup(ctx, s); err != nil {
		return UpdateResult{}, err
	}
	res := UpdateResult{CodeSHA256: aws.ToString(code.CodeSha256), CodeSize: code.CodeSize}
	res.URL, err = c.functionURL(ctx, name)
	return res, err
}

// SetSecret writes secret as SECRET_KEY into the function's environment and
// keeps every other variable. It never prints the value.
func (c *Client) SetSecret(ctx context.Context, s stage.Settings, secret string) error {
	name := s.FunctionName()
	if _, err := c.getConfiguration(ctx, s); err != nil {
		return err
	}
	if err := c.waitUpdated(ctx, name); err != nil {
		return err
	}
	cur, err := c.getConfiguration(ctx, s)
	if err != nil {
		return err
	}
	env := currentEnv(cur)
	env[stage.SecretKeyEnv] = secret
	c.progressf("Setting %s on %s (keeping its %d other variables)…", stage.SecretKeyEnv, name, len(env)-1)
	if _, err := c.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: &name,
		Environment:  &types.Environment{Variables: env},
		RevisionId:   cur.RevisionId,
	}); err != nil {
		return c.explainRevision(err)
	}
	return c.waitUpdated(ctx, name)
}

// getConfiguration reads the function's configuration, explaining a missing
// function as a wrong region or a stage not deployed yet.
func (c *Client) getConfiguration(ctx context.Context, s stage.Settings) (*lambda.GetFunctionConfigurationOutput, error) {
	name := s.FunctionName()
	out, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
	if err != nil {
		return nil, c.notDeployed(err, s)
	}
	return out, nil
}

func (c *Client) notDeployed(err error, s stage.Settings) error {
	if isCode(err, "ResourceNotFoundException") {
		return &Error{Op: opName(err), Msg: fmt.Sprintf("function %s not found in %s", s.FunctionName(), c.Region), Err: err,
			Fix: fmt.Sprintf("deploy it with `relayctl deploy %s`, or check aws_region of stage %s", s.Stage, s.Stage)}
	}
	return c.Explain(err)
}

func (c *Client) explainRevision(err error) error {
	if isCode(err, "PreconditionFailedException", "ResourceConflictException") {
		return &Error{Op: opName(err), Msg: "the function was changed by someone else meanwhile", Err: err,
			Fix: "run the command again"}
	}
	return c.Explain(err)
}

func currentEnv(cfg *lambda.GetFunctionConfigurationOutput) map[string]string {
	env := map[string]string{}
	if cfg.Environment != nil {
		for k, v := range cfg.Environment.Variables {
			env[k] = v
		}
	}
	return env
}

// functionURL returns the function's URL, or "" when it has none.
func (c *Client) functionURL(ctx context.Context, name string) (string, error) {
	out, err := c.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: &name})
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", c.Explain(err)
	}
	return aws.ToString(out.FunctionUrl), nil
}

// FunctionURL returns the stage's function URL, or "" when it has none.
func (c *Client) FunctionURL(ctx context.Context, s stage.Settings) (string, error) {
	return c.functionURL(ctx, s.FunctionName())
}
