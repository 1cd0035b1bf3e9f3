package enrich

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// hangGuard bounds every wait in these tests. Reaching it means something
// hung; no test depends on how fast anything is.
const hangGuard = 10 * time.Second

// otherKey is a second API key the test simulators accept.
const otherKey = "0b7e3c1a-9d2f-4a6b-8c5d-1e2f3a4b5c6d"

// upstreamEnv is a Lookup wired to its own simulator.
type upstreamEnv struct {
	t      testing.TB
	sim    *simtest.Upstream
	client *signals.Client
	lookup *Lookup
}

// configure replaces e's Lookup with one built from cfg, whose zero workers
// and cache sizes are the defaults (its zero TTLs keep no cache).
func (e *upstreamEnv) configure(cfg Config) {
	e.t.Helper()
	d := DefaultConfig()
	for _, f := range []struct{ v, d *int }{
		{&cfg.ReportWorkers, &d.ReportWorkers}, {&cfg.ListWorkers, &d.ListWorkers},
		{&cfg.ReportCacheSize, &d.ReportCacheSize}, {&cfg.ListCacheSize, &d.ListCacheSize},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	l, err := New(e.client, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.lookup = l
}

// newUpstream starts a simulator (wrapped by wrap, when given) and returns a
// Lookup without caches that calls it.
func newUpstream(t *testing.T, opts simulator.Options, wrap func(http.Handler) http.Handler) *upstreamEnv {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = []string{simulator.DemoKey, otherKey}
	}
	sim := simtest.New(opts)
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client, err := signals.New(srv.URL, &http.Client{Timeout: hangGuard}, "signals-relay/test")
	if err != nil {
		t.Fatal(err)
	}
	e := &upstreamEnv{t: t, sim: sim, client: client}
	e.configure(Config{})
	return e
}

// ips returns n observables 10.0.x.y with synthetic reports.
func ips(n int) []ctim.Observable {
	out := make([]ctim.Observable, n)
	for i := range out {
		out[i] = ctim.Observable{Type: TypeIP, Value: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)}
	}
	return out
}

func observables(values ...string) []ctim.Observable {
	out := make([]ctim.Observable, len(values))
	for i, v := range values {
		out[i] = ctim.Observable{Type: TypeIP, Value: v}
	}
	return out
}

func observe(key string, obs []ctim.Observable) Request {
	return Request{APIKey: key, Observables: obs, Lists: true, ListLimit: 100}
}

func deliberate(key string, obs []ctim.Observable) Request {
	return Request{APIKey: key, Observables: obs}
}

// metadataRequests counts the simulator's list-details requests for refs.
func metadataRequests(sim *simtest.Upstream, refs []signals.ListRef) map[signals.ListRef]int64 {
	out := make(map[signals.ListRef]int64, len(refs))
	for _, ref := range refs {
		out[ref] = sim.RequestsFor("/metadata/" + string(ref.Kind) + "/lists/" + ref.ID)
	}
	return out
}

// listsOf returns the distinct blocklists of the gathered observations.
func listsOf(obs []Observation) []signals.ListRef {
	var out []signals.ListRef
	seen := make(map[signals.ListRef]bool)
	for _, o := range obs {
		if o.Report == nil {
			continue
		}
		for _, ref := range o.Report.Lists() {
			if !seen[ref] {
				seen[ref] = true
				out = append(out, ref)
			}
		}
	}
	return out
}

// inflight counts concurrent upstream requests by kind and can hold them at
// a barrier until a given number are waiting at once.
type inflight struct {
	next http.Handler

	mu                   sync.Mutex
	now, max             map[string]int // by kind: "report" or "list"
	barrier              map[string]int // kind → requests to gather before any passes
	arrived              map[string]int
	opened               map[string]chan struct{}
	reachedBarrierOfKind map[string]bool
}

func newInflight(next http.Handler, barrier map[string]int) *inflight {
	in := &inflight{next: next, now: map[string]int{}, max: map[string]int{}, barrier: barrier,
		arrived: map[string]int{}, opened: map[string]chan struct{}{}, reachedBarrierOfKind: map[string]bool{}}
	for kind := range barrier {
		in.opened[kind] = make(chan struct{})
	}
	return in
}

func kindOf(path string) string {
	if strings.HasPrefix(path, "/metadata/") {
		return "list"
	}
	return "report"
}

func (in *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := kindOf(r.URL.Path)
	in.mu.Lock()
	in.now[kind]++
	in.max[kind] = max(in.max[kind], in.now[kind])
	open := in.opened[kind]
	if open != nil {
		in.arrived[kind]++
		if in.arrived[kind] == in.barrier[kind] {
			in.reachedBarrierOfKind[kind] = true
			close(open)
		}
	}
	in.mu.Unlock()
	if open != nil {
		select {
		case <-open:
		case <-time.After(hangGuard):
		}
	}
	in.next.ServeHTTP(w, r)
	in.mu.Lock()
	in.now[kind]--
	in.mu.Unlock()
}

func (in *inflight) stats(kind string) (maxInFlight int, reached bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.max[kind], in.reachedBarrierOfKind[kind]
}

