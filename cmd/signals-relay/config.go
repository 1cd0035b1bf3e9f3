package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// maxRequestTimeout keeps every request's deadline inside the server's
// WriteTimeout (see newServer), so an answer is never cut off.
const maxRequestTimeout = 50 * time.Second

// Process-wide bounds of serve (and of each Lambda instance, upstream).
const (
	defaultSignalsTimeout = 10 * time.Second // SIGNALS_TIMEOUT: of one call to Auth0 Signals
	defaultUpstreamConns  = 128              // UPSTREAM_MAX_CONNS: connections to Auth0 Signals, shared
	defaultMaxConns       = 512              // MAX_CONNECTIONS: client connections served at once
	defaultConnsPerIP     = 64               // MAX_CONNECTIONS_PER_CLIENT: of one client address
	defaultBodyTimeout    = 10 * time.Second // BODY_TIMEOUT: for a request body to arrive
	defaultIdleTimeout    = 30 * time.Second // IDLE_TIMEOUT: of a client's idle keep-alive connection
)

// config is the relay's configuration, read once from the environment; its
// SECRET_KEY is an auth.Secret, which formatting or logging never shows.
type config struct {
	Auth           auth.Config   // AUTH_MODE, SECRET_KEY, JWKS_HOSTS, RELAY_URL, RELAY_URL_FROM_REQUEST
	SignalsURL     string        // SIGNALS_API_URL
	SignalsTimeout time.Duration // SIGNALS_TIMEOUT
	ListenAddr     string        // LISTEN_ADDR
	MetricsAddr    string        // METRICS_ADDR; empty: no metrics
	LogLevel       slog.Level    // LOG_LEVEL
	// Limits: CTR_ENTITIES_LIMIT, CTR_ENTITIES_LIMIT_MAX, MAX_CONCURRENT_LOOKUPS,
	// MAX_OBSERVABLES, REQUEST_TIMEOUT.
	Limits relay.Limits
	// Lookup: REPORT_CONCURRENCY, LIST_CONCURRENCY, REPORT_CACHE_TTL and
	// _SIZE, METADATA_CACHE_TTL and _SIZE, METADATA_MISSING_TTL.
	Lookup enrich.Config

	UpstreamConns  int           // UPSTREAM_MAX_CONNS
	MaxConns       int           // MAX_CONNECTIONS
	ConnsPerClient int           // MAX_CONNECTIONS_PER_CLIENT; 0: no share (behind a load balancer)
	BodyTimeout    time.Duration // BODY_TIMEOUT
	IdleTimeout    time.Duration // IDLE_TIMEOUT
}

