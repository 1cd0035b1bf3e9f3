package relay_test

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const (
	testSecret = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
	unknownKey = "11111111-2222-4333-8444-555555555555" // a UUID the simulator does not know
)

// defaults are the limits of a relay setup builds when a test sets none.
var defaults = relay.DefaultLimits()

// fixedNow is the clock of every test relay.
var fixedNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// env is one relay under test, wired to its own simulator.
type env struct {
	sim     *simtest.Upstream
	handler http.Handler
	logs    *testsupport.LockedBuffer
}

type envOptions struct {
	secret  string
	quota   int
	workers int // report and list workers; 1 makes lookups sequential
	limit   int
	// maxObservables is the relay's cap on looked-up addresses (0: default).
	maxObservables int
	// listCache gives the relay a list cache with the default TTLs.
	listCache bool
	// wrap, when set, stands between the relay and its simulator.
	wrap func(http.Handler) http.Handler
}

// newEnv is a relay in front of a simulator, with the fixed clock and
// sequential ids the golden files hold, logging at debug level into logs.
func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	sim := simtest.New(simulator.Options{Quota: o.quota})
	var upstream http.Handler = sim
	if o.wrap != nil {
		upstream = o.wrap(sim)
	}
	logs := &testsupport.LockedBuffer{}
	var n atomic.Int64
	s := stack{
		upstream: upstream,
		lookup:   enrich.Config{ReportWorkers: o.workers, ListWorkers: o.workers},
		Options: relay.Options{
			Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Verifier: auth.NewHS256([]byte(o.secret), nil),
			Limits:   relay.Limits{EntitiesLimit: o.limit, MaxObservables: o.maxObservables},
			Now:      func() time.Time { return fixedNow },
			NewID:    func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) },
		},
	}
	if o.listCache {
		d := enrich.DefaultConfig()
		s.lookup.ListCacheTTL, s.lookup.ListMissingTTL = d.ListCacheTTL, d.ListMissingTTL
	}
	return &env{sim: sim, handler: setup(t, s), logs: logs}
}

// stack is what setup builds a test relay from.
type stack struct {
	upstream http.Handler // a fake Auth0 Signals, which setup serves on loopback
	// url and client reach a fake already running instead of upstream
	// (client nil: a 5 s timeout).
	url    string
	client *http.Client
	// lookup: zero workers and sizes are enrich's defaults; zero TTLs keep
	// no cache; Now is the relay's.
	lookup enrich.Config
	// Options: zero limits are relay's defaults, a nil Logger logs nowhere,
	// a nil Verifier takes HS256 tokens signed with testSecret (built as the
	// command builds it, token cache included), Version is "1.2.3" unless
	// set; a set Lookup is used as it is.
	relay.Options
}

