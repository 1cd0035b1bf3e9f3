package relayctl

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/jwtgen"
	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/xdrregion"
)

const settingsJSON = `{
  "dev": {
    "profile_name": "serverless",
    "aws_region": "us-east-1",
    "project_name": "tr-auth0-signals-relay",
    "role_name": "tr-auth0-signals-relay-dev-role",
    "log_retention_days": 14,
    "aws_environment_variables": {"LOG_LEVEL": "info"}
  },
  "x86": {
    "aws_region": "eu-west-1",
    "function_name": "relay-x86",
    "architecture": "amd64",
    "module_link_template": "https://xdr.example.com/{region}/modules/{module_type_id}/new"
  }
}`

// env is one relayctl invocation's surroundings.
type env struct {
	t        *testing.T
	fake     *fakeAWS
	settings string
	dir      string
	// profiles records the profile each AWS configuration was loaded for.
	mu       sync.Mutex
	profiles []string
	builds   []pack.BuildOptions
	// vars are the environment variables relayctl sees besides
	// RELAYCTL_SETTINGS.
	vars map[string]string
	// config, when set, loads the AWS configuration instead of handing
	// out the fake's, which has working credentials.
	config func(ctx context.Context, region, profile string) (aws.Config, error)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "relay_settings.json")
	if err := os.WriteFile(path, []byte(settingsJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := newFakeAWS(t)
	fake.AddPolicy("SignalsRelayExecutionBoundary")
	return &env{t: t, fake: fake, settings: path, dir: dir, vars: map[string]string{}}
}

// run runs relayctl with args and stdin, returning stdout and stderr.
func (e *env) run(stdin string, args ...string) (string, string, error) {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{
		getenv: func(k string) string {
			if k == "RELAYCTL_SETTINGS" {
				return e.settings
			}
			return e.vars[k]
		},
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		awsConfig: func(ctx context.Context, region, profile string) (aws.Config, error) {
			e.mu.Lock()
			e.profiles = append(e.profiles, profile)
			e.mu.Unlock()
			if e.config != nil {
				return e.config(ctx, region, profile)
			}
			return e.fake.Config(), nil
		},
		build:      e.build,
		terminal:   func(io.Reader) (func() (string, error), bool) { return nil, false },
		poll:       time.Millisecond,
		httpClient: e.fake.HTTPClient(),
	}
	err := a.run(e.t.Context(), args)
	return stdout.String(), stderr.String(), err
}

// build compiles the stand-in relay in internal/pack/testdata with the
// real packaging flags, instead of the relay itself.
func (e *env) build(ctx context.Context, o pack.BuildOptions) ([]byte, error) {
	e.mu.Lock()
	e.builds = append(e.builds, o)
	e.mu.Unlock()
	o.Dir = "../.."
	o.Package = "./internal/pack/testdata/hello"
	o.Stderr = nil
	return pack.Build(ctx, o)
}

func (e *env) mustRun(stdin string, args ...string) (string, string) {
	e.t.Helper()
	out, errOut, err := e.run(stdin, args...)
	if err != nil {
		e.t.Fatalf("relayctl %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

var (
	secretLine = regexp.MustCompile(`(?m)^SECRET_KEY: ([A-Za-z0-9]+)$`)
	jwtLine    = regexp.MustCompile(`(?m)^JWT: +(\S+)$`)
	linkLine   = regexp.MustCompile(`(?m)^   (us|eu|apjc): +(\S+)$`)
	urlLine    = regexp.MustCompile(`(?m)^URL: (\S+)$`)
)

// jwtOutput is the parsed output of relayctl jwt.
type jwtOutput struct {
	secret, token, console string
	links                  map[string]string
}

func parseJWTOutput(t *testing.T, out string) jwtOutput {
	t.Helper()
	var o jwtOutput
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no SECRET_KEY line in:\n%s", out)
	}
	o.secret = m[1]
	if m = jwtLine.FindStringSubmatch(out); m == nil {
		t.Fatalf("no JWT line in:\n%s", out)
	}
	o.token = m[1]
	for _, l := range strings.Split(out, "\n") {
		if u := strings.TrimSpace(l); strings.HasPrefix(u, "https://console.aws.amazon.com/") {
			o.console = u
		}
	}
	o.links = map[string]string{}
	for _, m := range linkLine.FindAllStringSubmatch(out, -1) {
		o.links[m[1]] = m[2]
	}
	return o
}

// checkJWT verifies the printed JWT with the printed secret and checks it
// carries exactly the entered fields, and that every link is well formed.
func checkJWT(t *testing.T, o jwtOutput, apiKey, region, function string, linkHosts map[string]string) {
	t.Helper()
	if len(o.secret) != jwtgen.SecretLength {
		t.Errorf("SECRET_KEY has %d characters, want %d", len(o.secret), jwtgen.SecretLength)
	}
	creds, err := auth.ParseHS256(o.token, []byte(o.secret))
	if err != nil {
		t.Fatalf("the printed JWT does not verify with the printed SECRET_KEY: %v", err)
	}
	if creds.APIKey != apiKey {
		t.Errorf("JWT key = %q, want %q", creds.APIKey, apiKey)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(o.token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"key": apiKey}; len(claims) != 1 || claims["key"] != apiKey {
		t.Errorf("JWT claims = %v, want exactly %v", claims, want)
	}

	u, err := url.Parse(o.console)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "console.aws.amazon.com" || u.Path != "/lambda/home" ||
		u.Query().Get("region") != region ||
		u.Fragment != "/functions/"+function+"/edit/environment-variables?tab=configuration" {
		t.Errorf("console link = %s", o.console)
	}

	ids := map[string]string{}
	for _, r := range xdrregion.All() {
		ids[r.Name] = r.ModuleTypeID
	}
	if len(o.links) != 3 {
		t.Fatalf("module links = %v, want us, eu and apjc", o.links)
	}
	for region, link := range o.links {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "https" || u.Host != linkHosts[region] || !strings.Contains(u.Path, "/"+ids[region]+"/") {
			t.Errorf("%s module link = %s (want host %s, id %s)", region, link, linkHosts[region], ids[region])
		}
	}
}

var defaultLinkHosts = map[string]string{
	"us":   "securex.us.security.cisco.com",
	"eu":   "securex.eu.security.cisco.com",
	"apjc": "securex.apjc.security.cisco.com",
}

// TestJourney runs the README's workflow against the fake AWS endpoint:
// package, deploy, status, jwt --set-secret, status, update, tail,
// undeploy.
func TestJourney(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var secretsSeen []string
	var allOutput strings.Builder
	keep := func(out, errOut string) { allOutput.WriteString(out + errOut) }

	// package, twice: the same source gives the same zip.
	zipA, zipB := filepath.Join(e.dir, "a.zip"), filepath.Join(e.dir, "b.zip")
	out, errOut := e.mustRun("", "package", "dev", "-o", zipA, "--relay-version", "2.0.0-test")
	keep(out, errOut)
	e.mustRun("", "package", "dev", "-o", zipB, "--relay-version", "2.0.0-test")
	a, _ := os.ReadFile(zipA)
	b, _ := os.ReadFile(zipB)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("two packages of the same source differ")
	}
	if !strings.Contains(out, zipA) || !strings.Contains(out, "CodeSha256 "+pack.CodeSHA256(a)) {
		t.Errorf("package output = %q", out)
	}
	if !strings.Contains(errOut, "Building bootstrap 2.0.0-test for linux/arm64") || !strings.Contains(errOut, "Packaged: bootstrap") {
		t.Errorf("package progress = %q", errOut)
	}
	boot, err := pack.ReadBootstrap(a)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := elf.NewFile(bytes.NewReader(boot)); err != nil || f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is not linux/arm64: %v", err)
	}
	if got := e.builds[0]; got.GOARCH != "arm64" || got.Version != "2.0.0-test" || got.Dir != "." {
		t.Errorf("build options = %+v", got)
	}
	if len(e.fake.Calls()) != 0 {
		t.Error("package called AWS")
	}

	// deploy from the package.
	out, errOut = e.mustRun("", "deploy", "dev", "--create-role", "--zip", zipA)
	keep(out, errOut)
	m := urlLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("deploy printed no URL:\n%s", out)
	}
	fnURL := m[1]
	fn, ok := e.fake.Function(fnName)
	if !ok || fn.URLs["live"].URL != fnURL || !bytes.Equal(fn.Zip, a) || fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" ||
		!slices.Equal(fn.Architectures, []string{"arm64"}) {
		t.Fatalf("deployed function = %+v (ok %v)", fn, ok)
	}
	if !strings.Contains(out, "relayctl jwt dev --set-secret") {
		t.Errorf("deploy does not say what comes next:\n%s", out)
	}

	out, errOut = e.mustRun("", "status", "dev")
	keep(out, errOut)
	if !strings.Contains(out, "SECRET_KEY:      NOT SET") || !strings.Contains(out, fnURL) {
		t.Errorf("status before jwt:\n%s", out)
	}

	// jwt --set-secret, answering the prompt on standard input.
	out, errOut = e.mustRun("my-auth0-api-key\n", "jwt", "dev", "--set-secret")
	jwtOut := parseJWTOutput(t, out)
	secretsSeen = append(secretsSeen, jwtOut.secret)
	checkJWT(t, jwtOut, "my-auth0-api-key", "us-east-1", fnName, defaultLinkHosts)
	if !strings.Contains(errOut, "Auth0 Signals API Key: ") {
		t.Errorf("jwt did not prompt for the key: %q", errOut)
	}
	if strings.Contains(errOut, jwtOut.secret) {
		t.Error("jwt progress output contains SECRET_KEY")
	}
	if !strings.Contains(out, "SECRET_KEY is set on "+fnName) || !strings.Contains(out, "URL:  "+fnURL) {
		t.Errorf("jwt --set-secret output:\n%s", out)
	}
	fn, _ = e.fake.Function(fnName)
	if want := map[string]string{"LOG_LEVEL": "info", "SECRET_KEY": jwtOut.secret}; !maps.Equal(fn.Env, want) {
		t.Errorf("function environment = %v, want %v", fn.Env, want)
	}

	out, errOut = e.mustRun("", "status", "dev")
	keep(out, errOut)
	if !strings.Contains(out, "SECRET_KEY:      set\n") {
		t.Errorf("status after jwt --set-secret:\n%s", out)
	}

	// update builds a new package; the URL and SECRET_KEY stay.
	out, errOut = e.mustRun("", "update", "dev", "--relay-version", "2.0.1-test")
	keep(out, errOut)
	if !strings.Contains(out, "Updated "+fnName+" in us-east-1: version 3 (alias live)") || !strings.Contains(out, "URL: "+fnURL) || strings.Contains(out, "Repaired") {
		t.Errorf("update output:\n%s", out)
	}
	fn, _ = e.fake.Function(fnName)
	if fn.URLs["live"].URL != fnURL || fn.Env["SECRET_KEY"] != jwtOut.secret || bytes.Equal(fn.Zip, a) {
		t.Errorf("after update: URLs %v, SECRET_KEY kept %v, code replaced %v", fn.URLs, fn.Env["SECRET_KEY"] == jwtOut.secret, !bytes.Equal(fn.Zip, a))
	}

	// invoke calls the URL with the JWT from $JWT, as XDR would; the
	// stand-in function accepts only a JWT signed with its SECRET_KEY.
	e.fake.FunctionHandler = relayStandIn(t, e.fake)
	e.vars["JWT"] = jwtOut.token
	out, errOut = e.mustRun("", "invoke", "dev")
	keep(out, errOut)
	if out != "{\n  \"data\": {\n    \"status\": \"ok\"\n  }\n}\n" || !strings.Contains(errOut, "POST "+fnURL+"health → 200 OK") {
		t.Errorf("invoke: stdout\n%s\nstderr\n%s", out, errOut)
	}
	if strings.Contains(out+errOut, jwtOut.token) {
		t.Error("invoke printed the JWT")
	}

	// rollback moves the alias back to version 2 (the one with SECRET_KEY
	// and the first package).
	out, errOut = e.mustRun("", "rollback", "dev")
	keep(out, errOut)
	if out != fnName+" now serves version 2 (was 3).\n" {
		t.Errorf("rollback output: %q", out)
	}
	if out, _ := e.mustRun("", "status", "dev"); !strings.Contains(out, "Serving:         version 2 (alias live)\nNote:            rolled back: live serves 2, $LATEST has newer code from version 3;") {
		t.Errorf("status after rollback:\n%s", out)
	}

	// jwt --set-secret --roll-forward publishes $LATEST, the newer code.
	out, errOut = e.mustRun("my-auth0-api-key\n", "jwt", "dev", "--set-secret", "--roll-forward")
	secretsSeen = append(secretsSeen, parseJWTOutput(t, out).secret)
	if now, _ := e.fake.Function(fnName); !strings.Contains(errOut, "Rolling forward: rolled back: live serves 2, $LATEST has newer code from version 3;") ||
		now.Aliases["live"].Version != "4" || !bytes.Equal(now.Versions[len(now.Versions)-1].Config.Zip, fn.Zip) {
		t.Errorf("jwt --set-secret --roll-forward: alias %v\n%s", now.Aliases, errOut)
	}
	// Rolled back again, jwt --set-secret keeps serving the first package.
	e.mustRun("", "rollback", "dev", "-n", "2")
	out, errOut = e.mustRun("my-auth0-api-key\n", "jwt", "dev", "--set-secret")
	secretsSeen = append(secretsSeen, parseJWTOutput(t, out).secret)
	if now, _ := e.fake.Function(fnName); !strings.Contains(errOut, "putting version 2's code") ||
		now.Aliases["live"].Version != "5" || !bytes.Equal(now.Zip, a) || !bytes.Equal(now.Versions[len(now.Versions)-1].Config.Zip, a) {
		t.Errorf("jwt --set-secret after rollback: alias %v, first package served %v\n%s", now.Aliases, bytes.Equal(now.Zip, a), errOut)
	}
	if out, _ := e.mustRun("", "status", "dev"); strings.Contains(out, "rolled back") || !strings.Contains(out, "Serving:         version 5 (alias live)") {
		t.Errorf("status after jwt --set-secret:\n%s", out)
	}
	if boot, _ := pack.ReadBootstrap(fn.Zip); !bytes.Contains(boot, []byte("2.0.1-test")) {
		t.Error("updated code does not carry the new version")
	}

	// tail --http shows the relay's request lines only.
	now := time.Now()
	e.fake.AddLogEvents("/aws/lambda/"+fnName,
		logEvent{Timestamp: now.Add(-time.Minute).UnixMilli(), Message: "START RequestId: r1 Version: $LATEST\n"},
		logEvent{Timestamp: now.Add(-time.Minute).UnixMilli() + 3, Message: `{"time":"t","level":"INFO","msg":"request","request_id":"r1","method":"POST","route":"/observe/observables","status":200,"duration_ms":41.5,"observables":1}` + "\n"},
		logEvent{Timestamp: now.Add(-time.Minute).UnixMilli() + 9, Message: "REPORT RequestId: r1\tDuration: 44.1 ms\n"},
	)
	out, errOut = e.mustRun("", "tail", "dev", "--http", "--since", "5m")
	keep(out, errOut)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 ||
		!strings.HasSuffix(lines[0], " 200 POST /observe/observables 41.5ms observables=1 request_id=r1") {
		t.Errorf("tail --http output:\n%s", out)
	}
	out, _ = e.mustRun("", "tail", "dev")
	if !strings.Contains(out, "START RequestId: r1") || !strings.Contains(out, "REPORT RequestId: r1") {
		t.Errorf("tail output:\n%s", out)
	}

	// undeploy asks first; "n" or no answer removes nothing.
	before := len(e.fake.Calls())
	if _, errOut, err := e.run("n\n", "undeploy", "dev"); err == nil || !strings.Contains(err.Error(), "nothing was removed") || !strings.Contains(errOut, "Are you sure? [y/N]") {
		t.Errorf("undeploy answered n: %v\n%s", err, errOut)
	}
	if _, _, err := e.run("", "undeploy", "dev"); err == nil || !strings.Contains(err.Error(), "pass --yes") {
		t.Errorf("undeploy without an answer: %v", err)
	}
	if len(e.fake.Calls()) != before {
		t.Error("undeploy called AWS before it was confirmed")
	}
	out, errOut = e.mustRun("y\n", "undeploy", "dev", "--remove-logs")
	keep(out, errOut)
	if !strings.Contains(out, "Undeployed "+fnName) {
		t.Errorf("undeploy output:\n%s", out)
	}
	if _, ok := e.fake.Function(fnName); ok {
		t.Error("function still exists")
	}
	if _, ok := e.fake.Role("tr-auth0-signals-relay-dev-role"); ok {
		t.Error("the role relayctl made still exists")
	}

	// Nothing but the jwt command ever printed the secret.
	for _, s := range secretsSeen {
		if strings.Contains(allOutput.String(), s) {
			t.Error("SECRET_KEY appeared in the output of a command other than jwt")
		}
	}
	for _, p := range e.profiles {
		if p != "serverless" {
			t.Errorf("AWS configuration loaded for profile %q, want the stage's serverless", p)
		}
	}

	checkPolicyCovers(t, e.fake.Ops())
}

// checkPolicyCovers fails when relayctl called an action the shipped
// deployment policy does not allow.
func checkPolicyCovers(t *testing.T, ops []string) {
	t.Helper()
	var policy struct {
		Statement []struct {
			Action any `json:"Action"`
		} `json:"Statement"`
	}
	b, err := os.ReadFile("../../deploy/iam/deployment-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &policy); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, st := range policy.Statement {
		switch a := st.Action.(type) {
		case string:
			allowed[a] = true
		case []any:
			for _, x := range a {
				allowed[x.(string)] = true
			}
		}
	}
	// Implied by the calls: tags on CreateFunction and CreateRole, passing
	// the role to Lambda, and the tags GetFunction returns (ListTags is
	// called only when they are missing).
	implied := []string{"lambda:TagResource", "iam:TagRole", "iam:PassRole", "lambda:ListTags"}
	for _, implied := range implied {
		if !allowed[implied] {
			t.Errorf("deployment policy lacks %s", implied)
		}
	}
	used := map[string]bool{}
	for _, op := range ops {
		used[op] = true
		if !allowed[op] && op != "sts:GetCallerIdentity" { // needs no permission
			t.Errorf("relayctl called %s, which deploy/iam/deployment-policy.json does not allow", op)
		}
	}
	for a := range allowed {
		if !used[a] && !slices.Contains(implied, a) {
			t.Errorf("deployment policy allows %s, which relayctl never calls", a)
		}
	}
}

func TestJWTFromFileWithoutAWS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	creds := filepath.Join(e.dir, "credentials.json")
	if err := os.WriteFile(creds, []byte(`{"key": "key-from-file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := e.mustRun("", "jwt", "x86", "-f", creds)
	o := parseJWTOutput(t, out)
	checkJWT(t, o, "key-from-file", "eu-west-1", "relay-x86", map[string]string{
		"us": "xdr.example.com", "eu": "xdr.example.com", "apjc": "xdr.example.com",
	})
	if !strings.Contains(out, "relayctl jwt x86 --set-secret") {
		t.Errorf("output does not tell how to set the secret:\n%s", out)
	}
	if len(e.fake.Calls()) != 0 || len(e.profiles) != 0 {
		t.Error("jwt without --set-secret touched AWS")
	}

	// Two runs never share a secret.
	out2, _ := e.mustRun("", "jwt", "x86", "-f", creds)
	if parseJWTOutput(t, out2).secret == o.secret {
		t.Error("two runs printed the same SECRET_KEY")
	}

	// The link template flag wins over the stage's.
	out3, _ := e.mustRun("", "jwt", "x86", "-f", creds, "--module-link-template", "https://ui.example.net/{module_type_id}/{region}")
	if o3 := parseJWTOutput(t, out3); o3.links["apjc"] != "https://ui.example.net/f73afdc1-c3b2-4c2c-a12a-c76093b79c19/apjc" {
		t.Errorf("links = %v", o3.links)
	}
}

func TestJWTHiddenInputOnTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var stdout, stderr bytes.Buffer
	asked := 0
	a := &app{
		getenv: func(string) string { return e.settings },
		stdin:  strings.NewReader("typed-in-the-clear\n"),
		stdout: &stdout, stderr: &stderr,
		terminal: func(io.Reader) (func() (string, error), bool) {
			return func() (string, error) { asked++; return "hidden-key", nil }, true
		},
	}
	if err := a.run(t.Context(), []string{"jwt", "dev"}); err != nil {
		t.Fatal(err)
	}
	if asked != 1 {
		t.Errorf("hidden reader used %d times, want 1", asked)
	}
	o := parseJWTOutput(t, stdout.String())
	checkJWT(t, o, "hidden-key", "us-east-1", fnName, defaultLinkHosts)
	if strings.Contains(stderr.String(), "hidden-key") {
		t.Error("the hidden answer was echoed")
	}
}

func TestJWTErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := filepath.Join(e.dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"key": "k", "extra": "x"}`), 0o600)
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"extra field", "", []string{"jwt", "dev", "-f", bad}, `bad.json: unknown field "extra"`},
		{"no input", "", []string{"jwt", "dev"}, "no value entered for Auth0 Signals API Key"},
		{"bad template", "", []string{"jwt", "dev", "--module-link-template", "ftp://x"}, "--module-link-template"},
		{"set secret without function", "k\n", []string{"jwt", "dev", "--set-secret"}, "function tr-auth0-signals-relay-dev not found in us-east-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := e.run(tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
			if secretLine.MatchString(out) {
				t.Error("a SECRET_KEY was printed although the command failed")
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	otherArch := filepath.Join(e.dir, "amd64.zip")
	e.mustRun("", "package", "x86", "-o", otherArch)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, flag.ErrHelp.Error()},
		{"unknown command", []string{"frobnicate", "dev"}, `unknown command "frobnicate"`},
		{"rollback zero", []string{"rollback", "dev", "-n", "0"}, "rollback: -n 0: want 1 or more"},
		{"roll-forward alone", []string{"jwt", "dev", "--roll-forward"}, "--roll-forward goes with --set-secret"},
		{"http and non-http", []string{"tail", "dev", "--http", "--non-http"}, "--http and --non-http exclude each other"},
		{"missing stage", []string{"status"}, "missing STAGE"},
		{"two stages", []string{"status", "dev", "prod"}, "unexpected arguments prod"},
		{"unknown stage", []string{"status", "prod"}, `no stage "prod" (stages: dev, x86)`},
		{"missing settings", []string{"status", "dev", "--settings", filepath.Join(e.dir, "none.json")}, "not found: copy deploy/relay_settings.json"},
		{"bad flag", []string{"tail", "dev", "--since", "ten"}, "invalid value"},
		{"zip for another architecture", []string{"deploy", "dev", "--zip", otherArch}, "bootstrap is built for EM_X86_64, but the stage's architecture is arm64"},
		{"not a package", []string{"update", "dev", "--zip", e.settings}, "not a zip file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.run("", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("relayctl %v = %v, want %q", tc.args, err, tc.want)
			}
		})
	}
	if ops := e.fake.Ops(); slices.Contains(ops, "lambda:CreateFunction") || slices.Contains(ops, "lambda:UpdateFunctionCode") {
		t.Errorf("a rejected package was uploaded: %v", ops)
	}
}

