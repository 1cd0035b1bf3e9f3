package relayctl

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// cmdUpdate uploads new code, applies the stage's configuration and
// repairs what the deployment lacks.
func (a *app) cmdUpdate(ctx context.Context, args []string) error {
	fs, c := a.newFlags("update")
	s, cl, zip, err := a.packageFlags(fs, c)(ctx, args)
	if err != nil {
		return err
	}
	res, err := cl.Update(ctx, s, zip)
	if err != nil {
		return err
	}
	a.printResult("Updated", s, res)
	return nil
}

// printResult prints what a deploy, update or SECRET_KEY change left
// behind.
func (a *app) printResult(verb string, s stage.Settings, res result) {
	fmt.Fprintf(a.stdout, "%s %s in %s: version %s (alias %s), code %d bytes, CodeSha256 %s.\n",
		verb, s.FunctionName(), s.Region, res.Version, aliasName, res.CodeSize, res.CodeSHA256)
	for _, r := range res.Repaired {
		fmt.Fprintf(a.stdout, "Repaired: %s.\n", r)
	}
	fmt.Fprintf(a.stdout, "URL: %s\n", res.URL)
}

// Update replaces the function's code with zipFile (and its architecture),
// waits for the update, applies the stage's configuration (memory,
// timeout, runtime, and the stage's environment merged over the
// function's current one, so SECRET_KEY and other variables set outside
// the settings file are kept), makes sure the log group keeps its
// retention, and releases the result (release): a new version the alias
// serves, and the alias's Function URL with its permissions, created or
// repaired when missing. A previous update that failed does not stop it.
func (c *awsClient) Update(ctx context.Context, s stage.Settings, zipFile []byte) (result, error) {
	name := s.FunctionName()
	if _, err := c.settleForChange(ctx, s); err != nil {
		return result{}, err
	}
	c.progressf("Uploading the package (%d bytes) to %s…", len(zipFile), name)
	if err := c.whenIdle(ctx, s, func() error {
		_, err := c.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName:  &name,
			ZipFile:       zipFile,
			Architectures: []types.Architecture{types.Architecture(s.LambdaArchitecture())},
		})
		return err
	}); err != nil {
		return result{}, c.explainRevision(err, s)
	}
	cur, err := c.finished(ctx, s, "code update")
	if err != nil {
		return result{}, err
	}
	env := currentEnv(cur)
	maps.Copy(env, s.Environment)
	c.progressf("Applying the configuration (%d MB, %ds, %d environment variables)…", s.MemoryMB, s.TimeoutSeconds, len(env))
	cfg, err := c.configure(ctx, s, cur, &lambda.UpdateFunctionConfigurationInput{
		Runtime:     types.Runtime(lambdaRuntime),
		Handler:     aws.String(lambdaHandler),
		MemorySize:  aws.Int32(s.MemoryMB),
		Timeout:     aws.Int32(s.TimeoutSeconds),
		Environment: &types.Environment{Variables: env},
	})
	if err != nil {
		return result{}, err
	}
	if err := c.ensureLogGroup(ctx, s); err != nil {
		return result{}, err
	}
	alias, err := c.getAlias(ctx, name)
	if err != nil {
		return result{}, err
	}
	var res result
	return res, c.release(ctx, s, cfg, alias, "update", &res)
}

// SetSecret writes secret as SECRET_KEY into the function's environment,
// keeps every other variable, and releases the result, since a version
// holds its environment: the alias serves the new SECRET_KEY only from a
// new version. That version holds $LATEST's code, so while the alias
// serves other code (after a rollback) it first puts the served code back
// on $LATEST (keepServedCode), unless rollForward. It never prints the
// value.
func (c *awsClient) SetSecret(ctx context.Context, s stage.Settings, secret string, rollForward bool) (result, error) {
	cur, err := c.settleForChange(ctx, s)
	if err != nil {
		return result{}, err
	}
	alias, err := c.getAlias(ctx, s.FunctionName())
	if err != nil {
		return result{}, err
	}
	if cur, err = c.keepServedCode(ctx, s, cur, alias, rollForward); err != nil {
		return result{}, err
	}
	env := currentEnv(cur)
	env[stage.SecretKeyEnv] = secret
	c.progressf("Setting %s on %s (keeping its %d other variables)…", stage.SecretKeyEnv, s.FunctionName(), len(env)-1)
	cfg, err := c.configure(ctx, s, cur, &lambda.UpdateFunctionConfigurationInput{Environment: &types.Environment{Variables: env}})
	if err != nil {
		return result{}, err
	}
	var res result
	return res, c.release(ctx, s, cfg, alias, "set "+stage.SecretKeyEnv, &res)
}

// settleForChange waits until the function takes a change and says so
// when its previous update failed: Lambda takes the next one regardless.
func (c *awsClient) settleForChange(ctx context.Context, s stage.Settings) (*lambda.GetFunctionConfigurationOutput, error) {
	cur, err := c.settle(ctx, s)
	if err != nil {
		return nil, err
	}
	if cur.LastUpdateStatus == types.LastUpdateStatusFailed {
		c.progressf("The previous update of %s failed (%s); this one replaces it.", s.FunctionName(), aws.ToString(cur.LastUpdateStatusReason))
	}
	return cur, nil
}

// configure applies in to the function read as cur, guarded by its
// revision, and waits for it.
func (c *awsClient) configure(ctx context.Context, s stage.Settings, cur *lambda.GetFunctionConfigurationOutput, in *lambda.UpdateFunctionConfigurationInput) (*lambda.GetFunctionConfigurationOutput, error) {
	in.FunctionName = aws.String(s.FunctionName())
	in.RevisionId = cur.RevisionId
	if _, err := c.Lambda.UpdateFunctionConfiguration(ctx, in); err != nil {
		return nil, c.explainRevision(err, s)
	}
	return c.finished(ctx, s, "configuration update")
}

func (c *awsClient) notDeployed(err error, s stage.Settings) error {
	if isCode(err, "ResourceNotFoundException") {
		return &opError{Op: opName(err), Msg: fmt.Sprintf("function %s not found in %s", s.FunctionName(), c.Region), Err: err,
			Fix: fmt.Sprintf("deploy it with `relayctl deploy %s`, or check aws_region of stage %s", s.Stage, s.Stage)}
	}
	return c.Explain(err)
}

// explainRevision explains a change refused because someone else changed
// the function (or its alias) since it was read, or is changing it now;
// whenIdle's explanation passes through.
func (c *awsClient) explainRevision(err error, s stage.Settings) error {
	var explained *opError
	if !errors.As(err, &explained) && isCode(err, "PreconditionFailedException", "ResourceConflictException") {
		return &opError{Op: opName(err), Msg: "the function was changed by someone else meanwhile", Err: err,
			Fix: "check `relayctl status " + s.Stage + "` and run the command again"}
	}
	return c.Explain(err)
}

func currentEnv(cfg *lambda.GetFunctionConfigurationOutput) map[string]string {
	if cfg.Environment == nil {
		return map[string]string{}
	}
	return copyEnv(cfg.Environment.Variables)
}

// copyEnv copies variables into a map that is never nil.
func copyEnv(vars map[string]string) map[string]string {
	env := make(map[string]string, len(vars))
	maps.Copy(env, vars)
	return env
}