// setup returns the relay s describes, built as the command builds one.
func setup(t testing.TB, s stack) http.Handler {
	t.Helper()
	if s.upstream != nil {
		srv := httptest.NewServer(s.upstream)
		t.Cleanup(srv.Close)
		s.url = srv.URL
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 5 * time.Second}
	}
	o := s.Options
	if o.Lookup == nil {
		client, err := signals.New(s.url, s.client, "signals-relay/test")
		if err != nil {
			t.Fatal(err)
		}
		c, d := s.lookup, enrich.DefaultConfig()
		c.ReportWorkers, c.ListWorkers = cmp.Or(c.ReportWorkers, d.ReportWorkers), cmp.Or(c.ListWorkers, d.ListWorkers)
		c.ReportCacheSize, c.ListCacheSize = cmp.Or(c.ReportCacheSize, d.ReportCacheSize), cmp.Or(c.ListCacheSize, d.ListCacheSize)
		if c.Now == nil {
			c.Now = o.Now
		}
		if o.Lookup, err = enrich.New(client, c); err != nil {
			t.Fatal(err)
		}
	}
	if o.Logger == nil {
		o.Logger = discardLogger()
	}
	if o.Verifier == nil {
		v, err := auth.New(auth.Config{SecretKey: auth.Secret(testSecret)})
		if err != nil {
			t.Fatal(err)
		}
		o.Verifier = v
	}
	l, d := &o.Limits, relay.DefaultLimits()
	l.EntitiesLimit, l.EntitiesMax = cmp.Or(l.EntitiesLimit, d.EntitiesLimit), cmp.Or(l.EntitiesMax, d.EntitiesMax)
	l.MaxConcurrent, l.MaxBodyBytes = cmp.Or(l.MaxConcurrent, d.MaxConcurrent), cmp.Or(l.MaxBodyBytes, d.MaxBodyBytes)
	l.MaxObservables, l.RequestTimeout = cmp.Or(l.MaxObservables, d.MaxObservables), cmp.Or(l.RequestTimeout, d.RequestTimeout)
	o.Version = cmp.Or(o.Version, "1.2.3")
	h, err := relay.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func token(t testing.TB, claims map[string]any, secret string) string {
	t.Helper()
	tok, err := auth.SignHS256(claims, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func bearer(t testing.TB, key string) string {
	return "Bearer " + token(t, map[string]any{"key": key}, testSecret)
}

// do sends one request through the handler and returns status and body.
func (e *env) do(t testing.TB, method, path, authz, body string, header ...string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// checkGolden compares got with testdata/golden/<name>.json as JSON values,
// or rewrites the file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	var gotV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if *update {
		pretty, _ := json.MarshalIndent(gotV, "", "  ")
		if err := os.WriteFile(path, append(pretty, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/relay -update to create it)", err)
	}
	var wantV any
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatalf("golden %s is not JSON: %v", path, err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		pretty, _ := json.MarshalIndent(gotV, "", "  ")
		t.Errorf("response differs from %s (rerun with -update to accept)\ngot:\n%s\nwant:\n%s", path, pretty, want)
	}
}

func obsJSON(pairs ...string) string {
	var items []string
	for i := 0; i+1 < len(pairs); i += 2 {
		items = append(items, fmt.Sprintf(`{"type":%q,"value":%q}`, pairs[i], pairs[i+1]))
	}
	return "[" + strings.Join(items, ",") + "]"
}

// allFixtures are the shared fixture addresses plus an ignored domain.
var allFixtures = obsJSON("ip", "198.51.100.7", "ip", "192.0.2.44", "ip", "198.51.100.23",
	"ip", "203.0.113.66", "ipv6", "2001:db8::5", "domain", "example.net")

// TestGolden runs every endpoint and error path through the handler and
// compares the wire answer with its golden file.
func TestGolden(t *testing.T) {
	t.Parallel()
	good := func(t testing.TB) string { return bearer(t, simulator.DemoKey) }
	cases := []struct {
		name   string
		env    envOptions
		method string
		path   string
		authz  func(testing.TB) string
		body   string
		header []string
	}{
		// health
		{name: "health-ok", path: "/health", authz: good},
		{name: "health-trailing-slash", path: "/health/", authz: good},
		{name: "health-no-header", path: "/health"},
		{name: "health-wrong-type", path: "/health", authz: func(testing.TB) string { return "Basic dXNlcjpwYXNz" }},
		{name: "health-wrong-structure", path: "/health", authz: func(testing.TB) string { return "Bearer not.a.jwt" }},
		{name: "health-wrong-payload", path: "/health", authz: func(t testing.TB) string {
			return "Bearer " + token(t, map[string]any{"api_key": simulator.DemoKey}, testSecret)
		}},
		{name: "health-bad-signature", path: "/health", authz: func(t testing.TB) string {
			return "Bearer " + token(t, map[string]any{"key": simulator.DemoKey}, "another-secret")
		}},
		{name: "health-alg-none", path: "/health", authz: func(t testing.TB) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"key": simulator.DemoKey}).
				SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + tok
		}},
		{name: "health-alg-hs512", path: "/health", authz: func(t testing.TB) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"key": simulator.DemoKey}).
				SignedString([]byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + tok
		}},
		{name: "health-secret-key-missing", env: envOptions{secret: "-"}, path: "/health", authz: good},
		{name: "health-upstream-unknown-key", path: "/health", authz: func(t testing.TB) string { return bearer(t, unknownKey) }},
		{name: "health-upstream-invalid-token", path: "/health", authz: func(t testing.TB) string { return bearer(t, "not-a-uuid") }},
		{name: "health-quota", env: envOptions{quota: -1}, path: "/health", authz: good},

		// deliberate
		{name: "deliberate-fixtures", path: "/deliberate/observables", authz: good, body: allFixtures},
		{name: "deliberate-empty", path: "/deliberate/observables", authz: good, body: `[]`},
		{name: "deliberate-unsupported-only", path: "/deliberate/observables", authz: good,
			body: obsJSON("domain", "example.net", "sha256", "abc", "ip", "not-an-ip", "ip", "2001:db8::1", "ipv6", "192.0.2.1")},
		{name: "deliberate-no-auth", path: "/deliberate/observables", body: allFixtures},
		{name: "deliberate-over-lookup-cap", env: envOptions{maxObservables: 2}, path: "/deliberate/observables", authz: good,
			body: obsJSON("ip", "198.51.100.7", "domain", "example.net", "ip", "198.51.100.7", "ip", "203.0.113.66",
				"ip", "192.0.2.44", "ipv6", "2001:db8::5")},

		// observe
		{name: "observe-fixtures", path: "/observe/observables", authz: good, body: allFixtures},
		{name: "observe-edge-cases", path: "/observe/observables", authz: good,
			body: obsJSON("ip", "192.0.2.1", "ip", "192.0.2.2", "ip", "192.0.2.3", "ip", "192.0.2.4",
				"ip", "192.0.2.6", "ip", "192.0.2.7", "ip", "192.0.2.8")},
		{name: "observe-upstream-500", path: "/observe/observables", authz: good,
			body: obsJSON("ip", "192.0.2.44", "ip", "192.0.2.5", "ip", "198.51.100.7")},
		{name: "observe-duplicates", path: "/observe/observables", authz: good,
			body: obsJSON("ip", "198.51.100.23", "IP", " 198.51.100.23 ", "ip", "198.51.100.23")},
		{name: "observe-entities-limit", env: envOptions{limit: 2}, path: "/observe/observables", authz: good,
			body: obsJSON("ip", "203.0.113.66")},
		{name: "observe-quota-partial", env: envOptions{quota: 1, workers: 1}, path: "/observe/observables", authz: good,
			body: obsJSON("ip", "198.51.100.7", "ip", "203.0.113.66", "ip", "198.51.100.23")},
		{name: "observe-unknown-key", path: "/observe/observables", authz: func(t testing.TB) string { return bearer(t, unknownKey) },
			body: obsJSON("ip", "198.51.100.7")},
		{name: "observe-invalid-token", path: "/observe/observables", authz: func(t testing.TB) string { return bearer(t, "not-a-uuid") },
			body: obsJSON("ip", "198.51.100.7")},
		{name: "observe-content-type-ignored", path: "/observe/observables", authz: good, body: obsJSON("ip", "192.0.2.44"),
			header: []string{"Content-Type", "text/plain"}},

		// invalid bodies
		{name: "invalid-empty-body", path: "/observe/observables", authz: good, body: ``},
		{name: "invalid-not-json", path: "/observe/observables", authz: good, body: `[{"type":"ip",`},
		{name: "invalid-object", path: "/observe/observables", authz: good, body: `{"type":"ip","value":"192.0.2.44"}`},
		{name: "invalid-null", path: "/observe/observables", authz: good, body: `null`},
		{name: "invalid-element-string", path: "/observe/observables", authz: good, body: `["192.0.2.44"]`},
		{name: "invalid-missing-value", path: "/observe/observables", authz: good, body: `[{"type":"ip"}]`},
		{name: "invalid-blank-type", path: "/deliberate/observables", authz: good, body: `[{"type":" ","value":"192.0.2.44"}]`},
		{name: "invalid-value-number", path: "/deliberate/observables", authz: good, body: `[{"type":"ip","value":1}]`},
		{name: "invalid-unknown-field", path: "/deliberate/observables", authz: good, body: `[{"type":"ip","value":"192.0.2.44","x":1}]`},
		{name: "invalid-trailing-data", path: "/deliberate/observables", authz: good, body: `[] []`},
		{name: "invalid-refer-body", path: "/refer/observables", authz: good, body: `{}`},
		{name: "invalid-respond-body", path: "/respond/observables", authz: good, body: `[{"type":"ip"}]`},

		// refer and respond
		{name: "refer", path: "/refer/observables", authz: good,
			body: obsJSON("ip", "198.51.100.7", "ipv6", "2001:db8::5", "domain", "example.net", "ip", "198.51.100.7")},
		{name: "refer-empty", path: "/refer/observables", authz: good, body: `[]`},
		{name: "refer-ipv4-spellings", path: "/refer/observables", authz: good,
			body: obsJSON("ip", "203.0.113.66", "ip", " 203.0.113.66 ", "ip", "::ffff:203.0.113.66", "ipv6", "::ffff:203.0.113.66")},
		{name: "refer-over-lookup-cap", env: envOptions{maxObservables: 2}, path: "/refer/observables", authz: good,
			body: obsJSON("ip", "198.51.100.7", "domain", "example.net", "ip", "198.51.100.7", "ip", "203.0.113.66",
				"ip", "192.0.2.44", "ipv6", "2001:db8::5")},
		{name: "refer-no-auth", path: "/refer/observables", body: obsJSON("ip", "198.51.100.7")},
		{name: "respond-observables", path: "/respond/observables", authz: good, body: obsJSON("ip", "198.51.100.7")},
		{name: "respond-observables-no-auth", path: "/respond/observables", body: obsJSON("ip", "198.51.100.7")},
		{name: "respond-trigger", path: "/respond/trigger", authz: good,
			body: `{"action-id":"x","observable_type":"ip","observable_value":"198.51.100.7"}`},

		// unauthenticated
		{name: "version", path: "/version"},
		{name: "watchdog", method: http.MethodGet, path: "/watchdog", header: []string{"Health-Check", "test"}},
		{name: "watchdog-missing-header", method: http.MethodGet, path: "/watchdog"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.env
			switch o.secret {
			case "":
				o.secret = testSecret
			case "-":
				o.secret = ""
			}
			if o.quota == -1 { // a quota used up before the call
				o.quota = 1
			}
			e := newEnv(t, o)
			if tc.env.quota == -1 {
				e.do(t, http.MethodPost, "/health", bearer(t, simulator.DemoKey), "")
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			authz := ""
			if tc.authz != nil {
				authz = tc.authz(t)
			}
			status, body := e.do(t, method, tc.path, authz, tc.body, tc.header...)
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", status, body)
			}
			checkGolden(t, tc.name, body)
		})
	}
}

// TestRouting checks the answers that are not the relay's envelope.
func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{secret: testSecret})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/nope", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
		{http.MethodPost, "/observe", http.StatusNotFound},
		{http.MethodGet, "/health", http.StatusMethodNotAllowed},
		{http.MethodGet, "/observe/observables", http.StatusMethodNotAllowed},
		{http.MethodPost, "/watchdog", http.StatusMethodNotAllowed},
		{http.MethodPost, "/version/", http.StatusOK},
		{http.MethodPost, "/observe/observables//", http.StatusOK},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			status, body := e.do(t, tc.method, tc.path, "", "[]")
			if status != tc.want {
				t.Errorf("%s %s: status = %d, want %d (%s)", tc.method, tc.path, status, tc.want, body)
			}
		})
	}
}