// TestRunBoundsConcurrency checks that a request never has more report or
// list lookups in flight than its bounds, and that it does use them: the
// upstream holds every request until as many as the bound wait at once.
func TestRunBoundsConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		lookupReports, lookupLists int // Lookup-wide bounds
		wantReports, wantLists     int
	}{
		{name: "lookup bounds", lookupReports: 4, lookupLists: 2, wantReports: 4, wantLists: 2},
		{name: "sequential", lookupReports: 1, lookupLists: 1, wantReports: 1, wantLists: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in *inflight
			e := newUpstream(t, simulator.Options{}, func(h http.Handler) http.Handler {
				in = newInflight(h, map[string]int{"report": tc.wantReports})
				return in
			})
			e.configure(Config{ReportWorkers: tc.lookupReports, ListWorkers: tc.lookupLists})
			req := observe(simulator.DemoKey, ips(40))

			res := e.lookup.Run(t.Context(), req)
			if len(res.Errors) > 0 || len(res.Observations) != 40 {
				t.Fatalf("errors %v, %d observations", res.Errors, len(res.Observations))
			}
			maxReports, reached := in.stats("report")
			if !reached {
				t.Errorf("never had %d report lookups in flight at once", tc.wantReports)
			}
			if maxReports > tc.wantReports {
				t.Errorf("%d report lookups in flight at once, bound %d", maxReports, tc.wantReports)
			}
			if maxLists, _ := in.stats("list"); maxLists > tc.wantLists {
				t.Errorf("%d list lookups in flight at once, bound %d", maxLists, tc.wantLists)
			}
			if got, bound := e.sim.MaxInFlight(), int64(tc.wantReports+tc.wantLists); got > bound {
				t.Errorf("simulator saw %d requests in flight, bound %d", got, bound)
			}
		})
	}
}

// TestRunListsStartWithTheirReport checks that list lookups do not wait for
// every report: the upstream answers the last report only once a list
// lookup has arrived.
func TestRunListsStartWithTheirReport(t *testing.T) {
	obs := observables(simulator.IPEdgeLists, "198.51.100.7") // on lists; clean
	listSeen := make(chan struct{})
	var once sync.Once
	e := newUpstream(t, simulator.Options{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasPrefix(r.URL.Path, "/metadata/"):
				once.Do(func() { close(listSeen) })
			case r.URL.Path == "/v2.0/ip/198.51.100.7":
				select {
				case <-listSeen:
				case <-time.After(hangGuard):
					t.Error("no list lookup started while a report was outstanding")
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	res := e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
	if len(res.Observations) != 2 {
		t.Fatalf("observations = %d, errors %v", len(res.Observations), res.Errors)
	}
}

// TestRunOneWorkerFollowsRequestOrder checks that with one report worker
// the reports are asked for one after the other, in request order.
func TestRunOneWorkerFollowsRequestOrder(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	e := newUpstream(t, simulator.Options{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if kindOf(r.URL.Path) == "report" {
				mu.Lock()
				paths = append(paths, strings.TrimPrefix(r.URL.Path, "/v2.0/ip/"))
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	e.configure(Config{ReportWorkers: 1})
	obs := append(observables("203.0.113.66", "198.51.100.23"), ips(30)...)
	e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
	var want []string
	for _, o := range obs {
		want = append(want, o.Value)
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("report order (-want +got):\n%s", diff)
	}
}

// TestRunOrderIsStable checks that concurrency changes nothing in the
// result: many workers give exactly what one worker gives, in request order.
func TestRunOrderIsStable(t *testing.T) {
	obs := append(ips(60), observables("203.0.113.66", "198.51.100.23", simulator.IPEdgeLists, "192.0.2.7")...)
	clock := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

	seq := newUpstream(t, simulator.Options{}, nil)
	seq.configure(Config{Now: clock, ReportWorkers: 1, ListWorkers: 1})
	want := seq.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))

	for range 3 {
		par := newUpstream(t, simulator.Options{Latency: time.Millisecond}, nil)
		par.configure(Config{Now: clock, ReportWorkers: 64, ListWorkers: 8})
		got := par.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
		if diff := cmp.Diff(want.Observations, got.Observations); diff != "" {
			t.Fatalf("concurrent result differs from the sequential one (-want +got):\n%s", diff)
		}
		for i, o := range got.Observations {
			if o.Observable != obs[i] {
				t.Fatalf("observation %d is %v, want %v", i, o.Observable, obs[i])
			}
		}
	}
}

// gate holds the upstream requests whose path matches until it is opened.
type gate struct {
	next    http.Handler
	match   func(path string) bool
	open    chan struct{}
	arrived atomic.Int64 // requests that matched
}

func newGate(next http.Handler, match func(string) bool) *gate {
	return &gate{next: next, match: match, open: make(chan struct{})}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.match(r.URL.Path) {
		g.arrived.Add(1)
		select {
		case <-g.open:
		case <-r.Context().Done():
			return
		case <-time.After(hangGuard):
		}
	}
	g.next.ServeHTTP(w, r)
}

// runConcurrently runs reqs at once under ctx and returns their results in
// order.
func runConcurrently(ctx context.Context, l *Lookup, reqs []Request) []Result {
	out := make([]Result, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() { out[i] = l.Run(ctx, req) })
	}
	wg.Wait()
	return out
}

// waitingCtx counts the lookups that wait for a load another request has in
// flight: the shared cache asks the context of such a lookup for Done
// exactly when it starts waiting, and nothing else in Get does.
type waitingCtx struct {
	context.Context
	waiting *atomic.Int64
}

func (c waitingCtx) Done() <-chan struct{} {
	if pc, _, _, ok := runtime.Caller(1); ok {
		if name := runtime.FuncForPC(pc).Name(); strings.Contains(name, "internal/cache.(*Cache[") && strings.HasSuffix(name, ").Get") {
			c.waiting.Add(1)
		}
	}
	return c.Context.Done()
}

// TestRunCoalescesReports checks that concurrent requests with the same key
// for the same address make one report call, and that requests with
// another key make their own.
func TestRunCoalescesReports(t *testing.T) {
	const ip = "203.0.113.66"
	for _, n := range []int{2, 8, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var g *gate
			e := newUpstream(t, simulator.Options{}, func(h http.Handler) http.Handler {
				g = newGate(h, func(p string) bool { return p == "/v2.0/ip/"+ip })
				return g
			})
			reqs := make([]Request, n)
			for i := range reqs {
				reqs[i] = deliberate(simulator.DemoKey, observables(ip))
			}
			reqs = append(reqs, deliberate(otherKey, observables(ip)))
			var waiting atomic.Int64
			done := make(chan []Result, 1)
			go func() { done <- runConcurrently(waitingCtx{t.Context(), &waiting}, e.lookup, reqs) }()

			testsupport.WaitFor(t, fmt.Sprintf("%d requests wait for the first one's call", n-1), func() bool {
				return waiting.Load() == int64(n-1) && g.arrived.Load() == 2
			})
			close(g.open)
			results := <-done

			if got := e.sim.RequestsFor("/v2.0/ip/" + ip); got != 2 {
				t.Errorf("%d requests with one key and 1 with another made %d report calls, want 2", n, got)
			}
			var calls, coalesced int64
			for i, res := range results {
				if len(res.Errors) > 0 || len(res.Observations) != 1 || res.Observations[0].Report == nil {
					t.Fatalf("request %d: errors %v, observations %v", i, res.Errors, res.Observations)
				}
				calls += res.Stats.UpstreamCalls
				coalesced += res.Stats.Coalesced
			}
			if calls != 2 || coalesced != int64(n-1) {
				t.Errorf("stats: %d calls and %d coalesced, want 2 and %d", calls, coalesced, n-1)
			}
		})
	}
}

// TestRunCoalescesLists checks that N concurrent requests that need the same
// list make one call for it, and that the list is then kept.
func TestRunCoalescesLists(t *testing.T) {
	const n = 16
	obs := observables("203.0.113.66")
	probe := newUpstream(t, simulator.Options{}, nil).lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
	refs := listsOf(probe.Observations)
	if len(refs) < 2 {
		t.Fatalf("fixture has %d lists, want several", len(refs))
	}

	var g *gate
	e := newUpstream(t, simulator.Options{}, func(h http.Handler) http.Handler {
		g = newGate(h, func(p string) bool { return strings.HasPrefix(p, "/metadata/") })
		return g
	})
	e.configure(Config{ListCacheTTL: time.Hour, ReportCacheTTL: time.Hour})
	e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs)) // keeps the report: only list lookups wait
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = observe(simulator.DemoKey, obs)
	}
	var waiting atomic.Int64
	done := make(chan []Result, 1)
	go func() { done <- runConcurrently(waitingCtx{t.Context(), &waiting}, e.lookup, reqs) }()
	testsupport.WaitFor(t, "every request waits for the first call of each list", func() bool {
		return waiting.Load() == int64((n-1)*len(refs)) && g.arrived.Load() == int64(len(refs))
	})
	close(g.open)
	results := <-done

	for ref, got := range metadataRequests(e.sim, refs) {
		if got != 1 {
			t.Errorf("%d concurrent requests made %d calls for %v, want 1", n, got, ref)
		}
	}
	for i, res := range results {
		if len(res.Errors) > 0 || len(res.Observations) != 1 || len(res.Observations[0].Lists) != len(refs) {
			t.Fatalf("request %d: errors %v, lists %v", i, res.Errors, res.Observations)
		}
	}
	// The lists are now kept: the next request makes no call.
	before := e.sim.Requests()
	res := e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
	if calls := e.sim.Requests() - before; calls != 0 || res.Stats.ListCacheHits != int64(len(refs)) {
		t.Errorf("warm request made %d calls (want 0) and %d list cache hits (want %d)",
			calls, res.Stats.ListCacheHits, len(refs))
	}
}

