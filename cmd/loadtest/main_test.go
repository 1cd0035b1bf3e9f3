package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// fakeRelay answers like the relay and checks the token load signs.
func fakeRelay(t *testing.T, secret string, fail func(n int64) bool) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	verifier := auth.NewHS256([]byte(secret), nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		creds, err := verifier.Verify(r)
		if err != nil || creds.APIKey != simulator.DemoKey || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if fail != nil && fail(i) {
			fmt.Fprint(w, `{"errors":[{"type":"fatal","code":"unknown","message":"x"}]}`)
			return
		}
		fmt.Fprint(w, `{"data":{"verdicts":{"count":0,"docs":[]}}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRun(t *testing.T) {
	const secret = "load-secret"
	srv, served := fakeRelay(t, secret, nil)
	var stdout, stderr strings.Builder
	args := []string{"-url", srv.URL, "-c", "4", "-d", "200ms", "-warmup", "50ms", "-pid", fmt.Sprint(os.Getpid())}
	wants := []string{"connections   4", "throughput", "p50", "p99", "relay memory  RSS before", "relay cpu "}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		args, wants = args[:len(args)-2], wants[:4]
	}
	err := run(t.Context(), append([]string{"load"}, args...), func(k string) string { return map[string]string{"SECRET_KEY": secret}[k] }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	var requests, failed, cpu int
	for _, line := range strings.Split(out, "\n") {
		var err error
		switch {
		case strings.HasPrefix(line, "requests"):
			_, err = fmt.Sscanf(line, "requests %d (%d failed)", &requests, &failed)
		case strings.HasPrefix(line, "relay cpu"):
			_, err = fmt.Sscanf(line, "relay cpu %d µs/request (user+system:", &cpu)
		}
		if err != nil {
			t.Fatalf("unreadable line %q: %v", line, err)
		}
	}
	if requests == 0 || failed != 0 || int64(requests) > served.Load() {
		t.Errorf("reported %d requests (%d failed), server saw %d:\n%s", requests, failed, served.Load(), out)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestRunReportsFailures(t *testing.T) {
	const secret = "load-secret"
	srv, _ := fakeRelay(t, secret, func(n int64) bool { return n%2 == 0 })
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"load", "-url", srv.URL, "-c", "2", "-d", "100ms", "-warmup", "0s"},
		func(k string) string { return map[string]string{"SECRET_KEY": secret}[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `requests failed (first: load: answer holds "\"errors\""`) {
		t.Fatalf("err = %v, want failed requests reported\n%s", err, stdout.String())
	}
}

func TestRunWrongSecretFails(t *testing.T) {
	srv, _ := fakeRelay(t, "right", nil)
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"load", "-url", srv.URL, "-c", "1", "-d", "50ms", "-warmup", "0s"},
		func(k string) string { return map[string]string{"SECRET_KEY": "wrong"}[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("err = %v, want HTTP 401 failures", err)
	}
}

func TestRunFlags(t *testing.T) {
	env := func(k string) string { return map[string]string{"SECRET_KEY": "s"}[k] }
	for _, tc := range []struct {
		args    []string
		env     func(string) string
		wantErr string
	}{
		{args: []string{"-h"}, env: env},
		{args: []string{"-c", "0"}, env: env, wantErr: "-c ≥ 1"},
		{args: []string{"-d", "0s"}, env: env, wantErr: "-d > 0"},
		{args: []string{"extra"}, env: env, wantErr: `unexpected argument "extra"`},
		{args: nil, env: func(string) string { return "" }, wantErr: "SECRET_KEY is not set"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := run(t.Context(), append([]string{"load"}, tc.args...), tc.env, &stdout, &stderr)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestModes checks the command line's modes: load runs, help prints the
// usage, and anything else is a usage error; soak names the test it became.
func TestModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args       []string
		wantErr    string // "" for none
		wantStdout bool
	}{
		{args: nil, wantErr: "the mode is load"},
		{args: []string{"stress"}, wantErr: "the mode is load"},
		{args: []string{"soak"}, wantErr: "go test ./cmd/loadtest -run '^TestSoak$' -v -soak 60s"},
		{args: []string{"help"}, wantStdout: true},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), tc.args, func(string) string { return "" }, &stdout, &stderr)
		var bad usageError
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.wantErr != "" && (!errors.As(err, &bad) || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want a usage error containing %q", tc.args, err, tc.wantErr)
		}
		if got := strings.Contains(stdout.String(), "usage:"); got != tc.wantStdout {
			t.Errorf("%q: usage on stdout = %v, want %v", tc.args, got, tc.wantStdout)
		}
	}
}
