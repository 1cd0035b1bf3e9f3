package relayctl

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/signals-relay/signals-relay/internal/pack"
)

// checkServed fails unless the stage's function is complete: the alias
// serves the newest version and has a URL that answers (not 403).
func checkServed(t *testing.T, fake *fakeAWS, c *awsClient) {
	t.Helper()
	fn, ok := fake.Function(fnName)
	if !ok {
		t.Fatal("function missing")
	}
	if len(fn.Versions) == 0 || fn.Aliases["live"].Version != "1" || fn.URLs["live"].URL == "" || len(fn.Statements["live"]) != 2 {
		t.Errorf("versions %v, aliases %v, URLs %v, statements %v", fn.Versions, fn.Aliases, fn.URLs, fn.Statements)
	}
	fake.FunctionHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"data":{}}`) })
	res, err := c.Invoke(t.Context(), settings(t, baseStage), invokeRequest{Route: "/health", JWT: "j"})
	if err != nil || res.Status != http.StatusOK {
		t.Errorf("the URL answers %d, %v", res.Status, err)
	}
}

// TestHalfFinishedDeployIsFinished stops a deploy at each step after the
// function exists, then runs deploy again (and, separately, update), as
// the error advises: the second run finishes the deployment and says what
// it repaired.
func TestHalfFinishedDeployIsFinished(t *testing.T) {
	t.Parallel()
	throttled := func(op string, ok int) func(*fakeAWS) {
		return func(f *fakeAWS) {
			f.FailAfter(op, ok, http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
		}
	}
	tests := []struct {
		name     string
		fail     func(*fakeAWS)
		wantErr  string
		repaired []string
	}{
		{name: "waiting for Active", fail: throttled("lambda:GetFunctionConfiguration", 1), wantErr: "lambda:GetFunctionConfiguration: AWS throttled the call",
			repaired: []string{"created alias live", "created the Function URL", "added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}},
		{name: "publishing the version", fail: throttled("lambda:PublishVersion", 0), wantErr: "lambda:PublishVersion: AWS throttled the call",
			repaired: []string{"created alias live", "created the Function URL", "added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}},
		{name: "creating the alias", fail: throttled("lambda:CreateAlias", 0), wantErr: "lambda:CreateAlias: AWS throttled the call",
			repaired: []string{"created alias live", "created the Function URL", "added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}},
		{name: "URLs not offered in the region", fail: func(f *fakeAWS) {
			f.Fail("lambda:CreateFunctionUrlConfig", http.StatusBadRequest, "InvalidParameterValueException", "Function URLs are not supported in this region.")
		}, wantErr: "lambda:CreateFunctionUrlConfig: AWS refused the call [AWS InvalidParameterValueException: Function URLs are not supported in this region.",
			repaired: []string{"created the Function URL", "added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}},
		{name: "reading the policy", fail: throttled("lambda:GetPolicy", 0), wantErr: "lambda:GetPolicy: AWS throttled the call",
			repaired: []string{"added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}},
		{name: "first permission", fail: func(f *fakeAWS) { f.Deny("lambda:AddPermission") }, wantErr: "lambda:AddPermission: AWS denied lambda:AddPermission",
			repaired: []string{"added permission statement FunctionURLAllowPublicAccess", "added permission statement FunctionURLAllowInvokeAction"}},
		{name: "second permission", fail: throttled("lambda:AddPermission", 1), wantErr: "lambda:AddPermission: AWS throttled the call",
			repaired: []string{"added permission statement FunctionURLAllowInvokeAction"}},
	}
	for _, tc := range tests {
		for _, again := range []string{"deploy", "update"} {
			t.Run(tc.name+"/"+again, func(t *testing.T) {
				t.Parallel()
				fake, c, _ := setup(t)
				fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
				s := settings(t, baseStage)
				zip := testZip(t, "v1")
				tc.fail(fake)
				res, err := c.Deploy(t.Context(), s, zip, false)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !res.Created {
					t.Fatalf("first deploy = %+v, %v\nwant an error containing %q after creating the function", res, err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "; request id 7f3c0000-") {
					t.Errorf("error lacks AWS's request id: %v", err)
				}
				fake.Allow("lambda:AddPermission") // the policy fixed; throttling is over by itself
				var second result
				if again == "deploy" {
					second, err = c.Deploy(t.Context(), s, zip, false)
				} else {
					second, err = c.Update(t.Context(), s, zip)
				}
				if err != nil {
					t.Fatalf("second %s: %v", again, err)
				}
				got := make([]string, len(second.Repaired))
				for i, r := range second.Repaired {
					got[i], _, _ = strings.Cut(r, " https://")
				}
				if !slices.Equal(got, tc.repaired) || second.Created {
					t.Errorf("second %s repaired %q (created %v), want %q", again, second.Repaired, second.Created, tc.repaired)
				}
				if len(fake.CallsTo("lambda:CreateFunction")) != 1 {
					t.Error("the function was created twice")
				}
				checkServed(t, fake, c)
			})
		}
	}
}

// TestUpdateOfUnaliasedFunction: a function deployed before relayctl
// served an alias gets the alias and its URL, and relayctl points out the
// old URL, which keeps serving $LATEST.
func TestUpdateOfUnaliasedFunction(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	const old = "https://00000000000000000000000000000042.lambda-url.us-east-1.on.aws/"
	fake.AddFunction(fakeFunction{Name: fnName, URLs: map[string]fakeURL{"": {URL: old, AuthType: "NONE"}}})
	res, err := c.Update(t.Context(), settings(t, baseStage), testZip(t, "v2"))
	if err != nil {
		t.Fatal(err)
	}
	if res.URL == old || !strings.HasPrefix(res.URL, "https://") {
		t.Errorf("URL = %s", res.URL)
	}
	want := "Note: " + fnName + " also has the URL " + old + ", made by an earlier relayctl: it serves $LATEST, not alias live"
	if !strings.Contains(progress.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, progress)
	}
	checkServed(t, fake, c)
}

// TestDeployRefusesForeignFunction: a function relayctl did not create
// for the stage is left alone by deploy.
func TestDeployRefusesForeignFunction(t *testing.T) {
	t.Parallel()
	for _, tags := range []map[string]string{nil, {"signals-relay:created-by": "relayctl", "signals-relay:stage": "prod"}} {
		fake, c, _ := setup(t)
		fake.AddFunction(fakeFunction{Name: fnName, Tags: tags})
		_, err := c.Deploy(t.Context(), settings(t, baseStage), testZip(t, "x"), false)
		if err == nil || !strings.Contains(err.Error(), "relayctl did not create it for stage dev") {
			t.Errorf("tags %v: Deploy = %v", tags, err)
		}
		want := []string{"lambda:GetFunction"}
		if tags == nil { // no tags in GetFunction's answer: ListTags makes sure
			want = append(want, "lambda:ListTags")
		}
		checkOps(t, fake.Ops(), want)
	}
}

// TestFailedUpdate: a previous update that failed blocks neither update
// nor SetSecret, and an update that fails says why, not "timed out".
func TestFailedUpdate(t *testing.T) {
	t.Parallel()
	failed := fakeFunction{Name: fnName, UpdateStatus: "Failed", UpdateReasonCode: "InvalidRuntime",
		UpdateReason: "The runtime parameter of go1.x is no longer supported", fakeConfig: fakeConfig{Env: map[string]string{"A": "b"}}}
	for _, op := range []string{"update", "set-secret"} {
		t.Run("previous failed/"+op, func(t *testing.T) {
			t.Parallel()
			fake, c, progress := setup(t)
			fake.AddFunction(failed)
			var err error
			if op == "update" {
				_, err = c.Update(t.Context(), settings(t, baseStage), testZip(t, "v2"))
			} else {
				_, err = c.SetSecret(t.Context(), settings(t, baseStage), "s", false)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(progress.String(), "The previous update of "+fnName+" failed (The runtime parameter of go1.x is no longer supported); this one replaces it.") {
				t.Errorf("progress:\n%s", progress)
			}
			if fn, _ := fake.Function(fnName); fn.UpdateStatus != "Successful" || fn.Aliases["live"].Version != "1" {
				t.Errorf("after %s: status %s, alias %v", op, fn.UpdateStatus, fn.Aliases)
			}
		})
	}
	t.Run("this update fails", func(t *testing.T) {
		t.Parallel()
		fake, c, _ := setup(t)
		fake.AddFunction(fakeFunction{Name: fnName})
		fake.FailUpdate(fnName, "KMSAccessDeniedException", "Lambda was unable to decrypt the environment variables")
		_, err := c.Update(t.Context(), settings(t, baseStage), testZip(t, "v2"))
		want := "lambda:GetFunctionConfiguration: the code update of " + fnName + " failed (KMSAccessDeniedException): Lambda was unable to decrypt the environment variables — fix the cause and run the command again"
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "within") {
			t.Errorf("Update =\n%v\nwant\n%s", err, want)
		}
		if len(fake.CallsTo("lambda:PublishVersion")) > 0 {
			t.Error("a failed update was published")
		}
		// Running it again, as advised, works.
		if _, err := c.Update(t.Context(), settings(t, baseStage), testZip(t, "v2")); err != nil {
			t.Errorf("update after a failed one: %v", err)
		}
	})
}

// TestRecentRoleRetry: CreateFunction retries while Lambda cannot assume a
// role made recently, also by an earlier run, and not for an old role.
func TestRecentRoleRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		age     time.Duration
		wantErr bool
	}{{time.Minute, false}, {time.Hour, true}} {
		fake, c, _ := setup(t)
		fake.AddRoleCreated("tr-auth0-signals-relay-dev-role", nil, time.Now().Add(-tc.age))
		fake.RoleNotReady = 2
		_, err := c.Deploy(t.Context(), settings(t, baseStage), testZip(t, "x"), false)
		if (err != nil) != tc.wantErr {
			t.Errorf("role made %s ago: Deploy = %v, want error %v", tc.age, err, tc.wantErr)
		}
		if tc.wantErr && (!strings.Contains(err.Error(), "Lambda cannot assume the execution role") || len(fake.CallsTo("lambda:CreateFunction")) != 1) {
			t.Errorf("old role: %v after %d calls", err, len(fake.CallsTo("lambda:CreateFunction")))
		}
	}
}

// TestRollbackAndPrune publishes four versions with two kept, rolls back,
// and checks which versions remain.
func TestRollbackAndPrune(t *testing.T) {
	t.Parallel()
	s := settings(t, strings.Replace(baseStage, `"memory_size": 256`, `"memory_size": 256, "num_retained_versions": 3`, 1))
	fake, c, progress := setupDeployed(t, s)
	for _, v := range []string{"v2", "v3", "v4"} {
		if _, err := c.Update(t.Context(), s, testZip(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	numbers := func() []int {
		fn, _ := fake.Function(fnName)
		var n []int
		for _, v := range fn.Versions {
			n = append(n, v.Number)
		}
		return n
	}
	if got := numbers(); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("versions kept = %v, want [2 3 4]", got)
	}
	if !strings.Contains(progress.String(), "Deleted old versions 1 (keeping the newest 3).") {
		t.Errorf("progress:\n%s", progress)
	}

	start := len(fake.Calls())
	res, err := c.Rollback(t.Context(), s, 1)
	if err != nil || res != (rollbackResult{From: "4", To: "3"}) {
		t.Fatalf("Rollback 1 = %+v, %v", res, err)
	}
	checkOps(t, fake.Ops()[start:], []string{"lambda:ListVersionsByFunction", "lambda:GetAlias", "lambda:UpdateAlias"})
	if got := fake.CallsTo("lambda:UpdateAlias"); got[len(got)-1].Body["RevisionId"] == nil {
		t.Error("UpdateAlias without the revision read")
	}
	if res, err := c.Rollback(t.Context(), s, 1); err != nil || res.To != "2" {
		t.Fatalf("second Rollback = %+v, %v", res, err)
	}
	_, err = c.Rollback(t.Context(), s, 1)
	want := "lambda:UpdateAlias: cannot go back 1 version(s) from version 2: the versions kept are 2, 3, 4 — it serves the oldest; num_retained_versions sets how many versions are kept"
	if err == nil || err.Error() != want {
		t.Errorf("Rollback past the oldest =\n%v\nwant\n%s", err, want)
	}
	if fn, _ := fake.Function(fnName); fn.Aliases["live"].Version != "2" {
		t.Errorf("alias = %v after a refused rollback", fn.Aliases)
	}

	// The next update publishes version 5 and deletes the oldest, 2.
	if res, err := c.Update(t.Context(), s, testZip(t, "v5")); err != nil || res.Version != "5" || !slices.Equal(res.Pruned, []string{"2"}) {
		t.Errorf("update after rollback = %+v, %v", res, err)
	}
	if got := numbers(); !slices.Equal(got, []int{3, 4, 5}) {
		t.Errorf("versions kept = %v, want [3 4 5]", got)
	}

	// Moving back two from 5 reaches 3; three is too far.
	_, err = c.Rollback(t.Context(), s, 3)
	if err == nil || !strings.Contains(err.Error(), "pass -n 2 or less") {
		t.Errorf("Rollback 3 = %v", err)
	}
	if res, err := c.Rollback(t.Context(), s, 2); err != nil || res.To != "3" {
		t.Errorf("Rollback 2 = %+v, %v", res, err)
	}
}

func TestRollbackWithoutAlias(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	_, err := c.Rollback(t.Context(), settings(t, baseStage), 1)
	if err == nil || !strings.Contains(err.Error(), "function tr-auth0-signals-relay-dev not found in us-east-1") {
		t.Errorf("Rollback, no function = %v", err)
	}
	fake.AddFunction(fakeFunction{Name: fnName})
	_, err = c.Rollback(t.Context(), settings(t, baseStage), 1)
	if err == nil || !strings.Contains(err.Error(), "has no alias live to roll back — run `relayctl update dev`") {
		t.Errorf("Rollback, no alias = %v", err)
	}
}

// TestInvoke calls the URL as XDR does and reports a URL that answers 403.
func TestInvoke(t *testing.T) {
	t.Parallel()
	s := settings(t, baseStage)
	fake, c, _ := setupDeployed(t, s)
	var got *http.Request
	var gotBody []byte
	fake.FunctionHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"sightings":{"count":1}}}`)
	})
	res, err := c.Invoke(t.Context(), s, invokeRequest{Route: "/observe/observables", Body: []byte(`[{"type":"ip","value":"1.2.3.4"}]`), JWT: "header.payload.sig"})
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := fake.Function(fnName)
	if res.URL != fn.URLs["live"].URL+"observe/observables" || res.Status != 200 || string(res.Body) != `{"data":{"sightings":{"count":1}}}` {
		t.Errorf("result = %+v", res)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/observe/observables" || got.Header.Get("Authorization") != "Bearer header.payload.sig" ||
		string(gotBody) != `[{"type":"ip","value":"1.2.3.4"}]` {
		t.Errorf("request = %s %s %v %s", got.Method, got.URL.Path, got.Header, gotBody)
	}

	fake.RemoveStatement(fnName, "live", "FunctionURLAllowPublicAccess")
	res, err = c.Invoke(t.Context(), s, invokeRequest{Route: "/health", JWT: "header.payload.sig"})
	want := "the Function URL answered 403 Forbidden: its resource policy does not let anyone call it — `relayctl update dev` adds the missing permission statements"
	if err == nil || !strings.HasPrefix(err.Error(), want) || res.Status != http.StatusForbidden {
		t.Errorf("Invoke with a statement missing = %d, %v\nwant %s", res.Status, err, want)
	}
	if strings.Contains(err.Error(), "header.payload.sig") {
		t.Error("the error shows the JWT")
	}
	// The body alone tells it too, when a proxy drops X-Amzn-ErrorType.
	direct := c.HTTPClient
	c.HTTPClient = &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := direct.Transport.RoundTrip(r)
		if err == nil {
			resp.Header.Del("X-Amzn-ErrorType")
		}
		return resp, err
	})}
	if _, err := c.Invoke(t.Context(), s, invokeRequest{Route: "/health", JWT: "j"}); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Invoke with a statement missing, without X-Amzn-ErrorType = %v\nwant %s", err, want)
	}
	c.HTTPClient = direct
	// update puts it back.
	upd, err := c.Update(t.Context(), s, testZip(t, "v1"))
	if err != nil || !slices.Equal(upd.Repaired, []string{"added permission statement FunctionURLAllowPublicAccess"}) {
		t.Errorf("update = %+v, %v", upd, err)
	}
	if res, err := c.Invoke(t.Context(), s, invokeRequest{Route: "/health", JWT: "j"}); err != nil || res.Status != 200 {
		t.Errorf("after update: %d, %v", res.Status, err)
	}
}