// TestRunKeyFailureStaysWithItsKey checks that when a list call made for
// one API key fails with a key problem (here a used-up quota), a request
// with another key that waited for that call does not inherit the failure:
// it makes its own call and gets the details.
func TestRunKeyFailureStaysWithItsKey(t *testing.T) {
	obs := observables("203.0.113.66")
	var g *gate
	e := newUpstream(t, simulator.Options{}, func(h http.Handler) http.Handler {
		g = newGate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/metadata/") && r.Header.Get("X-Auth-Token") == simulator.DemoKey {
				http.Error(w, `{"message":"quota used up"}`, http.StatusTooManyRequests)
				return
			}
			h.ServeHTTP(w, r)
		}), func(p string) bool { return strings.HasPrefix(p, "/metadata/") })
		return g
	})
	e.configure(Config{ReportCacheTTL: time.Hour, ListCacheTTL: time.Hour})
	e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs)) // keep the reports: only list lookups wait
	refs := listsOf(e.lookup.Run(t.Context(), deliberate(otherKey, obs)).Observations)

	failing := make(chan Result, 1)
	go func() { failing <- e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs)) }()
	testsupport.WaitFor(t, "the first key's list calls are held", func() bool { return g.arrived.Load() == int64(len(refs)) })
	var waiting atomic.Int64
	other := make(chan Result, 1)
	go func() { other <- e.lookup.Run(waitingCtx{t.Context(), &waiting}, observe(otherKey, obs)) }()
	testsupport.WaitFor(t, "the other key waits for those calls", func() bool { return waiting.Load() == int64(len(refs)) })
	close(g.open)

	if res := <-failing; len(res.Errors) != 1 || !rateLimited(res.Errors[0]) {
		t.Errorf("first key: errors %v, want its 429", res.Errors)
	}
	res := <-other
	if len(res.Errors) != 0 || len(res.Observations) != 1 || len(res.Observations[0].Lists) != len(refs) {
		t.Fatalf("other key: errors %v, observations %+v; want every list and no error", res.Errors, res.Observations)
	}
	if res.Stats.UpstreamCalls != int64(len(refs)) {
		t.Errorf("other key made %d calls, want its own %d list calls", res.Stats.UpstreamCalls, len(refs))
	}
}

