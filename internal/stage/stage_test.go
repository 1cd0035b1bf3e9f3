package stage_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/stage"
)

func parseOne(t *testing.T, body string) (stage.Settings, error) {
	t.Helper()
	f, err := stage.Parse("relay_settings.json", []byte(`{"dev": `+body+`}`))
	if err != nil {
		return stage.Settings{}, err
	}
	return f.Stage("dev")
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := parseOne(t, `{"aws_region": "us-east-1", "project_name": "tr-auth0-signals-relay"}`)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"FunctionName", s.FunctionName(), "tr-auth0-signals-relay-dev"},
		{"DefaultRoleName", s.DefaultRoleName(), "tr-auth0-signals-relay-dev-role"},
		{"LogGroup", s.LogGroup(), "/aws/lambda/tr-auth0-signals-relay-dev"},
		{"MemoryMB", s.MemoryMB, int32(128)},
		{"TimeoutSeconds", s.TimeoutSeconds, int32(30)},
		{"GOARCH", s.GOARCH(), "arm64"},
		{"LambdaArchitecture", s.LambdaArchitecture(), "arm64"},
		{"LogRetentionDays", s.LogRetentionDays, int32(30)},
		{"KeepVersions", s.KeepVersions, 10},
		{"ModuleLinkTemplate", s.ModuleLinkTemplate, stage.DefaultModuleLinkTemplate},
		{"Profile", s.Profile, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	s, err := parseOne(t, `{"aws_region": "eu-west-1", "function_name": "relay", "role_arn": "arn:aws:iam::123456789012:role/relay-exec",
		"memory_size": 256, "timeout_seconds": 60, "architecture": "x86_64", "log_retention_days": 7,
		"num_retained_versions": 3, "aws_environment_variables": {"LOG_LEVEL": "debug"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if s.FunctionName() != "relay" || s.GOARCH() != "amd64" || s.LambdaArchitecture() != "x86_64" ||
		s.MemoryMB != 256 || s.TimeoutSeconds != 60 || s.LogRetentionDays != 7 || s.KeepVersions != 3 || s.Environment["LOG_LEVEL"] != "debug" {
		t.Errorf("settings = %+v", s)
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"missing region", `{"project_name": "p"}`, `stage "dev": aws_region: required`},
		{"bad region", `{"aws_region": "useast1", "project_name": "p"}`, `aws_region: "useast1" is not an AWS region name`},
		{"no name", `{"aws_region": "us-east-1"}`, `project_name: required unless function_name is set`},
		{"bad function name", `{"aws_region": "us-east-1", "function_name": "my relay"}`, `function_name: "my relay" is not a valid Lambda function name`},
		{"both roles", `{"aws_region": "us-east-1", "project_name": "p", "role_name": "r", "role_arn": "arn:aws:iam::123456789012:role/r"}`, `role_name, role_arn: set one or the other`},
		{"bad role arn", `{"aws_region": "us-east-1", "project_name": "p", "role_arn": "r"}`, `role_arn: "r" is not an IAM role ARN`},
		{"memory", `{"aws_region": "us-east-1", "project_name": "p", "memory_size": 64}`, `memory_size: 64 MB is outside 128–10240`},
		{"timeout", `{"aws_region": "us-east-1", "project_name": "p", "timeout_seconds": 901}`, `timeout_seconds: 901 is outside 1–900`},
		{"arch", `{"aws_region": "us-east-1", "project_name": "p", "architecture": "riscv64"}`, `architecture: "riscv64" is not arm64 or amd64`},
		{"retention", `{"aws_region": "us-east-1", "project_name": "p", "log_retention_days": 10}`, `log_retention_days: 10 is not one CloudWatch Logs accepts`},
		{"versions", `{"aws_region": "us-east-1", "project_name": "p", "num_retained_versions": 101}`, `num_retained_versions: 101 is outside 1–100`},
		{"no versions", `{"aws_region": "us-east-1", "project_name": "p", "num_retained_versions": -1}`, `num_retained_versions: -1 is outside 1–100`},
		{"secret in file", `{"aws_region": "us-east-1", "project_name": "p", "aws_environment_variables": {"SECRET_KEY": "x"}}`, "aws_environment_variables.SECRET_KEY: keep the secret out of the settings file; run `relayctl jwt dev --set-secret`"},
		{"reserved env", `{"aws_region": "us-east-1", "project_name": "p", "aws_environment_variables": {"AWS_REGION": "x"}}`, `aws_environment_variables.AWS_REGION: reserved by Lambda`},
		{"bad env name", `{"aws_region": "us-east-1", "project_name": "p", "aws_environment_variables": {"1X": "x"}}`, `aws_environment_variables.1X: not a valid variable name`},
		{"unknown field", `{"aws_region": "us-east-1", "project_name": "p", "s3_bucket": "zappa-x"}`, `stage "dev": unknown field "s3_bucket"`},
		{"wrong type", `{"aws_region": "us-east-1", "project_name": "p", "memory_size": "big"}`, `memory_size: must be a whole number, not string`},
		{"env wrong type", `{"aws_region": "us-east-1", "project_name": "p", "aws_environment_variables": {"N": 5}}`, `aws_environment_variables.N: must be a string, not number`},
		{"not an object", `[]`, `stage "dev": must be a JSON object, not array`},
		{"link template", `{"aws_region": "us-east-1", "project_name": "p", "module_link_template": "http://x/{region}"}`, `module_link_template: "http://x/{region}" lacks {module_type_id}`},
		{"link template scheme", `{"aws_region": "us-east-1", "project_name": "p", "module_link_template": "http://x/{module_type_id}"}`, `module_link_template: "http://x/{module_type_id}" is not an https URL template`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseOne(t, tc.body)
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "relay_settings.json: ") {
				t.Errorf("error = %q, want it to name the file", err)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	t.Parallel()
	if _, err := stage.Parse("s.json", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "no stages defined") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := stage.Parse("s.json", []byte(`nope`)); err == nil || !strings.Contains(err.Error(), "not a JSON object of stages") {
		t.Errorf("bad JSON: %v", err)
	}
	f, err := stage.Parse("s.json", []byte(`{"dev": {"aws_region": "us-east-1", "project_name": "p"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stage("prod"); err == nil || !strings.Contains(err.Error(), `no stage "prod" (stages: dev)`) {
		t.Errorf("missing stage: %v", err)
	}
	if _, err := stage.Load(t.TempDir() + "/none.json"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing file: %v", err)
	}
}

func TestConsoleEnvironmentURL(t *testing.T) {
	t.Parallel()
	s, err := parseOne(t, `{"aws_region": "eu-west-1", "project_name": "tr-auth0-signals-relay"}`)
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://console.aws.amazon.com/lambda/home?region=eu-west-1#/functions/tr-auth0-signals-relay-dev/edit/environment-variables?tab=configuration"
	if got := s.ConsoleEnvironmentURL(); got != want {
		t.Errorf("ConsoleEnvironmentURL = %s\nwant %s", got, want)
	}
	if _, err := url.Parse(s.ConsoleEnvironmentURL()); err != nil {
		t.Error(err)
	}
}

// The example shipped in deploy/ must stay valid.
func TestShippedExample(t *testing.T) {
	t.Parallel()
	f, err := stage.Load("../../deploy/relay_settings.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Stage("dev")
	if err != nil {
		t.Fatal(err)
	}
	if s.FunctionName() != "tr-auth0-signals-relay-dev" || s.Region != "us-east-1" || s.Profile != "serverless" {
		t.Errorf("dev stage = %+v", s)
	}
}
