package relayctl

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/auth"
)

// relayStandIn is the code the fake's function runs: it accepts a bearer
// JWT signed with the SECRET_KEY of the version the alias serves, and
// answers /health.
func relayStandIn(t *testing.T, fake *fakeAWS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn, _ := fake.Function(fnName)
		secret := ""
		for _, v := range fn.Versions {
			if strconv.Itoa(v.Number) == fn.Aliases["live"].Version {
				secret = v.Config.Env["SECRET_KEY"]
			}
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		// The relay answers a refused call with 200 and a fatal error.
		refuse := func(reason string) {
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{}, "errors": []map[string]string{
				{"type": "fatal", "code": "authorization error", "message": "Authorization failed: " + reason}}})
		}
		if secret == "" {
			refuse(auth.ReasonSecretKeyMissing)
			return
		}
		if _, err := auth.ParseHS256(token, []byte(secret)); err != nil {
			refuse(auth.ReasonWrongStructure)
			return
		}
		if r.URL.Path != "/health" {
			t.Errorf("stand-in relay called at %s", r.URL.Path)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"status": "ok"}})
	})
}

// TestHalfFinishedDeployAdvice: the advice after a deploy that stopped
// half-way is to run deploy again, and doing so finishes it.
func TestHalfFinishedDeployAdvice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zip := filepath.Join(e.dir, "a.zip")
	e.mustRun("", "package", "dev", "-o", zip)
	e.fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	e.fake.Fail("lambda:CreateFunctionUrlConfig", http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
	_, _, err := e.run("", "deploy", "dev", "--zip", zip)
	want := "function tr-auth0-signals-relay-dev exists but is not finished: run `relayctl deploy dev` again to finish it"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "AWS TooManyRequestsException: Rate exceeded; request id") {
		t.Fatalf("deploy = %v\nwant %q", err, want)
	}
	out, _ := e.mustRun("", "deploy", "dev", "--zip", zip)
	fn, _ := e.fake.Function(fnName)
	for _, w := range []string{"Deployed " + fnName + " in us-east-1: version 1 (alias live)",
		"Repaired: created the Function URL " + fn.URLs["live"].URL + ".",
		"Repaired: added permission statement FunctionURLAllowPublicAccess.",
		"Repaired: added permission statement FunctionURLAllowInvokeAction.",
		"URL: " + fn.URLs["live"].URL} {
		if !strings.Contains(out, w) {
			t.Errorf("second deploy output lacks %q:\n%s", w, out)
		}
	}
}

// TestCreatedRoleAdvice: after the role was made and the function was not,
// running the command again reuses the role, as the error says.
func TestCreatedRoleAdvice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zip := filepath.Join(e.dir, "a.zip")
	e.mustRun("", "package", "dev", "-o", zip)
	e.fake.Deny("iam:PassRole")
	_, _, err := e.run("", "deploy", "dev", "--zip", zip, "--create-role")
	if err == nil || !strings.Contains(err.Error(), "AWS denied iam:PassRole") || !strings.Contains(err.Error(), "running the command again uses it") {
		t.Fatalf("deploy = %v", err)
	}
	e.fake.Allow("iam:PassRole")
	e.mustRun("", "deploy", "dev", "--zip", zip, "--create-role")
	if n := len(e.fake.CallsTo("iam:CreateRole")); n != 1 {
		t.Errorf("CreateRole called %d times", n)
	}
}

// TestInvokeJWTSources: the JWT comes from --jwt, --jwt-file or $JWT and is
// never printed; without one, nothing is called.
func TestInvokeJWTSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	zip := filepath.Join(e.dir, "a.zip")
	e.mustRun("", "package", "dev", "-o", zip)
	e.mustRun("", "deploy", "dev", "--zip", zip)
	out, _ := e.mustRun("k\n", "jwt", "dev", "--set-secret")
	token := parseJWTOutput(t, out).token
	e.fake.FunctionHandler = relayStandIn(t, e.fake)
	file := filepath.Join(e.dir, "jwt.txt")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	observables := filepath.Join(e.dir, "observables.json")
	if err := os.WriteFile(observables, []byte(`[{"type": "ip", "value": "1.2.3.4"}]`), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		env     string
		args    []string
		wantErr string
	}{
		{name: "env", env: token, args: []string{"--health"}},
		{name: "file", args: []string{"--jwt-file", file}},
		{name: "flag over env", env: "wrong", args: []string{"--jwt", token}},
		{name: "wrong token", env: "wrong", wantErr: "invoke: the relay refused the call: authorization error: Authorization failed: Wrong JWT structure"},
		{name: "none", wantErr: "invoke: no JWT: set JWT, or pass --jwt-file FILE"},
		{name: "both routes", env: token, args: []string{"--health", "--observe", observables}, wantErr: "--health and --observe exclude each other"},
		{name: "observe not JSON", env: token, args: []string{"--observe", file}, wantErr: "jwt.txt is not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.vars["JWT"] = tc.env
			calls := len(e.fake.Calls())
			out, errOut, err := e.run("", append([]string{"invoke", "dev"}, tc.args...)...)
			if strings.Contains(out+errOut, token) || (err != nil && strings.Contains(err.Error(), token)) {
				t.Error("invoke printed the JWT")
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("invoke = %v, want %q", err, tc.wantErr)
				}
				if strings.HasPrefix(tc.wantErr, "invoke: no JWT") && len(e.fake.Calls()) != calls {
					t.Error("AWS called without a JWT")
				}
				return
			}
			if err != nil || !strings.Contains(out, `"status": "ok"`) {
				t.Errorf("invoke = %v\n%s%s", err, out, errOut)
			}
		})
	}
}

// TestSetSecretAfterFailedUpdate: jwt --set-secret works on a function
// whose last update failed.
func TestSetSecretAfterFailedUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddFunction(fakeFunction{Name: fnName, UpdateStatus: "Failed", UpdateReasonCode: "InternalError", UpdateReason: "An internal error occurred"})
	out, errOut := e.mustRun("k\n", "jwt", "dev", "--set-secret")
	if !strings.Contains(out, "SECRET_KEY is set on "+fnName) || !strings.Contains(errOut, "The previous update of "+fnName+" failed (An internal error occurred); this one replaces it.") {
		t.Errorf("jwt --set-secret:\n%s\n%s", out, errOut)
	}
	out, _ = e.mustRun("", "status", "dev")
	if !strings.Contains(out, "SECRET_KEY:      set") || !strings.Contains(out, "Last update") || strings.Contains(out, "Failed") {
		t.Errorf("status:\n%s", out)
	}
}

// TestDeployNextHint: deploy says what comes next (setting SECRET_KEY)
// only while the function has none.
func TestDeployNextHint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zip := filepath.Join(e.dir, "a.zip")
	e.mustRun("", "package", "dev", "-o", zip)
	const next = "Next: `relayctl jwt dev --set-secret`"
	for _, step := range []struct {
		secretSet bool
		want      bool
	}{{false, true}, {false, true}, {true, false}} {
		if step.secretSet {
			e.mustRun("k\n", "jwt", "dev", "--set-secret")
		}
		out, _ := e.mustRun("", "deploy", "dev", "--create-role", "--zip", zip)
		if got := strings.Contains(out, next); got != step.want {
			t.Errorf("SECRET_KEY set %v: deploy prints the hint %v, want %v:\n%s", step.secretSet, got, step.want, out)
		}
	}
}
