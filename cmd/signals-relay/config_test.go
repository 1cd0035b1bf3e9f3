package main

import (
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
			if c.MaxObservables != tc.wantMax || c.MetadataMissingTTL != tc.wantMissTT {
				t.Errorf("MaxObservables %d, MetadataMissingTTL %s; want %d, %s",
					c.MaxObservables, c.MetadataMissingTTL, tc.wantMax, tc.wantMissTT)
			}
		})
	}
}

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
