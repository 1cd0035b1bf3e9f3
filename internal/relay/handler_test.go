package relay_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// TestHealthLogsItsUpstreamTime checks that the request log of /health
// records the time of its one upstream call, as observe's does: against an
// upstream that takes at least latency to answer, upstream_ms is at least
// that (a lower bound only, so a slow machine cannot fail it).
func TestHealthLogsItsUpstreamTime(t *testing.T) {
	t.Parallel()
	const latency = 20 * time.Millisecond
	logs := &testsupport.LockedBuffer{}
	var rec relay.RequestRecord
	h := setup(t, stack{upstream: simulator.New(simulator.Options{Latency: latency}), Options: relay.Options{
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
		Observe: func(r relay.RequestRecord) { rec = r },
	}})
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
	logs := &testsupport.LockedBuffer{}
	h := setup(t, stack{upstream: http.NotFoundHandler(), Options: relay.Options{
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Verifier: panickyVerifier{secret: testSecret},
	}})
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

// TestObserveWarnsWhenOnlyListsAreCut checks the answer when the request
// timeout cuts only list-details lookups (the reports are kept from an
// earlier request): the verdicts are there, and so is the timeout warning
// that says the answer is partial.
func TestObserveWarnsWhenOnlyListsAreCut(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.Options{})
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/metadata/") {
			<-r.Context().Done() // list details answer only after the caller has left
			return
		}
		sim.ServeHTTP(w, r)
	})
	h := setup(t, stack{
		upstream: upstream, client: &http.Client{Timeout: 10 * time.Second},
		lookup:  enrich.Config{ReportCacheTTL: time.Hour},
		Options: relay.Options{Limits: relay.Limits{RequestTimeout: 100 * time.Millisecond}},
	})
	e := &env{handler: h}
	body := obsJSON("ip", "203.0.113.66")
	authz := bearer(t, simulator.DemoKey)
	if _, b := e.do(t, http.MethodPost, "/deliberate/observables", authz, body); strings.Contains(string(b), `"errors"`) {
		t.Fatalf("deliberate (keeps the report): %s", b)
	}

	status, b := e.do(t, http.MethodPost, "/observe/observables", authz, body)
	var got struct {
		Data struct {
			Verdicts *struct {
				Count int `json:"count"`
			} `json:"verdicts"`
		} `json:"data"`
		Errors []struct {
			Type, Code string
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &got); err != nil || status != http.StatusOK {
		t.Fatalf("status %d, body %s (%v)", status, b, err)
	}
	if got.Data.Verdicts == nil || got.Data.Verdicts.Count != 1 {
		t.Errorf("answer %s, want the verdict of the kept report", b)
	}
	if len(got.Errors) != 1 || got.Errors[0].Type != "warning" || got.Errors[0].Code != relay.CodeRequestTimeout {
		t.Errorf("errors %+v, want one %q warning\n%s", got.Errors, relay.CodeRequestTimeout, b)
	}
}

// requestLines returns the request lines of e's log, decoded.
func requestLines(t *testing.T, e *env) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

// TestLogCountsOnlyLookedUpObservables checks the log line's observable
// count: each supported observable once, and nothing for unsupported
// types, values that are no address of their type, or repeats.
func TestLogCountsOnlyLookedUpObservables(t *testing.T) {
	t.Parallel()
	body := obsJSON(
		"ip", "198.51.100.7",
		"domain", "example.net", // unsupported type
		"ip", "198.51.100.7", // repeated
		"sha256", "abc",
		"ip", "2001:db8::5", // no IPv4 address
		"ipv6", "2001:db8::5",
		"ip", "not-an-ip",
		"ipv6", "2001:db8::5", // repeated
		"ip", "203.0.113.66",
		"ip", "198.51.100.7", // repeated
	)
	const want = 3 // 198.51.100.7, 2001:db8::5, 203.0.113.66
	for _, path := range []string{"/deliberate/observables", "/observe/observables", "/refer/observables", "/respond/observables"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{secret: testSecret})
			if status, b := e.do(t, http.MethodPost, path, bearer(t, simulator.DemoKey), body); status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			lines := requestLines(t, e)
			if len(lines) != 1 {
				t.Fatalf("%d request lines, want 1:\n%s", len(lines), e.logs.String())
			}
			if got := lines[0]["observables"]; got != float64(want) {
				t.Errorf("observables = %v, want %d\n%s", got, want, e.logs.String())
			}
		})
	}
}

