package awsops_test

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/awsfake"
	"github.com/signals-relay/signals-relay/internal/awsops"
	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/stage"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func setup(t *testing.T) (*awsfake.Server, *awsops.Client, *syncBuffer) {
	t.Helper()
	fake := awsfake.New(t)
	c := awsops.New(fake.Config())
	progress := &syncBuffer{}
	c.Progress = progress
	c.Poll = time.Millisecond
	c.MaxWait = 10 * time.Second
	return fake, c, progress
}

func settings(t *testing.T, body string) stage.Settings {
	t.Helper()
	f, err := stage.Parse("relay_settings.json", []byte(`{"dev": `+body+`}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Stage("dev")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const baseStage = `{"aws_region": "us-east-1", "project_name": "tr-auth0-signals-relay",
	"role_name": "tr-auth0-signals-relay-dev-role", "memory_size": 256, "timeout_seconds": 20,
	"log_retention_days": 14, "aws_environment_variables": {"LOG_LEVEL": "info", "CTR_ENTITIES_LIMIT": "50"}}`

const fnName = "tr-auth0-signals-relay-dev"

func testZip(t *testing.T, content string) []byte {
	t.Helper()
	z, err := pack.Zip([]byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// squash drops consecutive repeats, so polling shows up once.
func squash(ops []string) []string {
	var out []string
	for _, op := range ops {
		if len(out) == 0 || out[len(out)-1] != op {
			out = append(out, op)
		}
	}
	return out
}

func checkOps(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(squash(got), want) {
		t.Errorf("calls =\n  %s\nwant\n  %s", strings.Join(squash(got), "\n  "), strings.Join(want, "\n  "))
	}
}

func TestDeployWithCreateRole(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	fake.PendingPolls = 3
	fake.RoleNotReady = 2
	s := settings(t, baseStage)
	zip := testZip(t, "bootstrap-v1")

	res, err := c.Deploy(t.Context(), s, zip, awsops.DeployOptions{CreateRole: true})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	checkOps(t, fake.Ops(), []string{
		"lambda:GetFunction", // refuse when it exists
		"iam:GetRole",
		"iam:CreateRole",
		"iam:PutRolePolicy",
		"logs:CreateLogGroup",
		"logs:PutRetentionPolicy",
		"lambda:CreateFunction", // refused twice while the role propagates
		"lambda:GetFunction",    // waiter
		"lambda:CreateFunctionUrlConfig",
		"lambda:AddPermission",
	})
	if n := len(fake.CallsTo("lambda:CreateFunction")); n != 3 {
		t.Errorf("CreateFunction called %d times, want 3 (two refusals while the role propagates)", n)
	}
	if n := len(fake.CallsTo("lambda:GetFunction")); n != 1+4 {
		t.Errorf("GetFunction called %d times, want 1 + 4 polls (3 Pending, then Active)", n)
	}

	role, ok := fake.Role("tr-auth0-signals-relay-dev-role")
	if !ok {
		t.Fatal("role not created")
	}
	if got, want := jsonString(t, role.Trust), jsonString(t, trustPolicy); !reflect.DeepEqual(got, want) {
		t.Errorf("trust policy = %s", role.Trust)
	}
	wantTags := map[string]string{awsops.TagCreatedBy: awsops.CreatedByValue, awsops.TagFunction: fnName}
	if !reflect.DeepEqual(role.Tags, wantTags) {
		t.Errorf("role tags = %v, want %v", role.Tags, wantTags)
	}
	if got, want := jsonString(t, role.Policies["signals-relay-logs"]), jsonString(t, executionPolicy("us-east-1", awsfake.Account, fnName)); !reflect.DeepEqual(got, want) {
		t.Errorf("role policy =\n%v\nwant\n%v", got, want)
	}

	created := fake.CallsTo("lambda:CreateFunction")[2].Body
	want := map[string]any{
		"FunctionName":  fnName,
		"Runtime":       "provided.al2023",
		"Handler":       "bootstrap",
		"Role":          role.ARN,
		"Architectures": []any{"arm64"},
		"MemorySize":    float64(256),
		"Timeout":       float64(20),
		"PackageType":   "Zip",
		"Environment":   map[string]any{"Variables": map[string]any{"LOG_LEVEL": "info", "CTR_ENTITIES_LIMIT": "50"}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(created[k], v) {
			t.Errorf("CreateFunction %s = %v, want %v", k, created[k], v)
		}
	}
	fn, _ := fake.Function(fnName)
	if !bytes.Equal(fn.Zip, zip) {
		t.Error("uploaded zip differs from the package")
	}
	boot, err := pack.ReadBootstrap(fn.Zip)
	if err != nil || string(boot) != "bootstrap-v1" {
		t.Errorf("uploaded zip: bootstrap %q, %v", boot, err)
	}
	if fn.State != "Active" {
		t.Errorf("function state = %s, want Active", fn.State)
	}

	if got := fake.CallsTo("lambda:CreateFunctionUrlConfig")[0].Body["AuthType"]; got != "NONE" {
		t.Errorf("URL AuthType = %v, want NONE", got)
	}
	perms := fake.CallsTo("lambda:AddPermission")
	if len(perms) != 2 {
		t.Fatalf("%d AddPermission calls, want 2", len(perms))
	}
	wantPerms := []map[string]any{
		{"StatementId": "FunctionURLAllowPublicAccess", "Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"},
		{"StatementId": "FunctionURLAllowInvokeAction", "Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": true},
	}
	for i, w := range wantPerms {
		if !reflect.DeepEqual(perms[i].Body, w) {
			t.Errorf("AddPermission #%d = %v, want %v", i+1, perms[i].Body, w)
		}
	}
	if days, ok := fake.LogGroup("/aws/lambda/" + fnName); !ok || days != 14 {
		t.Errorf("log group retention = %d (exists %v), want 14", days, ok)
	}
	if res.URL != fn.URL || !strings.HasPrefix(res.URL, "https://") || !res.RoleCreated || res.RoleARN != role.ARN {
		t.Errorf("result = %+v", res)
	}
	for _, step := range []string{"Creating execution role", "not usable by Lambda yet", "Waiting for", "is Active", "Creating the Function URL"} {
		if !strings.Contains(progress.String(), step) {
			t.Errorf("progress lacks %q:\n%s", step, progress)
		}
	}
}

func TestDeployWithExistingRole(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	arn := fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "x"), awsops.DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c.Op, "iam:") && c.Op != "iam:GetRole" {
			t.Errorf("unexpected %s with an existing role", c.Op)
		}
	}
	if got := fake.CallsTo("lambda:CreateFunction")[0].Body["Role"]; got != arn {
		t.Errorf("Role = %v, want %s", got, arn)
	}
}

func TestDeployFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stage   string
		opts    awsops.DeployOptions
		prepare func(*awsfake.Server)
		want    []string
		notOp   string
	}{
		{
			name:  "function exists",
			stage: baseStage,
			prepare: func(f *awsfake.Server) {
				f.AddFunction(awsfake.Function{Name: fnName})
			},
			want:  []string{"function tr-auth0-signals-relay-dev already exists in us-east-1", "relayctl update dev"},
			notOp: "iam:GetRole",
		},
		{
			name:  "missing role",
			stage: baseStage,
			want:  []string{"iam:GetRole: execution role tr-auth0-signals-relay-dev-role not found", "--create-role"},
			notOp: "lambda:CreateFunction",
		},
		{
			name:  "no role named",
			stage: `{"aws_region": "us-east-1", "project_name": "p"}`,
			want:  []string{"stage dev names no execution role", "pass --create-role"},
			notOp: "iam:GetRole",
		},
		{
			name:  "role exists but is not ours",
			stage: baseStage,
			opts:  awsops.DeployOptions{CreateRole: true},
			prepare: func(f *awsfake.Server) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
			},
			want:  []string{"role tr-auth0-signals-relay-dev-role already exists and was not made by relayctl"},
			notOp: "iam:CreateRole",
		},
		{
			name:  "role not assumable",
			stage: baseStage,
			prepare: func(f *awsfake.Server) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
				f.RoleNotReady = 1
			},
			want: []string{"Lambda cannot assume the execution role", "lambda.amazonaws.com"},
		},
		{
			name:  "access denied",
			stage: baseStage,
			prepare: func(f *awsfake.Server) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
				f.Fail("lambda:CreateFunction", http.StatusForbidden, "AccessDeniedException",
					"User: arn:aws:iam::123456789012:user/serverless is not authorized to perform: lambda:CreateFunction")
			},
			want: []string{"lambda:CreateFunction: AWS denied lambda:CreateFunction to the default AWS credentials", "deploy/iam/deployment-policy.json"},
		},
		{
			name:  "bad credentials",
			stage: baseStage,
			prepare: func(f *awsfake.Server) {
				f.Fail("lambda:GetFunction", http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
			},
			want: []string{"AWS rejected the credentials", "aws configure"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, c, _ := setup(t)
			if tc.prepare != nil {
				tc.prepare(fake)
			}
			_, err := c.Deploy(t.Context(), settings(t, tc.stage), testZip(t, "x"), tc.opts)
			if err == nil {
				t.Fatal("Deploy succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error = %q\nwant it to contain %q", msg, w)
				}
			}
			var ae *awsops.Error
			if !errors.As(err, &ae) {
				t.Errorf("error is %T, want *awsops.Error", err)
			}
			if tc.notOp != "" && len(fake.CallsTo(tc.notOp)) > 0 {
				t.Errorf("%s was called", tc.notOp)
			}
		})
	}
}

func TestUpdateKeepsURLAndMergesEnvironment(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "v1"), awsops.DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := fake.Function(fnName)
	if err := c.SetSecret(t.Context(), s, "S3CR3T"); err != nil {
		t.Fatal(err)
	}
	start := len(fake.Calls())

	s.Environment = map[string]string{"LOG_LEVEL": "debug"}
	s.Architecture = "amd64"
	s.MemoryMB = 512
	zip := testZip(t, "v2")
	res, err := c.Update(t.Context(), s, zip)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkOps(t, fake.Ops()[start:], []string{
		"lambda:GetFunctionConfiguration",
		"lambda:GetFunction",
		"lambda:UpdateFunctionCode",
		"lambda:GetFunction", // waits: the fake refuses a configuration change meanwhile
		"lambda:GetFunctionConfiguration",
		"lambda:UpdateFunctionConfiguration",
		"lambda:GetFunction",
		"logs:CreateLogGroup",
		"logs:PutRetentionPolicy",
		"lambda:GetFunctionUrlConfig",
	})
	after, _ := fake.Function(fnName)
	wantEnv := map[string]string{"LOG_LEVEL": "debug", "CTR_ENTITIES_LIMIT": "50", "SECRET_KEY": "S3CR3T"}
	if !reflect.DeepEqual(after.Env, wantEnv) {
		t.Errorf("environment = %v, want %v", after.Env, wantEnv)
	}
	if !bytes.Equal(after.Zip, zip) || !slices.Equal(after.Architectures, []string{"x86_64"}) || after.MemorySize != 512 {
		t.Errorf("function after update: arch %v, memory %d, zip updated %v", after.Architectures, after.MemorySize, bytes.Equal(after.Zip, zip))
	}
	if after.URL != before.URL || res.URL != before.URL {
		t.Errorf("URL changed: %s → %s (result %s)", before.URL, after.URL, res.URL)
	}
	if res.CodeSHA256 != pack.CodeSHA256(zip) || res.CodeSize != int64(len(zip)) {
		t.Errorf("result = %+v, want sha %s", res, pack.CodeSHA256(zip))
	}
	upd := fake.CallsTo("lambda:UpdateFunctionConfiguration")
	if last := upd[len(upd)-1].Body; last["RevisionId"] == nil || last["Runtime"] != "provided.al2023" || last["Handler"] != "bootstrap" {
		t.Errorf("UpdateFunctionConfiguration = %v", last)
	}
}

func TestUpdateNotDeployed(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	_, err := c.Update(t.Context(), settings(t, baseStage), testZip(t, "x"))
	if err == nil || !strings.Contains(err.Error(), "function tr-auth0-signals-relay-dev not found in us-east-1") ||
		!strings.Contains(err.Error(), "relayctl deploy dev") || !strings.Contains(err.Error(), "aws_region") {
		t.Errorf("Update = %v", err)
	}
}

func TestSetSecretMergesAndHidesValue(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	fake.AddFunction(awsfake.Function{Name: fnName, Env: map[string]string{"LOG_LEVEL": "info", "OTHER": "kept"}, Revision: 7})
	const secret = "Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aZ6yX5wV4uT3sR2qP1oN0mL9kJ"
	if err := c.SetSecret(t.Context(), settings(t, baseStage), secret); err != nil {
		t.Fatal(err)
	}
	checkOps(t, fake.Ops(), []string{
		"lambda:GetFunctionConfiguration",
		"lambda:GetFunction",
		"lambda:GetFunctionConfiguration",
		"lambda:UpdateFunctionConfiguration",
		"lambda:GetFunction",
	})
	fn, _ := fake.Function(fnName)
	want := map[string]string{"LOG_LEVEL": "info", "OTHER": "kept", "SECRET_KEY": secret}
	if !reflect.DeepEqual(fn.Env, want) {
		t.Errorf("environment = %v, want %v", fn.Env, want)
	}
	call := fake.CallsTo("lambda:UpdateFunctionConfiguration")[0].Body
	if call["RevisionId"] != "7" {
		t.Errorf("RevisionId = %v, want 7 (the one read)", call["RevisionId"])
	}
	if len(call) != 2 { // Environment and RevisionId; FunctionName is in the path
		t.Errorf("UpdateFunctionConfiguration changes more than the environment: %v", call)
	}
	if strings.Contains(progress.String(), secret) {
		t.Error("progress output contains the secret")
	}

	// A concurrent change is reported, not overwritten.
	fake.Fail("lambda:UpdateFunctionConfiguration", http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match")
	err := c.SetSecret(t.Context(), settings(t, baseStage), secret)
	if err == nil || !strings.Contains(err.Error(), "changed by someone else") {
		t.Errorf("SetSecret on a stale revision = %v", err)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	zip := testZip(t, "v1")
	if _, err := c.Deploy(t.Context(), s, zip, awsops.DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := st.Write(&out); err != nil {
		t.Fatal(err)
	}
	fn, _ := fake.Function(fnName)
	for _, want := range []string{
		"Function:        tr-auth0-signals-relay-dev (us-east-1, stage dev)",
		"State:           Active",
		"Successful",
		"sha256 " + pack.CodeSHA256(zip),
		"provided.al2023, handler bootstrap, arm64",
		"256 MB, 20 s",
		"URL:             " + fn.URL + " (auth NONE)",
		"SECRET_KEY:      NOT SET",
		"relayctl jwt dev --set-secret",
		"Environment:     CTR_ENTITIES_LIMIT, LOG_LEVEL",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}

	const secret = "do-not-print-me-0123456789"
	if err := c.SetSecret(t.Context(), s, secret); err != nil {
		t.Fatal(err)
	}
	st, err = c.Status(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_ = st.Write(&out)
	if !strings.Contains(out.String(), "SECRET_KEY:      set\n") || strings.Contains(out.String(), secret) {
		t.Errorf("status with the secret set:\n%s", out.String())
	}
}

func TestStatusNotDeployed(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	_, err := c.Status(t.Context(), settings(t, baseStage))
	if err == nil || !strings.Contains(err.Error(), "lambda:GetFunction: function tr-auth0-signals-relay-dev not found in us-east-1") {
		t.Errorf("Status = %v", err)
	}
}

func TestUndeploy(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "x"), awsops.DeployOptions{CreateRole: true}); err != nil {
		t.Fatal(err)
	}
	start := len(fake.Calls())
	res, err := c.Undeploy(t.Context(), s, awsops.UndeployOptions{RemoveLogs: true})
	if err != nil {
		t.Fatal(err)
	}
	checkOps(t, fake.Ops()[start:], []string{
		"lambda:GetFunction",
		"lambda:DeleteFunctionUrlConfig",
		"lambda:DeleteFunction",
		"iam:GetRole",
		"iam:ListRolePolicies",
		"iam:DeleteRolePolicy",
		"iam:DeleteRole",
		"logs:DeleteLogGroup",
	})
	if _, ok := fake.Function(fnName); ok {
		t.Error("function still exists")
	}
	if _, ok := fake.Role("tr-auth0-signals-relay-dev-role"); ok {
		t.Error("role still exists")
	}
	if _, ok := fake.LogGroup("/aws/lambda/" + fnName); ok {
		t.Error("log group still exists")
	}
	want := awsops.UndeployResult{URLRemoved: true, FunctionRemoved: true, RoleRemoved: "tr-auth0-signals-relay-dev-role", LogsRemoved: true}
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}

	// Running it again finds nothing left to do.
	start = len(fake.Calls())
	res, err = c.Undeploy(t.Context(), s, awsops.UndeployOptions{})
	if err != nil || res != (awsops.UndeployResult{}) {
		t.Errorf("second Undeploy = %+v, %v", res, err)
	}
	checkOps(t, fake.Ops()[start:], []string{"lambda:GetFunction", "iam:GetRole"})
}

func TestUndeployKeepsForeignRole(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", map[string]string{"team": "secops"})
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "x"), awsops.DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Undeploy(t.Context(), s, awsops.UndeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.RoleRemoved != "" || len(fake.CallsTo("iam:DeleteRole")) > 0 {
		t.Errorf("a role relayctl did not create was deleted: %+v", res)
	}
	if _, ok := fake.Role("tr-auth0-signals-relay-dev-role"); !ok {
		t.Error("role gone")
	}
	if !strings.Contains(progress.String(), "Keeping role tr-auth0-signals-relay-dev-role") {
		t.Errorf("progress = %s", progress)
	}
	if _, ok := fake.LogGroup("/aws/lambda/" + fnName); !ok {
		t.Error("log group removed without RemoveLogs")
	}
}
