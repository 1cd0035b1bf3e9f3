// Package metrics is the relay's Prometheus instrumentation: what each
// request did (from the relay's per-request record, the same facts its log
// line holds), its upstream calls (from a wrapper of the upstream client's
// transport), requests in flight, and the Go runtime and process
// collectors, on a registry of its own served on a listener of its own.
//
// Every label value comes from a fixed set (routes, status codes, the
// contract's error codes, upstream endpoints and outcomes) and is checked
// again here: a route not in the route table is counted as "other", and so
// is an error code that is long, holds characters no such code has, or is
// new after the label has seen 64 distinct values. No label can carry an API key, a token or an observable.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/routes"
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
	reg *prometheus.Registry

	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	inFlight         prometheus.Gauge
	upstream         *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	// The cache counters' children, one per cache (report, list).
	reportHits, listHits     prometheus.Counter
	reportMisses, listMisses prometheus.Counter
	coalesced                prometheus.Counter
	quota                    prometheus.Counter

	// routeLabels maps each route of the relay (and "other", which the
	// relay records for any other path) to itself; codes bounds the error
	// codes, which are not one fixed list.
	routeLabels map[string]string
	codes       boundedLabel
}

// New returns the relay's metrics on a new registry, with the Go runtime
// and process collectors.
func New() *Metrics {
	cacheHits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "cache_hits_total",
		Help: "Lookups answered from a cache: report (IP reports per API key) or list (blocklist details).",
	}, []string{"cache"})
	cacheMisses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "cache_misses_total",
		Help: "Lookups a cache could not answer that were fetched from Auth0 Signals: report or list. Lookups that joined another request's call are counted in coalesced_lookups_total instead.",
	}, []string{"cache"})
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "requests_total",
			Help: "Requests answered, by route, HTTP status and the first error code of the answer (\"none\" without error).",
		}, []string{"route", "status", "error"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "request_duration_seconds",
			Help:    "Time to answer a request, by route.",
			Buckets: requestBuckets,
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "requests_in_flight",
			Help: "Requests being answered.",
		}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "upstream_requests_total",
			Help: "Calls to Auth0 Signals, by endpoint (ip, metadata, health) and outcome (HTTP status, or error, timeout, canceled).",
		}, []string{"endpoint", "outcome"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "upstream_request_duration_seconds",
			Help:    "Time from sending a call to Auth0 Signals to its response headers (or its failure), by endpoint.",
			Buckets: upstreamBuckets,
		}, []string{"endpoint"}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "coalesced_lookups_total",
			Help: "Lookups answered by a call another request with the same API key had in flight.",
		}),
		quota: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "upstream_quota_exceeded_total",
			Help: "Auth0 Signals answers 429 (an API key's quota used up).",
		}),
		routeLabels: map[string]string{"other": "other"},
		codes:       boundedLabel{max: 64},
	}
	for _, r := range routes.All() {
		m.routeLabels[r.Path] = r.Path
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.inFlight, m.upstream, m.upstreamDuration,
		cacheHits, cacheMisses, m.coalesced, m.quota,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reportHits, m.listHits = cacheHits.WithLabelValues("report"), cacheHits.WithLabelValues("list")
	m.reportMisses, m.listMisses = cacheMisses.WithLabelValues("report"), cacheMisses.WithLabelValues("list")
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
	if code == 0 {
		code = http.StatusOK // nothing written: net/http answers 200
	}
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

// boundedLabel admits at most max distinct values of one label, each
// short and made of lower-case letters and a few separators.
type boundedLabel struct {
	max  int
	mu   sync.Mutex
	seen map[string]bool
}

const maxLabelLen = 48

func (b *boundedLabel) value(v string) string {
	if v == "" || len(v) > maxLabelLen {
		return "other"
	}
	for _, c := range v {
		if !(c == '/' || c == ' ' || c == '-' || c == '_' || c == '.' || c == '\'' || ('a' <= c && c <= 'z')) {
			return "other"
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[v] {
		return v
	}
	if len(b.seen) >= b.max {
		return "other"
	}
	if b.seen == nil {
		b.seen = make(map[string]bool)
	}
	b.seen[v] = true
	return v
}

// Listen opens the metrics listener on addr (METRICS_ADDR). It refuses the
// relay's own port, relayAddr's, so metrics are never served to the relay's
// callers.
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

// Serve serves GET /metrics, in the Prometheus exposition formats, on ln
// until ctx ends.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
