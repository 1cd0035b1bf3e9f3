package relayctl

import (
	"context"
	"fmt"
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
func (c *Client) settle(ctx context.Context, s stage.Settings) (*lambda.GetFunctionConfigurationOutput, error) {
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
			return nil, &Error{Op: "lambda:GetFunctionConfiguration",
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
func (c *Client) finished(ctx context.Context, s stage.Settings, what string) (*lambda.GetFunctionConfigurationOutput, error) {
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
		return nil, &Error{Op: "lambda:GetFunctionConfiguration",
			Msg: fmt.Sprintf("the %s of %s failed (%s): %s", what, s.FunctionName(), code, reason),
			Fix: "fix the cause and run the command again; a failed update does not block the next one"}
	}
	c.progressf("The %s of %s is done (%.1fs).", what, s.FunctionName(), time.Since(start).Seconds())
	return cfg, nil
}
