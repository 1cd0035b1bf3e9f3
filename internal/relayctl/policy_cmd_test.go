package relayctl

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// statementCommands are the commands TestEachStatementIsNeeded runs: deploy
// from nothing, then each other command on a function deployed (and
// given its SECRET_KEY, so rollback has a version to go back to) with the whole
// policy.
var statementCommands = [][]string{
	{"deploy", "dev", "--create-role", "--zip", "ZIP"},
	{"status", "dev"},
	{"update", "dev", "--zip", "ZIP"},
	{"jwt", "dev", "--set-secret"},
	{"rollback", "dev"},
	{"invoke", "dev"},
	{"tail", "dev"},
	{"undeploy", "dev", "--yes", "--remove-logs"},
}

// TestEachStatementIsNeeded removes each statement of the deployment
// policy in turn and runs every command against the fake, which evaluates
// what is left: it shows which commands need the statement and what they
// say without it. Without any statement removed every command succeeds.
func TestEachStatementIsNeeded(t *testing.T) {
	t.Parallel()
	const denied = `AWS denied %s to AWS profile "serverless"`
	// want maps a statement to the commands that fail without it and the
	// start of their error; every other command succeeds.
	want := map[string]map[string]string{
		"": {},
		"ManageRelayFunctions": {
			"deploy":   "lambda:GetFunction: " + strings.Replace(denied, "%s", "lambda:GetFunction", 1),
			"status":   "lambda:GetFunction: " + strings.Replace(denied, "%s", "lambda:GetFunction", 1),
			"update":   "lambda:GetFunctionConfiguration: " + strings.Replace(denied, "%s", "lambda:GetFunctionConfiguration", 1),
			"jwt":      "lambda:GetFunctionConfiguration: " + strings.Replace(denied, "%s", "lambda:GetFunctionConfiguration", 1),
			"rollback": "lambda:ListVersionsByFunction: " + strings.Replace(denied, "%s", "lambda:ListVersionsByFunction", 1),
			"invoke":   "lambda:GetFunctionUrlConfig: " + strings.Replace(denied, "%s", "lambda:GetFunctionUrlConfig", 1),
			"undeploy": "lambda:GetFunction: " + strings.Replace(denied, "%s", "lambda:GetFunction", 1),
		},
		"LetAnyoneCallAliasLiveThroughItsURL": {
			"deploy": "lambda:AddPermission: " + strings.Replace(denied, "%s", "lambda:AddPermission", 1),
		},
		"CreateRelayExecutionRolesWithinBoundary": {
			"deploy": "iam:CreateRole: " + strings.Replace(denied, "%s", "iam:CreateRole", 1),
		},
		"ManageRelayExecutionRoles": {
			"deploy":   "iam:GetRole: " + strings.Replace(denied, "%s", "iam:GetRole", 1),
			"undeploy": "iam:GetRole: " + strings.Replace(denied, "%s", "iam:GetRole", 1),
		},
		"PassRelayExecutionRoleToLambda": {
			"deploy": "lambda:CreateFunction: " + strings.Replace(denied, "%s", "iam:PassRole", 1) + " (lambda:CreateFunction needs it)",
		},
		"ManageRelayLogs": {
			"deploy":   "logs:CreateLogGroup: " + strings.Replace(denied, "%s", "logs:CreateLogGroup", 1),
			"update":   "logs:CreateLogGroup: " + strings.Replace(denied, "%s", "logs:CreateLogGroup", 1),
			"tail":     "logs:FilterLogEvents: " + strings.Replace(denied, "%s", "logs:FilterLogEvents", 1),
			"undeploy": "logs:DeleteLogGroup: " + strings.Replace(denied, "%s", "logs:DeleteLogGroup", 1),
		},
	}
	shipped := loadDeploymentPolicy(t, "aws", fakeAccount)
	if len(want) != len(shipped.Statement)+1 {
		t.Errorf("the policy has %d statements, the test knows %d", len(shipped.Statement), len(want)-1)
	}
	e := newEnv(t)
	zip := filepath.Join(e.dir, "a.zip")
	e.mustRun("", "package", "dev", "-o", zip)
	for sid, fails := range want {
		t.Run("without "+sid, func(t *testing.T) {
			t.Parallel()
			got := runWithout(t, sid, zip)
			for _, cmd := range statementCommands {
				msg, failed := got[cmd[0]]
				switch w, wantFail := fails[cmd[0]]; {
				case failed && !wantFail:
					t.Errorf("%s fails: %s", cmd[0], msg)
				case !failed && wantFail:
					t.Errorf("%s succeeds, want it to fail with %s", cmd[0], w)
				case failed && !strings.HasPrefix(msg, w):
					t.Errorf("%s fails with\n%s\nwant\n%s", cmd[0], msg, w)
				case failed && !strings.Contains(msg, "deploy/iam/deployment-policy.json") && !strings.Contains(msg, "iam:PassRole"):
					t.Errorf("%s does not say which policy to attach: %s", cmd[0], msg)
				}
			}
		})
	}
}

// runWithout runs statementCommands with the statement sid removed from
// the caller's policy and returns the error of each command that failed.
func runWithout(t *testing.T, sid, zip string) map[string]string {
	failed := map[string]string{}
	for i, cmd := range statementCommands {
		e := newEnv(t)
		e.fake.FunctionHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data": {"status": "ok"}}`))
		})
		e.vars["JWT"] = "header.payload.signature"
		if i > 0 {
			e.mustRun("", "deploy", "dev", "--create-role", "--zip", zip)
			e.mustRun("my-auth0-api-key\n", "jwt", "dev", "--set-secret")
		}
		e.fake.EditPolicy(func(p *iamPolicy) { *p = p.withoutStatement(sid) })
		args := make([]string, len(cmd))
		for j, a := range cmd {
			args[j] = strings.ReplaceAll(a, "ZIP", zip)
		}
		if _, _, err := e.run("my-auth0-api-key\n", args...); err != nil {
			failed[cmd[0]] = err.Error()
		}
	}
	return failed
}