// TestRunCaches checks what each cache saves, for whom, and for how long.
func TestRunCaches(t *testing.T) {
	obs := append(observables("203.0.113.66", "198.51.100.23"), ips(20)...)
	type step struct {
		advance   time.Duration
		req       Request
		wantCalls int64 // upstream requests of this step; -1: don't check
		check     func(t *testing.T, res Result, firstCalls int64)
	}
	for _, tc := range []struct {
		name    string
		lists   bool // with a list cache (TTL 1h)
		reports bool // with a report cache (TTL 1m)
		steps   []step
	}{
		{name: "report cache: repeat costs nothing", reports: true, steps: []step{
			{req: deliberate(simulator.DemoKey, obs), wantCalls: int64(len(obs))},
			{req: deliberate(simulator.DemoKey, obs), wantCalls: 0, check: func(t *testing.T, res Result, _ int64) {
				if res.Stats.ReportCacheHits != int64(len(obs)) || res.Stats.UpstreamCalls != 0 {
					t.Errorf("stats = %+v", res.Stats)
				}
			}},
		}},
		{name: "report cache: expires", reports: true, steps: []step{
			{req: deliberate(simulator.DemoKey, obs), wantCalls: int64(len(obs))},
			{advance: time.Minute - time.Nanosecond, req: deliberate(simulator.DemoKey, obs), wantCalls: 0},
			{advance: time.Nanosecond, req: deliberate(simulator.DemoKey, obs), wantCalls: int64(len(obs))},
		}},
		{name: "report cache: per key", reports: true, steps: []step{
			{req: deliberate(simulator.DemoKey, obs), wantCalls: int64(len(obs))},
			{req: deliberate(otherKey, obs), wantCalls: int64(len(obs))},
			{req: deliberate(otherKey, obs), wantCalls: 0},
		}},
		{name: "report cache: serves observe and deliberate", reports: true, steps: []step{
			{req: deliberate(simulator.DemoKey, obs), wantCalls: int64(len(obs))},
			{req: observe(simulator.DemoKey, obs), wantCalls: -1, check: func(t *testing.T, res Result, _ int64) {
				if res.Stats.ReportCacheHits != int64(len(obs)) || res.Stats.UpstreamCalls != int64(len(listsOf(res.Observations))) {
					t.Errorf("observe after deliberate: stats = %+v, want only list calls", res.Stats)
				}
			}},
		}},
		{name: "list cache: shared by keys", lists: true, steps: []step{
			{req: observe(simulator.DemoKey, obs), wantCalls: -1},
			{req: observe(otherKey, obs), wantCalls: int64(len(obs)), check: func(t *testing.T, res Result, _ int64) {
				if res.Stats.ListCacheHits == 0 {
					t.Error("no list cache hit for the second key")
				}
			}},
		}},
		{name: "list cache: expires", lists: true, steps: []step{
			{req: observe(simulator.DemoKey, obs), wantCalls: -1},
			{advance: 59 * time.Minute, req: observe(simulator.DemoKey, obs), wantCalls: int64(len(obs))},
			{advance: time.Minute, req: observe(simulator.DemoKey, obs), wantCalls: -1, check: func(t *testing.T, res Result, first int64) {
				if res.Stats.UpstreamCalls != first {
					t.Errorf("after the TTL: %d calls, want %d as cold", res.Stats.UpstreamCalls, first)
				}
			}},
		}},
		{name: "both caches: repeat costs nothing", lists: true, reports: true, steps: []step{
			{req: observe(simulator.DemoKey, obs), wantCalls: -1},
			{req: observe(simulator.DemoKey, obs), wantCalls: 0},
		}},
		{name: "no caches", steps: []step{
			{req: observe(simulator.DemoKey, obs), wantCalls: -1},
			{req: observe(simulator.DemoKey, obs), wantCalls: -1, check: func(t *testing.T, res Result, first int64) {
				if res.Stats.UpstreamCalls != first || res.Stats.ReportCacheHits+res.Stats.ListCacheHits != 0 {
					t.Errorf("stats = %+v, want %d calls and no hits", res.Stats, first)
				}
			}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := testsupport.NewClock()
			e := newUpstream(t, simulator.Options{}, nil)
			cfg := Config{ListCacheSize: 100, ReportCacheSize: 100, Now: clk.Now}
			if tc.lists {
				cfg.ListCacheTTL = time.Hour
			}
			if tc.reports {
				cfg.ReportCacheTTL = time.Minute
			}
			e.configure(cfg)
			var first int64
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				before := e.sim.Requests()
				res := e.lookup.Run(t.Context(), s.req)
				calls := e.sim.Requests() - before
				if i == 0 {
					first = calls
				}
				if len(res.Errors) > 0 || len(res.Observations) != len(obs) {
					t.Fatalf("step %d: errors %v, %d observations", i, res.Errors, len(res.Observations))
				}
				if calls != res.Stats.UpstreamCalls {
					t.Errorf("step %d: simulator saw %d requests, stats say %d", i, calls, res.Stats.UpstreamCalls)
				}
				if s.wantCalls >= 0 && calls != s.wantCalls {
					t.Errorf("step %d: %d upstream requests, want %d", i, calls, s.wantCalls)
				}
				if s.check != nil {
					s.check(t, res, first)
				}
			}
		})
	}
}

