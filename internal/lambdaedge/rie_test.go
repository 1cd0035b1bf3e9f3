//go:build linux

package lambdaedge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

const secretKey = "e2eSecretKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"

// rieBinary returns the emulator's path, skipping or failing when absent.
func rieBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		return p
	}
	p, err := exec.LookPath("aws-lambda-rie")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("aws-lambda-rie is not on PATH; CI must install it (see .ci/run)")
	}
	t.Skip("aws-lambda-rie not on PATH (go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d)")
	return ""
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitListening waits until something accepts connections on addr.
func waitListening(t *testing.T, addr string, out *testsupport.LockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s; output:\n%s", addr, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs cmd in its own process group and kills the group when the
// test ends (the emulator starts the bootstrap as its child).
func start(t *testing.T, cmd *exec.Cmd) *testsupport.LockedBuffer {
	t.Helper()
	out := &testsupport.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return out
}

// request is one relay call of the comparison.
type request struct {
	name   string
	method string
	path   string
	token  string // "" sends no Authorization header
	body   string
	check  func(t *testing.T, status int, body map[string]any)
}

func (r request) header() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "threat-response-e2e")
	if r.token != "" {
		h.Set("Authorization", "Bearer "+r.token)
	}
	return h
}

// reply is a status, a content type and a JSON body.
type reply struct {
	status      int
	contentType string
	requestID   string
	body        any
}

