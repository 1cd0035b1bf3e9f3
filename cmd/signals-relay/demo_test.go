package main

import (
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// TestDemoOnce runs "demo --once" and checks its summary.
func TestDemoOnce(t *testing.T) {
	var stdout, stderr testsupport.LockedBuffer
	err := run(t.Context(), []string{"demo", "--once", "--addr", "127.0.0.1:0"}, mapEnv(nil), &stdout, &stderr)
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"203.0.113.66", "Malicious",
		"198.51.100.23", "Suspicious",
		"QUARANTINE-IP (High, TLP amber)",
		"5 verdicts, 6 judgements, 8 sightings, 8 indicators, 8 relationships",
		"curl -s -X POST http://127.0.0.1:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "error:") {
		t.Errorf("demo reported errors:\n%s", out)
	}
}

// TestDemoSaysWhereTheRequestLogIs checks that demo says whether its
// request log is on, and that with LOG_LEVEL=info it is.
func TestDemoSaysWhereTheRequestLogIs(t *testing.T) {
	for _, tc := range []struct {
		env        map[string]string
		wantOut    string
		wantLogged bool
	}{
		{nil, "Request log: off (demo runs with LOG_LEVEL=warn; set LOG_LEVEL=info", false},
		{map[string]string{"LOG_LEVEL": "info"}, "Request log: on standard error, one JSON line per request (LOG_LEVEL=info).", true},
	} {
		var stdout, stderr testsupport.LockedBuffer
		if err := run(t.Context(), []string{"demo", "--once", "--addr", "127.0.0.1:0"}, mapEnv(tc.env), &stdout, &stderr); err != nil {
			t.Fatalf("demo: %v\nstderr:\n%s", err, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.wantOut) {
			t.Errorf("env %v: demo output lacks %q:\n%s", tc.env, tc.wantOut, stdout.String())
		}
		if logged := strings.Contains(stderr.String(), `"route":"/observe/observables"`); logged != tc.wantLogged {
			t.Errorf("env %v: request line logged %v, want %v:\n%s", tc.env, logged, tc.wantLogged, stderr.String())
		}
	}
}
