package relay_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
)

// perfOptions configures a relay for the performance tests and benchmarks.
type perfOptions struct {
	latency        time.Duration // simulator latency
	listCache      bool          // process-wide list cache (default TTL and size)
	reportCache    bool          // report cache (default TTL and size)
	requestTimeout time.Duration // zero: the relay default
	reportWorkers  int           // zero: the enrich default
	listWorkers    int
	logs           io.Writer // nil: discarded
}

// perfRelay is a real relay.New handler in front of a simulator reached
// over loopback HTTP, with a counter of the upstream traffic.
type perfRelay struct {
	sim          *simtest.Upstream
	upstream     *upstreamCounter
	upstreamTime *upstreamTimer // nil when the logs go to perfOptions.logs
	handler      http.Handler
	clock        *benchClock
	authz        string
}

func newPerfRelay(tb testing.TB, o perfOptions) *perfRelay {
	tb.Helper()
	sim := simtest.New(simulator.Options{Latency: o.latency})
	counter := &upstreamCounter{next: sim, lists: make(map[string]bool)}
	p := &perfRelay{sim: sim, upstream: counter, clock: &benchClock{}, authz: bearer(tb, simulator.DemoKey)}
	s := stack{
		upstream: counter, client: commandClient(tb),
		lookup:  enrich.Config{ReportWorkers: o.reportWorkers, ListWorkers: o.listWorkers},
		Options: relay.Options{Limits: relay.Limits{RequestTimeout: o.requestTimeout}, Now: p.clock.Now},
	}
	d := enrich.DefaultConfig()
	if o.listCache {
		s.lookup.ListCacheTTL, s.lookup.ListMissingTTL = d.ListCacheTTL, d.ListMissingTTL
	}
	if o.reportCache {
		s.lookup.ReportCacheTTL = d.ReportCacheTTL
	}
	if o.logs != nil {
		s.Logger = slog.New(slog.NewJSONHandler(o.logs, nil))
	} else {
		p.upstreamTime = &upstreamTimer{next: slog.DiscardHandler}
		s.Logger = slog.New(p.upstreamTime)
	}
	p.handler = setup(tb, s)
	return p
}

// commandClient is an upstream client with the signals-relay command's
// default settings (upstreamHTTPClient: timeouts and connection pool).
func commandClient(tb testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, tr.MaxIdleConns = 128, 128, 128
	tr.ResponseHeaderTimeout = 10 * time.Second
	hc := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	tb.Cleanup(hc.CloseIdleConnections)
	return hc
}

// benchClock is the lookup's clock: real time plus what the benchmark
// skipped to expire the caches.
type benchClock struct{ skipped atomic.Int64 }

func (c *benchClock) Now() time.Time { return time.Now().Add(time.Duration(c.skipped.Load())) }

func (c *benchClock) advance(d time.Duration) { c.skipped.Add(int64(d)) }

// post sends one request through the handler and returns status and body.
func (p *perfRelay) post(path, body string) (int, string) {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Authorization", p.authz)
	w := httptest.NewRecorder()
	p.handler.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// upstreamCounter counts the requests that reach the simulator and the
// distinct blocklists asked for.
type upstreamCounter struct {
	next http.Handler

	mu       sync.Mutex
	requests int64
	lists    map[string]bool
}

func (c *upstreamCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests++
	if strings.HasPrefix(r.URL.Path, "/metadata/") {
		c.lists[r.URL.Path] = true
	}
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

// snapshot returns the requests so far and the distinct lists asked for.
func (c *upstreamCounter) snapshot() (requests int64, lists int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, len(c.lists)
}

// upstreamTimer is a log handler that sums the upstream_ms of the request
// log lines (the time the relay spent in upstream calls) and passes every
// record on, so that logging costs what it costs in production.
type upstreamTimer struct {
	next  slog.Handler
	mu    sync.Mutex
	total time.Duration
}

func (u *upstreamTimer) Enabled(context.Context, slog.Level) bool { return true }
func (u *upstreamTimer) WithAttrs([]slog.Attr) slog.Handler       { return u }
func (u *upstreamTimer) WithGroup(string) slog.Handler            { return u }

func (u *upstreamTimer) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "upstream_ms" {
			u.mu.Lock()
			u.total += time.Duration(a.Value.Float64() * float64(time.Millisecond))
			u.mu.Unlock()
			return false
		}
		return true
	})
	return u.next.Handle(ctx, r)
}

