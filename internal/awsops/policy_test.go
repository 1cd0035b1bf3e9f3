package awsops_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/signals-relay/signals-relay/internal/awsops"
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
		t.Fatal(err)
	}
	return v
}

// The shipped role documents are exactly what --create-role puts on the
// role, so a hand-made role matches a relayctl-made one.
func TestShippedExecutionRoleMatchesCreateRole(t *testing.T) {
	t.Parallel()
	got := jsonFile(t, "../../deploy/iam/execution-role-policy.json")
	want := jsonString(t, awsops.ExecutionPolicy("aws", "<REGION>", "<ACCOUNT_ID>", "<FUNCTION_NAME>"))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deploy/iam/execution-role-policy.json =\n%v\nwant (what --create-role attaches)\n%v", got, want)
	}
	if got, want := jsonFile(t, "../../deploy/iam/execution-role-trust.json"), jsonString(t, awsops.TrustPolicy); !reflect.DeepEqual(got, want) {
		t.Errorf("deploy/iam/execution-role-trust.json =\n%v\nwant\n%v", got, want)
	}
}