// TestRunCachedReportKeepsItsTime checks that a cached report is dated when
// it was fetched, not when it was reused.
func TestRunCachedReportKeepsItsTime(t *testing.T) {
	clk := testsupport.NewClock()
	e := newUpstream(t, simulator.Options{}, nil)
	e.configure(Config{ReportCacheSize: 10, ReportCacheTTL: time.Hour, Now: clk.Now})
	fetched := clk.Now()
	e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, observables("203.0.113.66")))
	clk.Advance(time.Minute)
	res := e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, observables("203.0.113.66")))
	if got := res.Observations[0].QueriedAt; !got.Equal(fetched) {
		t.Errorf("QueriedAt = %v, want the fetch time %v", got, fetched)
	}
}

// pathCounter counts the requests that reach next, by URL path, and answers
// 500 instead for the paths in fail.
type pathCounter struct {
	next http.Handler
	fail map[string]bool

	mu    sync.Mutex
	count map[string]int
}

func (c *pathCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.count == nil {
		c.count = make(map[string]int)
	}
	c.count[r.URL.Path]++
	c.mu.Unlock()
	if c.fail[r.URL.Path] {
		http.Error(w, "upstream broke", http.StatusInternalServerError)
		return
	}
	c.next.ServeHTTP(w, r)
}

func (c *pathCounter) of(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[path]
}

// TestRunMissingListsAreCachedBriefly checks that a list whose details
// answered 404 (a retired list) is not asked again until the missing TTL has
// passed, and that other failures are not cached at all.
func TestRunMissingListsAreCachedBriefly(t *testing.T) {
	retired := "/metadata/badip/lists/" + simulator.RetiredListID
	broken := "/metadata/badip/lists/EXAMPLE-EDGE-LIST"
	clk := testsupport.NewClock()
	var counter *pathCounter
	e := newUpstream(t, simulator.Options{}, func(next http.Handler) http.Handler {
		counter = &pathCounter{next: next, fail: map[string]bool{broken: true}}
		return counter
	})
	e.configure(Config{ListCacheSize: 100, ListCacheTTL: 6 * time.Hour, ListMissingTTL: 10 * time.Minute,
		ReportCacheSize: 100, ReportCacheTTL: time.Hour, Now: clk.Now})
	for i, step := range []struct {
		advance       time.Duration
		wantRetired   int // requests for the retired list so far
		wantBroken    int // requests for the list that answers 500 so far
		wantCacheHits int64
	}{
		{0, 1, 1, 0},
		{10*time.Minute - time.Nanosecond, 1, 2, 1},
		{time.Nanosecond, 2, 3, 0},
	} {
		clk.Advance(step.advance)
		res := e.lookup.Run(t.Context(), observe(simulator.DemoKey, observables(simulator.IPEdgeLists)))
		if len(res.Errors) != 0 || res.Stats.ListsSkipped != 2 {
			t.Errorf("run %d: errors %v, lists skipped = %d, want none and 2", i, res.Errors, res.Stats.ListsSkipped)
		}
		if got := counter.of(retired); got != step.wantRetired {
			t.Errorf("run %d: retired list asked %d times, want %d", i, got, step.wantRetired)
		}
		if got := counter.of(broken); got != step.wantBroken {
			t.Errorf("run %d: failing list asked %d times, want %d", i, got, step.wantBroken)
		}
		if res.Stats.ListCacheHits != step.wantCacheHits {
			t.Errorf("run %d: list cache hits = %d, want %d", i, res.Stats.ListCacheHits, step.wantCacheHits)
		}
	}
}

// TestRunCacheSizeBound checks that the caches never hold more than their
// bound, however many distinct entries pass through.
func TestRunCacheSizeBound(t *testing.T) {
	e := newUpstream(t, simulator.Options{}, nil)
	e.configure(Config{ReportWorkers: 1, ReportCacheSize: 5, ReportCacheTTL: time.Hour, ListCacheSize: 3, ListCacheTTL: time.Hour})
	obs := ips(50)
	first := e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
	if len(listsOf(first.Observations)) <= 3 {
		t.Fatal("the addresses are on too few lists to fill the cache")
	}
	// Reports were kept in request order: the last five are kept, the
	// sixth from last is not.
	if res := e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs[45:])); res.Stats.ReportCacheHits != 5 {
		t.Errorf("the last 5 reports: %d cache hits, want 5", res.Stats.ReportCacheHits)
	}
	if res := e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs[44:45])); res.Stats.ReportCacheHits != 0 {
		t.Errorf("the 6th report from last was kept beyond the bound of 5")
	}
	if res := e.lookup.Run(t.Context(), observe(otherKey, obs)); res.Stats.ListCacheHits > 3 {
		t.Errorf("%d list cache hits, bound 3", res.Stats.ListCacheHits)
	}
}

// TestRunStopsOnQuota checks that a 429 stops the request's further calls:
// with one worker, exactly one call past the quota is made.
func TestRunStopsOnQuota(t *testing.T) {
	for _, quota := range []int{1, 3, 10} {
		t.Run(fmt.Sprintf("quota=%d", quota), func(t *testing.T) {
			e := newUpstream(t, simulator.Options{Quota: quota}, nil)
			e.configure(Config{ReportWorkers: 1})
			obs := ips(40)
			res := e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs))

			if got := e.sim.Requests(); got != int64(quota+1) {
				t.Errorf("upstream requests = %d, want quota+1 = %d", got, quota+1)
			}
			if len(res.Observations) != quota {
				t.Fatalf("kept %d observations, want the %d gathered", len(res.Observations), quota)
			}
			for i, o := range res.Observations { // one worker goes in request order
				if o.Observable != obs[i] {
					t.Errorf("observation %d is %v, want %v", i, o.Observable, obs[i])
				}
			}
			if len(res.Errors) != 1 || !rateLimited(res.Errors[0]) {
				t.Fatalf("errors = %v, want one 429", res.Errors)
			}
			if want := int64(len(obs) - quota - 1); res.Stats.ObservablesSkipped != want {
				t.Errorf("observables skipped = %d, want %d", res.Stats.ObservablesSkipped, want)
			}
		})
	}
}