func (u *upstreamTimer) sum() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.total
}

// benchIPs is a request body of n addresses 10.0.x.y with synthetic reports.
func benchIPs(n int) string {
	var pairs []string
	for i := range n {
		pairs = append(pairs, "ip", fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	return obsJSON(pairs...)
}

// BenchmarkEnrich measures observe and deliberate end to end through the
// relay handler, against the simulator at 0 and 30 ms latency. Each row
// reports upstream requests per operation, the summed duration of the
// upstream calls per operation (upstream-call-µs/op; calls overlap, so for
// more than one address it can exceed the wall time), and "lists", the
// number of distinct blocklists the addresses are on.
//
// Cache states:
//
//	none       no cache (deliberate)
//	cold       empty list cache on every operation, no report cache (observe)
//	warm-lists list cache filled beforehand, no report cache (observe)
//	repeat     both caches filled beforehand: the same request again
func BenchmarkEnrich(b *testing.B) {
	type variant struct {
		route, cache string
	}
	variants := []variant{
		{"deliberate", "none"}, {"deliberate", "repeat"},
		{"observe", "cold"}, {"observe", "warm-lists"}, {"observe", "repeat"},
	}
	for _, latency := range []time.Duration{0, 30 * time.Millisecond} {
		for _, v := range variants {
			for _, n := range []int{1, 10, 50, 200} {
				name := fmt.Sprintf("latency=%s/%s/ips=%d/cache=%s", latency, v.route, n, v.cache)
				b.Run(name, func(b *testing.B) {
					benchEnrich(b, perfOptions{
						latency:     latency,
						listCache:   v.cache != "none",
						reportCache: v.cache == "repeat",
					}, "/"+v.route+"/observables", benchIPs(n), v.cache)
				})
			}
		}
	}
}

// BenchmarkObserveWorkers shows how the report and list bounds of one
// request shape the time of an observe at 30 ms latency with a cold list
// cache; it is how the defaults were chosen.
func BenchmarkObserveWorkers(b *testing.B) {
	for _, n := range []int{50, 200} {
		for _, w := range []struct{ reports, lists int }{{8, 8}, {16, 16}, {32, 16}, {64, 32}, {128, 32}, {256, 64}} {
			b.Run(fmt.Sprintf("ips=%d/reports=%d/lists=%d", n, w.reports, w.lists), func(b *testing.B) {
				benchEnrich(b, perfOptions{
					latency: 30 * time.Millisecond, listCache: true,
					reportWorkers: w.reports, listWorkers: w.lists,
				}, "/observe/observables", benchIPs(n), "cold")
			})
		}
	}
}

func benchEnrich(b *testing.B, o perfOptions, path, body, cache string) {
	p := newPerfRelay(b, o)
	check := func() {
		if status, got := p.post(path, body); status != http.StatusOK || strings.Contains(got, `"errors"`) {
			b.Fatalf("status %d: %.300s", status, got)
		}
	}
	check() // warms the caches, and the connections
	_, lists := p.upstream.snapshot()
	before, _ := p.upstream.snapshot()
	upstreamBefore := p.upstreamTime.sum()
	b.ReportAllocs()
	ops := 0
	start := time.Now()
	for b.Loop() {
		if cache == "cold" {
			p.clock.advance(enrich.DefaultConfig().ListCacheTTL) // everything kept has expired
		}
		check()
		ops++
	}
	elapsed := time.Since(start)
	after, _ := p.upstream.snapshot()
	if o.latency > 0 {
		// The time of a request in upstream round trips: the floor is 1
		// for a deliberate or an observe whose lists are kept, 2 for an
		// observe that looks lists up.
		b.ReportMetric(float64(elapsed)/float64(ops)/float64(o.latency), "rt/op")
	}
	b.ReportMetric(float64(after-before)/float64(ops), "upstream-req/op")
	b.ReportMetric(float64(lists), "lists")
	b.ReportMetric(float64((p.upstreamTime.sum()-upstreamBefore).Microseconds())/float64(ops), "upstream-call-µs/op")
}

// BenchmarkRelayCPU measures the relay's own CPU time for one deliberate of
// one address with the caches off: the real relay.New handler and
// signals.Client against the simulator without latency, with the command's
// JSON request log line (formatted, then discarded). relay-cpu-µs/op is
// the process's CPU time (user and system, garbage collection included) per
// request minus the time spent inside the simulator's handler.
//
//	upstream=in-process  the simulator is served by a RoundTripper in the
//	                     calling goroutine: no sockets, no HTTP transport.
//	upstream=loopback    the simulator behind a loopback HTTP server in this
//	                     process and the transport the command uses; the
//	                     figure then also holds that server's connection
//	                     handling, so it is an upper bound of the relay's
//	                     share.
//	upstream=process     the same, with the server in another process (this
//	                     test binary again, see TestHelperUpstream): all the
//	                     CPU counted is the relay's, HTTP client included.
//
// Run it with -cpu 1:
//
//	go test ./internal/relay -run '^$' -bench RelayCPU -benchtime 20000x -count 5 -cpu 1
func BenchmarkRelayCPU(b *testing.B) {
	for _, upstream := range []string{"in-process", "loopback", "process"} {
		b.Run("upstream="+upstream, func(b *testing.B) {
			sim := &timed{next: simtest.New(simulator.Options{})}
			s := stack{url: "http://signals.test", client: &http.Client{Transport: sim}, Options: relay.Options{
				Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), //nolint:sloglint // the command's log line is formatted, then discarded
			}}
			switch upstream {
			case "loopback":
				s.upstream, s.client = sim, commandClient(b)
			case "process":
				s.url, s.client = helperUpstream(b), commandClient(b)
			}
			h := setup(b, s)
			authz := bearer(b, simulator.DemoKey)
			body := obsJSON("ip", "203.0.113.66")
			b.ReportAllocs()
			cpu := processCPU(b)
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/deliberate/observables", strings.NewReader(body))
				r.Header.Set("Authorization", authz)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
					b.Fatalf("status %d: %.300s", w.Code, w.Body.String())
				}
			}
			cpu = processCPU(b) - cpu
			b.ReportMetric(float64((cpu-sim.spent())/time.Microsecond)/float64(b.N), "relay-cpu-µs/op")
			b.ReportMetric(float64(sim.spent()/time.Microsecond)/float64(b.N), "upstream-µs/op")
		})
	}
}

