package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// maxRequestTimeout keeps every request's deadline inside the server's
// WriteTimeout (see newServer), so an answer is never cut off.
const maxRequestTimeout = 50 * time.Second

// Process-wide bounds of serve (and of each Lambda instance, for the
// upstream connections).
const (
	// defaultUpstreamConns caps the connections to Auth0 Signals that all
	// requests share (UPSTREAM_MAX_CONNS).
	defaultUpstreamConns = 128
	// defaultMaxConns caps the client connections serve holds open at once
	// (MAX_CONNECTIONS); further clients wait in the listen backlog.
	defaultMaxConns = 512
	// defaultIdleTimeout closes a client's keep-alive connection after this
	// long without a request (IDLE_TIMEOUT).
	defaultIdleTimeout = 30 * time.Second
)

// config is the relay's configuration, read once from the environment.
type config struct {
	SecretKey      []byte        // SECRET_KEY
	SignalsURL     string        // SIGNALS_API_URL
	SignalsTimeout time.Duration // SIGNALS_TIMEOUT
	EntitiesLimit  int           // CTR_ENTITIES_LIMIT
	EntitiesMax    int           // CTR_ENTITIES_LIMIT_MAX
	ListenAddr     string        // LISTEN_ADDR
	MetricsAddr    string        // METRICS_ADDR; empty: no metrics
	LogLevel       slog.Level    // LOG_LEVEL

	AuthMode            string   // AUTH_MODE: hs256, xdr, both or "" (auto)
	JWKSHosts           []string // JWKS_HOSTS
	RelayURL            string   // RELAY_URL
	RelayURLFromRequest bool     // RELAY_URL_FROM_REQUEST

	ReportConcurrency int           // REPORT_CONCURRENCY
	ListConcurrency   int           // LIST_CONCURRENCY
	MetadataCacheTTL  time.Duration // METADATA_CACHE_TTL; 0 turns the cache off
	MetadataCacheSize int           // METADATA_CACHE_SIZE
	ReportCacheTTL    time.Duration // REPORT_CACHE_TTL; 0 turns the cache off
	ReportCacheSize   int           // REPORT_CACHE_SIZE
	RequestTimeout    time.Duration // REQUEST_TIMEOUT

	UpstreamConns      int           // UPSTREAM_MAX_CONNS
	MaxConns           int           // MAX_CONNECTIONS
	IdleTimeout        time.Duration // IDLE_TIMEOUT
	MaxConcurrent      int           // MAX_CONCURRENT_LOOKUPS
	MaxObservables     int           // MAX_OBSERVABLES
	MetadataMissingTTL time.Duration // METADATA_MISSING_TTL; 0 keeps no missing list
}

// String redacts SECRET_KEY.
func (c config) String() string {
	return fmt.Sprintf("config{SecretKey:%s SignalsURL:%s SignalsTimeout:%s EntitiesLimit:%d EntitiesMax:%d ListenAddr:%s LogLevel:%s "+
		"AuthMode:%q JWKSHosts:%v RelayURL:%s RelayURLFromRequest:%t "+
		"ReportConcurrency:%d ListConcurrency:%d MetadataCacheTTL:%s MetadataCacheSize:%d "+
		"ReportCacheTTL:%s ReportCacheSize:%d RequestTimeout:%s "+
		"UpstreamConns:%d MaxConns:%d IdleTimeout:%s MaxConcurrent:%d MaxObservables:%d MetadataMissingTTL:%s}",
		redacted(c.SecretKey), c.SignalsURL, c.SignalsTimeout, c.EntitiesLimit, c.EntitiesMax, c.ListenAddr, c.LogLevel,
		c.AuthMode, c.JWKSHosts, c.RelayURL, c.RelayURLFromRequest,
		c.ReportConcurrency, c.ListConcurrency, c.MetadataCacheTTL, c.MetadataCacheSize,
		c.ReportCacheTTL, c.ReportCacheSize, c.RequestTimeout,
		c.UpstreamConns, c.MaxConns, c.IdleTimeout, c.MaxConcurrent, c.MaxObservables, c.MetadataMissingTTL)
}

func redacted(b []byte) string {
	if len(b) == 0 {
		return "[unset]"
	}
	return "[REDACTED]"
}

