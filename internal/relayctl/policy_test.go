package relayctl

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

func jsonFile(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func jsonString(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// executionPolicy is the execution role's inline policy for one function,
// written out: writing the function's own log group and nothing else.
func executionPolicy(region, account, function string) string {
	group := "arn:aws:logs:" + region + ":" + account + ":log-group:/aws/lambda/" + function
	return `{"Version": "2012-10-17", "Statement": [
		{"Sid": "CreateOwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": "` + group + `"},
		{"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "` + group + `:*"}]}`
}

const trustPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}`

// The shipped role documents are the ones --create-role puts on a role
// (TestDeployWithCreateRole checks those against the same literals), so a
// hand-made role matches a relayctl-made one.
func TestShippedExecutionRoleDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, want string }{
		{"execution-role-policy.json", executionPolicy("<REGION>", "<ACCOUNT_ID>", "<FUNCTION_NAME>")},
		{"execution-role-trust.json", trustPolicy},
	} {
		got := jsonFile(t, "../../deploy/iam/"+tc.file)
		if want := jsonString(t, tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("deploy/iam/%s =\n%v\nwant\n%v", tc.file, got, want)
		}
	}
}

// statement is one statement of an identity policy.
type statement struct {
	Sid       string
	Effect    string
	Action    any
	Resource  any
	Condition map[string]map[string]string
}

func actions(st statement) []string {
	switch a := st.Action.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, x := range a {
			out[i], _ = x.(string)
		}
		return out
	}
	return nil
}

// TestDeploymentPolicyBoundsRoles: whoever holds the deployment policy can
// create a role, and put an inline policy on one, only with the shipped
// permissions boundary, and cannot change or drop a boundary.
func TestDeploymentPolicyBoundsRoles(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../deploy/iam/deployment-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var policy struct{ Statement []statement }
	if err := json.Unmarshal(b, &policy); err != nil {
		t.Fatal(err)
	}
	wantCondition := map[string]map[string]string{
		"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::<ACCOUNT_ID>:policy/SignalsRelayExecutionBoundary"},
	}
	bounded := map[string]bool{}
	for _, st := range policy.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range actions(st) {
			switch a {
			case "iam:CreateRole", "iam:PutRolePolicy":
				if !reflect.DeepEqual(st.Condition, wantCondition) {
					t.Errorf("statement %s allows %s with condition %v, want %v", st.Sid, a, st.Condition, wantCondition)
				}
				if st.Resource != "arn:aws:iam::<ACCOUNT_ID>:role/tr-auth0-signals-relay-*" {
					t.Errorf("statement %s allows %s on %v", st.Sid, a, st.Resource)
				}
				bounded[a] = true
			case "iam:*", "*", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy",
				"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy":
				t.Errorf("statement %s allows %s, which lifts the boundary", st.Sid, a)
			}
		}
	}
	if !bounded["iam:CreateRole"] || !bounded["iam:PutRolePolicy"] {
		t.Errorf("iam:CreateRole and iam:PutRolePolicy are not both allowed within the boundary: %v", bounded)
	}
}

// The boundary allows no more than writing the relay functions' logs.
func TestShippedBoundary(t *testing.T) {
	t.Parallel()
	group := "arn:aws:logs:*:<ACCOUNT_ID>:log-group:/aws/lambda/tr-auth0-signals-relay-*"
	want := jsonString(t, `{"Version": "2012-10-17", "Statement": [{"Sid": "RelayFunctionLogsOnly", "Effect": "Allow",
		"Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
		"Resource": ["`+group+`", "`+group+`:*"]}]}`)
	if got := jsonFile(t, "../../deploy/iam/execution-role-boundary.json"); !reflect.DeepEqual(got, want) {
		t.Errorf("deploy/iam/execution-role-boundary.json =\n%v\nwant\n%v", got, want)
	}
}

// TestDeploymentPolicyScope pins the deployment policy with literal
// values: each statement's actions and resources, the service iam:PassRole
// may pass the role to, the boundary a role must get, and what
// lambda:AddPermission may grant. Widening any of them (a "*" resource,
// another service, another principal) fails here.
func TestDeploymentPolicyScope(t *testing.T) {
	t.Parallel()
	const fn = "arn:aws:lambda:*:<ACCOUNT_ID>:function:tr-auth0-signals-relay-*"
	const role = "arn:aws:iam::<ACCOUNT_ID>:role/tr-auth0-signals-relay-*"
	want := jsonString(t, `{"Version": "2012-10-17", "Statement": [
		{"Sid": "ManageRelayFunctions", "Effect": "Allow", "Action": [
			"lambda:CreateAlias", "lambda:CreateFunction", "lambda:CreateFunctionUrlConfig", "lambda:DeleteFunction",
			"lambda:DeleteFunctionUrlConfig", "lambda:GetAlias", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
			"lambda:GetFunctionUrlConfig", "lambda:GetPolicy", "lambda:ListTags", "lambda:ListVersionsByFunction",
			"lambda:PublishVersion", "lambda:TagResource", "lambda:UpdateAlias", "lambda:UpdateFunctionCode",
			"lambda:UpdateFunctionConfiguration"],
		 "Resource": "`+fn+`"},
		{"Sid": "LetAnyoneCallAliasLiveThroughItsURL", "Effect": "Allow", "Action": "lambda:AddPermission",
		 "Resource": "`+fn+`:live",
		 "Condition": {"StringEquals": {"lambda:Principal": "*"}, "StringEqualsIfExists": {"lambda:FunctionUrlAuthType": "NONE"}}},
		{"Sid": "CreateRelayExecutionRolesWithinBoundary", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
		 "Resource": "`+role+`",
		 "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::<ACCOUNT_ID>:policy/SignalsRelayExecutionBoundary"}}},
		{"Sid": "ManageRelayExecutionRoles", "Effect": "Allow",
		 "Action": ["iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole", "iam:ListRolePolicies", "iam:TagRole"],
		 "Resource": "`+role+`"},
		{"Sid": "PassRelayExecutionRoleToLambda", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "`+role+`",
		 "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
		{"Sid": "ManageRelayLogs", "Effect": "Allow",
		 "Action": ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:FilterLogEvents", "logs:PutRetentionPolicy"],
		 "Resource": "arn:aws:logs:*:<ACCOUNT_ID>:log-group:/aws/lambda/tr-auth0-signals-relay-*"}]}`)
	if got := jsonFile(t, deploymentPolicyFile); !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n%v\nwant\n%v", deploymentPolicyFile, got, want)
	}
}

// TestDeploymentPolicyRefuses evaluates the shipped policy as the fake
// does for the calls relayctl must not be able to make, next to the
// ones it makes: another account's or project's functions, a grant to
// another principal or for an IAM-authenticated URL, passing the role to
// another service, a role without the boundary, roles and logs of other
// functions.
func TestDeploymentPolicyRefuses(t *testing.T) {
	t.Parallel()
	p := loadDeploymentPolicy(t, "aws", fakeAccount)
	const fn = "arn:aws:lambda:eu-west-1:123456789012:function:tr-auth0-signals-relay-dev"
	const role = "arn:aws:iam::123456789012:role/tr-auth0-signals-relay-dev-role"
	const boundary = "arn:aws:iam::123456789012:policy/SignalsRelayExecutionBoundary"
	public := map[string]string{"lambda:principal": "*", "lambda:functionurlauthtype": "NONE"}
	tests := []struct {
		name string
		a    authz
		want bool
	}{
		{"update a relay function", authz{"lambda:UpdateFunctionCode", fn, nil}, true},
		{"update another function", authz{"lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:123456789012:function:payroll", nil}, false},
		{"update in another account", authz{"lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:210987654321:function:tr-auth0-signals-relay-dev", nil}, false},
		{"an action relayctl never calls", authz{"lambda:PutFunctionConcurrency", fn, nil}, false},
		{"grant public URL calls on live", authz{"lambda:AddPermission", fn + ":live", public}, true},
		{"grant public invocation through the URL on live", authz{"lambda:AddPermission", fn + ":live", map[string]string{"lambda:principal": "*"}}, true},
		{"grant another account", authz{"lambda:AddPermission", fn + ":live", map[string]string{"lambda:principal": "210987654321"}}, false},
		{"grant a service", authz{"lambda:AddPermission", fn + ":live", map[string]string{"lambda:principal": "s3.amazonaws.com"}}, false},
		{"grant calls of an IAM-authenticated URL", authz{"lambda:AddPermission", fn + ":live", map[string]string{"lambda:principal": "*", "lambda:functionurlauthtype": "AWS_IAM"}}, false},
		{"grant on the unqualified function", authz{"lambda:AddPermission", fn, public}, false},
		{"grant on a version", authz{"lambda:AddPermission", fn + ":3", public}, false},
		{"pass the role to Lambda", authz{"iam:PassRole", role, map[string]string{"iam:passedtoservice": "lambda.amazonaws.com"}}, true},
		{"pass the role to EC2", authz{"iam:PassRole", role, map[string]string{"iam:passedtoservice": "ec2.amazonaws.com"}}, false},
		{"pass another role", authz{"iam:PassRole", "arn:aws:iam::123456789012:role/admin", map[string]string{"iam:passedtoservice": "lambda.amazonaws.com"}}, false},
		{"create a role within the boundary", authz{"iam:CreateRole", role, map[string]string{"iam:permissionsboundary": boundary}}, true},
		{"create a role without boundary", authz{"iam:CreateRole", role, nil}, false},
		{"create a role with another boundary", authz{"iam:CreateRole", role, map[string]string{"iam:permissionsboundary": "arn:aws:iam::123456789012:policy/AdministratorAccess"}}, false},
		{"delete a relay role", authz{"iam:DeleteRole", role, nil}, true},
		{"delete another role", authz{"iam:DeleteRole", "arn:aws:iam::123456789012:role/admin", nil}, false},
		{"delete another role's policy", authz{"iam:DeleteRolePolicy", "arn:aws:iam::123456789012:role/admin", nil}, false},
		{"read a relay function's logs", authz{"logs:FilterLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/tr-auth0-signals-relay-dev:log-stream:", nil}, true},
		{"delete another log group", authz{"logs:DeleteLogGroup", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/payroll:log-stream:", nil}, false},
	}
	for _, tc := range tests {
		if got := p.allows(t, tc.a); got != tc.want {
			t.Errorf("%s: %s on %s %v: allowed %v, want %v", tc.name, tc.a.action, tc.a.resource, tc.a.context, got, tc.want)
		}
	}
}
