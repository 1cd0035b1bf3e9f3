package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/testsupport"
)

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var listeningRE = regexp.MustCompile(`"msg":"relay listening","addr":"([^"]+)"`)

// startServe runs "serve" on a free loopback port until ctx ends and returns
// its address, its standard error and the channel run's result arrives on.
func startServe(t *testing.T, ctx context.Context, getenv func(string) string) (string, *testsupport.LockedBuffer, <-chan error) {
	t.Helper()
	var stdout testsupport.LockedBuffer
	stderr := &testsupport.LockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, &stdout, stderr) }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m := listeningRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr, done
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; stderr:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{args: []string{"version"}, wantOut: "signals-relay "},
		{args: []string{"help"}, wantOut: "usage: signals-relay"},
		{args: []string{"serve", "-h"}},
		{args: []string{"bogus"}, wantErr: `unknown command "bogus"`},
		{args: []string{"serve", "extra"}, wantErr: `unexpected argument "extra"`},
		{args: []string{"serve", "--nope"}, wantErr: "flag provided but not defined"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr testsupport.LockedBuffer
			err := run(t.Context(), tc.args, mapEnv(nil), &stdout, &stderr)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout = %q, want %q", stdout.String(), tc.wantOut)
			}
		})
	}
}
