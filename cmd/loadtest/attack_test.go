package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/auth"
)

// TestParseAttack checks that attack runs only against loopback, for a
// bounded time and count, in a known mode, and takes each mode's default.
func TestParseAttack(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		if k == "SECRET_KEY" {
			return "attack-test-secret-0123456789abcdef"
		}
		return ""
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
		conns   int
	}{
		{args: []string{"-mode", "silent"}, conns: 1536},
		{args: []string{"-mode", "big-refer", "-url", "http://[::1]:9090", "-admin", "http://localhost:9091"}, conns: 32},
		{args: []string{"-mode", "slow-body", "-c", "3"}, conns: 3},
		{args: []string{"-mode", "flood"}, wantErr: "unknown -mode"},
		{args: []string{"-mode", "silent", "-url", "http://192.0.2.1:9090"}, wantErr: "loopback"},
		{args: []string{"-mode", "silent", "-admin", "http://relay.example.com:9091"}, wantErr: "loopback"},
		{args: []string{"-mode", "silent", "-source", "192.0.2.1"}, wantErr: "loopback"},
		{args: []string{"-mode", "silent", "-d", "1h"}, wantErr: "-d"},
		{args: []string{"-mode", "silent", "-c", "100000"}, wantErr: "-c"},
	} {
		c, err := parseAttack(tc.args, getenv, io.Discard)
		if tc.wantErr != "" {
			var bad usageError
			if err == nil || !errors.As(err, &bad) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want a usage error about %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.conns != tc.conns {
			t.Errorf("%q: %+v, %v; want %d connections", tc.args, c, err, tc.conns)
		}
	}
	if _, err := parseAttack([]string{"-mode", "silent"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("attack without SECRET_KEY: no error")
	}
}

// TestForgedTokenReachesTheSignatureCheck checks that the attack's smaller
// forged token fits auth.MaxTokenBytes, so the relay refuses it by its HMAC
// (what the mode measures), not by its length.
func TestForgedTokenReachesTheSignatureCheck(t *testing.T) {
	tok := forgedToken(auth.MaxTokenBytes)
	if n := len(tok); n > auth.MaxTokenBytes || n < auth.MaxTokenBytes-8 {
		t.Fatalf("token of %d bytes, want at most %d and within 8 of it", n, auth.MaxTokenBytes)
	}
	r := httptest.NewRequest(http.MethodPost, "/health", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	_, err := auth.NewHS256([]byte("0123456789abcdef0123456789abcdef"), nil).Verify(r)
	var authErr *auth.Error
	if !errors.As(err, &authErr) || authErr.Reason != auth.ReasonBadSignature {
		t.Errorf("Verify = %v, want the signature refused", err)
	}
}
