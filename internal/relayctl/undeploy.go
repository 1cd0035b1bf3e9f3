package relayctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// cmdUndeploy removes the function, its URL and the role relayctl made.
func (a *app) cmdUndeploy(ctx context.Context, args []string) error {
	fs, c := a.newFlags("undeploy")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	removeLogs := fs.Bool("remove-logs", false, "delete the function's log group too")
	s, err := c.load(fs, args)
	if err != nil {
		return err
	}
	if !*yes {
		fmt.Fprintf(a.stderr, "This removes function %s in %s, its URL (for good: a new deploy gets a new one) and the execution role if relayctl created it.\nAre you sure? [y/N] ", s.FunctionName(), s.Region)
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		answer := strings.ToLower(strings.TrimSpace(line))
		if answer != "y" && answer != "yes" {
			if err != nil && answer == "" {
				return errors.New("not confirmed (no answer on standard input): pass --yes to undeploy without asking")
			}
			return errors.New("not confirmed; nothing was removed")
		}
	}
	cl, err := a.client(ctx, s, c)
	if err != nil {
		return err
	}
	res, err := cl.Undeploy(ctx, s, *removeLogs)
	switch {
	case err != nil:
		return err
	case !res.FunctionRemoved && res.RoleRemoved == "" && !res.LogsRemoved:
		fmt.Fprintf(a.stdout, "Nothing to remove for stage %s in %s.\n", s.Stage, s.Region)
	default:
		fmt.Fprintf(a.stdout, "Undeployed %s from %s.\n", s.FunctionName(), s.Region)
	}
	return nil
}

// undeployResult lists what Undeploy removed.
type undeployResult struct {
	URLRemoved      bool
	FunctionRemoved bool
	RoleRemoved     string
	LogsRemoved     bool
}

// Undeploy removes the alias's Function URL, then the function (with its
// versions and alias), then the execution role if relayctl created it for
// this function (its tags say so), and the log group with removeLogs. What
// is already gone is skipped, so a half-finished deploy is cleaned up too.
func (c *awsClient) Undeploy(ctx context.Context, s stage.Settings, removeLogs bool) (undeployResult, error) {
	name := s.FunctionName()
	var res undeployResult
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
		if _, err := c.Lambda.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: &name, Qualifier: aws.String(aliasName)}); err == nil {
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

	if removeLogs {
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