// TestInvokeNotDeployed: GetFunctionUrlConfig answers a missing function
// as it answers a function without a URL; Invoke tells them apart.
func TestInvokeNotDeployed(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	s := settings(t, baseStage)
	_, err := c.Invoke(t.Context(), s, invokeRequest{Route: "/health", JWT: "j"})
	if err == nil || !strings.Contains(err.Error(), "function tr-auth0-signals-relay-dev not found in us-east-1") ||
		!strings.Contains(err.Error(), "relayctl deploy dev") {
		t.Errorf("Invoke, no function = %v", err)
	}
	fake.AddFunction(fakeFunction{Name: fnName})
	_, err = c.Invoke(t.Context(), s, invokeRequest{Route: "/health", JWT: "j"})
	if err == nil || !strings.Contains(err.Error(), "has no Function URL on alias live — `relayctl update dev` creates it") {
		t.Errorf("Invoke, no URL = %v", err)
	}
}

// TestSetSecretAfterRollback: after a rollback $LATEST holds newer code
// than the alias serves. Status says so; SetSecret puts the served code
// back on $LATEST before it publishes, so the alias keeps serving it, and
// changes nothing when that code cannot be had intact; with RollForward it
// publishes $LATEST's code.
func TestSetSecretAfterRollback(t *testing.T) {
	t.Parallel()
	fake, c, progress := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	v1, v2 := testZip(t, "v1"), testZip(t, "v2")
	if _, err := c.Deploy(t.Context(), s, v1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(t.Context(), s, v2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rollback(t.Context(), s, 1); err != nil {
		t.Fatal(err)
	}
	status := func() string { t.Helper(); return statusText(t, c, s) }
	const note = "Note:            rolled back: live serves 1, $LATEST has newer code from version 2; `relayctl update dev` rolls forward, " +
		"and `relayctl jwt dev --set-secret` puts version 1's code back on $LATEST first\n"
	if got := status(); !strings.Contains(got, "Serving:         version 1 (alias live)\n"+note) {
		t.Errorf("status after rollback lacks %q:\n%s", note, got)
	}

	// When the served code cannot be had intact, nothing changes.
	const stuck = "lambda:GetFunction: alias live serves version 1 (rolled back) and $LATEST has newer code from version 2; " +
		"putting version 1's code back on $LATEST failed: "
	const ways = "; nothing was changed — run `relayctl update dev` to roll forward first, or pass --roll-forward to publish $LATEST's code"
	for _, tc := range []struct {
		name   string
		tamper func([]byte) []byte
		fail   bool
		want   string
	}{
		{name: "one byte changed", tamper: func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
			want: stuck + "the code downloaded does not match its CodeSha256" + ways},
		{name: "longer", tamper: func(b []byte) []byte { return append(b, make([]byte, 1<<20)...) },
			want: stuck + "the code downloaded is not " + strconv.Itoa(len(v1)) + " bytes (CodeSize)" + ways},
		{name: "shorter", tamper: func(b []byte) []byte { return b[:len(b)-1] },
			want: stuck + "the code downloaded is not " + strconv.Itoa(len(v1)) + " bytes (CodeSize)" + ways},
		{name: "GetFunction fails", fail: true,
			want: stuck + "reading the version failed" + ways + " [AWS TooManyRequestsException: Rate exceeded; request id "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := fake.Function(fnName)
			fake.CodeTamper = tc.tamper
			if tc.fail {
				fake.Fail("lambda:GetFunction", http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
			}
			_, err := c.SetSecret(t.Context(), s, "S3CR3T", false)
			fake.CodeTamper = nil
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("SetSecret =\n%v\nwant\n%s", err, tc.want)
			}
			after, _ := fake.Function(fnName)
			if after.Revision != before.Revision || len(after.Versions) != 2 || after.Aliases["live"].Version != "1" || after.Env["SECRET_KEY"] != "" {
				t.Errorf("a failed SetSecret changed the function: revision %d→%d, %d versions, aliases %v", before.Revision, after.Revision, len(after.Versions), after.Aliases)
			}
		})
	}

	// It puts version 1's code (with its architecture) back and publishes.
	start := len(fake.Calls())
	res, err := c.SetSecret(t.Context(), s, "S3CR3T", false)
	if err != nil || res.Version != "3" || res.CodeSHA256 != pack.CodeSHA256(v1) {
		t.Fatalf("SetSecret after rollback = %+v, %v", res, err)
	}
	fn, _ := fake.Function(fnName)
	if !bytes.Equal(fn.Zip, v1) || !bytes.Equal(fn.Versions[2].Config.Zip, v1) || fn.Versions[2].Config.Env["SECRET_KEY"] != "S3CR3T" || fn.Aliases["live"].Version != "3" {
		t.Errorf("after SetSecret: $LATEST holds v1 %v, version 3 holds v1 %v with %v, alias %v",
			bytes.Equal(fn.Zip, v1), bytes.Equal(fn.Versions[2].Config.Zip, v1), fn.Versions[2].Config.Env, fn.Aliases)
	}
	checkOps(t, fake.Ops()[start:], append([]string{
		"lambda:GetFunctionConfiguration",
		"lambda:GetAlias",
		"lambda:ListVersionsByFunction",
		"lambda:GetFunction",
		"lambda:UpdateFunctionCode",
		"lambda:GetFunctionConfiguration",
		"lambda:UpdateFunctionConfiguration",
		"lambda:GetFunctionConfiguration",
	}, releaseOps...))
	if q := fake.CallsTo("lambda:GetFunction"); q[len(q)-1].Query.Get("Qualifier") != "1" {
		t.Errorf("GetFunction of %v, want version 1", q[len(q)-1].Query)
	}
	if up := fake.CallsTo("lambda:UpdateFunctionCode"); fmt.Sprint(up[len(up)-1].Body["Architectures"]) != "[arm64]" || up[len(up)-1].Body["RevisionId"] == nil {
		t.Errorf("UpdateFunctionCode = %v, want version 1's architecture and the revision read", up[len(up)-1].Body)
	}
	if want := "Alias live serves version 1 (rolled back) and $LATEST has newer code from version 2: putting version 1's code (" +
		strconv.Itoa(len(v1)) + " bytes) back on $LATEST, so the new version serves it (`relayctl update dev` rolls forward)…"; !strings.Contains(progress.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, progress)
	}
	if got := status(); strings.Contains(got, "rolled back") || !strings.Contains(got, "SECRET_KEY:      set") {
		t.Errorf("status after SetSecret:\n%s", got)
	}

	// Code uploaded outside relayctl is no kept version's; RollForward
	// publishes it.
	if _, err := c.Lambda.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(fnName), ZipFile: testZip(t, "v3")}); err != nil {
		t.Fatal(err)
	}
	if got := status(); !strings.Contains(got, "rolled back: live serves 3, $LATEST has code no kept version holds;") {
		t.Errorf("status with unpublished code:\n%s", got)
	}
	res, err = c.SetSecret(t.Context(), s, "S3CR3T-2", true)
	if err != nil || res.Version != "4" || res.CodeSHA256 != pack.CodeSHA256(testZip(t, "v3")) {
		t.Errorf("SetSecret --roll-forward = %+v, %v", res, err)
	}
	if !strings.Contains(progress.String(), "Rolling forward: rolled back: live serves 3, $LATEST has code no kept version holds; the new version serves $LATEST's code.") {
		t.Errorf("progress:\n%s", progress)
	}

	// A rollback to a version with the same code (only SECRET_KEY differs)
	// leaves nothing to put back.
	if _, err := c.SetSecret(t.Context(), s, "S3CR3T-3", false); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Rollback(t.Context(), s, 1); err != nil || res.To != "4" {
		t.Fatalf("Rollback = %+v, %v", res, err)
	}
	if got := status(); strings.Contains(got, "rolled back") || !strings.Contains(got, "Serving:         version 4 (alias live)") {
		t.Errorf("status after a rollback to the same code:\n%s", got)
	}
	start = len(fake.Calls())
	if res, err := c.SetSecret(t.Context(), s, "S3CR3T-4", false); err != nil || res.Version != "6" ||
		slices.Contains(fake.Ops()[start:], "lambda:GetFunction") || slices.Contains(fake.Ops()[start:], "lambda:UpdateFunctionCode") {
		t.Errorf("SetSecret after a rollback to the same code = %+v, %v, calls %v", res, err, fake.Ops()[start:])
	}
}

