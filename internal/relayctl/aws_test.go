package relayctl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/stage"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

func setup(t *testing.T) (*fakeAWS, *awsClient, *testsupport.LockedBuffer) {
	t.Helper()
	fake := newFakeAWS(t)
	c := newAWSClient(fake.Config())
	progress := &testsupport.LockedBuffer{}
	c.Progress = progress
	c.HTTPClient = fake.HTTPClient()
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

// setupDeployed is setup with the function of stage s deployed, with its
// execution role, from a package whose bootstrap is "v1": version 1,
// served by alias live.
func setupDeployed(t *testing.T, s stage.Settings) (*fakeAWS, *awsClient, *testsupport.LockedBuffer) {
	t.Helper()
	fake, c, progress := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "v1"), false); err != nil {
		t.Fatal(err)
	}
	return fake, c, progress
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

// releaseOps are the calls that publish a version, move the alias (read
// once, before) and check the alias's URL and permissions on a deployment
// that has them all.
var releaseOps = []string{
	"lambda:PublishVersion",
	"lambda:UpdateAlias",
	"lambda:GetFunctionUrlConfig",
	"lambda:GetPolicy",
	"lambda:ListVersionsByFunction",
}

// firstReleaseOps are the calls of the first release, which creates the
// alias (known or read to be missing), its URL and both permission
// statements.
var firstReleaseOps = []string{
	"lambda:PublishVersion",
	"lambda:CreateAlias",
	"lambda:GetFunctionUrlConfig",
	"lambda:CreateFunctionUrlConfig",
	"lambda:GetPolicy",
	"lambda:AddPermission",
	"lambda:ListVersionsByFunction",
}

