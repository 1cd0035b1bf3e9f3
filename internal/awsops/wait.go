package awsops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// waitActive waits until a new function's State is Active.
func (c *Client) waitActive(ctx context.Context, name string) error {
	c.progressf("Waiting for %s to become Active…", name)
	start := time.Now()
	w := lambda.NewFunctionActiveV2Waiter(c.Lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = c.poll(), 5*c.poll()
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, c.maxWait()); err != nil {
		return c.waitFailed(ctx, name, "become Active", err)
	}
	c.progressf("%s is Active (%.1fs).", name, time.Since(start).Seconds())
	return nil
}

// waitUpdated waits until the function's last update has finished.
func (c *Client) waitUpdated(ctx context.Context, name string) error {
	w := lambda.NewFunctionUpdatedV2Waiter(c.Lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = c.poll(), 5*c.poll()
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, c.maxWait()); err != nil {
		return c.waitFailed(ctx, name, "finish updating", err)
	}
	return nil
}

// waitFailed explains a waiter failure with the function's own reason.
func (c *Client) waitFailed(ctx context.Context, name, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if opName(err) != "" { // the polling call itself failed
		return c.Explain(err)
	}
	out, gerr := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
	if gerr != nil {
		return &Error{Op: "lambda:GetFunction", Msg: fmt.Sprintf("%s did not %s: %v", name, what, err), Err: err}
	}
	reason := aws.ToString(out.StateReason)
	if r := aws.ToString(out.LastUpdateStatusReason); r != "" {
		reason = r
	}
	msg := fmt.Sprintf("%s did not %s within %s (state %s, last update %s)", name, what, c.maxWait(), out.State, out.LastUpdateStatus)
	if reason != "" {
		msg += ": " + reason
	}
	return &Error{Op: "lambda:GetFunction", Msg: msg, Fix: "see `relayctl status` and the function's logs", Err: err}
}