// TestChangeWaitsWhileUpdateInProgress: Lambda refuses a change with
// ResourceConflictException while another update of the function is in
// progress; relayctl waits for the function to settle and makes the change
// again, where another ResourceConflictException (a statement id taken,
// an alias serving a version) keeps its own meaning.
func TestChangeWaitsWhileUpdateInProgress(t *testing.T) {
	t.Parallel()
	const inProgress = "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:" + fnName
	s := settings(t, baseStage)
	for _, op := range []string{"lambda:UpdateFunctionCode", "lambda:UpdateAlias", "lambda:AddPermission", "lambda:DeleteFunction"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			fake, c, progress := setupDeployed(t, s)
			fake.RemoveStatement(fnName, "live", statementInvokeURL)
			fake.Fail(op, http.StatusConflict, "ResourceConflictException", inProgress)
			res, err := c.Update(t.Context(), settings(t, `{"aws_region": "us-east-1", "project_name": "tr-auth0-signals-relay",
				"role_name": "tr-auth0-signals-relay-dev-role", "num_retained_versions": 1}`), testZip(t, "v2"))
			if err != nil {
				t.Fatalf("Update = %v", err)
			}
			if n := len(fake.CallsTo(op)); n < 2 {
				t.Errorf("%s called %d times, want it made again", op, n)
			}
			if want := fnName + " is busy with another update; waiting for it to finish…"; !strings.Contains(progress.String(), want) {
				t.Errorf("progress lacks %q:\n%s", want, progress)
			}
			if res.Version != "2" || !slices.Equal(res.Pruned, []string{"1"}) {
				t.Errorf("result = %+v", res)
			}
		})
	}
	// Still in progress after MaxWait: the error says so, not "changed by
	// someone else".
	fake, c, _ := setupDeployed(t, s)
	c.MaxWait = 0
	fake.Fail("lambda:UpdateFunctionCode", http.StatusConflict, "ResourceConflictException", inProgress)
	_, err := c.Update(t.Context(), s, testZip(t, "v2"))
	if want := "lambda:UpdateFunctionCode: " + fnName + " is still busy with another update after 0s — check `relayctl status dev`"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Update = %v\nwant %s", err, want)
	}
}

