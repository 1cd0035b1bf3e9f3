package main

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigLookupLimits(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		wantErr    string
		wantMax    int
		wantMissTT time.Duration
	}{
		{name: "defaults", wantMax: 1000, wantMissTT: time.Hour},
		{name: "set", env: map[string]string{"MAX_OBSERVABLES": " 5 ", "METADATA_MISSING_TTL": "10m"}, wantMax: 5, wantMissTT: 10 * time.Minute},
		{name: "missing lists not kept", env: map[string]string{"METADATA_MISSING_TTL": "0"}, wantMax: 1000},
		{name: "max zero", env: map[string]string{"MAX_OBSERVABLES": "0"}, wantErr: "MAX_OBSERVABLES"},
		{name: "max not a number", env: map[string]string{"MAX_OBSERVABLES": "many"}, wantErr: "MAX_OBSERVABLES"},
		{name: "max too high", env: map[string]string{"MAX_OBSERVABLES": "100001"}, wantErr: "MAX_OBSERVABLES"},
		{name: "missing ttl negative", env: map[string]string{"METADATA_MISSING_TTL": "-1h"}, wantErr: "METADATA_MISSING_TTL"},
		{name: "missing ttl too long", env: map[string]string{"METADATA_MISSING_TTL": "25h"}, wantErr: "METADATA_MISSING_TTL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(mapEnv(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Limits.MaxObservables != tc.wantMax || c.Lookup.ListMissingTTL != tc.wantMissTT {
				t.Errorf("MaxObservables %d, MetadataMissingTTL %s; want %d, %s",
					c.Limits.MaxObservables, c.Lookup.ListMissingTTL, tc.wantMax, tc.wantMissTT)
			}
		})
	}
}

// TestLoadConfigClientBounds checks MAX_CONNECTIONS_PER_CLIENT and
// BODY_TIMEOUT: their defaults, 0 turning the share off, and their ranges.
func TestLoadConfigClientBounds(t *testing.T) {
	for _, tc := range []struct {
		env       map[string]string
		wantErr   string
		wantShare int
		wantBody  time.Duration
	}{
		{wantShare: 64, wantBody: 10 * time.Second},
		{env: map[string]string{"MAX_CONNECTIONS_PER_CLIENT": "0", "BODY_TIMEOUT": "2s"}, wantShare: 0, wantBody: 2 * time.Second},
		{env: map[string]string{"MAX_CONNECTIONS_PER_CLIENT": "-1"}, wantErr: "MAX_CONNECTIONS_PER_CLIENT"},
		{env: map[string]string{"BODY_TIMEOUT": "0"}, wantErr: "BODY_TIMEOUT"},
		{env: map[string]string{"BODY_TIMEOUT": "2m"}, wantErr: "BODY_TIMEOUT"},
	} {
		c, err := loadConfig(mapEnv(tc.env))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err = %v, want one naming %s", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.ConnsPerClient != tc.wantShare || c.BodyTimeout != tc.wantBody {
			t.Errorf("%v: share %d, body timeout %s, %v; want %d, %s", tc.env, c.ConnsPerClient, c.BodyTimeout, err, tc.wantShare, tc.wantBody)
		}
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
				c.Limits.EntitiesLimit != 100 || c.SignalsTimeout != 10*time.Second {
				t.Errorf("defaults = %v", c)
			}
			if c.Lookup.ReportWorkers != 64 || c.Lookup.ListWorkers != 32 || c.Lookup.ListCacheTTL != 6*time.Hour ||
				c.Lookup.ListCacheSize != 1024 || c.Lookup.ReportCacheTTL != 5*time.Minute || c.Lookup.ReportCacheSize != 10000 ||
				c.Limits.RequestTimeout != 15*time.Second {
				t.Errorf("performance defaults = %v", c)
			}
		}},
		{name: "performance set", env: map[string]string{"REPORT_CONCURRENCY": "8", "LIST_CONCURRENCY": " 4 ",
			"METADATA_CACHE_TTL": "30m", "METADATA_CACHE_SIZE": "50", "REPORT_CACHE_TTL": "1m", "REPORT_CACHE_SIZE": "20",
			"REQUEST_TIMEOUT": "20s"},
			check: func(t *testing.T, c config) {
				if c.Lookup.ReportWorkers != 8 || c.Lookup.ListWorkers != 4 || c.Lookup.ListCacheTTL != 30*time.Minute ||
					c.Lookup.ListCacheSize != 50 || c.Lookup.ReportCacheTTL != time.Minute || c.Lookup.ReportCacheSize != 20 ||
					c.Limits.RequestTimeout != 20*time.Second {
					t.Errorf("config = %v", c)
				}
			}},
		{name: "caches off", env: map[string]string{"METADATA_CACHE_TTL": "0", "REPORT_CACHE_TTL": "0s"},
			check: func(t *testing.T, c config) {
				if c.Lookup.ListCacheTTL != 0 || c.Lookup.ReportCacheTTL != 0 {
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
				c.Limits.MaxConcurrent != 64 || c.Limits.EntitiesMax != 1000 {
				t.Errorf("bound defaults = %v", c)
			}
		}},
		{name: "bounds set", env: map[string]string{"UPSTREAM_MAX_CONNS": "16", "MAX_CONNECTIONS": "100",
			"IDLE_TIMEOUT": "5s", "MAX_CONCURRENT_LOOKUPS": "8", "CTR_ENTITIES_LIMIT_MAX": "50", "CTR_ENTITIES_LIMIT": "50"},
			check: func(t *testing.T, c config) {
				if c.UpstreamConns != 16 || c.MaxConns != 100 || c.IdleTimeout != 5*time.Second ||
					c.Limits.MaxConcurrent != 8 || c.Limits.EntitiesMax != 50 || c.Limits.EntitiesLimit != 50 {
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
				if c.Limits.EntitiesLimit != 5 || c.SignalsTimeout != 3*time.Second || c.LogLevel.String() != "DEBUG" {
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