func TestDeployWithCreateRole(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	fake.PendingPolls = 3
	fake.RoleNotReady = 2
	fake.AddPolicy("SignalsRelayExecutionBoundary")
	s := settings(t, baseStage)
	zip := testZip(t, "bootstrap-v1")

	res, err := c.Deploy(t.Context(), s, zip, true)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	checkOps(t, fake.Ops(), append([]string{
		"lambda:GetFunction", // refuse when it exists
		"iam:GetRole",
		"sts:GetCallerIdentity", // the account, for the boundary's ARN
		"iam:CreateRole",
		"iam:PutRolePolicy",
		"logs:CreateLogGroup",
		"logs:PutRetentionPolicy",
		"lambda:CreateFunction",           // refused twice while the role propagates
		"lambda:GetFunctionConfiguration", // until Active
	}, firstReleaseOps...))
	if n := len(fake.CallsTo("lambda:CreateFunction")); n != 3 {
		t.Errorf("CreateFunction called %d times, want 3 (two refusals while the role propagates)", n)
	}
	if n := len(fake.CallsTo("lambda:GetFunctionConfiguration")); n != 4 {
		t.Errorf("GetFunctionConfiguration called %d times, want 4 polls (3 Pending, then Active)", n)
	}

	role, ok := fake.Role("tr-auth0-signals-relay-dev-role")
	if !ok {
		t.Fatal("role not created")
	}
	if got, want := jsonString(t, role.Trust), jsonString(t, trustPolicy); !reflect.DeepEqual(got, want) {
		t.Errorf("trust policy = %s", role.Trust)
	}
	wantTags := map[string]string{"signals-relay:created-by": "relayctl", "signals-relay:function": fnName}
	if !reflect.DeepEqual(role.Tags, wantTags) {
		t.Errorf("role tags = %v, want %v", role.Tags, wantTags)
	}
	if role.Boundary != "arn:aws:iam::123456789012:policy/SignalsRelayExecutionBoundary" {
		t.Errorf("role boundary = %q", role.Boundary)
	}
	if got, want := jsonString(t, role.Policies["signals-relay-logs"]), jsonString(t, executionPolicy("us-east-1", fakeAccount, fnName)); !reflect.DeepEqual(got, want) {
		t.Errorf("role policy =\n%v\nwant\n%v", got, want)
	}

	created := fake.CallsTo("lambda:CreateFunction")[2].Body
	wantBody := map[string]any{
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
	for k, v := range wantBody {
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

	urlCall := fake.CallsTo("lambda:CreateFunctionUrlConfig")[0]
	if urlCall.Body["AuthType"] != "NONE" || urlCall.Query.Get("Qualifier") != "live" {
		t.Errorf("CreateFunctionUrlConfig: AuthType %v, Qualifier %q; want NONE on live", urlCall.Body["AuthType"], urlCall.Query.Get("Qualifier"))
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
		if !reflect.DeepEqual(perms[i].Body, w) || perms[i].Query.Get("Qualifier") != "live" {
			t.Errorf("AddPermission #%d = %v (Qualifier %q), want %v on live", i+1, perms[i].Body, perms[i].Query.Get("Qualifier"), w)
		}
	}
	if days, ok := fake.LogGroup("/aws/lambda/" + fnName); !ok || days != 14 {
		t.Errorf("log group retention = %d (exists %v), want 14", days, ok)
	}
	if len(fn.Versions) != 1 || fn.Aliases["live"].Version != "1" || !bytes.Equal(fn.Versions[0].Config.Zip, zip) {
		t.Errorf("versions %v, aliases %v; want version 1 with the package, served by live", fn.Versions, fn.Aliases)
	}
	want := result{FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:" + fnName, URL: fn.URLs["live"].URL,
		Version: "1", CodeSHA256: pack.CodeSHA256(zip), CodeSize: int64(len(zip)), RoleARN: role.ARN, RoleCreated: true, Created: true}
	if !reflect.DeepEqual(res, want) || !strings.HasPrefix(res.URL, "https://") {
		t.Errorf("result = %+v\nwant %+v", res, want)
	}
	for _, step := range []string{"Creating execution role", "Lambda cannot use it yet", "The creation of " + fnName + " is done", "Creating the Function URL"} {
		if !strings.Contains(progress.String(), step) {
			t.Errorf("progress lacks %q:\n%s", step, progress)
		}
	}
	if strings.Contains(progress.String(), "Repaired") {
		t.Errorf("a new deployment reports repairs:\n%s", progress)
	}
}

func TestDeployWithExistingRole(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	arn := fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "x"), false); err != nil {
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
		name       string
		stage      string
		createRole bool
		prepare    func(*fakeAWS)
		want       []string
		notWant    string
		notOp      string
	}{
		{
			name:  "function exists",
			stage: baseStage,
			prepare: func(f *fakeAWS) {
				f.AddFunction(fakeFunction{Name: fnName})
			},
			want:  []string{"function tr-auth0-signals-relay-dev already exists in us-east-1, and relayctl did not create it for stage dev", "relayctl update dev"},
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
			stage: `{"aws_region": "us-east-1", "project_name": "tr-auth0-signals-relay"}`,
			want:  []string{"stage dev names no execution role", "pass --create-role"},
			notOp: "iam:GetRole",
		},
		{
			name:       "role exists but is not ours",
			stage:      baseStage,
			createRole: true,
			prepare: func(f *fakeAWS) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
			},
			want:  []string{"role tr-auth0-signals-relay-dev-role already exists and was not made by relayctl"},
			notOp: "iam:CreateRole",
		},
		{
			name:  "role not assumable",
			stage: baseStage,
			prepare: func(f *fakeAWS) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
				f.RoleNotReady = 1
			},
			want: []string{"Lambda cannot assume the execution role", "lambda.amazonaws.com"},
		},
		{
			name:  "access denied",
			stage: baseStage,
			prepare: func(f *fakeAWS) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
				f.Fail("lambda:CreateFunction", http.StatusForbidden, "AccessDeniedException",
					"User: arn:aws:iam::123456789012:user/serverless is not authorized to perform: lambda:CreateFunction")
			},
			want: []string{"lambda:CreateFunction: AWS denied lambda:CreateFunction to the default AWS credentials", "deploy/iam/deployment-policy.json",
				"[AWS AccessDeniedException: User: arn:aws:iam::123456789012:user/serverless is not authorized to perform: lambda:CreateFunction; request id 7f3c0000-"},
		},
		{
			name:  "pass role denied",
			stage: baseStage,
			prepare: func(f *fakeAWS) {
				f.AddRole("tr-auth0-signals-relay-dev-role", nil)
				f.Deny("iam:PassRole")
			},
			want: []string{"lambda:CreateFunction: AWS denied iam:PassRole to the default AWS credentials (lambda:CreateFunction needs it) — allow iam:PassRole on the execution role",
				"is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/tr-auth0-signals-relay-dev-role"},
		},
		{
			name:  "explicit deny",
			stage: baseStage,
			prepare: func(f *fakeAWS) {
				f.Fail("lambda:GetFunction", http.StatusForbidden, "AccessDeniedException",
					"User: arn:aws:iam::123456789012:user/serverless is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:x with an explicit deny in a service control policy")
			},
			want:    []string{"AWS denied lambda:GetFunction", "only your AWS administrator can lift it"},
			notWant: "attaching",
		},
		{
			name:       "no boundary policy",
			stage:      baseStage,
			createRole: true,
			want: []string{"iam:CreateRole: the permissions boundary policy arn:aws:iam::123456789012:policy/SignalsRelayExecutionBoundary does not exist",
				"deploy/iam/execution-role-boundary.json", "[AWS NoSuchEntity: Scope ARN: arn:aws:iam::123456789012:policy/SignalsRelayExecutionBoundary does not exist or is not attachable.; request id"},
			notOp: "iam:PutRolePolicy",
		},
		{
			name:       "boundary refused",
			stage:      baseStage,
			createRole: true,
			prepare: func(f *fakeAWS) {
				f.AddPolicy("SignalsRelayExecutionBoundary")
				f.EditPolicy(func(p *iamPolicy) { // the caller's policy demands another boundary
					for i, st := range p.Statement {
						if st.Condition["StringEquals"]["iam:PermissionsBoundary"] != nil {
							p.Statement[i].Condition = map[string]map[string]stringList{
								"StringEquals": {"iam:PermissionsBoundary": {"arn:aws:iam::123456789012:policy/OtherBoundary"}}}
						}
					}
				})
			},
			want:  []string{"iam:CreateRole: AWS denied iam:CreateRole to the default AWS credentials"},
			notOp: "iam:PutRolePolicy",
		},
		{
			name:  "bad credentials",
			stage: baseStage,
			prepare: func(f *fakeAWS) {
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
			_, err := c.Deploy(t.Context(), settings(t, tc.stage), testZip(t, "x"), tc.createRole)
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
			var ae *opError
			if !errors.As(err, &ae) {
				t.Errorf("error is %T, want *opError", err)
			}
			if tc.notWant != "" && strings.Contains(msg, tc.notWant) {
				t.Errorf("error = %q\nwant it without %q", msg, tc.notWant)
			}
			if tc.notOp != "" && len(fake.CallsTo(tc.notOp)) > 0 {
				t.Errorf("%s was called", tc.notOp)
			}
		})
	}
}