// TestChangeAfterAnotherUpdateIsNotRepeated: a change that names the
// revision relayctl read (the configuration, the version to publish) is
// refused once someone else has updated the function meanwhile, whether
// or not that update has finished; relayctl says so at once instead of
// waiting to make it again with a revision that can no longer match.
func TestChangeAfterAnotherUpdateIsNotRepeated(t *testing.T) {
	t.Parallel()
	s := settings(t, baseStage)
	for _, op := range []string{"lambda:UpdateFunctionConfiguration", "lambda:PublishVersion"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			fake, c, progress := setupDeployed(t, s)
			fake.ChangeBefore(op, fnName)
			before := len(fake.CallsTo(op))
			_, err := c.Update(t.Context(), s, testZip(t, "v2"))
			if want := op + ": the function was changed by someone else meanwhile"; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Update = %v\nwant %s", err, want)
			}
			if n := len(fake.CallsTo(op)) - before; n != 1 {
				t.Errorf("%s called %d times by the update, want once", op, n)
			}
			if strings.Contains(progress.String(), "waiting for it to finish") {
				t.Errorf("progress shows a wait for the other update:\n%s", progress)
			}
		})
	}
}

// TestRollbackAfterUndeploy: rollback of a stage undeployed says the
// function is not found, also where listing its versions answers an empty
// list rather than ResourceNotFoundException.
func TestRollbackAfterUndeploy(t *testing.T) {
	t.Parallel()
	for _, lenient := range []bool{false, true} {
		e := newEnv(t)
		e.fake.ListVersionsOfMissing = lenient
		zip := filepath.Join(e.dir, "a.zip")
		e.mustRun("", "package", "dev", "-o", zip)
		e.mustRun("", "deploy", "dev", "--create-role", "--zip", zip)
		e.mustRun("", "undeploy", "dev", "--yes")
		_, _, err := e.run("", "rollback", "dev")
		if want := "function tr-auth0-signals-relay-dev not found in us-east-1 — deploy it with `relayctl deploy dev`"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("versions listed of a missing function %v: rollback = %v\nwant %s", lenient, err, want)
		}
	}
}

// TestStatusNamesNewestVersionOfLatestCode: when two kept versions hold
// $LATEST's code (an update, then a SECRET_KEY change) and the alias was
// rolled back past both, status names the newer one, the version an
// update would roll forward to in all but its new code.
func TestStatusNamesNewestVersionOfLatestCode(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t)
	fake.AddRole("tr-auth0-signals-relay-dev-role", nil)
	s := settings(t, baseStage)
	if _, err := c.Deploy(t.Context(), s, testZip(t, "v1"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(t.Context(), s, testZip(t, "v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetSecret(t.Context(), s, "secret", false); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Rollback(t.Context(), s, 2); err != nil || res.To != "1" {
		t.Fatalf("Rollback = %+v, %v", res, err)
	}
	const want = "Note:            rolled back: live serves 1, $LATEST has newer code from version 3;"
	if got := statusText(t, c, s); !strings.Contains(got, want) {
		t.Errorf("status lacks %q:\n%s", want, got)
	}
}