// TestRunStopsOnQuotaConcurrently checks that with many workers a 429 still
// stops the request: no more calls than those already in flight.
func TestRunStopsOnQuotaConcurrently(t *testing.T) {
	const quota, reportWorkers, listWorkers = 5, 4, 2
	e := newUpstream(t, simulator.Options{Quota: quota, Latency: time.Millisecond}, nil)
	e.configure(Config{ReportWorkers: reportWorkers, ListWorkers: listWorkers})
	res := e.lookup.Run(t.Context(), observe(simulator.DemoKey, ips(100)))
	if got := e.sim.Requests(); got > quota+reportWorkers+listWorkers {
		t.Errorf("upstream requests = %d, want at most quota + bounds = %d", got, quota+reportWorkers+listWorkers)
	}
	if len(res.Errors) != 1 || !rateLimited(res.Errors[0]) {
		t.Fatalf("errors = %v, want one 429", res.Errors)
	}
}

func rateLimited(err error) bool {
	var apiErr *signals.APIError
	return errors.As(err, &apiErr) && apiErr.RateLimited()
}

// slowUpstream is a simulator that answers only after an hour, or when the
// caller gives up.
func slowUpstream(t *testing.T, e *upstreamEnv) {
	t.Helper()
	e.sim.SetLatency(time.Hour)
	e.sim.Reset()
}

// runWithin runs req and fails the test if Run hangs.
func runWithin(t *testing.T, ctx context.Context, l *Lookup, req Request) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- l.Run(ctx, req) }()
	select {
	case res := <-done:
		return res
	case <-time.After(hangGuard):
		t.Fatal("Run did not return after its deadline")
		return Result{}
	}
}

// TestRunDeadline checks that when the time runs out Run answers with what
// is complete and a DeadlineError naming what was skipped. Complete parts
// come from warm caches; everything else waits on an upstream that never
// answers in time.
func TestRunDeadline(t *testing.T) {
	warm := observables("203.0.113.66", "198.51.100.23")
	cold := observables("10.0.0.1", "10.0.0.2", "10.0.0.3")
	mixed := []ctim.Observable{cold[0], warm[0], cold[1], warm[1], cold[2]}
	for _, tc := range []struct {
		name         string
		warmReports  bool
		warmLists    bool
		req          Request
		wantObs      []ctim.Observable
		wantSkipped  int
		useCtx       bool // deadline from the caller's context, not Timeout
		wantListsCut bool // the lists of the gathered observables are cut
	}{
		{name: "nothing answers", req: observe(simulator.DemoKey, mixed), wantSkipped: 5},
		{name: "reports and lists cached", warmReports: true, warmLists: true,
			req: observe(simulator.DemoKey, mixed), wantObs: warm, wantSkipped: 3},
		{name: "reports cached, lists cut", warmReports: true,
			req: observe(simulator.DemoKey, mixed), wantObs: warm, wantSkipped: 3, wantListsCut: true},
		{name: "deliberate", warmReports: true,
			req: deliberate(simulator.DemoKey, mixed), wantObs: warm, wantSkipped: 3},
		{name: "caller's deadline", warmReports: true, warmLists: true, useCtx: true,
			req: observe(simulator.DemoKey, mixed), wantObs: warm, wantSkipped: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newUpstream(t, simulator.Options{}, nil)
			e.configure(Config{ReportCacheTTL: time.Hour, ListCacheTTL: time.Hour})
			if tc.warmReports {
				e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, warm))
			}
			if tc.warmLists {
				e.lookup.Run(t.Context(), observe(simulator.DemoKey, warm))
			}
			slowUpstream(t, e)

			ctx := t.Context()
			req := tc.req
			wantTimeout := 50 * time.Millisecond
			if tc.useCtx { // an earlier deadline than the request's budget
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				req.Timeout, wantTimeout = time.Hour, 0
			} else {
				req.Timeout = 50 * time.Millisecond
			}
			res := runWithin(t, ctx, e.lookup, req)

			var got []ctim.Observable
			for _, o := range res.Observations {
				got = append(got, o.Observable)
			}
			if diff := cmp.Diff(tc.wantObs, got); diff != "" {
				t.Errorf("observations (-want +got):\n%s", diff)
			}
			if len(res.Errors) != 1 {
				t.Fatalf("errors = %v, want one DeadlineError", res.Errors)
			}
			var de *DeadlineError
			if !errors.As(res.Errors[0], &de) {
				t.Fatalf("error %T %v, want *DeadlineError", res.Errors[0], res.Errors[0])
			}
			wantLists := 0
			if tc.wantListsCut {
				for _, o := range res.Observations {
					wantLists += len(o.Report.Lists())
				}
			}
			if de.Observables != tc.wantSkipped || de.Total != len(mixed) || de.Lists != wantLists || de.Timeout != wantTimeout {
				t.Errorf("DeadlineError = %+v, want %d of %d observables and %d lists skipped after %s",
					de, tc.wantSkipped, len(mixed), wantLists, wantTimeout)
			}
			if res.Stats.ObservablesSkipped != int64(tc.wantSkipped) {
				t.Errorf("stats: %d observables skipped, want %d", res.Stats.ObservablesSkipped, tc.wantSkipped)
			}
			if tc.warmLists {
				for _, o := range res.Observations {
					if len(o.Lists) != len(o.Report.Lists()) {
						t.Errorf("%s: %d of %d lists kept", o.Observable.Value, len(o.Lists), len(o.Report.Lists()))
					}
				}
			}
		})
	}
}