// loadConfig reads and validates the configuration. Variables but SECRET_KEY
// (taken byte for byte) are trimmed; an empty one keeps its default.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Auth:           auth.Config{SecretKey: auth.Secret(getenv("SECRET_KEY"))},
		SignalsURL:     signals.DefaultBaseURL,
		SignalsTimeout: defaultSignalsTimeout,
		ListenAddr:     ":9090",
		LogLevel:       slog.LevelInfo,
		Limits:         relay.DefaultLimits(),
		Lookup:         enrich.DefaultConfig(),
		UpstreamConns:  defaultUpstreamConns,
		MaxConns:       defaultMaxConns,
		ConnsPerClient: defaultConnsPerIP,
		BodyTimeout:    defaultBodyTimeout,
		IdleTimeout:    defaultIdleTimeout,
	}
	e := env{getenv: getenv}
	e.text("AUTH_MODE", &c.Auth.Mode)
	e.list("JWKS_HOSTS", &c.Auth.JWKSHosts)
	e.text("RELAY_URL", &c.Auth.RelayURL)
	e.bool("RELAY_URL_FROM_REQUEST", &c.Auth.AudienceFromRequest)
	e.text("SIGNALS_API_URL", &c.SignalsURL)
	e.duration("SIGNALS_TIMEOUT", &c.SignalsTimeout, time.Nanosecond, 5*time.Minute, "10s")
	e.int("CTR_ENTITIES_LIMIT", &c.Limits.EntitiesLimit, 1, 1_000_000)
	e.int("CTR_ENTITIES_LIMIT_MAX", &c.Limits.EntitiesMax, 1, 1_000_000)
	e.text("LISTEN_ADDR", &c.ListenAddr)
	e.text("METRICS_ADDR", &c.MetricsAddr)
	e.level("LOG_LEVEL", &c.LogLevel)
	e.int("REPORT_CONCURRENCY", &c.Lookup.ReportWorkers, 1, 1000)
	e.int("LIST_CONCURRENCY", &c.Lookup.ListWorkers, 1, 1000)
	e.duration("METADATA_CACHE_TTL", &c.Lookup.ListCacheTTL, 0, 7*24*time.Hour, "6h (0 turns the cache off)")
	e.int("METADATA_CACHE_SIZE", &c.Lookup.ListCacheSize, 1, 1_000_000)
	e.duration("REPORT_CACHE_TTL", &c.Lookup.ReportCacheTTL, 0, 24*time.Hour, "5m (0 turns the cache off)")
	e.int("REPORT_CACHE_SIZE", &c.Lookup.ReportCacheSize, 1, 1_000_000)
	e.duration("REQUEST_TIMEOUT", &c.Limits.RequestTimeout, time.Second, maxRequestTimeout, "15s")
	e.int("UPSTREAM_MAX_CONNS", &c.UpstreamConns, 1, 10_000)
	e.int("MAX_CONNECTIONS", &c.MaxConns, 1, 100_000)
	e.int("MAX_CONNECTIONS_PER_CLIENT", &c.ConnsPerClient, 0, 100_000)
	e.duration("BODY_TIMEOUT", &c.BodyTimeout, 100*time.Millisecond, time.Minute, "10s")
	e.duration("IDLE_TIMEOUT", &c.IdleTimeout, time.Second, 10*time.Minute, "30s")
	e.int("MAX_CONCURRENT_LOOKUPS", &c.Limits.MaxConcurrent, 1, 10_000)
	e.int("MAX_OBSERVABLES", &c.Limits.MaxObservables, 1, 100_000)
	e.duration("METADATA_MISSING_TTL", &c.Lookup.ListMissingTTL, 0, 24*time.Hour, "1h (0 keeps no missing list)")

	if l := c.Limits; l.EntitiesLimit > l.EntitiesMax {
		e.errs = append(e.errs, fmt.Sprintf("CTR_ENTITIES_LIMIT=%d is above CTR_ENTITIES_LIMIT_MAX=%d", l.EntitiesLimit, l.EntitiesMax))
	}
	if _, err := signals.New(c.SignalsURL, &http.Client{}, ""); err != nil {
		e.errs = append(e.errs, "SIGNALS_API_URL: "+err.Error())
	}
	if len(e.errs) > 0 {
		return config{}, fmt.Errorf("configuration: %s", strings.Join(e.errs, "; "))
	}
	return c, nil
}

// env reads environment variables into typed fields, with one message per
// variable that does not parse.
type env struct {
	getenv func(string) string
	errs   []string
}

// parse sets *dst from the trimmed variable name when it is set, reporting
// what is wanted when conv rejects it.
func parse[T any](e *env, name string, dst *T, want string, conv func(string) (T, bool)) {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return
	}
	x, ok := conv(v)
	if !ok {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q: want %s", name, v, want))
	}
	*dst = x
}

func (e *env) text(name string, dst *string) {
	parse(e, name, dst, "", func(v string) (string, bool) { return v, true })
}

func (e *env) list(name string, dst *[]string) {
	parse(e, name, dst, "", func(v string) (hosts []string, _ bool) {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		return hosts, true
	})
}

func (e *env) bool(name string, dst *bool) {
	parse(e, name, dst, "true or false", func(v string) (bool, bool) {
		b, err := strconv.ParseBool(v)
		return b, err == nil
	})
}

func (e *env) int(name string, dst *int, lo, hi int) {
	parse(e, name, dst, fmt.Sprintf("an integer from %d to %d", lo, hi), func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && lo <= n && n <= hi
	})
}

func (e *env) duration(name string, dst *time.Duration, lo, hi time.Duration, example string) {
	parse(e, name, dst, fmt.Sprintf("a duration such as %s, from %s to %s", example, lo, hi), func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(v)
		return d, err == nil && lo <= d && d <= hi
	})
}

func (e *env) level(name string, dst *slog.Level) {
	parse(e, name, dst, "debug, info, warn or error", func(v string) (l slog.Level, _ bool) {
		return l, l.UnmarshalText([]byte(v)) == nil
	})
}