func TestUpdateKeepsURLAndMergesEnvironment(t *testing.T) {
	t.Parallel()
	s := settings(t, baseStage)
	fake, c, progress := setupDeployed(t, s)
	before, _ := fake.Function(fnName)
	if _, err := c.SetSecret(t.Context(), s, "S3CR3T", false); err != nil {
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
	checkOps(t, fake.Ops()[start:], append([]string{
		"lambda:GetFunctionConfiguration",
		"lambda:UpdateFunctionCode",
		"lambda:GetFunctionConfiguration", // waits: the fake refuses a configuration change meanwhile
		"lambda:UpdateFunctionConfiguration",
		"lambda:GetFunctionConfiguration",
		"logs:CreateLogGroup",
		"logs:PutRetentionPolicy",
		"lambda:GetAlias",
	}, releaseOps...))
	after, _ := fake.Function(fnName)
	wantEnv := map[string]string{"LOG_LEVEL": "debug", "CTR_ENTITIES_LIMIT": "50", "SECRET_KEY": "S3CR3T"}
	if !reflect.DeepEqual(after.Env, wantEnv) {
		t.Errorf("environment = %v, want %v", after.Env, wantEnv)
	}
	if !bytes.Equal(after.Zip, zip) || !slices.Equal(after.Architectures, []string{"x86_64"}) || after.MemorySize != 512 {
		t.Errorf("function after update: arch %v, memory %d, zip updated %v", after.Architectures, after.MemorySize, bytes.Equal(after.Zip, zip))
	}
	// Deploy made version 1, SetSecret 2, Update 3, which the alias serves
	// with the merged environment.
	if len(after.Versions) != 3 || after.Aliases["live"].Version != "3" || !reflect.DeepEqual(after.Versions[2].Config.Env, wantEnv) {
		t.Errorf("versions %+v, alias %v", after.Versions, after.Aliases)
	}
	if after.URLs["live"] != before.URLs["live"] || res.URL != before.URLs["live"].URL {
		t.Errorf("URL changed: %v → %v (result %s)", before.URLs, after.URLs, res.URL)
	}
	if res.CodeSHA256 != pack.CodeSHA256(zip) || res.CodeSize != int64(len(zip)) || res.Version != "3" || len(res.Repaired) != 0 {
		t.Errorf("result = %+v, want sha %s, version 3, nothing repaired", res, pack.CodeSHA256(zip))
	}
	upd := fake.CallsTo("lambda:UpdateFunctionConfiguration")
	if last := upd[len(upd)-1].Body; last["RevisionId"] == nil || last["Runtime"] != "provided.al2023" || last["Handler"] != "bootstrap" {
		t.Errorf("UpdateFunctionConfiguration = %v", last)
	}
	if strings.Contains(progress.String(), "S3CR3T") {
		t.Error("progress shows the secret")
	}

	// The same package and settings again: Lambda publishes nothing new.
	if res, err := c.Update(t.Context(), s, zip); err != nil || res.Version != "3" {
		t.Errorf("unchanged update: version %s, %v; want 3", res.Version, err)
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
	fake.AddFunction(fakeFunction{Name: fnName, fakeConfig: fakeConfig{Env: map[string]string{"LOG_LEVEL": "info", "OTHER": "kept"}}, Revision: 7})
	const secret = "Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aZ6yX5wV4uT3sR2qP1oN0mL9kJ"
	res, err := c.SetSecret(t.Context(), settings(t, baseStage), secret, false)
	if err != nil {
		t.Fatal(err)
	}
	checkOps(t, fake.Ops(), append([]string{
		"lambda:GetFunctionConfiguration",
		"lambda:GetAlias", // none: nothing was rolled back, and release creates it
		"lambda:UpdateFunctionConfiguration",
		"lambda:GetFunctionConfiguration",
	}, slices.Insert(slices.Clone(firstReleaseOps), 4, "lambda:GetFunctionUrlConfig")...)) // a URL on $LATEST?
	fn, _ := fake.Function(fnName)
	want := map[string]string{"LOG_LEVEL": "info", "OTHER": "kept", "SECRET_KEY": secret}
	if !reflect.DeepEqual(fn.Env, want) || !reflect.DeepEqual(fn.Versions[0].Config.Env, want) || fn.Aliases["live"].Version != "1" {
		t.Errorf("environment = %v, version 1's %v, alias %v; want %v served by live", fn.Env, fn.Versions[0].Config.Env, fn.Aliases, want)
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
	// A function made before relayctl served an alias gets one, with its URL.
	wantRepairs := []string{"created alias live", "created the Function URL " + res.URL,
		"added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}
	if !slices.Equal(res.Repaired, wantRepairs) {
		t.Errorf("repaired = %q, want %q", res.Repaired, wantRepairs)
	}

	// A concurrent change is reported, not overwritten.
	fake.Fail("lambda:UpdateFunctionConfiguration", http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match")
	_, err = c.SetSecret(t.Context(), settings(t, baseStage), secret, false)
	if err == nil || !strings.Contains(err.Error(), "changed by someone else") || !strings.Contains(err.Error(), "run the command again") {
		t.Errorf("SetSecret on a stale revision = %v", err)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	zip := testZip(t, "v1")
	if _, err := c.Deploy(t.Context(), s, zip, false); err != nil {
		t.Fatal(err)
	}
	status := func() string { t.Helper(); return statusText(t, c, s) }
	got := status()
	fn, _ := fake.Function(fnName)
	for _, want := range []string{
		"Function:        tr-auth0-signals-relay-dev (us-east-1, stage dev)",
		"State:           Active",
		"Successful",
		"sha256 " + pack.CodeSHA256(zip),
		"provided.al2023, handler bootstrap, arm64",
		"256 MB, 20 s",
		"Serving:         version 1 (alias live)",
		"Versions:        1 " + fn.Versions[0].LastModified + ", sha256 " + pack.CodeSHA256(zip) + ", deploy",
		"URL:             " + fn.URLs["live"].URL + " (auth NONE)",
		"SECRET_KEY:      NOT SET",
		"relayctl jwt dev --set-secret",
		"Environment:     CTR_ENTITIES_LIMIT, LOG_LEVEL",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "WARNING") {
		t.Errorf("status warns about a complete deployment:\n%s", got)
	}

	const secret = "do-not-print-me-0123456789"
	if _, err := c.SetSecret(t.Context(), s, secret, false); err != nil {
		t.Fatal(err)
	}
	got = status()
	if !strings.Contains(got, "SECRET_KEY:      set\n") || strings.Contains(got, secret) ||
		!strings.Contains(got, "Serving:         version 2 (alias live)") || !regexp.MustCompile(`(?m)^Versions: +2 .*, set SECRET_KEY\n +1 .*, deploy$`).MatchString(got) {
		t.Errorf("status with the secret set:\n%s", got)
	}

	// Rolled back to version 1, the function serves no SECRET_KEY again.
	if _, err := c.Rollback(t.Context(), s, 1); err != nil {
		t.Fatal(err)
	}
	if got := status(); !strings.Contains(got, "SECRET_KEY:      NOT SET") || !strings.Contains(got, "Serving:         version 1 (alias live)") {
		t.Errorf("status after rollback:\n%s", got)
	}

	// Without a permission statement the URL answers 403, and status says so.
	fake.RemoveStatement(fnName, "live", "FunctionURLAllowInvokeAction")
	want := "WARNING:         the URL answers 403 Forbidden: its resource policy lacks FunctionURLAllowInvokeAction (lambda:InvokeFunction); `relayctl update dev` adds what is missing"
	if got := status(); !strings.Contains(got, want) {
		t.Errorf("status lacks %q:\n%s", want, got)
	}
}

// TestStatusListsNewestVersions publishes up to seven versions and checks
// that status lists the newest five, newest first, and still reads
// SECRET_KEY from the version the alias serves when that one is older.
func TestStatusListsNewestVersions(t *testing.T) {
	t.Parallel()
	versionLine := regexp.MustCompile(`(?m)^(?:Versions:)? +(\d+) \S+, sha256 `)
	tests := []struct {
		name       string
		published  int // version 1 is the deploy, 2 sets SECRET_KEY, the rest update the code
		rollback   int // how many versions the alias goes back afterwards
		wantListed []string
		wantServed string // the version the alias serves
		wantSecret string // the SECRET_KEY line's value
		wantOlder  string // the line that counts the versions not listed; "" for none
	}{
		{"five", 5, 0, []string{"5", "4", "3", "2", "1"}, "5", "set\n", ""},
		{"six", 6, 0, []string{"6", "5", "4", "3", "2"}, "6", "set\n", "1 older version not listed"},
		{"seven", 7, 0, []string{"7", "6", "5", "4", "3"}, "7", "set\n", "2 older versions not listed"},
		{"seven, serving one not listed", 7, 6, []string{"7", "6", "5", "4", "3"}, "1", "NOT SET", "2 older versions not listed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := settings(t, baseStage)
			fake, c, _ := setupDeployed(t, s)
			if _, err := c.SetSecret(t.Context(), s, "a-secret-key-of-the-test", false); err != nil {
				t.Fatal(err)
			}
			for v := 3; v <= tc.published; v++ {
				if _, err := c.Update(t.Context(), s, testZip(t, fmt.Sprint("v", v))); err != nil {
					t.Fatal(err)
				}
			}
			if tc.rollback > 0 {
				if _, err := c.Rollback(t.Context(), s, tc.rollback); err != nil {
					t.Fatal(err)
				}
			}
			if fn, _ := fake.Function(fnName); len(fn.Versions) != tc.published {
				t.Fatalf("the function has %d versions, want %d", len(fn.Versions), tc.published)
			}
			got := statusText(t, c, s)
			var listed []string
			for _, m := range versionLine.FindAllStringSubmatch(got, -1) {
				listed = append(listed, m[1])
			}
			if !slices.Equal(listed, tc.wantListed) || !strings.Contains(got, "Versions:        "+tc.wantListed[0]+" ") {
				t.Errorf("versions listed = %v, want %v:\n%s", listed, tc.wantListed, got)
			}
			for _, want := range []string{
				"\nServing:         version " + tc.wantServed + " (alias live)\n",
				"\nSECRET_KEY:      " + tc.wantSecret,
			} {
				if !strings.Contains(got, want) {
					t.Errorf("status lacks %q:\n%s", want, got)
				}
			}
			if older := strings.Contains(got, "older version"); older != (tc.wantOlder != "") || !strings.Contains(got, tc.wantOlder) {
				t.Errorf("status should say %q about older versions:\n%s", tc.wantOlder, got)
			}
		})
	}
}

// statusText is what `relayctl status` prints for s.
func statusText(t *testing.T, c *awsClient, s stage.Settings) string {
	t.Helper()
	var out bytes.Buffer
	if err := c.Status(t.Context(), s, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestStatusNotDeployed(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	err := c.Status(t.Context(), settings(t, baseStage), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "lambda:GetFunction: function tr-auth0-signals-relay-dev not found in us-east-1") {
		t.Errorf("Status = %v", err)
	}
}

func TestUndeploy(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	fake.AddPolicy("SignalsRelayExecutionBoundary")
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "x"), true); err != nil {
		t.Fatal(err)
	}
	start := len(fake.Calls())
	res, err := c.Undeploy(t.Context(), s, true)
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
	want := undeployResult{URLRemoved: true, FunctionRemoved: true, RoleRemoved: "tr-auth0-signals-relay-dev-role", LogsRemoved: true}
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}

	// Running it again finds nothing left to do.
	start = len(fake.Calls())
	res, err = c.Undeploy(t.Context(), s, false)
	if err != nil || res != (undeployResult{}) {
		t.Errorf("second Undeploy = %+v, %v", res, err)
	}
	checkOps(t, fake.Ops()[start:], []string{"lambda:GetFunction", "iam:GetRole"})
}

func TestUndeployKeepsForeignRole(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", map[string]string{"team": "secops"})
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "x"), false); err != nil {
		t.Fatal(err)
	}
	res, err := c.Undeploy(t.Context(), s, false)
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

// TestDeployInOtherPartitions deploys with --create-role in the China and
// GovCloud partitions: every ARN relayctl makes (the boundary, the role's
// log policy) names the caller's partition, so the partition's edition of
// the deployment policy allows each call.
func TestDeployInOtherPartitions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ partition, region string }{{"aws-cn", "cn-north-1"}, {"aws-us-gov", "us-gov-west-1"}} {
		t.Run(tc.partition, func(t *testing.T) {
			t.Parallel()
			fake, c, _ := setup(t)
			fake.SetPartition(tc.partition)
			boundary := fake.AddPolicy("SignalsRelayExecutionBoundary")
			s := settings(t, strings.Replace(baseStage, "us-east-1", tc.region, 1))
			if _, err := c.Deploy(t.Context(), s, testZip(t, "v1"), true); err != nil {
				t.Fatalf("Deploy: %v", err)
			}
			role, _ := fake.Role("tr-auth0-signals-relay-dev-role")
			if want := "arn:" + tc.partition + ":iam::123456789012:policy/SignalsRelayExecutionBoundary"; role.Boundary != want || boundary != want {
				t.Errorf("role boundary = %q, want %q", role.Boundary, want)
			}
			want := strings.ReplaceAll(executionPolicy(tc.region, fakeAccount, fnName), "arn:aws:", "arn:"+tc.partition+":")
			if got := jsonString(t, role.Policies["signals-relay-logs"]); !reflect.DeepEqual(got, jsonString(t, want)) {
				t.Errorf("role policy =\n%v\nwant\n%s", got, want)
			}
		})
	}
}