// TestRunNoWarningWhenComplete checks that a deadline that passes after the
// work is done, or a caller that leaves, adds no warning.
func TestRunNoWarningWhenComplete(t *testing.T) {
	e := newUpstream(t, simulator.Options{}, nil)
	req := observe(simulator.DemoKey, ips(5))
	req.Timeout = time.Hour
	if res := e.lookup.Run(t.Context(), req); len(res.Errors) != 0 || len(res.Observations) != 5 {
		t.Fatalf("errors %v, %d observations", res.Errors, len(res.Observations))
	}

	slowUpstream(t, e)
	ctx, cancel := context.WithCancel(t.Context())
	var started atomic.Bool
	go func() {
		defer cancel()
		for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if e.sim.InFlight() == 5 {
				started.Store(true)
				return
			}
		}
	}()
	res := runWithin(t, ctx, e.lookup, req)
	if !started.Load() {
		t.Fatal("the lookups never reached the upstream together")
	}
	if len(res.Errors) != 0 || len(res.Observations) != 0 || res.Stats.ObservablesSkipped != 5 {
		t.Errorf("caller left: errors %v, %d observations, stats %+v; want no error, 5 skipped",
			res.Errors, len(res.Observations), res.Stats)
	}
}

func TestDeadlineErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  DeadlineError
		want string
	}{
		{DeadlineError{Timeout: 15 * time.Second, Observables: 3, Total: 50, Lists: 2},
			"enrich: deadline (timeout 15s): 3 of 50 observables and 2 blocklists not looked up"},
		{DeadlineError{Observables: 0, Total: 1, Lists: 4},
			"enrich: deadline (timeout 0s): 0 of 1 observables and 4 blocklists not looked up"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// TestRunMaxLookups checks that only the first MaxLookups distinct addresses
// are looked up, spellings of one IPv6 address counting once, and that a
// LimitError counts the observables left out.
func TestRunMaxLookups(t *testing.T) {
	obs := []ctim.Observable{
		{Type: TypeIP, Value: "10.0.0.1"},
		{Type: TypeIPv6, Value: "2001:DB8::0:5"},
		{Type: TypeIPv6, Value: "2001:db8::5"},
		{Type: TypeIP, Value: "10.0.0.2"},
		{Type: TypeIP, Value: "10.0.0.3"},
	}
	for _, tc := range []struct {
		max       int
		wantObs   int
		wantCalls int64
		wantLimit *LimitError
	}{
		{max: 0, wantObs: 5, wantCalls: 4},
		{max: 4, wantObs: 5, wantCalls: 4},
		{max: 3, wantObs: 4, wantCalls: 3, wantLimit: &LimitError{Max: 3, Observables: 1, Total: 5}},
		{max: 2, wantObs: 3, wantCalls: 2, wantLimit: &LimitError{Max: 2, Observables: 2, Total: 5}},
		{max: 1, wantObs: 1, wantCalls: 1, wantLimit: &LimitError{Max: 1, Observables: 4, Total: 5}},
	} {
		t.Run(fmt.Sprintf("max=%d", tc.max), func(t *testing.T) {
			e := newUpstream(t, simulator.Options{}, nil)
			req := deliberate(simulator.DemoKey, obs)
			req.MaxLookups = tc.max
			res := e.lookup.Run(t.Context(), req)
			if len(res.Observations) != tc.wantObs {
				t.Errorf("%d observations, want %d", len(res.Observations), tc.wantObs)
			}
			for i, o := range res.Observations {
				if o.Observable != obs[i] {
					t.Errorf("observation %d names %v, want %v as sent", i, o.Observable, obs[i])
				}
			}
			var limit *LimitError
			if len(res.Errors) == 1 {
				_ = errors.As(res.Errors[0], &limit)
			}
			if tc.wantLimit == nil && len(res.Errors) != 0 || tc.wantLimit != nil && (limit == nil || *limit != *tc.wantLimit) {
				t.Errorf("errors = %v, want %v", res.Errors, tc.wantLimit)
			}
			if res.Stats.UpstreamCalls != tc.wantCalls {
				t.Errorf("upstream calls = %d, want %d", res.Stats.UpstreamCalls, tc.wantCalls)
			}
			// The log's observables_skipped counts the observables the cap left out.
			if want := int64(len(obs) - tc.wantObs); res.Stats.ObservablesSkipped != want {
				t.Errorf("ObservablesSkipped = %d, want %d", res.Stats.ObservablesSkipped, want)
			}
		})
	}
}

// TestRunSpellingsOfOneIPv4Address checks that an IPv4 address written with
// surrounding spaces or as an IPv4-mapped IPv6 address is looked up once, as
// the IPv4 address, and that each observation names its observable as sent.
func TestRunSpellingsOfOneIPv4Address(t *testing.T) {
	t.Parallel()
	in := []ctim.Observable{
		{Type: TypeIP, Value: " 203.0.113.66 "},
		{Type: TypeIP, Value: "::ffff:203.0.113.66"},
		{Type: TypeIPv6, Value: "::FFFF:203.0.113.66"},
		{Type: TypeIP, Value: "203.0.113.66"},
	}
	obs := Supported(in)
	if len(obs) != len(in) {
		t.Fatalf("Supported kept %v of %v", obs, in)
	}
	e := newUpstream(t, simulator.Options{}, nil)
	res := e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs))
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	if res.Stats.UpstreamCalls != 1 || e.sim.RequestsFor("/v2.0/ip/203.0.113.66") != 1 {
		t.Errorf("%d upstream calls, %d for /v2.0/ip/203.0.113.66; want one lookup of the IPv4 address",
			res.Stats.UpstreamCalls, e.sim.RequestsFor("/v2.0/ip/203.0.113.66"))
	}
	if len(res.Observations) != len(in) {
		t.Fatalf("%d observations, want %d", len(res.Observations), len(in))
	}
	for i, o := range res.Observations {
		if o.Observable != in[i] || o.Report == nil {
			t.Errorf("observation %d: %v (report %v), want %v as sent, with the report", i, o.Observable, o.Report != nil, in[i])
		}
	}
}

