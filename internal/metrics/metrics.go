// Package metrics is the relay's Prometheus instrumentation (requests,
// upstream calls, requests in flight, Go runtime and process) on a registry
// and listener of its own. Label values come from fixed sets, checked again
// here (anything else counts as "other"), so no label can carry an API key,
// a token or an observable.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/routes"
	"github.com/signals-relay/signals-relay/internal/version"
)

// Namespace starts every metric name of the relay.
const Namespace = "signals_relay"

// Buckets of the duration histograms, in seconds: from a cached answer
// (milliseconds) to the default REQUEST_TIMEOUT (15 s) and beyond.
var (
	requestBuckets  = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 60}
	upstreamBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// Metrics holds the relay's collectors. Build it with New; a nil *Metrics
// records nothing.
type Metrics struct {
	reg                               *prometheus.Registry
	requests, upstream                *prometheus.CounterVec
	requestDuration, upstreamDuration *prometheus.HistogramVec
	inFlight                          prometheus.Gauge
	coalesced, quota                  prometheus.Counter
	// The cache counters' children, one per cache.
	reportHits, listHits, reportMisses, listMisses prometheus.Counter

	// routeLabels maps each route (and "other") to itself; codes bounds the
	// error codes, which are not one fixed list.
	routeLabels map[string]string
	codes       boundedLabel
}

// Build names the running binary in signals_relay_build_info.
type Build struct {
	Version   string // the relay's release version
	Revision  string // the source commit, or "unknown"
	GoVersion string // the Go toolchain that built it
}

// CurrentBuild is this binary's Build: the release version, the source
// commit (version.SourceRevision) and the Go version.
func CurrentBuild() Build {
	return Build{Version: version.Version, Revision: version.SourceRevision(), GoVersion: runtime.Version()}
}

// New returns the relay's metrics on a new registry, with the Go runtime
// and process collectors and signals_relay_build_info for build.
func New(build Build) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := promauto.With(reg)
	f.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "build_info",
		Help: "Always 1: the relay's release version, source revision and Go version as labels."},
		[]string{"version", "revision", "goversion"}).
		WithLabelValues(build.Version, build.Revision, build.GoVersion).Set(1)
	counters := func(name, help string, labels ...string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	histograms := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return f.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	}
	hits := counters("cache_hits_total", "Lookups answered from a cache: report (IP reports per API key) or list (blocklist details).", "cache")
	misses := counters("cache_misses_total", "Lookups a cache could not answer that were fetched from Auth0 Signals: report or list. Lookups that joined another request's call are counted in coalesced_lookups_total instead.", "cache")
	m := &Metrics{
		reg: reg,
		requests: counters("requests_total",
			"Requests answered, by route, HTTP status and the first error code of the answer (\"none\" without error).", "route", "status", "error"),
		requestDuration: histograms("request_duration_seconds", "Time to answer a request, by route.", requestBuckets, "route"),
		inFlight:        f.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "requests_in_flight", Help: "Requests being answered."}),
		upstream: counters("upstream_requests_total",
			"Calls to Auth0 Signals, by endpoint (ip, metadata, health) and outcome (HTTP status, or error, timeout, canceled).", "endpoint", "outcome"),
		upstreamDuration: histograms("upstream_request_duration_seconds",
			"Time from sending a call to Auth0 Signals to its response headers (or its failure), by endpoint and outcome (as upstream_requests_total).",
			upstreamBuckets, "endpoint", "outcome"),
		coalesced: f.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "coalesced_lookups_total",
			Help: "Lookups answered by a call another request with the same API key had in flight."}),
		quota: f.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "upstream_quota_exceeded_total",
			Help: "Auth0 Signals answers 429 (an API key's quota used up)."}),
		reportHits: hits.WithLabelValues("report"), listHits: hits.WithLabelValues("list"),
		reportMisses: misses.WithLabelValues("report"), listMisses: misses.WithLabelValues("list"),
		routeLabels: map[string]string{"other": "other"},
		codes:       boundedLabel{max: 64, seen: make(map[string]bool)},
	}
	for _, r := range routes.All() {
		m.routeLabels[r.Path] = r.Path
	}
	return m
}

// Observe records one answered request; it is the relay's Options.Observe.
func (m *Metrics) Observe(r relay.RequestRecord) {
	if m == nil {
		return
	}
	route, ok := m.routeLabels[r.Route]
	if !ok {
		route = "other"
	}
	code := "none"
	if len(r.Errors) > 0 {
		code = m.codes.value(r.Errors[0])
	}
	m.requests.WithLabelValues(route, statusLabel(r.Status), code).Inc()
	m.requestDuration.WithLabelValues(route).Observe(r.Duration.Seconds())
	m.reportHits.Add(float64(r.Stats.ReportCacheHits))
	m.listHits.Add(float64(r.Stats.ListCacheHits))
	m.coalesced.Add(float64(r.Stats.Coalesced))
}

// InFlight counts the requests next is answering.
func (m *Metrics) InFlight(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return promhttp.InstrumentHandlerInFlight(m.inFlight, next)
}

// statusLabel is an HTTP status as a label: three digits, or "other".
func statusLabel(code int) string {
	switch {
	case code == 0:
		return "200" // nothing written: net/http answers 200
	case code < 100 || code > 599:
		return "other"
	}
	return strconv.Itoa(code)
}

// boundedLabel admits at most max distinct short values of one label.
type boundedLabel struct {
	max  int
	mu   sync.Mutex
	seen map[string]bool
}

const maxLabelLen = 48

func (b *boundedLabel) value(v string) string {
	if v == "" || len(v) > maxLabelLen || strings.ContainsFunc(v, func(c rune) bool {
		return !(c == '/' || c == ' ' || c == '-' || c == '_' || c == '.' || c == '\'' || ('a' <= c && c <= 'z'))
	}) {
		return "other"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.seen[v] && len(b.seen) >= b.max {
		return "other"
	}
	b.seen[v] = true
	return v
}

// Listen opens the metrics listener on addr (METRICS_ADDR), refusing the
// relay's own port so metrics are never served to the relay's callers.
func Listen(ctx context.Context, addr, relayAddr string) (net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR=%q: want host:port or :port", addr)
	}
	if _, relayPort, err := net.SplitHostPort(relayAddr); err == nil && port == relayPort && port != "0" {
		return nil, fmt.Errorf("METRICS_ADDR=%q: the relay listens on port %s; metrics need a port of their own", addr, port)
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

// Serve serves GET /metrics, and the handlers of extra by pattern, on ln
// until ctx ends.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener, logger *slog.Logger, extra map[string]http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