// loadConfig reads and validates the configuration.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		SecretKey:      []byte(getenv("SECRET_KEY")),
		SignalsURL:     signals.DefaultBaseURL,
		SignalsTimeout: 10 * time.Second,
		EntitiesLimit:  relay.DefaultEntitiesLimit,
		EntitiesMax:    relay.DefaultEntitiesLimitMax,
		ListenAddr:     ":9090",
		LogLevel:       slog.LevelInfo,

		ReportConcurrency: enrich.DefaultReportWorkers,
		ListConcurrency:   enrich.DefaultListWorkers,
		MetadataCacheTTL:  enrich.DefaultListCacheTTL,
		MetadataCacheSize: enrich.DefaultListCacheSize,
		ReportCacheTTL:    enrich.DefaultReportCacheTTL,
		ReportCacheSize:   enrich.DefaultReportCacheSize,
		RequestTimeout:    relay.DefaultRequestTimeout,

		UpstreamConns:      defaultUpstreamConns,
		MaxConns:           defaultMaxConns,
		IdleTimeout:        defaultIdleTimeout,
		MaxConcurrent:      relay.DefaultMaxConcurrent,
		MaxObservables:     relay.DefaultMaxObservables,
		MetadataMissingTTL: enrich.DefaultListMissingTTL,
	}
	var errs []string
	intVar := func(name string, p *int, min, max int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Sprintf("%s=%q: want an integer from %d to %d", name, v, min, max))
		}
		*p = n
	}
	durationVar := func(name string, p *time.Duration, min, max time.Duration, example string) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < min || d > max {
			errs = append(errs, fmt.Sprintf("%s=%q: want a duration such as %s, from %s to %s", name, v, example, min, max))
		}
		*p = d
	}
	intVar("REPORT_CONCURRENCY", &c.ReportConcurrency, 1, 1000)
	intVar("LIST_CONCURRENCY", &c.ListConcurrency, 1, 1000)
	durationVar("METADATA_CACHE_TTL", &c.MetadataCacheTTL, 0, 7*24*time.Hour, "6h (0 turns the cache off)")
	intVar("METADATA_CACHE_SIZE", &c.MetadataCacheSize, 1, 1_000_000)
	durationVar("REPORT_CACHE_TTL", &c.ReportCacheTTL, 0, 24*time.Hour, "5m (0 turns the cache off)")
	intVar("REPORT_CACHE_SIZE", &c.ReportCacheSize, 1, 1_000_000)
	durationVar("REQUEST_TIMEOUT", &c.RequestTimeout, time.Second, maxRequestTimeout, "15s")
	intVar("UPSTREAM_MAX_CONNS", &c.UpstreamConns, 1, 10_000)
	intVar("MAX_CONNECTIONS", &c.MaxConns, 1, 100_000)
	durationVar("IDLE_TIMEOUT", &c.IdleTimeout, time.Second, 10*time.Minute, "30s")
	intVar("MAX_CONCURRENT_LOOKUPS", &c.MaxConcurrent, 1, 10_000)
	intVar("CTR_ENTITIES_LIMIT_MAX", &c.EntitiesMax, 1, 1_000_000)
	intVar("MAX_OBSERVABLES", &c.MaxObservables, 1, 100_000)
	durationVar("METADATA_MISSING_TTL", &c.MetadataMissingTTL, 0, 24*time.Hour, "1h (0 keeps no missing list)")
	if v := strings.TrimSpace(getenv("SIGNALS_API_URL")); v != "" {
		c.SignalsURL = v
	}
	if v := strings.TrimSpace(getenv("SIGNALS_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 5*time.Minute {
			errs = append(errs, fmt.Sprintf("SIGNALS_TIMEOUT=%q: want a duration such as 10s (at most 5m)", v))
		}
		c.SignalsTimeout = d
	}
	if v := strings.TrimSpace(getenv("CTR_ENTITIES_LIMIT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Sprintf("CTR_ENTITIES_LIMIT=%q: want a positive integer", v))
		}
		c.EntitiesLimit = n
	}
	if c.EntitiesLimit > c.EntitiesMax {
		errs = append(errs, fmt.Sprintf("CTR_ENTITIES_LIMIT=%d is above CTR_ENTITIES_LIMIT_MAX=%d", c.EntitiesLimit, c.EntitiesMax))
	}
	if v := strings.TrimSpace(getenv("LISTEN_ADDR")); v != "" {
		c.ListenAddr = v
	}
	c.MetricsAddr = strings.TrimSpace(getenv("METRICS_ADDR"))
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Sprintf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	c.AuthMode = strings.TrimSpace(getenv("AUTH_MODE"))
	for _, h := range strings.Split(getenv("JWKS_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.JWKSHosts = append(c.JWKSHosts, h)
		}
	}
	c.RelayURL = strings.TrimSpace(getenv("RELAY_URL"))
	if v := strings.TrimSpace(getenv("RELAY_URL_FROM_REQUEST")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("RELAY_URL_FROM_REQUEST=%q: want true or false", v))
		}
		c.RelayURLFromRequest = b
	}
	if _, err := signals.New(c.SignalsURL, nil, ""); err != nil {
		errs = append(errs, "SIGNALS_API_URL: "+err.Error())
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