// TestRunKeyFailureIsNeverKeptAsMissing checks, with the missing-list cache
// on, that a list-details answer that is a key problem (a used-up quota, or
// a 404 saying the key is no UUID) is not kept as a retired list: once the
// upstream answers again, the next request, of the same key or another,
// asks for the details and gets them.
func TestRunKeyFailureIsNeverKeptAsMissing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		failed func(error) bool
	}{
		{"429", http.StatusTooManyRequests, `{"message":"429: Too Many Requests"}`, rateLimited},
		{"404 invalid token", http.StatusNotFound, `{"message":"Token must be a valid RFC4122 UUID"}`, unauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := observables("203.0.113.66")
			var failing atomic.Bool
			e := newUpstream(t, simulator.Options{}, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if failing.Load() && strings.HasPrefix(r.URL.Path, "/metadata/") {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tc.status)
						_, _ = w.Write([]byte(tc.body))
						return
					}
					next.ServeHTTP(w, r)
				})
			})
			e.configure(Config{ListCacheSize: 100, ListCacheTTL: 6 * time.Hour, ListMissingTTL: time.Hour,
				ReportCacheSize: 100, ReportCacheTTL: time.Hour})
			refs := listsOf(e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs)).Observations)
			if len(refs) == 0 {
				t.Fatal("the address is on no list")
			}

			failing.Store(true)
			res := e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
			if len(res.Errors) != 1 || !tc.failed(res.Errors[0]) {
				t.Fatalf("while failing: errors %v, want the one key problem", res.Errors)
			}
			failing.Store(false)

			for _, key := range []string{otherKey, simulator.DemoKey} {
				before := e.sim.Requests()
				res := e.lookup.Run(t.Context(), observe(key, obs))
				if len(res.Errors) != 0 || len(res.Observations) != 1 || len(res.Observations[0].Lists) != len(refs) {
					t.Fatalf("key %s… afterwards: errors %v, observations %+v; want all %d lists and no error",
						key[:8], res.Errors, res.Observations, len(refs))
				}
				if key == otherKey && e.sim.Requests() == before {
					t.Errorf("key %s… afterwards: no list-details request, want the failed ones asked again", key[:8])
				}
			}
		})
	}
}

func unauthorized(err error) bool {
	var apiErr *signals.APIError
	return errors.As(err, &apiErr) && apiErr.Unauthorized()
}

// TestRunWarnsWhenOnlyListsAreCut checks that a deadline that cuts only
// list-details lookups (every report is kept, the lists are not) still
// adds a DeadlineError: the answer lacks blocklists, so it is partial.
func TestRunWarnsWhenOnlyListsAreCut(t *testing.T) {
	obs := observables("203.0.113.66", "198.51.100.23")
	e := newUpstream(t, simulator.Options{}, nil)
	e.configure(Config{ReportCacheTTL: time.Hour, ListCacheTTL: time.Hour})
	e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs)) // reports only
	slowUpstream(t, e)

	req := observe(simulator.DemoKey, obs)
	req.Timeout = 50 * time.Millisecond
	res := runWithin(t, t.Context(), e.lookup, req)

	if len(res.Observations) != len(obs) {
		t.Fatalf("%d observations, want all %d (their reports are kept)", len(res.Observations), len(obs))
	}
	wantLists := 0
	for _, o := range res.Observations {
		wantLists += len(o.Report.Lists())
		if len(o.Lists) != 0 {
			t.Errorf("%s: %d lists gathered from an upstream that never answers", o.Observable.Value, len(o.Lists))
		}
	}
	if wantLists == 0 {
		t.Fatal("the addresses are on no list")
	}
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %v, want one DeadlineError", res.Errors)
	}
	var de *DeadlineError
	if !errors.As(res.Errors[0], &de) {
		t.Fatalf("error %T %v, want *DeadlineError", res.Errors[0], res.Errors[0])
	}
	want := DeadlineError{Timeout: req.Timeout, Observables: 0, Total: len(obs), Lists: wantLists}
	if *de != want {
		t.Errorf("DeadlineError = %+v, want %+v", *de, want)
	}
	if res.Stats.ObservablesSkipped != 0 || res.Stats.ListsSkipped != int64(wantLists) {
		t.Errorf("stats = %+v, want no observable and %d lists skipped", res.Stats, wantLists)
	}
}

// TestNewRefusesIncompleteConfig checks that New refuses a missing client
// and workers or cache sizes below 1, rather than fill them itself.
func TestNewRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	client := &signals.Client{}
	if _, err := New(client, DefaultConfig()); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tc := range []struct {
		name   string
		client *signals.Client
		change func(*Config)
	}{
		{"no client", nil, func(*Config) {}},
		{"zero config", client, func(c *Config) { *c = Config{} }},
		{"no report workers", client, func(c *Config) { c.ReportWorkers = 0 }},
		{"no list workers", client, func(c *Config) { c.ListWorkers = 0 }},
		{"no report cache size", client, func(c *Config) { c.ReportCacheSize = 0 }},
		{"negative list cache size", client, func(c *Config) { c.ListCacheSize = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			if l, err := New(tc.client, cfg); err == nil || l != nil {
				t.Errorf("New = %v, %v; want an error", l, err)
			}
		})
	}
}
