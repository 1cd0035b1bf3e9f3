package relayctl

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// settle reads the stage's function until it is neither being created
// (State Pending) nor updated (LastUpdateStatus InProgress), and returns
// its configuration. A previous update that Failed is settled too: Lambda
// takes the next update, so settle does not stand in its way.
func (c *awsClient) settle(ctx context.Context, s stage.Settings) (*lambda.GetFunctionConfigurationOutput, error) {
	name := s.FunctionName()
	deadline := time.Now().Add(c.MaxWait)
	for {
		cfg, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
		if err != nil {
			return nil, c.notDeployed(err, s)
		}
		if cfg.State != types.StatePending && cfg.LastUpdateStatus != types.LastUpdateStatusInProgress {
			return cfg, nil
		}
		if time.Now().After(deadline) {
			return nil, &opError{Op: "lambda:GetFunctionConfiguration",
				Msg: fmt.Sprintf("%s is still settling after %s (state %s, last update %s)", name, c.MaxWait, cfg.State, cfg.LastUpdateStatus),
				Fix: "check `relayctl status " + s.Stage + "`, and run the command again once the function has settled"}
		}
		if err := sleep(ctx, c.Poll); err != nil {
			return nil, err
		}
	}
}

// finished waits for the change relayctl just made (what: "creation",
// "code update", "configuration update") and fails with Lambda's reason
// when it did not succeed.
func (c *awsClient) finished(ctx context.Context, s stage.Settings, what string) (*lambda.GetFunctionConfigurationOutput, error) {
	start := time.Now()
	cfg, err := c.settle(ctx, s)
	if err != nil {
		return nil, err
	}
	reason, code := aws.ToString(cfg.StateReason), string(cfg.StateReasonCode)
	failed := cfg.State == types.StateFailed
	if cfg.LastUpdateStatus == types.LastUpdateStatusFailed {
		reason, code, failed = aws.ToString(cfg.LastUpdateStatusReason), string(cfg.LastUpdateStatusReasonCode), true
	}
	if failed {
		return nil, &opError{Op: "lambda:GetFunctionConfiguration",
			Msg: fmt.Sprintf("the %s of %s failed (%s): %s", what, s.FunctionName(), code, reason),
			Fix: "fix the cause and run the command again; a failed update does not block the next one"}
	}
	c.progressf("The %s of %s is done (%.1fs).", what, s.FunctionName(), time.Since(start).Seconds())
	return cfg, nil
}

// isUpdateInProgress reports whether err is Lambda refusing a change
// because the function is still being created or updated: a
// ResourceConflictException saying "An update is in progress for
// resource: …". Lambda uses the same code for a statement id that is
// taken, an alias or URL that exists and a version an alias serves
// (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html and
// each action's Errors: "The resource already exists, or another
// operation is in progress").
func isUpdateInProgress(err error) bool {
	code, msg := apiCode(err)
	return code == "ResourceConflictException" && strings.Contains(strings.ToLower(msg), "in progress")
}

// whenIdle makes a change to the stage's function and, while Lambda
// refuses it because another update is in progress (someone else's, or one
// still settling), waits for the function to settle and makes it again,
// for at most MaxWait; then it explains the refusal. Only a change that
// names no RevisionId is worth making again: another update has changed
// the revision.
func (c *awsClient) whenIdle(ctx context.Context, s stage.Settings, change func() error) error {
	deadline := time.Now().Add(c.MaxWait)
	for {
		err := change()
		if !isUpdateInProgress(err) {
			return err
		}
		if time.Now().After(deadline) {
			return c.explainInProgress(err, s)
		}
		c.progressf("%s is busy with another update; waiting for it to finish…", s.FunctionName())
		if err := sleep(ctx, c.Poll); err != nil {
			return err
		}
		if _, err := c.settle(ctx, s); err != nil {
			return err
		}
	}
}

// explainInProgress explains a change still refused after whenIdle waited.
func (c *awsClient) explainInProgress(err error, s stage.Settings) error {
	return &opError{Op: opName(err), Msg: fmt.Sprintf("%s is still busy with another update after %s", s.FunctionName(), c.MaxWait), Err: err,
		Fix: "check `relayctl status " + s.Stage + "`, and run the command again once the last update has finished"}
}
