package relayctl

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

func opErr(service, op string, err error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	api := func(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }
	tests := []struct {
		name    string
		profile string
		err     error
		want    string
	}{
		{"access denied", "serverless", opErr("IAM", "CreateRole", api("AccessDenied", "User is not authorized")),
			`iam:CreateRole: AWS denied iam:CreateRole to AWS profile "serverless" — allow iam:CreateRole by attaching deploy/iam/deployment-policy.json to the deploying user or role (see docs/aws.md) [AWS AccessDenied: User is not authorized]`},
		{"denied action named in the message", "", opErr("Lambda", "CreateFunction", api("AccessDeniedException",
			"User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/r because no identity-based policy allows the iam:PassRole action")),
			"lambda:CreateFunction: AWS denied iam:PassRole to the default AWS credentials (lambda:CreateFunction needs it) — allow iam:PassRole on the execution role by attaching deploy/iam/deployment-policy.json to the deploying user or role, with a role name pattern that matches the role (see docs/aws.md) " +
				"[AWS AccessDeniedException: User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/r because no identity-based policy allows the iam:PassRole action]"},
		{"denied by a boundary", "", opErr("IAM", "GetRole", api("AccessDenied",
			"User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:GetRole on resource: role r because no permissions boundary allows the iam:GetRole action")),
			"iam:GetRole: AWS denied iam:GetRole to the default AWS credentials — the permissions boundary of the deploying identity does not allow it; ask your AWS administrator " +
				"[AWS AccessDenied: User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:GetRole on resource: role r because no permissions boundary allows the iam:GetRole action]"},
		{"bad key", "serverless", opErr("Lambda", "GetFunction", api("UnrecognizedClientException", "The security token included in the request is invalid.")),
			`lambda:GetFunction: AWS rejected the credentials of AWS profile "serverless" — check the access key in ~/.aws/credentials, or run ` + "`aws configure --profile serverless` [AWS UnrecognizedClientException: The security token included in the request is invalid.]"},
		{"expired", "", opErr("CloudWatch Logs", "FilterLogEvents", api("ExpiredTokenException", "expired")),
			"logs:FilterLogEvents: the AWS session of the default AWS credentials has expired — sign in again (`aws sso login` for an SSO profile) or refresh the temporary credentials [AWS ExpiredTokenException: expired]"},
		{"no credentials", "serverless", opErr("Lambda", "GetFunction", fmt.Errorf("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found")),
			`no AWS credentials found (looked at profile "serverless" in ~/.aws/credentials and ~/.aws/config) — run ` + "`aws configure --profile serverless`, or change profile_name in the settings file"},
		{"wrong region", "", opErr("Lambda", "GetFunction", fmt.Errorf("send request: %w", &net.DNSError{Err: "no such host", Name: "lambda.us-esat-1.amazonaws.com"})),
			"lambda:GetFunction: cannot reach the AWS endpoint lambda.us-esat-1.amazonaws.com — check aws_region (us-east-1) in the settings file and your network"},
		{"throttled", "", opErr("Lambda", "UpdateFunctionCode", api("TooManyRequestsException", "Rate exceeded")),
			"lambda:UpdateFunctionCode: AWS throttled the call — wait a moment and run the command again [AWS TooManyRequestsException: Rate exceeded]"},
		{"other code, multi-line message", "", opErr("Lambda", "CreateFunction", api("InvalidParameterValueException", "Unzipped size must be smaller\nthan 262144000 bytes")),
			"lambda:CreateFunction: AWS refused the call [AWS InvalidParameterValueException: Unzipped size must be smaller than 262144000 bytes]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newAWSClient(aws.Config{Region: "us-east-1"})
			c.Profile = tc.profile
			got := c.Explain(tc.err)
			if got.Error() != tc.want {
				t.Errorf("Explain =\n%s\nwant\n%s", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Error("the explained error does not wrap the original")
			}
		})
	}
	c := newAWSClient(aws.Config{})
	if c.Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
	if err := c.Explain(fmt.Errorf("x: %w", context.Canceled)); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "—") {
		t.Errorf("Explain(canceled) = %v", err)
	}
}

