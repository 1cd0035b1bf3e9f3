package awsops_test

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