// TestPackageSizeLimit runs deploy and update with a package of exactly
// Lambda's direct-upload limit and with one a byte larger, on a stage
// where AWS stops the command before it uploads anything: the first goes
// on to AWS, the second is refused before any call. (Uploading 50 MB
// through the SDK and the fake takes seconds and gigabytes under the race
// detector, so neither package is uploaded.)
func TestPackageSizeLimit(t *testing.T) {
	t.Parallel()
	atLimit := sizedPackage(t, pack.MaxDirectUpload)
	overLimit := sizedPackage(t, pack.MaxDirectUpload+1)
	const tooLarge = "the package is 52428801 bytes; Lambda takes at most 52428800 bytes uploaded directly"
	tests := []struct {
		cmd, zip string
		wantErr  string   // the error's beginning
		wantOps  []string // the calls made
	}{
		{"update", atLimit, "lambda:GetFunctionConfiguration: function tr-auth0-signals-relay-dev not found in us-east-1", []string{"lambda:GetFunctionConfiguration"}},
		{"update", overLimit, tooLarge, nil},
		{"deploy", atLimit, "iam:GetRole: execution role tr-auth0-signals-relay-dev-role not found", []string{"lambda:GetFunction", "iam:GetRole"}},
		{"deploy", overLimit, tooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.cmd+" "+filepath.Base(tc.zip), func(t *testing.T) {
			e := newEnv(t)
			_, _, err := e.run("", tc.cmd, "dev", "--zip", tc.zip)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("relayctl %s = %v\nwant %s", tc.cmd, err, tc.wantErr)
			}
			if ops := e.fake.Ops(); !slices.Equal(ops, tc.wantOps) {
				t.Errorf("calls = %v, want %v", ops, tc.wantOps)
			}
		})
	}
}

