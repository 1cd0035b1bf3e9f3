package relayctl

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// UndeployOptions adjusts Undeploy.
type UndeployOptions struct {
	// RemoveLogs deletes the function's log group too.
	RemoveLogs bool
}

// UndeployResult lists what Undeploy removed.
type UndeployResult struct {
	URLRemoved      bool
	FunctionRemoved bool
	RoleRemoved     string
	LogsRemoved     bool
}

// Undeploy removes the alias's Function URL, then the function (with its
// versions and alias), then the execution
// role if relayctl created it for this function (its tags say so), and the
// log group when asked. What is already gone is skipped, so a half-finished
// deploy can be cleaned up too.
func (c *Client) Undeploy(ctx context.Context, s stage.Settings, o UndeployOptions) (UndeployResult, error) {
	name := s.FunctionName()
	var res UndeployResult
	roleName := s.DefaultRoleName()
	if s.RoleARN != "" {
		roleName = roleNameFromARN(s.RoleARN)
	}
	fn, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	switch {
	case err == nil:
		roleName = roleNameFromARN(aws.ToString(fn.Configuration.Role))
	case isNotFound(err):
		c.progressf("Function %s does not exist in %s.", name, c.Region)
	default:
		return res, c.Explain(err)
	}

	if err == nil {
		if _, err := c.Lambda.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: &name, Qualifier: aws.String(Alias)}); err == nil {
			res.URLRemoved = true
			c.progressf("Removed the Function URL (it is gone for good).")
		} else if !isNotFound(err) {
			return res, c.Explain(err)
		}
		if _, err := c.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name}); err != nil && !isNotFound(err) {
			return res, c.Explain(err)
		}
		res.FunctionRemoved = true
		c.progressf("Removed function %s.", name)
	}

	removed, err := c.deleteRoleIfOurs(ctx, roleName, name)
	if err != nil {
		return res, err
	}
	if removed {
		res.RoleRemoved = roleName
		c.progressf("Removed role %s, which relayctl had created.", roleName)
	}

	if o.RemoveLogs {
		group := s.LogGroup()
		_, err := c.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: &group})
		if err != nil && !isNotFound(err) {
			return res, c.Explain(err)
		}
		res.LogsRemoved = err == nil
		if res.LogsRemoved {
			c.progressf("Removed log group %s.", group)
		}
	}
	return res, nil
}
