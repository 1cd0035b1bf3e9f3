package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

var metricsRE = regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`)

// TestServeMetrics runs serve with METRICS_ADDR: the metrics listener
// counts the relay's requests and its upstream calls, and the relay's own
// port does not serve them.
func TestServeMetrics(t *testing.T) {
	sim := simulator.New(simulator.Options{})
	upstream := httptest.NewServer(sim)
	defer upstream.Close()
	const secret = "metrics-serve-secret-0123456789abcdef"
	getenv := mapEnv(map[string]string{"SECRET_KEY": secret, "SIGNALS_API_URL": upstream.URL, "METRICS_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, stderr, done := startServe(t, ctx, getenv)
	m := metricsRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no metrics listener logged:\n%s", stderr)
	}
	jwt, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	get := func(method, url, authz, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get(http.MethodPost, "http://"+addr+"/observe/observables", "Bearer "+jwt, `[{"type":"ip","value":"203.0.113.66"}]`)
	get(http.MethodPost, "http://"+addr+"/health", "Bearer "+jwt, "")

	status, text := get(http.MethodGet, "http://"+m[1]+"/metrics", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, want := range []string{
		`signals_relay_requests_total{error="none",route="/observe/observables",status="200"} 1`,
		`signals_relay_requests_total{error="none",route="/health",status="200"} 1`,
		`signals_relay_upstream_requests_total{endpoint="health",outcome="200"} 1`,
		`signals_relay_upstream_requests_total{endpoint="ip",outcome="200"} 1`,
		`signals_relay_cache_misses_total{cache="report"} 1`,
		`signals_relay_requests_in_flight 0`,
		`signals_relay_build_info{goversion="` + runtime.Version() + `",`,
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(text, jwt) || strings.Contains(text, simulator.DemoKey) || strings.Contains(text, "203.0.113.66") {
		t.Error("/metrics carries the token, the API key or the observable")
	}
	if status, body := get(http.MethodGet, "http://"+addr+"/metrics", "", ""); status == http.StatusOK && strings.Contains(body, "signals_relay_") {
		t.Error("the relay's own port serves the metrics")
	}
	// The admin listener answers the watchdog probe as the relay's port does.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+m[1]+"/watchdog", nil)
	req.Header.Set("Health-Check", "probe")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("admin GET /watchdog: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"data":"probe"}` {
			t.Errorf("admin GET /watchdog: %d %s, want 200 {\"data\":\"probe\"}", resp.StatusCode, b)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if resp, err := http.Get("http://" + m[1] + "/metrics"); err == nil {
		resp.Body.Close()
		t.Error("metrics still served after serve stopped")
	}
}

func TestServeMetricsNeedsItsOwnPort(t *testing.T) {
	getenv := mapEnv(map[string]string{"SECRET_KEY": "x", "METRICS_ADDR": ":19090"})
	var out testsupport.LockedBuffer
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:19090"}, getenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "metrics need a port of their own") {
		t.Fatalf("serve with METRICS_ADDR on the relay's port: %v", err)
	}
}
