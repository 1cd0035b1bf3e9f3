package relay_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// TestObserveGetsTheLogLine checks that Options.Observe receives, after
// every request, what the request's log line records.
func TestObserveGetsTheLogLine(t *testing.T) {
	// Quota: the first observe makes 7 calls (2 reports, 5 lists), its
	// repeat none, /health one; the last observe meets the used-up quota.
	sim := simulator.New(simulator.Options{Quota: 8})
	logs := &testsupport.LockedBuffer{}
	var (
		mu      sync.Mutex
		records []relay.RequestRecord
	)
	h := setup(t, stack{
		upstream: sim,
		lookup:   enrich.Config{ReportCacheSize: 100, ReportCacheTTL: time.Minute, ListCacheSize: 100, ListCacheTTL: time.Minute},
		Options: relay.Options{
			Logger: slog.New(slog.NewJSONHandler(logs, nil)),
			Observe: func(r relay.RequestRecord) {
				mu.Lock()
				defer mu.Unlock()
				records = append(records, r)
			},
		},
	})
	good := bearer(t, simulator.DemoKey)
	body := `[{"type":"ip","value":"203.0.113.66"},{"type":"ip","value":"198.51.100.7"},{"type":"domain","value":"example.net"}]`
	requests := []struct{ method, path, authz, body string }{
		{http.MethodGet, "/watchdog", "", ""},
		{http.MethodPost, "/observe/observables", good, body},
		{http.MethodPost, "/observe/observables/", good, body}, // from the cache
		{http.MethodPost, "/deliberate/observables", "Bearer not-a-jwt", body},
		{http.MethodPost, "/health", good, ""},
		{http.MethodPost, "/observe/observables", good, `[{"type":"ip","value":"192.0.2.44"},{"type":"ip","value":"192.0.2.45"},{"type":"ip","value":"192.0.2.46"},{"type":"ip","value":"192.0.2.47"}]`},
		{http.MethodGet, "/x/" + simulator.DemoKey, "", ""},
	}
	for _, rq := range requests {
		r := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
		if rq.authz != "" {
			r.Header.Set("Authorization", rq.authz)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}

	type line struct {
		Route           string   `json:"route"`
		Status          int      `json:"status"`
		DurationMS      float64  `json:"duration_ms"`
		Observables     int      `json:"observables"`
		UpstreamCalls   int64    `json:"upstream_calls"`
		ReportCacheHits int64    `json:"report_cache_hits"`
		ListCacheHits   int64    `json:"list_cache_hits"`
		Coalesced       int64    `json:"coalesced"`
		Errors          []string `json:"errors"`
	}
	var logged []line
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		logged = append(logged, l)
	}
	if len(records) != len(requests) || len(logged) != len(requests) {
		t.Fatalf("%d records and %d log lines for %d requests", len(records), len(logged), len(requests))
	}
	for i, r := range records {
		got := line{
			Route: r.Route, Status: r.Status, Observables: r.Observables,
			UpstreamCalls: r.Stats.UpstreamCalls, ReportCacheHits: r.Stats.ReportCacheHits,
			ListCacheHits: r.Stats.ListCacheHits, Coalesced: r.Stats.Coalesced, Errors: r.Errors,
		}
		want := logged[i]
		if r.Duration <= 0 || float64(r.Duration.Microseconds())/1000 < want.DurationMS {
			t.Errorf("request %d: duration %v, logged %v ms", i, r.Duration, want.DurationMS)
		}
		want.DurationMS = 0
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request %d (%s): record differs from the log line (-log +record):\n%s", i, requests[i].path, diff)
		}
	}
	// The records say what happened, not only what the log says.
	wantRoutes := []string{"/watchdog", "/observe/observables", "/observe/observables", "/deliberate/observables", "/health", "/observe/observables", "other"}
	for i, r := range records {
		if r.Route != wantRoutes[i] {
			t.Errorf("request %d: route %q, want %q", i, r.Route, wantRoutes[i])
		}
	}
	for _, i := range []int{1, 2} {
		if r := records[i]; len(r.Errors) != 0 {
			t.Errorf("request %d: errors %q, want none", i, r.Errors)
		}
	}
	if r := records[2]; r.Stats.ReportCacheHits != 2 || r.Stats.ListCacheHits == 0 {
		t.Errorf("repeated request: %+v, want two report cache hits and list cache hits", r.Stats)
	}
	if r := records[3]; !slices.Equal(r.Errors, []string{relay.CodeAuthorization}) {
		t.Errorf("bad token: status %d, errors %q", r.Status, r.Errors)
	}
	if r := records[5]; !strings.Contains(strings.Join(r.Errors, ","), relay.CodeTooManyRequests) {
		t.Errorf("used-up quota: errors %q", r.Errors)
	}
}