func TestLoadConfigMissingProfile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	_, err := loadConfig(t.Context(), "us-east-1", "serverless")
	want := `AWS profile "serverless" not found in ~/.aws/config or ~/.aws/credentials — create it with ` + "`aws configure --profile serverless`"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("LoadConfig = %v\nwant prefix %s", err, want)
	}
	var notExist config.SharedConfigProfileNotExistError
	if !errors.As(err, &notExist) {
		t.Error("error does not wrap SharedConfigProfileNotExistError")
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	c := newAWSClient(aws.Config{Region: "us-east-1"})
	c.Profile = "serverless"
	cfg := aws.Config{Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no valid providers in chain")
	})}
	err := c.CheckCredentials(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), `no AWS credentials found (looked at profile "serverless"`) {
		t.Errorf("CheckCredentials = %v", err)
	}
}

// awsHome gives the SDK an empty home directory to find its configuration
// in (~/.aws/config, which the caller writes) and no credentials from the
// environment or the instance metadata service, and points it (every
// service and the SSO portal, AWS_ENDPOINT_URL) at the fake.
func awsHome(t *testing.T, fake *fakeAWS) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_ENDPOINT_URL", fake.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO", fake.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	return home
}

// ssoProfile writes an AWS config with profile "corp" signing in through
// SSO, and an SSO token cache holding token until expires (none when
// token is ""), and points the
// SDK (AWS_ENDPOINT_URL) at the fake, which plays the SSO portal.
func ssoProfile(t *testing.T, fake *fakeAWS, session bool, token string, expires time.Time) {
	t.Helper()
	home := awsHome(t, fake)
	const startURL = "https://corp.awsapps.com/start"
	cfg := "[profile corp]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Deployer\nregion = us-east-1\n"
	key := startURL
	if session {
		cfg = "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Deployer\nregion = us-east-1\n" +
			"[sso-session corp]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\n"
		key = "corp"
	}
	if err := os.WriteFile(filepath.Join(home, "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if token == "" { // `aws sso login` never ran: no cached token
		return
	}
	cache := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key))
	tok := fmt.Sprintf(`{"accessToken": %q, "expiresAt": %q, "region": "us-east-1", "startUrl": %q}`, token, expires.UTC().Format(time.RFC3339), startURL)
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSSOSessionExpired loads an SSO profile with the real SDK and checks
// that every way an SSO session ends reads "aws sso login --profile corp".
func TestSSOSessionExpired(t *testing.T) {
	const want = `the AWS SSO session of AWS profile "corp" has expired or was never started — run ` + "`aws sso login --profile corp`"
	for _, tc := range []struct {
		name    string
		session bool
		token   string
		expires time.Duration
		wantErr bool
		portal  bool // whether the SSO portal is asked
	}{
		{name: "cached token expired", token: "tok", expires: -time.Hour, wantErr: true},
		{name: "sso-session token expired", session: true, token: "tok", expires: -time.Hour, wantErr: true},
		{name: "never logged in", wantErr: true},
		{name: "sso-session never logged in", session: true, wantErr: true},
		{name: "portal refuses the token", token: "revoked", expires: time.Hour, wantErr: true, portal: true},
		{name: "valid session", token: "tok", expires: time.Hour, portal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeAWS(t)
			fake.SSOToken = "tok"
			ssoProfile(t, fake, tc.session, tc.token, time.Now().Add(tc.expires))
			cfg, err := loadConfig(t.Context(), "us-east-1", "corp")
			if err != nil {
				t.Fatal(err)
			}
			c := newAWSClient(cfg)
			c.Profile = "corp"
			err = c.CheckCredentials(t.Context(), cfg)
			if got := len(fake.CallsTo("sso:GetRoleCredentials")) > 0; got != tc.portal {
				t.Errorf("SSO portal asked: %v, want %v", got, tc.portal)
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("CheckCredentials = %v", err)
				}
				// The credentials the portal gave sign a real call.
				if err := c.Status(t.Context(), settings(t, baseStage), io.Discard); err == nil || !strings.Contains(err.Error(), "not found in us-east-1") {
					t.Errorf("Status with SSO credentials = %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("CheckCredentials =\n%v\nwant prefix\n%s", err, want)
			}
			// The same failure inside a call reads the same.
			err = c.Status(t.Context(), settings(t, baseStage), io.Discard)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Status =\n%v\nwant prefix\n%s", err, want)
			}
		})
	}
}

