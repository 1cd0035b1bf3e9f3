package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
	"github.com/signals-relay/signals-relay/internal/version"
)

// TestLookupLimitsReachTheRelay checks that MAX_OBSERVABLES and
// METADATA_MISSING_TTL configure the relay that serve builds.
func TestLookupLimitsReachTheRelay(t *testing.T) {
	const secret = "limits-test-secret-of-at-least-32-bytes"
	retired := "/metadata/badip/lists/" + simulator.RetiredListID
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantWarning bool
		wantRetired int64 // requests for the retired list in two observes
	}{
		{name: "defaults", wantRetired: 1},
		{name: "one lookup, missing lists not kept", env: map[string]string{"MAX_OBSERVABLES": "1", "METADATA_MISSING_TTL": "0"},
			wantWarning: true, wantRetired: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := simulator.New(simulator.Options{})
			var retiredCalls atomic.Int64
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == retired {
					retiredCalls.Add(1)
				}
				sim.ServeHTTP(w, r)
			}))
			defer upstream.Close()
			env := map[string]string{"SECRET_KEY": secret, "SIGNALS_API_URL": upstream.URL}
			for k, v := range tc.env {
				env[k] = v
			}
			cfg, err := loadConfig(mapEnv(env))
			if err != nil {
				t.Fatal(err)
			}
			h, err := newRelay(cfg, slog.New(slog.DiscardHandler), &http.Client{Timeout: 10 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			jwt, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				r := httptest.NewRequest(http.MethodPost, "/observe/observables",
					strings.NewReader(`[{"type":"ip","value":"`+simulator.IPEdgeLists+`"},{"type":"ip","value":"198.51.100.7"}]`))
				r.Header.Set("Authorization", "Bearer "+jwt)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				var answer struct {
					Errors []struct{ Type, Code string }
				}
				if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
					t.Fatal(err)
				}
				warned := len(answer.Errors) == 1 && answer.Errors[0].Type == "warning" && answer.Errors[0].Code == "too many observables"
				if warned != tc.wantWarning || (!tc.wantWarning && len(answer.Errors) > 0) {
					t.Errorf("errors = %+v, want a too-many-observables warning: %t", answer.Errors, tc.wantWarning)
				}
			}
			if n := retiredCalls.Load(); n != tc.wantRetired {
				t.Errorf("retired list asked %d times, want %d", n, tc.wantRetired)
			}
		})
	}
}