// timed is the simulator with a sum of the time its handler takes. As a
// RoundTripper it serves requests in the calling goroutine.
type timed struct {
	next  http.Handler
	total atomic.Int64
}

func (t *timed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t.next.ServeHTTP(w, r)
	t.total.Add(int64(time.Since(start)))
}

func (t *timed) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.ServeHTTP(w, r)
	res := w.Result()
	res.Request = r
	return res, nil
}

func (t *timed) spent() time.Duration { return time.Duration(t.total.Load()) }

// helperUpstreamEnv makes TestHelperUpstream serve the simulator.
const helperUpstreamEnv = "SIGNALS_RELAY_HELPER_UPSTREAM"

// helperUpstream starts this test binary again as a simulator server and
// returns its base URL; the process ends with the benchmark.
func helperUpstream(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperUpstream$")
	cmd.Env = append(os.Environ(), helperUpstreamEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("upstream process: %v", err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// TestHelperUpstream serves the simulator on loopback for
// BenchmarkRelayCPU when started by helperUpstream, printing its address
// first; it serves until the process is killed. Otherwise it is skipped.
func TestHelperUpstream(t *testing.T) {
	if os.Getenv(helperUpstreamEnv) == "" {
		t.Skip("serves the simulator for BenchmarkRelayCPU in another process")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr())
	t.Fatal(http.Serve(ln, simulator.New(simulator.Options{})))
}
