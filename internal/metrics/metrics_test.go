package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/version"
)

const testSecret = "metrics-test-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// series are the gathered samples of one registry, for lookups by name
// and labels.
type series []*dto.MetricFamily

func gather(t *testing.T, m *Metrics) series {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the counter, gauge or histogram count of the series of
// name with exactly labels (name=value pairs), and whether it exists.
func (s series) value(name string, labels ...string) (float64, bool) {
	for _, f := range s {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel())*2 != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				i := slices.Index(labels, l.GetName())
				if i < 0 || i%2 != 0 || labels[i+1] != l.GetValue() {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// sum adds every series of name whose labels include the given pairs
// (counters, or histograms' sample counts).
func (s series) sum(name string, labels ...string) float64 {
	var total float64
	for _, f := range s {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
					return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
				}) {
					continue metric
				}
			}
			total += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// labelValues returns every label value of every own metric.
func (s series) labelValues() map[string][]string {
	out := map[string][]string{}
	for _, f := range s {
		if !strings.HasPrefix(f.GetName(), Namespace+"_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				k := f.GetName() + "{" + l.GetName() + "}"
				if !slices.Contains(out[k], l.GetValue()) {
					out[k] = append(out[k], l.GetValue())
				}
			}
		}
	}
	return out
}

// relayEnv is a relay with metrics, wired to a simulator.
type relayEnv struct {
	m       *Metrics
	sim     *simtest.Upstream
	handler http.Handler
}

func newRelayEnv(t *testing.T, quota int) *relayEnv {
	t.Helper()
	m := New(CurrentBuild())
	sim := simtest.New(simulator.Options{Quota: quota})
	upstream := httptest.NewServer(sim)
	t.Cleanup(upstream.Close)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: m.Transport(http.DefaultTransport.(*http.Transport).Clone())}
	client, err := signals.New(upstream.URL, hc, "signals-relay/test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := enrich.DefaultConfig()
	cfg.ReportCacheTTL, cfg.ListCacheTTL, cfg.ListMissingTTL = time.Minute, time.Minute, 0
	lookup, err := enrich.New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := relay.New(relay.Options{
		Logger: slog.New(slog.DiscardHandler), Verifier: auth.NewHS256([]byte(testSecret), nil),
		Lookup: lookup, Limits: relay.DefaultLimits(), Version: "1.2.3", Observe: m.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &relayEnv{m: m, sim: sim, handler: m.InFlight(h)}
}

func (e *relayEnv) send(t *testing.T, method, path, authz, body string) int {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w.Code
}

func bearer(t *testing.T, apiKey, secret string) string {
	t.Helper()
	tok, err := auth.SignHS256(map[string]any{"key": apiKey}, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// TestRelayMetrics drives a relay through cache hits and misses, a used-up
// quota and failed authentication, and checks each metric against what
// happened (and against the simulator's own count of calls).
func TestRelayMetrics(t *testing.T) {
	e := newRelayEnv(t, 9)
	good := bearer(t, simulator.DemoKey, testSecret)
	obs := `[{"type":"ip","value":"203.0.113.66"},{"type":"ip","value":"198.51.100.7"}]`

	e.send(t, http.MethodGet, "/watchdog", "", "")
	e.send(t, http.MethodPost, "/observe/observables", good, obs)
	s := gather(t, e.m)
	callsAfterFirst := float64(e.sim.Requests())
	reportMisses, _ := s.value("signals_relay_cache_misses_total", "cache", "report")
	listMisses, _ := s.value("signals_relay_cache_misses_total", "cache", "list")
	if reportMisses != 2 || listMisses == 0 || reportMisses+listMisses != callsAfterFirst {
		t.Errorf("first observe: %v report and %v list misses, %v upstream calls", reportMisses, listMisses, callsAfterFirst)
	}

	e.send(t, http.MethodPost, "/observe/observables", good, obs) // from the caches
	e.send(t, http.MethodPost, "/health", good, "")
	if got, want := gather(t, e.m).sum("signals_relay_upstream_requests_total"), float64(e.sim.Requests()); got != want {
		t.Errorf("%v upstream calls counted, the simulator answered %v", got, want)
	}
	e.send(t, http.MethodPost, "/deliberate/observables", bearer(t, simulator.DemoKey, "forged"), obs)
	// The quota of 9 calls runs out during these six lookups: some answers
	// are 429, and calls still running when the first 429 arrives are
	// canceled (the simulator may or may not have counted them).
	e.send(t, http.MethodPost, "/deliberate/observables", good,
		`[{"type":"ip","value":"192.0.2.1"},{"type":"ip","value":"192.0.2.2"},{"type":"ip","value":"192.0.2.3"},{"type":"ip","value":"192.0.2.4"},{"type":"ip","value":"192.0.2.5"},{"type":"ip","value":"192.0.2.6"}]`)

	s = gather(t, e.m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"signals_relay_requests_total", []string{"route", "/watchdog", "status", "200", "error", "none"}, 1},
		{"signals_relay_requests_total", []string{"route", "/observe/observables", "status", "200", "error", "none"}, 2},
		{"signals_relay_requests_total", []string{"route", "/health", "status", "200", "error", "none"}, 1},
		{"signals_relay_requests_total", []string{"route", "/deliberate/observables", "status", "200", "error", "authorization error"}, 1},
		{"signals_relay_request_duration_seconds", []string{"route", "/observe/observables"}, 2},
		{"signals_relay_request_duration_seconds", []string{"route", "/deliberate/observables"}, 2},
		{"signals_relay_cache_hits_total", []string{"cache", "report"}, 2},
		{"signals_relay_upstream_requests_total", []string{"endpoint", "health", "outcome", "200"}, 1},
		{"signals_relay_upstream_request_duration_seconds", []string{"endpoint", "health", "outcome", "200"}, 1},
		{"signals_relay_requests_in_flight", nil, 0},
	} {
		if got, ok := s.value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if got := s.sum("signals_relay_requests_total", "route", "/deliberate/observables", "error", "too many requests"); got != 1 {
		t.Errorf("requests answered with the quota error: %v, want 1", got)
	}
	if hits, _ := s.value("signals_relay_cache_hits_total", "cache", "list"); hits == 0 {
		t.Error("no list cache hit counted for the repeated observe")
	}
	quota, _ := s.value("signals_relay_upstream_quota_exceeded_total")
	if got := s.sum("signals_relay_upstream_requests_total", "outcome", "429"); quota == 0 || got != quota {
		t.Errorf("%v upstream 429 answers counted, %v quota events", got, quota)
	}
	if got, want := s.sum("signals_relay_upstream_requests_total", "endpoint", "ip"), s.sum("signals_relay_cache_misses_total", "cache", "report"); got != want {
		t.Errorf("%v report calls, %v report cache misses", got, want)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if _, ok := s.value(name); !ok && (name != "process_resident_memory_bytes" || runtime.GOOS == "linux") {
			t.Errorf("%s is missing", name)
		}
	}
}

// TestNoSecretOrObservableInLabels sends requests whose paths, tokens,
// API keys and observables are all distinct secrets or values, then feeds
// records that carry them where bounded names belong, and checks that no
// label value holds any of them and that the label sets stay bounded.
func TestNoSecretOrObservableInLabels(t *testing.T) {
	e := newRelayEnv(t, 0)
	const apiKey = "9b2e4c1a-7d3f-4a5b-8c6d-0e1f2a3b4c5d"
	var forbidden []string
	for i := range 40 {
		key := fmt.Sprintf("%08x-7d3f-4a5b-8c6d-0e1f2a3b4c5d", i)
		authz := bearer(t, key, testSecret)
		ip := fmt.Sprintf("198.18.%d.%d", i/250, i%250+1)
		path := fmt.Sprintf("/observe/observables/%s/%d", ip, i)
		forbidden = append(forbidden, key, strings.TrimPrefix(authz, "Bearer "), ip, path)
		e.send(t, http.MethodPost, "/observe/observables", authz, `[{"type":"ip","value":"`+ip+`"}]`)
		e.send(t, http.MethodPost, path, authz, "")
		e.send(t, http.MethodGet, "/watchdog?token="+key, "", "")
	}
	good := bearer(t, simulator.DemoKey, testSecret)
	forbidden = append(forbidden, apiKey, strings.TrimPrefix(good, "Bearer "), testSecret, simulator.DemoKey)
	e.send(t, http.MethodPost, "/observe/observables", good, `[{"type":"ip","value":"203.0.113.66"}]`)
	forbidden = append(forbidden, "203.0.113.66")

	// Records that carry secrets where routes and codes belong (while the
	// labels still admit new values), then more distinct plain names than a
	// label admits.
	e.m.Observe(relay.RequestRecord{Route: apiKey, Status: 1000 + 7, Errors: []string{good}})
	e.m.Observe(relay.RequestRecord{Route: "/observe/observables/203.0.113.66", Errors: []string{"unexpected answer for " + apiKey}})
	e.m.Observe(relay.RequestRecord{Route: "/health", Errors: []string{"x-auth-token " + simulator.DemoKey}})
	e.m.Observe(relay.RequestRecord{Route: "/" + strings.Repeat("observables", 20), Errors: []string{strings.Repeat("too many requests ", 20)}})
	for i := range 200 {
		e.m.Observe(relay.RequestRecord{Route: fmt.Sprintf("/route/%c%c", 'a'+i%26, 'a'+i/26), Status: 200, Errors: []string{fmt.Sprintf("code %c%c", 'a'+i%26, 'a'+i/26)}})
	}

	values := gather(t, e.m).labelValues()
	for label, vs := range values {
		for _, v := range vs {
			if len(v) > maxLabelLen {
				t.Errorf("%s has a value of %d bytes: %.40q…", label, len(v), v)
			}
			for _, f := range forbidden {
				if strings.Contains(v, f) {
					t.Errorf("%s has the value %q, which carries %q", label, v, f)
				}
			}
			for _, c := range v {
				if '0' <= c && c <= '9' && !strings.Contains(label, "status") && !strings.Contains(label, "outcome") &&
					!strings.Contains(label, "{le}") && !strings.HasPrefix(label, "signals_relay_build_info{") {
					t.Errorf("%s has the value %q with a digit", label, v)
					break
				}
			}
		}
	}
	if n := len(values["signals_relay_requests_total{route}"]); n > 33 {
		t.Errorf("%d distinct routes: %v", n, values["signals_relay_requests_total{route}"])
	}
	if n := len(values["signals_relay_requests_total{error}"]); n > 64+2 { // and "other", "none"
		t.Errorf("%d distinct error codes", n)
	}
	for _, label := range []string{"signals_relay_requests_total{status}", "signals_relay_upstream_requests_total{outcome}"} {
		for _, v := range values[label] {
			if v != "other" && v != "canceled" && v != "timeout" && v != "error" && (len(v) != 3 || v < "100" || v > "599") {
				t.Errorf("%s = %q", label, v)
			}
		}
	}
	if !slices.Contains(values["signals_relay_requests_total{route}"], "other") || !slices.Contains(values["signals_relay_requests_total{status}"], "other") {
		t.Errorf("unknown routes and statuses are not counted as other: %v", values)
	}
	if got := values["signals_relay_upstream_requests_total{endpoint}"]; !slices.Equal(sorted(got), []string{"ip", "metadata"}) {
		t.Errorf("upstream endpoints %v", got)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestBuildInfo(t *testing.T) {
	b := Build{Version: "1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", GoVersion: "go1.27.3"}
	s := gather(t, New(b))
	if got, ok := s.value("signals_relay_build_info", "version", b.Version, "revision", b.Revision, "goversion", b.GoVersion); !ok || got != 1 {
		t.Errorf("signals_relay_build_info %v (found %v), want 1 with %+v", got, ok, b)
	}
	cur := CurrentBuild()
	if cur.Version != version.Version || cur.GoVersion != runtime.Version() || cur.Revision == "" {
		t.Errorf("CurrentBuild() = %+v", cur)
	}
}

func TestInFlight(t *testing.T) {
	m := New(CurrentBuild())
	entered, release := make(chan struct{}), make(chan struct{})
	h := m.InFlight(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) })
		<-entered
	}
	if got, _ := gather(t, m).value("signals_relay_requests_in_flight"); got != 3 {
		t.Errorf("in flight while three requests wait: %v", got)
	}
	close(release)
	wg.Wait()
	if got, _ := gather(t, m).value("signals_relay_requests_in_flight"); got != 0 {
		t.Errorf("in flight after they finished: %v", got)
	}
	var nilMetrics *Metrics
	nilMetrics.Observe(relay.RequestRecord{Route: "/health"}) // records nothing, does not panic
	if nilMetrics.InFlight(h) == nil || nilMetrics.Transport(http.DefaultTransport) != http.DefaultTransport {
		t.Error("a nil *Metrics does not leave handlers and transports as they are")
	}
}

func TestEndpoint(t *testing.T) {
	tests := map[string]string{
		"/v2.0/ip/203.0.113.66":                 "ip",
		"/prefix/v2.0/ip/2001:db8::1":           "ip",
		"/v2.0/ip/a%2Fb":                        "ip",
		"/v2.0/ip":                              "health",
		"/api/v2.0/ip/":                         "health",
		"/metadata/badip/lists/1234":            "metadata",
		"/p/metadata/baddomain/lists/abc":       "metadata",
		"/metadata/badip/lists":                 "other",
		"/v2.0/ip/203.0.113.66/extra":           "other",
		"/":                                     "other",
		"/9b2e4c1a-7d3f-4a5b-8c6d-0e1f2a3b4c5d": "other",
	}
	for path, want := range tests {
		if got := endpoint(path); got != want {
			t.Errorf("endpoint(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestTransportOutcomes(t *testing.T) {
	slow := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2.0/ip/192.0.2.1":
			http.Error(w, "429: Too Many Requests", http.StatusTooManyRequests)
		case "/v2.0/ip/192.0.2.2":
			http.Error(w, "oops", http.StatusInternalServerError)
		case "/v2.0/ip/192.0.2.3":
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	defer srv.Close()
	defer close(slow)
	m := New(CurrentBuild())
	hc := &http.Client{Transport: m.Transport(nil)}
	get := func(ctx context.Context, path string, timeout time.Duration) {
		c := *hc
		c.Timeout = timeout
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if resp, err := c.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	get(t.Context(), "/v2.0/ip/192.0.2.1", 0)
	get(t.Context(), "/v2.0/ip/192.0.2.2", 0)
	get(t.Context(), "/metadata/badip/lists/7", 0)
	get(t.Context(), "/v2.0/ip/192.0.2.3", 50*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	get(ctx, "/v2.0/ip/192.0.2.3", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+closed+"/v2.0/ip", nil)
	if _, err := hc.Do(req); err == nil {
		t.Fatal("a call to a closed port succeeded")
	}

	s := gather(t, m)
	for _, c := range []struct{ endpoint, outcome string }{
		{"ip", "429"}, {"ip", "500"}, {"metadata", "200"}, {"ip", "timeout"}, {"ip", "canceled"}, {"health", "error"},
	} {
		if got, _ := s.value("signals_relay_upstream_requests_total", "endpoint", c.endpoint, "outcome", c.outcome); got != 1 {
			t.Errorf("upstream %s %s: %v, want 1", c.endpoint, c.outcome, got)
		}
	}
	if got, _ := s.value("signals_relay_upstream_quota_exceeded_total"); got != 1 {
		t.Errorf("quota events %v, want 1", got)
	}
	if got := s.sum("signals_relay_upstream_request_duration_seconds", "endpoint", "ip"); got != 4 {
		t.Errorf("ip latencies observed: %v, want 4", got)
	}
	// Each outcome has its own latency series, so slow failures can be told
	// from slow answers.
	for _, outcome := range []string{"429", "500", "timeout", "canceled"} {
		if got, _ := s.value("signals_relay_upstream_request_duration_seconds", "endpoint", "ip", "outcome", outcome); got != 1 {
			t.Errorf("ip latencies of outcome %s: %v, want 1", outcome, got)
		}
	}
}

func TestListenAndServe(t *testing.T) {
	for _, c := range []struct{ addr, relay, want string }{
		{":9090", ":9090", "metrics need a port of their own"},
		{"127.0.0.1:9090", "0.0.0.0:9090", "metrics need a port of their own"},
		{"9100", ":9090", "want host:port"},
		{"", ":9090", "want host:port"},
	} {
		if ln, err := Listen(t.Context(), c.addr, c.relay); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Listen(%q, relay %q) = %v; want error with %q", c.addr, c.relay, err, c.want)
			if ln != nil {
				ln.Close()
			}
		}
	}

	ln, err := Listen(t.Context(), "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := New(CurrentBuild())
	m.Observe(relay.RequestRecord{Route: "/health", Status: 200, Duration: time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, ln, slog.New(slog.DiscardHandler), nil) }()
	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`signals_relay_requests_total{error="none",route="/health",status="200"} 1`,
		`signals_relay_request_duration_seconds_bucket{route="/health",le="0.005"} 1`,
		`signals_relay_cache_misses_total{cache="report"} 0`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp, err := http.Post(base+"/metrics", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get(base + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop when its context ended")
	}
	if resp, err := http.Get(base + "/metrics"); err == nil {
		resp.Body.Close()
		t.Error("metrics still served after Serve returned")
	}
}

func TestBoundedLabel(t *testing.T) {
	b := boundedLabel{max: 2, seen: make(map[string]bool)}
	for _, tc := range []struct{ in, want string }{
		{"invalid argument", "invalid argument"},
		{"", "other"},
		{"Upper", "other"},
		{"key=0e2b8f3c", "other"},
		{"203.0.113.66", "other"},
		{strings.Repeat("a", maxLabelLen+1), "other"},
		{"auth error", "auth error"},
		{"third code", "other"}, // over max distinct values
		{"invalid argument", "invalid argument"},
	} {
		if got := b.value(tc.in); got != tc.want {
			t.Errorf("value(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestErrorLabelIsTheFirstCode checks that requests_total's error label is
// the first error code of the answer, whatever follows it.
func TestErrorLabelIsTheFirstCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errors []string
		want   string
	}{
		{"none", nil, "none"},
		{"one", []string{relay.CodeTooManyRequests}, relay.CodeTooManyRequests},
		{"two", []string{relay.CodeTooManyRequests, relay.CodeRequestTimeout}, relay.CodeTooManyRequests},
		{"three", []string{relay.CodeUnknown, relay.CodeAuthorization, relay.CodeTooManyObservables}, relay.CodeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(CurrentBuild())
			m.Observe(relay.RequestRecord{Route: "/observe/observables", Status: 200, Duration: time.Millisecond, Errors: tc.errors})
			s := gather(t, m)
			if got, ok := s.value("signals_relay_requests_total", "route", "/observe/observables", "status", "200", "error", tc.want); !ok || got != 1 {
				t.Errorf("requests_total{error=%q} = %v (found %v), want 1", tc.want, got, ok)
			}
			if got := s.sum("signals_relay_requests_total"); got != 1 {
				t.Errorf("requests_total sums to %v, want 1", got)
			}
		})
	}
}