// TestServe runs "serve" end to end: start on a free port against the
// simulator, answer health and observe, then shut down gracefully.
func TestServe(t *testing.T) {
	sim := httptest.NewServer(simulator.New(simulator.Options{}))
	defer sim.Close()
	const secret = "serve-test-secret-0123456789abcdef"
	getenv := mapEnv(map[string]string{"SECRET_KEY": secret, "SIGNALS_API_URL": sim.URL})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, stderr, done := startServe(t, ctx, getenv)
	jwt, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := post("/health", ""); got["data"].(map[string]any)["status"] != "ok" {
		t.Errorf("health = %v", got)
	}
	got := post("/observe/observables", `[{"type":"ip","value":"203.0.113.66"}]`)
	data, _ := got["data"].(map[string]any)
	if data == nil || data["sightings"] == nil || got["errors"] != nil {
		t.Errorf("observe = %v", got)
	}
	// The default caches make the repeat free (see the log check below).
	again := post("/observe/observables", `[{"type":"ip","value":"203.0.113.66"}]`)
	count := func(v map[string]any) any {
		data, _ := v["data"].(map[string]any)
		sightings, _ := data["sightings"].(map[string]any)
		return sightings["count"]
	}
	if again["errors"] != nil || count(again) != count(got) || count(got) == nil {
		t.Errorf("repeated observe has %v sightings and errors %v; first had %v", count(again), again["errors"], count(got))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"route":"/observe/observables"`) || !strings.Contains(logs, `"upstream_calls":6`) {
		t.Errorf("request log lacks route or upstream calls:\n%s", logs)
	}
	if !strings.Contains(logs, `"upstream_calls":0,"upstream_ms":0,"report_cache_hits":1,"list_cache_hits":5`) {
		t.Errorf("request log lacks the cached repeat:\n%s", logs)
	}
	for _, s := range []string{secret, jwt, simulator.DemoKey} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret %q", s)
		}
	}
}

// TestServeAuthModes checks that serve refuses to start when the chosen
// authentication mode lacks what it needs or has a SECRET_KEY too short to
// be safe, and otherwise starts with the mode the settings select, warning
// when no credentials are set at all.
func TestServeAuthModes(t *testing.T) {
	const (
		secret  = "serve-auth-modes-secret-0123456789abcdef"
		warning = `"msg":"neither SECRET_KEY nor RELAY_URL is set: authenticated calls fail until one is"`
	)
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantErr     string
		wantMode    string // auth.Mode: "hs256", "xdr", "both", or "none" (every call refused)
		wantWarning bool
	}{
		{name: "hs256 without secret", env: map[string]string{"AUTH_MODE": "hs256"}, wantErr: "SECRET_KEY"},
		{name: "xdr without relay url", env: map[string]string{"AUTH_MODE": "xdr"}, wantErr: "RELAY_URL"},
		{name: "both without secret", env: map[string]string{"AUTH_MODE": "both", "RELAY_URL": "https://relay.example"}, wantErr: "SECRET_KEY"},
		{name: "unknown mode", env: map[string]string{"AUTH_MODE": "basic"}, wantErr: "AUTH_MODE"},
		{name: "bad from-request flag", env: map[string]string{"RELAY_URL_FROM_REQUEST": "maybe"}, wantErr: "RELAY_URL_FROM_REQUEST"},
		{name: "one-byte secret", env: map[string]string{"SECRET_KEY": "a"}, wantErr: "relayctl jwt"},
		{name: "31-byte secret", env: map[string]string{"SECRET_KEY": secret[:31]}, wantErr: "at least 32 bytes"},
		{name: "short secret in xdr mode", env: map[string]string{"AUTH_MODE": "xdr", "RELAY_URL": "https://relay.example", "SECRET_KEY": "short"},
			wantErr: "at least 32 bytes"},
		{name: "auto hs256", env: map[string]string{"SECRET_KEY": secret}, wantMode: "hs256"},
		{name: "32-byte secret", env: map[string]string{"SECRET_KEY": secret[:32]}, wantMode: "hs256"},
		{name: "xdr", env: map[string]string{"AUTH_MODE": "xdr", "RELAY_URL": "https://relay.example", "JWKS_HOSTS": "127.0.0.1:1, ,"}, wantMode: "xdr"},
		{name: "auto xdr", env: map[string]string{"RELAY_URL": "https://relay.example"}, wantMode: "xdr"},
		{name: "both", env: map[string]string{"AUTH_MODE": "both", "SECRET_KEY": secret, "RELAY_URL_FROM_REQUEST": "true"}, wantMode: "both"},
		{name: "nothing configured", env: map[string]string{}, wantMode: "none", wantWarning: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // serve returns as soon as it has started
			var stdout, stderr testsupport.LockedBuffer
			err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, mapEnv(tc.env), &stdout, &stderr)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			logs := stderr.String()
			if strings.Contains(logs, secret[:16]) || (err != nil && strings.Contains(err.Error(), secret[:16])) {
				t.Errorf("SECRET_KEY in the output or error:\n%s", logs)
			}
			if tc.wantErr != "" {
				return
			}
			if !listeningRE.MatchString(logs) {
				t.Errorf("serve did not start:\n%s", logs)
			}
			if got := strings.Contains(logs, warning); got != tc.wantWarning {
				t.Errorf("warning logged: %t, want %t:\n%s", got, tc.wantWarning, logs)
			}
			if want := `"auth_mode":"` + tc.wantMode + `"`; !strings.Contains(logs, want) {
				t.Errorf("the start does not log %s:\n%s", want, logs)
			}
		})
	}
}

// TestUpstreamHTTPClientFitsTheBounds checks that the upstream client caps
// its connections at UPSTREAM_MAX_CONNS (by default 128) and may keep all of
// them idle for reuse.
func TestUpstreamHTTPClientFitsTheBounds(t *testing.T) {
	for _, tc := range []struct {
		conns string
		want  int
	}{
		{conns: "", want: 128},
		{conns: "8", want: 8},
		{conns: "320", want: 320},
	} {
		cfg, err := loadConfig(mapEnv(map[string]string{"UPSTREAM_MAX_CONNS": tc.conns, "SIGNALS_TIMEOUT": "1s"}))
		if err != nil {
			t.Fatal(err)
		}
		hc := upstreamHTTPClient(cfg, nil)
		tr := hc.Transport.(*http.Transport)
		if tr.MaxConnsPerHost != tc.want || tr.MaxIdleConnsPerHost != tc.want || tr.MaxIdleConns < tc.want || hc.Timeout != time.Second {
			t.Errorf("UPSTREAM_MAX_CONNS=%q: conns per host %d, idle per host %d, idle %d, timeout %s; want %d",
				tc.conns, tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, hc.Timeout, tc.want)
		}
	}
}

func TestWarnOldToolchain(t *testing.T) {
	for _, tc := range []struct {
		goVersion string
		warn      bool
	}{
		{"go1.26.8", true},
		{version.Toolchain, false},
		{"devel go1.28-abc", false},
	} {
		var buf bytes.Buffer
		warnOldToolchain(slog.New(slog.NewJSONHandler(&buf, nil)), tc.goVersion)
		if got := strings.Contains(buf.String(), `"go_version":"`+tc.goVersion+`"`); got != tc.warn {
			t.Errorf("%s: warned %v, want %v (%s)", tc.goVersion, got, tc.warn, buf.String())
		}
	}
}
