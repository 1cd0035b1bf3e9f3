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