// TestCommandsCheckCredentialsFirst runs every command that talks to AWS
// without usable credentials: each stops at once with the one-line
// explanation, before it builds a package or calls Lambda, IAM, STS or
// CloudWatch Logs, and prints nothing (jwt --set-secret no SECRET_KEY it
// could not set).
func TestCommandsCheckCredentialsFirst(t *testing.T) {
	const noCredentials = `no AWS credentials found (looked at profile "serverless" in ~/.aws/credentials and ~/.aws/config) — ` +
		"run `aws configure --profile serverless`, or change profile_name in the settings file"
	sources := []struct {
		name  string
		setup func(t *testing.T, e *env)
		flags []string // added to every command
		want  string   // the error's beginning
	}{
		{name: "no credentials provider", want: noCredentials, setup: func(_ *testing.T, e *env) {
			e.config = func(context.Context, string, string) (aws.Config, error) {
				cfg := e.fake.Config()
				cfg.Credentials = nil
				return cfg, nil
			}
		}},
		{name: "profile without credentials", want: noCredentials, setup: func(t *testing.T, e *env) {
			home := awsHome(t, e.fake)
			if err := os.WriteFile(filepath.Join(home, "config"), []byte("[profile serverless]\nregion = us-east-1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			e.config = loadConfig
		}},
		{name: "SSO session revoked", flags: []string{"--profile", "corp"},
			want: `the AWS SSO session of AWS profile "corp" has expired or was never started — run ` + "`aws sso login --profile corp`",
			setup: func(t *testing.T, e *env) {
				e.fake.SSOToken = "tok"
				ssoProfile(t, e.fake, false, "revoked", time.Now().Add(time.Hour))
				e.config = loadConfig
			}},
	}
	commands := [][]string{
		{"status", "dev"},
		{"deploy", "dev"},
		{"update", "dev"},
		{"rollback", "dev"},
		{"invoke", "dev"},
		{"tail", "dev"},
		{"undeploy", "dev", "--yes"},
		{"jwt", "dev", "--set-secret"},
	}
	for _, src := range sources {
		for _, cmd := range commands {
			args := append(slices.Clone(cmd), src.flags...)
			t.Run(src.name+"/"+cmd[0], func(t *testing.T) {
				e := newEnv(t)
				e.vars["JWT"] = "header.payload.signature"
				src.setup(t, e)
				out, errOut, err := e.run("an-api-key\n", args...)
				if err == nil || !strings.HasPrefix(err.Error(), src.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("relayctl %s = %v\nwant one line beginning\n%s", strings.Join(args, " "), err, src.want)
				}
				for _, op := range e.fake.Ops() {
					if !strings.HasPrefix(op, "sso:") {
						t.Errorf("called %s without credentials", op)
					}
				}
				if len(e.builds) != 0 || strings.Contains(errOut, "Building") {
					t.Errorf("built a package without credentials:\n%s", errOut)
				}
				if strings.Contains(errOut, "API Key") {
					t.Errorf("asked for the module's credentials before checking AWS's:\n%s", errOut)
				}
				if out != "" {
					t.Errorf("printed %q", out)
				}
			})
		}
	}
}