// TestWatchdogEchoCap pins the cap on the echoed Health-Check header: 256
// characters are echoed whole; from 257 on, the first 255 and an ellipsis.
func TestWatchdogEchoCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{secret: testSecret})
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name, header, want string
	}{
		{"255", a(255), a(255)},
		{"256", a(256), a(256)},
		{"257", a(257), a(255) + "…"},
		{"1000", a(1000), a(255) + "…"},
		{"256 with a multi-byte character", "é" + a(255), "é" + a(255)},
		{"257 with a multi-byte character", "é" + a(256), "é" + a(254) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := e.do(t, http.MethodGet, "/watchdog", "", "", "Health-Check", tc.header)
			var got struct {
				Data   string          `json:"data"`
				Errors json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal(b, &got); err != nil || status != http.StatusOK || got.Errors != nil {
				t.Fatalf("status %d, body %s (%v)", status, b, err)
			}
			if got.Data != tc.want {
				t.Errorf("echoed %d characters (%q…), want %d (%q…)",
					len([]rune(got.Data)), firstRunes(got.Data, 8), len([]rune(tc.want)), firstRunes(tc.want, 8))
			}
		})
	}
}

func firstRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// TestRequestIDBoundary pins which X-Request-Id the relay keeps (answer
// header and log line): up to 64 characters of letters, digits, '-', '_'
// and '.'; any other is replaced by 16 hex digits of its own.
func TestRequestIDBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{secret: testSecret})
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	id := func(n int) string { return strings.Repeat("A", n) }
	for _, tc := range []struct {
		name, id string
		kept     bool
	}{
		{"1", "x", true},
		{"63", id(63), true},
		{"64", id(64), true},
		{"64 of every kept character", strings.Repeat("aZ09-_.", 9) + "a", true},
		{"65", id(65), false},
		{"200", id(200), false},
		{"space", "abc def", false},
		{"slash", "abc/def", false},
		{"non-ASCII", "abcé", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/version", nil)
			if tc.id != "" {
				r.Header.Set("X-Request-Id", tc.id)
			}
			before := len(requestLines(t, e))
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-Id")
			if tc.kept && got != tc.id {
				t.Errorf("X-Request-Id of %d characters answered as %q, want it kept", len(tc.id), got)
			}
			if !tc.kept && !generated.MatchString(got) {
				t.Errorf("X-Request-Id %.20q… (%d bytes) answered as %q, want 16 new hex digits", tc.id, len(tc.id), got)
			}
			lines := requestLines(t, e)
			if len(lines) != before+1 || lines[len(lines)-1]["request_id"] != got {
				t.Errorf("log's request_id differs from the answer's %q", got)
			}
		})
	}
}

// TestNewRefusesIncompleteOptions checks that New names a missing part or
// a limit out of range instead of serving with it: the command fills every
// limit, so none falls back to a default here.
func TestNewRefusesIncompleteOptions(t *testing.T) {
	t.Parallel()
	lookup, err := enrich.New(&signals.Client{}, enrich.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	complete := relay.Options{
		Logger: discardLogger(), Verifier: fixedVerifier{}, Lookup: lookup,
		Limits: relay.DefaultLimits(), Version: "1.2.3",
	}
	if _, err := relay.New(complete); err != nil {
		t.Fatalf("complete options: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*relay.Options)
		want   string
	}{
		{"no logger", func(o *relay.Options) { o.Logger = nil }, "required"},
		{"no verifier", func(o *relay.Options) { o.Verifier = nil }, "required"},
		{"no lookup", func(o *relay.Options) { o.Lookup = nil }, "required"},
		{"no version", func(o *relay.Options) { o.Version = "" }, "Version"},
		{"zero limits", func(o *relay.Options) { o.Limits = relay.Limits{} }, "positive"},
		{"zero entities limit", func(o *relay.Options) { o.Limits.EntitiesLimit = 0 }, "positive"},
		{"zero concurrency", func(o *relay.Options) { o.Limits.MaxConcurrent = 0 }, "positive"},
		{"zero body size", func(o *relay.Options) { o.Limits.MaxBodyBytes = 0 }, "positive"},
		{"zero observables", func(o *relay.Options) { o.Limits.MaxObservables = 0 }, "positive"},
		{"negative timeout", func(o *relay.Options) { o.Limits.RequestTimeout = -time.Second }, "positive"},
		{"limit above its maximum", func(o *relay.Options) { o.Limits.EntitiesLimit, o.Limits.EntitiesMax = 10, 4 }, "above"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := complete
			tc.change(&o)
			h, err := relay.New(o)
			if err == nil || h != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, %v; want no handler and an error mentioning %q", h, err, tc.want)
			}
		})
	}
}
