package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
	"github.com/signals-relay/signals-relay/internal/version"
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

func TestConfigRedactsSecret(t *testing.T) {
	const secret = "super-secret-value-0123456789"
	c, err := loadConfig(mapEnv(map[string]string{"SECRET_KEY": secret}))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c, "auth", c.Auth)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("formatted config shows SECRET_KEY: %s", s)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", check: func(t *testing.T, c config) {
			if c.SignalsURL != "https://signals.api.auth0.com" || c.ListenAddr != ":9090" ||
				c.EntitiesLimit != 100 || c.SignalsTimeout != 10*time.Second {
				t.Errorf("defaults = %v", c)
			}
			if c.ReportConcurrency != 64 || c.ListConcurrency != 32 || c.MetadataCacheTTL != 6*time.Hour ||
				c.MetadataCacheSize != 1024 || c.ReportCacheTTL != 5*time.Minute || c.ReportCacheSize != 10000 ||
				c.RequestTimeout != 15*time.Second {
				t.Errorf("performance defaults = %v", c)
			}
		}},
		{name: "performance set", env: map[string]string{"REPORT_CONCURRENCY": "8", "LIST_CONCURRENCY": " 4 ",
			"METADATA_CACHE_TTL": "30m", "METADATA_CACHE_SIZE": "50", "REPORT_CACHE_TTL": "1m", "REPORT_CACHE_SIZE": "20",
			"REQUEST_TIMEOUT": "20s"},
			check: func(t *testing.T, c config) {
				if c.ReportConcurrency != 8 || c.ListConcurrency != 4 || c.MetadataCacheTTL != 30*time.Minute ||
					c.MetadataCacheSize != 50 || c.ReportCacheTTL != time.Minute || c.ReportCacheSize != 20 ||
					c.RequestTimeout != 20*time.Second {
					t.Errorf("config = %v", c)
				}
			}},
		{name: "caches off", env: map[string]string{"METADATA_CACHE_TTL": "0", "REPORT_CACHE_TTL": "0s"},
			check: func(t *testing.T, c config) {
				if c.MetadataCacheTTL != 0 || c.ReportCacheTTL != 0 {
					t.Errorf("config = %v", c)
				}
			}},
		{name: "report concurrency zero", env: map[string]string{"REPORT_CONCURRENCY": "0"}, wantErr: "REPORT_CONCURRENCY"},
		{name: "list concurrency not a number", env: map[string]string{"LIST_CONCURRENCY": "many"}, wantErr: "LIST_CONCURRENCY"},
		{name: "list concurrency too high", env: map[string]string{"LIST_CONCURRENCY": "1001"}, wantErr: "LIST_CONCURRENCY"},
		{name: "metadata ttl negative", env: map[string]string{"METADATA_CACHE_TTL": "-1h"}, wantErr: "METADATA_CACHE_TTL"},
		{name: "metadata ttl too long", env: map[string]string{"METADATA_CACHE_TTL": "200h"}, wantErr: "METADATA_CACHE_TTL"},
		{name: "metadata size zero", env: map[string]string{"METADATA_CACHE_SIZE": "0"}, wantErr: "METADATA_CACHE_SIZE"},
		{name: "report ttl not a duration", env: map[string]string{"REPORT_CACHE_TTL": "5"}, wantErr: "REPORT_CACHE_TTL"},
		{name: "report size negative", env: map[string]string{"REPORT_CACHE_SIZE": "-3"}, wantErr: "REPORT_CACHE_SIZE"},
		{name: "request timeout zero", env: map[string]string{"REQUEST_TIMEOUT": "0"}, wantErr: "REQUEST_TIMEOUT"},
		{name: "request timeout too long", env: map[string]string{"REQUEST_TIMEOUT": "10m"}, wantErr: "REQUEST_TIMEOUT"},
		{name: "bounds default", check: func(t *testing.T, c config) {
			if c.UpstreamConns != 128 || c.MaxConns != 512 || c.IdleTimeout != 30*time.Second ||
				c.MaxConcurrent != 64 || c.EntitiesMax != 1000 {
				t.Errorf("bound defaults = %v", c)
			}
		}},
		{name: "bounds set", env: map[string]string{"UPSTREAM_MAX_CONNS": "16", "MAX_CONNECTIONS": "100",
			"IDLE_TIMEOUT": "5s", "MAX_CONCURRENT_LOOKUPS": "8", "CTR_ENTITIES_LIMIT_MAX": "50", "CTR_ENTITIES_LIMIT": "50"},
			check: func(t *testing.T, c config) {
				if c.UpstreamConns != 16 || c.MaxConns != 100 || c.IdleTimeout != 5*time.Second ||
					c.MaxConcurrent != 8 || c.EntitiesMax != 50 || c.EntitiesLimit != 50 {
					t.Errorf("config = %v", c)
				}
			}},
		{name: "upstream conns zero", env: map[string]string{"UPSTREAM_MAX_CONNS": "0"}, wantErr: "UPSTREAM_MAX_CONNS"},
		{name: "max connections not a number", env: map[string]string{"MAX_CONNECTIONS": "lots"}, wantErr: "MAX_CONNECTIONS"},
		{name: "idle timeout zero", env: map[string]string{"IDLE_TIMEOUT": "0"}, wantErr: "IDLE_TIMEOUT"},
		{name: "concurrent lookups zero", env: map[string]string{"MAX_CONCURRENT_LOOKUPS": "0"}, wantErr: "MAX_CONCURRENT_LOOKUPS"},
		{name: "entities max zero", env: map[string]string{"CTR_ENTITIES_LIMIT_MAX": "0"}, wantErr: "CTR_ENTITIES_LIMIT_MAX"},
		{name: "entities limit above the max", env: map[string]string{"CTR_ENTITIES_LIMIT": "200", "CTR_ENTITIES_LIMIT_MAX": "100"},
			wantErr: "CTR_ENTITIES_LIMIT=200 is above CTR_ENTITIES_LIMIT_MAX=100"},
		{name: "all set", env: map[string]string{"SECRET_KEY": "s", "SIGNALS_API_URL": "http://127.0.0.1:9191/",
			"SIGNALS_TIMEOUT": "3s", "CTR_ENTITIES_LIMIT": "5", "LISTEN_ADDR": "127.0.0.1:1", "LOG_LEVEL": "debug"},
			check: func(t *testing.T, c config) {
				if c.EntitiesLimit != 5 || c.SignalsTimeout != 3*time.Second || c.LogLevel.String() != "DEBUG" {
					t.Errorf("config = %v", c)
				}
			}},
		{name: "bad limit", env: map[string]string{"CTR_ENTITIES_LIMIT": "0"}, wantErr: "CTR_ENTITIES_LIMIT"},
		{name: "limit not a number", env: map[string]string{"CTR_ENTITIES_LIMIT": "ten"}, wantErr: "CTR_ENTITIES_LIMIT"},
		{name: "bad timeout", env: map[string]string{"SIGNALS_TIMEOUT": "forever"}, wantErr: "SIGNALS_TIMEOUT"},
		{name: "bad url", env: map[string]string{"SIGNALS_API_URL": "ftp://x"}, wantErr: "SIGNALS_API_URL"},
		{name: "bad level", env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(mapEnv(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
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
		wantMode    string // "hs256", "xdr", "both", or "none" (every call refused)
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

			// The verifier the same settings select.
			cfg, err := loadConfig(mapEnv(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			v, err := newVerifier(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var mode string
			switch v := v.(type) {
			case auth.HS256:
				mode = "hs256"
				if len(v.Secret) == 0 {
					mode = "none"
				}
			case *auth.XDR:
				mode = "xdr"
			case auth.Both:
				mode = "both"
			}
			if mode != tc.wantMode {
				t.Errorf("verifier %T (mode %q), want mode %q", v, mode, tc.wantMode)
			}
		})
	}
}

// TestUpstreamHTTPClientFitsTheBounds checks that the upstream client caps
// its connections at UPSTREAM_MAX_CONNS (by default 128) and may keep all of
// them idle for reuse.
func TestUpstreamHTTPClientFitsTheBounds(t *testing.T) {
	for _, tc := range []struct {
		conns, want int
	}{
		{conns: 0, want: defaultUpstreamConns},
		{conns: 8, want: 8},
		{conns: 320, want: 320},
	} {
		hc := upstreamHTTPClient(config{SignalsTimeout: time.Second, UpstreamConns: tc.conns})
		tr := hc.Transport.(*http.Transport)
		if tr.MaxConnsPerHost != tc.want || tr.MaxIdleConnsPerHost != tc.want || tr.MaxIdleConns < tc.want || hc.Timeout != time.Second {
			t.Errorf("UPSTREAM_MAX_CONNS %d: conns per host %d, idle per host %d, idle %d, timeout %s; want %d",
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
