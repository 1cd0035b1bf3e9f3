package relay_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// TestHealthLogsItsUpstreamTime checks that the request log of /health
// records the time of its one upstream call, as observe's does: against an
// upstream that takes at least latency to answer, upstream_ms is at least
// that (a lower bound only, so a slow machine cannot fail it).
func TestHealthLogsItsUpstreamTime(t *testing.T) {
	t.Parallel()
	const latency = 20 * time.Millisecond
	upstream := httptest.NewServer(simulator.New(simulator.Options{Latency: latency}))
	defer upstream.Close()
	client, err := signals.New(upstream.URL, &http.Client{Timeout: 5 * time.Second}, "signals-relay/test")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	var rec relay.RequestRecord
	h := relay.New(relay.Options{
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Verifier: auth.HS256{Secret: []byte(testSecret)},
		Lookup:   enrich.New(client, enrich.Config{}),
		Observe:  func(r relay.RequestRecord) { rec = r },
	})
	r := httptest.NewRequest(http.MethodPost, "/health", nil)
	r.Header.Set("Authorization", bearer(t, simulator.DemoKey))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var line struct {
		UpstreamCalls int64   `json:"upstream_calls"`
		UpstreamMS    float64 `json:"upstream_ms"`
	}
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("log line %q: %v", logs.String(), err)
	}
	if line.UpstreamCalls != 1 || line.UpstreamMS < float64(latency.Milliseconds()) {
		t.Errorf("log line %s: want upstream_calls 1 and upstream_ms at least %d", logs.String(), latency.Milliseconds())
	}
	if rec.Stats.UpstreamTime < latency {
		t.Errorf("request record: upstream time %v, want at least %v", rec.Stats.UpstreamTime, latency)
	}
}

// TestPanicLogsTheRouteName checks that the line logged for a panic names
// the route as the request log does, never the path as sent.
func TestPanicLogsTheRouteName(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	h := relay.New(relay.Options{
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Verifier: panickyVerifier{secret: testSecret},
		Lookup:   enrich.New(&signals.Client{}, enrich.Config{}),
	})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/health///", nil))
	dec := json.NewDecoder(strings.NewReader(logs.String()))
	for dec.More() {
		var line struct{ Msg, Route string }
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("log %q: %v", logs.String(), err)
		}
		if line.Route != "/health" {
			t.Errorf("%q logged route %q, want %q", line.Msg, line.Route, "/health")
		}
	}
}