// sizedPackage writes a package for arm64 of exactly size bytes into a
// temporary directory and returns its path: a bootstrap that is only an
// ELF header, and a stored file of zeros that fills the rest.
func sizedPackage(t *testing.T, size int64) string {
	t.Helper()
	var header bytes.Buffer
	if err := binary.Write(&header, binary.LittleEndian, elf.Header64{
		Ident:   [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_EXEC),
		Machine: uint16(elf.EM_AARCH64),
		Version: uint32(elf.EV_CURRENT),
		Ehsize:  64,
	}); err != nil {
		t.Fatal(err)
	}
	write := func(w io.Writer, padding int64) {
		t.Helper()
		zw := zip.NewWriter(w)
		boot := &zip.FileHeader{Name: "bootstrap", Method: zip.Store}
		boot.SetMode(0o755)
		f, err := zw.CreateHeader(boot)
		if err == nil {
			_, err = f.Write(header.Bytes())
		}
		if err == nil {
			f, err = zw.CreateHeader(&zip.FileHeader{Name: "padding", Method: zip.Store})
		}
		if err == nil {
			_, err = io.CopyN(f, zeros{}, padding)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// The zip's own structure takes the same room whatever the padding.
	var overhead countingWriter
	write(&overhead, 0)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("%d-bytes.zip", size))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	write(out, size-int64(overhead))
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != size {
		t.Fatalf("package is %d bytes, want %d", fi.Size(), size)
	}
	return path
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// countingWriter counts the bytes written to it.
type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func TestProfileFlagOverridesStage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddFunction(fakeFunction{Name: fnName, fakeConfig: fakeConfig{Runtime: "provided.al2023", Handler: "bootstrap", Architectures: []string{"arm64"}}})
	e.mustRun("", "status", "dev", "--profile", "other")
	if len(e.profiles) != 1 || e.profiles[0] != "other" {
		t.Errorf("profiles = %v, want [other]", e.profiles)
	}
}

func TestAWSErrorIsOneLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail("lambda:GetFunction", 403, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/serverless\nis not authorized to perform: lambda:GetFunction")
	_, _, err := e.run("", "status", "dev")
	var want = `lambda:GetFunction: AWS denied lambda:GetFunction to AWS profile "serverless" — allow lambda:GetFunction by attaching deploy/iam/deployment-policy.json to the deploying user or role (see docs/aws.md) ` +
		`[AWS AccessDeniedException: User: arn:aws:iam::123456789012:user/serverless is not authorized to perform: lambda:GetFunction; request id 7f3c0000-fa4e-4000-8000-000000000001]`
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
	if errors.Is(err, flag.ErrHelp) {
		t.Error("an AWS error reads as a usage error")
	}
}

// TestModuleType prints a module type for each region and refuses bad input.
func TestModuleType(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantHost string
		wantErr  string
	}{
		{args: []string{"--url", "https://relay.example.com/"}, wantHost: "visibility.amp.cisco.com"},
		{args: []string{"--url", "https://relay.example.com", "--region", "eu"}, wantHost: "visibility.eu.amp.cisco.com"},
		{args: []string{"--region", "apjc", "--url", "https://relay.example.com/prod"}, wantHost: "visibility.apjc.amp.cisco.com"},
		{args: nil, wantErr: "--url is required"},
		{args: []string{"--url", "http://relay.example.com"}, wantErr: "https"},
		{args: []string{"--url", "https://relay.example.com", "--region", "mars"}, wantErr: "region"},
		{args: []string{"--url", "https://relay.example.com", "extra"}, wantErr: "unexpected argument"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), append([]string{"module-type"}, tc.args...), func(string) string { return "" },
				strings.NewReader(""), &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var mt struct {
				Properties map[string]any `json:"properties"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &mt); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if got := mt.Properties["custom_jwks_host"]; got != tc.wantHost {
				t.Errorf("custom_jwks_host = %v, want %s", got, tc.wantHost)
			}
			if got := mt.Properties["auth-type"]; got != "configuration-token" {
				t.Errorf("auth-type = %v", got)
			}
			if u, _ := mt.Properties["url"].(string); !strings.HasPrefix(u, "https://relay.example.com") || strings.HasSuffix(u, "/") {
				t.Errorf("url = %v", mt.Properties["url"])
			}
		})
	}
}

// TestPackageNamesItsSource: package stamps the commit of the source it
// builds from, and warns, as image does, when that source has uncommitted
// changes, whose build the commit does not describe.
func TestPackageNamesItsSource(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", src, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/relay\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "go.mod")
	git("commit", "-q", "-m", "one")
	rev := git("rev-parse", "HEAD")
	for _, dirty := range []bool{false, true} {
		if dirty {
			if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/relay\n\ngo 1.26\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		e := newEnv(t)
		_, errOut := e.mustRun("", "package", "dev", "-o", filepath.Join(e.dir, "a.zip"), "--source", src)
		if got := e.builds[0].Revision; got != rev {
			t.Errorf("dirty %v: revision %q, want %q", dirty, got, rev)
		}
		warned := strings.Contains(errOut, "Warning: "+src+" has uncommitted changes; the package is not what revision "+rev+" holds.")
		if warned != dirty {
			t.Errorf("dirty %v: warned %v\n%s", dirty, warned, errOut)
		}
	}
}
