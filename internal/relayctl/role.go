package relayctl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// trustPolicyDoc lets Lambda assume the execution role.
const trustPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// executionPolicyDoc is the only permission a role made by --create-role has:
// writing the function's own log group (which relayctl creates with its
// retention before the function exists).
func executionPolicyDoc(partition, region, account, function string) string {
	group := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/lambda/%s", partition, region, account, function)
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "CreateOwnLogGroup", "Effect": "Allow", "Action": []string{"logs:CreateLogGroup"}, "Resource": group},
			{"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": []string{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": group + ":*"},
		},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// arnParts splits arn:partition:service:region:account:resource.
func arnParts(arn string) (partition, account, resource string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return "", "", "", false
	}
	return p[1], p[4], p[5], true
}

// roleNameFromARN returns the role's name (the last path element).
func roleNameFromARN(arn string) string {
	_, _, res, ok := arnParts(arn)
	if !ok {
		return arn
	}
	res = strings.TrimPrefix(res, "role/")
	return res[strings.LastIndex(res, "/")+1:]
}

func tagged(tags []iamtypes.Tag, key, value string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == key && aws.ToString(t.Value) == value {
			return true
		}
	}
	return false
}

// execRole is the execution role a deploy uses.
type execRole struct {
	arn       string
	created   bool      // made by this run
	createdAt time.Time // when IAM made it
}

// resolveRole finds the execution role, or creates it when create is set.
func (c *awsClient) resolveRole(ctx context.Context, s stage.Settings, create bool) (execRole, error) {
	fn := s.FunctionName()
	if create && s.RoleARN != "" {
		return execRole{}, &opError{Msg: "--create-role cannot be used with role_arn", Fix: "remove role_arn from stage " + s.Stage + " or drop --create-role"}
	}
	name := s.DefaultRoleName()
	if s.RoleARN != "" {
		name = roleNameFromARN(s.RoleARN)
	}
	if !create && s.RoleARN == "" && s.RoleName == "" {
		return execRole{}, &opError{Msg: "stage " + s.Stage + " names no execution role",
			Fix: "set role_name or role_arn in the settings file, or pass --create-role"}
	}
	out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	switch {
	case err == nil && create:
		if !tagged(out.Role.Tags, tagCreatedBy, createdByValue) || !tagged(out.Role.Tags, tagFunction, fn) {
			return execRole{}, &opError{Op: "iam:CreateRole", Msg: "role " + name + " already exists and was not made by relayctl for " + fn,
				Fix: "deploy without --create-role to use it as it is, or set another role_name"}
		}
		c.progressf("Using role %s, made by relayctl earlier.", name)
	case err == nil:
		c.progressf("Using execution role %s.", aws.ToString(out.Role.Arn))
	case isNotFound(err) && !create:
		return execRole{}, &opError{Op: "iam:GetRole", Msg: "execution role " + name + " not found", Err: err,
			Fix: "create it as docs/aws.md shows (deploy/iam/execution-role-*.json), or pass --create-role"}
	case !isNotFound(err):
		return execRole{}, c.Explain(err)
	default:
		arn, err := c.createRole(ctx, s, name)
		return execRole{arn: arn, created: err == nil, createdAt: c.Now()}, err
	}
	return execRole{arn: aws.ToString(out.Role.Arn), createdAt: aws.ToTime(out.Role.CreateDate)}, nil
}

// boundaryPolicyName is the managed policy --create-role sets as the new
// role's permissions boundary (deploy/iam/execution-role-boundary.json).
// The deployment policy allows iam:CreateRole and iam:PutRolePolicy only
// with it, so whoever deploys cannot make a role that does more.
const boundaryPolicyName = "SignalsRelayExecutionBoundary"

// createRole makes a role Lambda can assume that may only write the
// function's own logs, bounded by the boundary policy and tagged so
// undeploy knows relayctl made it.
func (c *awsClient) createRole(ctx context.Context, s stage.Settings, name string) (string, error) {
	fn := s.FunctionName()
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", c.Explain(err)
	}
	partition, account, _, ok := arnParts(aws.ToString(id.Arn))
	if !ok {
		return "", &opError{Op: "sts:GetCallerIdentity", Msg: "unexpected caller ARN " + aws.ToString(id.Arn)}
	}
	boundary := "arn:" + partition + ":iam::" + account + ":policy/" + boundaryPolicyName
	c.progressf("Creating execution role %s (logs of %s only, bounded by %s)…", name, fn, boundaryPolicyName)
	out, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 &name,
		AssumeRolePolicyDocument: aws.String(trustPolicyDoc),
		PermissionsBoundary:      &boundary,
		Description:              aws.String("Execution role of the signals-relay Lambda function " + fn + ", made by relayctl"),
		Tags: []iamtypes.Tag{
			{Key: aws.String(tagCreatedBy), Value: aws.String(createdByValue)},
			{Key: aws.String(tagFunction), Value: aws.String(fn)},
		},
	})
	if isNotFound(err) {
		return "", &opError{Op: "iam:CreateRole", Msg: "the permissions boundary policy " + boundary + " does not exist", Err: err,
			Fix: "an administrator creates it once from deploy/iam/execution-role-boundary.json (see docs/aws.md)"}
	}
	if err != nil {
		return "", c.Explain(err)
	}
	_, err = c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       &name,
		PolicyName:     aws.String(logPolicyName),
		PolicyDocument: aws.String(executionPolicyDoc(partition, s.Region, account, fn)),
	})
	if err != nil {
		return "", c.Explain(err)
	}
	return aws.ToString(out.Role.Arn), nil
}

// deleteRoleIfOurs deletes the role when relayctl made it for function, and
// reports whether it did.
func (c *awsClient) deleteRoleIfOurs(ctx context.Context, name, function string) (bool, error) {
	out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.Explain(err)
	}
	if !tagged(out.Role.Tags, tagCreatedBy, createdByValue) || !tagged(out.Role.Tags, tagFunction, function) {
		c.progressf("Keeping role %s: relayctl did not create it for %s.", name, function)
		return false, nil
	}
	policies, err := c.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name})
	if err != nil {
		return false, c.Explain(err)
	}
	for _, p := range policies.PolicyNames {
		if _, err := c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String(p)}); err != nil && !isNotFound(err) {
			return false, c.Explain(err)
		}
	}
	if _, err := c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name}); err != nil {
		return false, c.Explain(err)
	}
	return true, nil
}