// TestRelayUnderRuntimeInterfaceEmulator runs the real bootstrap under the
// AWS Lambda Runtime Interface Emulator (aws-lambda-rie) and checks that the
// relay answers Function URL, API Gateway HTTP API (v2) and REST API (v1)
// events (AWS's own samples, carrying the relay's requests) exactly as the
// same binary answers plain HTTP with `serve`.
//
// The emulator is found on PATH or through $AWS_LAMBDA_RIE. Without it the
// test is skipped, except when $CI is set, where it fails: CI installs it.
func TestRelayUnderRuntimeInterfaceEmulator(t *testing.T) {
	rie := rieBinary(t)
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("needs linux/amd64 or linux/arm64")
	}
	dir := t.TempDir()

	// The real bootstrap, built as relayctl packages it, for this machine.
	buildStart := time.Now()
	bootstrap, err := pack.Build(t.Context(), pack.BuildOptions{Dir: "../..", GOARCH: runtime.GOARCH, Version: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bin, bootstrap, 0o755); err != nil {
		t.Fatal(err)
	}
	zipFile, _ := pack.Zip(bootstrap)
	t.Logf("bootstrap linux/%s: %d bytes, zip %d bytes (built in %s)", runtime.GOARCH, len(bootstrap), len(zipFile), time.Since(buildStart).Round(time.Millisecond))

	sim := httptest.NewServer(simulator.New(simulator.Options{}))
	t.Cleanup(sim.Close)
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + dir,
		"SECRET_KEY=" + secretKey,
		"SIGNALS_API_URL=" + sim.URL,
		"LOG_LEVEL=info",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30",
		"AWS_LAMBDA_FUNCTION_NAME=tr-auth0-signals-relay-e2e",
	}

	// The same binary as a plain HTTP server.
	plainAddr := freeAddr(t)
	plain := exec.CommandContext(t.Context(), bin, "serve", "--addr", plainAddr)
	plain.Env, plain.Dir = env, dir
	plainOut := start(t, plain)
	waitListening(t, plainAddr, plainOut)

	// The binary under the emulator; the clock runs from the emulator's
	// start to the first answer (the bootstrap starts on the first invoke).
	rieAddr, apiAddr := freeAddr(t), freeAddr(t)
	coldStart := time.Now()
	emu := exec.CommandContext(t.Context(), rie,
		"--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", apiAddr,
		"--log-level", "warn",
		bin)
	emu.Env, emu.Dir = env, dir
	emuOut := start(t, emu)
	waitListening(t, rieAddr, emuOut)

	good, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secretKey))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(strings.Repeat("x", 64)))
	client := &http.Client{Timeout: 30 * time.Second}

	invoke := func(t *testing.T, sample awsSample, payload []byte) (reply, time.Duration) {
		t.Helper()
		begin := time.Now()
		resp, err := client.Post("http://"+rieAddr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(payload))
		if err != nil {
			t.Fatalf("invoke: %v\nemulator output:\n%s", err, emuOut.String())
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		took := time.Since(begin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("emulator answered %d: %s", resp.StatusCode, raw)
		}
		fr, err := parseEventResponse(sample, raw)
		if err != nil {
			t.Fatalf("%v\nemulator output:\n%s", err, emuOut.String())
		}
		return reply{fr.StatusCode, fr.Header.Get("Content-Type"), fr.Header.Get("X-Request-Id"), decode(t, fr.Body)}, took
	}
	direct := func(t *testing.T, r request) reply {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), r.method, "http://"+plainAddr+r.path, strings.NewReader(r.body))
		req.Header = r.header()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return reply{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Request-Id"), decode(t, raw)}
	}

	observables := `[{"type":"ip","value":"203.0.113.66"}]`
	requests := []request{
		{name: "health", method: "POST", path: "/health", token: good, check: func(t *testing.T, status int, body map[string]any) {
			if got, _ := json.Marshal(body); string(got) != `{"data":{"status":"ok"}}` {
				t.Errorf("health = %s", got)
			}
		}},
		{name: "observe", method: "POST", path: "/observe/observables", token: good, body: observables, check: func(t *testing.T, status int, body map[string]any) {
			data, _ := body["data"].(map[string]any)
			if _, ok := data["verdicts"]; !ok || body["errors"] != nil {
				t.Errorf("observe has no verdicts or has errors: %v", body)
			}
		}},
		{name: "deliberate", method: "POST", path: "/deliberate/observables", token: good, body: observables, check: func(t *testing.T, status int, body map[string]any) {
			data, _ := body["data"].(map[string]any)
			if _, ok := data["verdicts"]; !ok {
				t.Errorf("deliberate has no verdicts: %v", body)
			}
		}},
		{name: "auth failure", method: "POST", path: "/observe/observables", token: forged, body: observables, check: func(t *testing.T, status int, body map[string]any) {
			if got, _ := json.Marshal(body["errors"]); !strings.Contains(string(got), `"authorization error"`) {
				t.Errorf("auth failure body = %v", body)
			}
		}},
		{name: "no token", method: "POST", path: "/health", check: func(t *testing.T, status int, body map[string]any) {
			if got, _ := json.Marshal(body); !strings.Contains(string(got), "Authorization header is missing") {
				t.Errorf("no-token body = %s", got)
			}
		}},
		{name: "unknown route", method: "POST", path: "/nowhere", token: good, check: func(t *testing.T, status int, _ map[string]any) {
			if status != http.StatusNotFound {
				t.Errorf("unknown route status = %d, want 404", status)
			}
		}},
		{name: "wrong method", method: "GET", path: "/health", token: good, check: func(t *testing.T, status int, _ map[string]any) {
			if status != http.StatusMethodNotAllowed {
				t.Errorf("GET /health status = %d, want 405", status)
			}
		}},
	}
	// AWS's own sample events (aws-lambda-go's events/testdata) carry the
	// requests.
	shapes := []struct {
		name   string
		sample awsSample
		stage  string
	}{
		{"function URL", urlSample, ""},
		{"HTTP API v2 stage dev", httpAPISample, "dev"},
		{"REST API v1 stage dev", restSample, "dev"},
	}

	// Cold start: the first invocation after the emulator started.
	first, firstTook := invoke(t, urlSample,
		awsEvent(t, urlSample, eventRequest{Method: "POST", Path: "/health", Header: requests[0].header()}))
	t.Logf("cold start (emulator start to first answer): %s; first invoke round trip %s", time.Since(coldStart).Round(time.Millisecond), firstTook.Round(time.Millisecond))
	if first.status != http.StatusOK {
		t.Fatalf("first invoke status %d, body %v", first.status, first.body)
	}

	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	var warm []time.Duration
	var lambdaIDs []string
	for _, r := range requests {
		t.Run(r.name, func(t *testing.T) {
			want := direct(t, r)
			if r.check != nil {
				body, _ := want.body.(map[string]any)
				r.check(t, want.status, body)
			}
			for _, shape := range shapes {
				for _, b64 := range []bool{false, true} {
					if b64 && r.body == "" {
						continue
					}
					ev := awsEvent(t, shape.sample, eventRequest{
						Method: r.method, Path: r.path, Header: r.header(), Body: []byte(r.body), Base64: b64, Stage: shape.stage,
					})
					got, took := invoke(t, shape.sample, ev)
					warm = append(warm, took)
					label := shape.name
					if b64 {
						label += " (base64 body)"
					}
					if got.status != want.status {
						t.Errorf("%s: status %d, plain server %d", label, got.status, want.status)
					}
					if got.contentType != want.contentType {
						t.Errorf("%s: Content-Type %q, plain server %q", label, got.contentType, want.contentType)
					}
					g, w := canonical(got.body), canonical(want.body)
					if g != w {
						t.Errorf("%s: body differs from the plain server's\n lambda: %s\n  plain: %s", label, g, w)
					}
					if !uuidRE.MatchString(got.requestID) {
						t.Errorf("%s: X-Request-Id %q is not the Lambda request id", label, got.requestID)
					}
					lambdaIDs = append(lambdaIDs, got.requestID)
				}
			}
		})
	}
	slices.Sort(warm)
	if len(warm) > 0 {
		t.Logf("warm invokes: %d, median round trip %s, max %s", len(warm), warm[len(warm)/2].Round(time.Microsecond), warm[len(warm)-1].Round(time.Microsecond))
	}

	// The relay's request log reaches the function's log stream, one JSON
	// line per request, with the Lambda request id.
	deadline := time.Now().Add(5 * time.Second)
	for _, id := range lambdaIDs {
		for !strings.Contains(emuOut.String(), `"request_id":"`+id+`"`) {
			if time.Now().After(deadline) {
				t.Fatalf("no request log line for %s in the emulator output:\n%s", id, emuOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if strings.Contains(emuOut.String(), secretKey) || strings.Contains(emuOut.String(), good) {
		t.Error("the secret or a JWT reached the function's log")
	}
}

// decode returns a JSON body decoded, and any other body as its text (the
// router's own 404 and 405 answers are plain text).
func decode(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return v
}

var (
	uuidPart = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timePart = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})`)
)

// canonical renders v as JSON with ids and timestamps replaced by
// placeholders and arrays sorted, so that two answers to the same request
// compare equal when they differ only in generated ids, the clock and the
// order of concurrent lookups.
func canonical(v any) string {
	b, _ := json.Marshal(normalise(v))
	return string(b)
}

func normalise(v any) any {
	switch x := v.(type) {
	case string:
		x = uuidPart.ReplaceAllString(x, "<uuid>")
		return timePart.ReplaceAllString(x, "<time>")
	case []any:
		out := make([]any, len(x))
		keys := make([]string, len(x))
		for i, e := range x {
			out[i] = normalise(e)
			b, _ := json.Marshal(out[i])
			keys[i] = string(b)
		}
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		sorted := make([]any, len(x))
		for i, j := range idx {
			sorted[i] = out[j]
		}
		return sorted
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	}
	return v
}
