package enrich

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signals-relay/signals-relay/internal/cache"
	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// Lookup gathers what Auth0 Signals knows about a request's observables.
// One per process lets concurrent requests share calls and caches.
type Lookup struct {
	client                     *signals.Client
	now                        func() time.Time
	reportWorkers, listWorkers int
	reports                    *cache.Cache[reportKey, fetchedReport] // per API key; "nothing known" too
	// lists serve every API key: the details endpoint is documented as
	// needing none. A failure (rejected key, used-up quota) reaches only the
	// same key's requests; a 404 is kept as missing.
	lists *cache.Cache[signals.ListRef, *signals.ListDetails]
}

// Config configures a Lookup; every field is required but Now. The
// workers bound a request's concurrent calls; a zero TTL keeps no cache.
type Config struct {
	ReportWorkers, ListWorkers int
	ReportCacheSize            int
	ReportCacheTTL             time.Duration
	ListCacheSize              int
	// ListMissingTTL is how long a list whose details answered 404 is kept.
	ListCacheTTL, ListMissingTTL time.Duration
	Now                          func() time.Time // nil: time.Now
}

// DefaultConfig returns the Config the operator's settings default to.
func DefaultConfig() Config {
	return Config{
		// A request of up to 64 addresses needs one round trip for its
		// reports and one for its lists.
		ReportWorkers: 64, ListWorkers: 32,
		// Reports are kept for an investigation (verdicts, then sightings,
		// of the same observables), yet a newly listed address shows soon;
		// a decoded report is well under 1 KiB.
		ReportCacheTTL: 5 * time.Minute, ReportCacheSize: 10000,
		// Lists rarely change their details, so hours are safe; Auth0
		// Signals had about 150. A retired list (a 404 that reports still
		// name) is kept briefly, as it may come back.
		ListCacheTTL: 6 * time.Hour, ListCacheSize: 1024, ListMissingTTL: time.Hour,
	}
}

// New returns a Lookup that calls Auth0 Signals through client, or why cfg
// is unusable.
func New(client *signals.Client, cfg Config) (*Lookup, error) {
	if client == nil || min(cfg.ReportWorkers, cfg.ListWorkers, cfg.ReportCacheSize, cfg.ListCacheSize) < 1 {
		return nil, errors.New("enrich: a client, and workers and cache sizes of at least 1, are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Lookup{
		client:        client,
		now:           cfg.Now,
		reportWorkers: cfg.ReportWorkers,
		listWorkers:   cfg.ListWorkers,
		reports: cache.New[reportKey, fetchedReport](cache.Config{
			Size: cfg.ReportCacheSize, TTL: cfg.ReportCacheTTL, Now: cfg.Now,
		}),
		lists: cache.New[signals.ListRef, *signals.ListDetails](cache.Config{
			Size: cfg.ListCacheSize, TTL: cfg.ListCacheTTL,
			ErrorTTL: cfg.ListMissingTTL, KeepError: notFound, Now: cfg.Now,
		}),
	}, nil
}

// Ping checks that Auth0 Signals answers and accepts apiKey (signals.Client.Ping).
func (l *Lookup) Ping(ctx context.Context, apiKey string) error { return l.client.Ping(ctx, apiKey) }

// Observable types the relay looks up.
const (
	TypeIP   = "ip"
	TypeIPv6 = "ipv6"
)

// Supported returns the observables the relay looks up, once each in
// order: "ip" with an IPv4 and "ipv6" with an IPv6 address, and either with
// an IPv4-mapped IPv6 address (::ffff:203.0.113.7), looked up as the IPv4
// address. Anything else is ignored, as the contract asks, and costs no
// call. The type is folded (" IP" is "ip"); the value stays as sent, so the
// answer names each observable as the caller wrote it, surrounding spaces
// included: Address is what is looked up.
func Supported(in []ctim.Observable) []ctim.Observable {
	var out []ctim.Observable
	seen := make(map[ctim.Observable]bool)
	for _, o := range in {
		o.Type = strings.ToLower(strings.TrimSpace(o.Type))
		if _, ok := address(o); !ok || seen[o] {
			continue
		}
		seen[o] = true
		out = append(out, o)
	}
	return out
}

// Address is the text of the address a supported observable is looked up
// as: its value trimmed, in canonical form, an IPv4-mapped IPv6 address as
// the IPv4 address. Every spelling of one address has the same Address.
func Address(o ctim.Observable) string {
	if a, ok := address(o); ok {
		return a.String()
	}
	return strings.TrimSpace(o.Value)
}

// address parses the address o names, if o is of a supported type (folded)
// and its trimmed value an address of that type.
func address(o ctim.Observable) (netip.Addr, bool) {
	if o.Type != TypeIP && o.Type != TypeIPv6 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(o.Value))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	switch {
	case a.Is4In6():
		return a.Unmap(), true
	case o.Type == TypeIP:
		return a, a.Is4()
	default:
		return a, a.Is6()
	}
}

// Request is one enrichment request.
type Request struct {
	APIKey      string
	Observables []ctim.Observable // as Supported returns them
	Lists       bool              // look up blocklist details (observe)
	ListLimit   int               // blocklists per observable; 0: none
	// Timeout, when positive, bounds Run, as a deadline of ctx does: then
	// Run returns what is complete and a *DeadlineError.
	Timeout time.Duration
	// MaxLookups, when positive, caps the distinct addresses looked up, the
	// first in request order; a *LimitError counts the others.
	MaxLookups int
}

// Result is what a request gathered.
type Result struct {
	// Observations are those whose report lookup finished, in request
	// order; spellings of one address share one lookup.
	Observations []Observation
	// Errors are the failures in observable order; a key problem stops
	// further calls and appears once. Then come a *LimitError and a
	// *DeadlineError, if any.
	Errors []error
	Stats  Stats
}

// Stats counts the work of one request.
type Stats struct {
	UpstreamCalls   int64
	UpstreamTime    time.Duration // summed over the calls
	ReportCacheHits int64
	ListCacheHits   int64
	// Coalesced counts lookups answered by another request's call in flight.
	Coalesced int64
	// ObservablesSkipped counts those not looked up (stopped, out of time,
	// beyond MaxLookups), ListsSkipped the blocklists whose details are
	// missing.
	ObservablesSkipped int64
	ListsSkipped       int64
}

// DeadlineError reports that a request ran out of time.
type DeadlineError struct {
	// Timeout is Request.Timeout, or zero when ctx's deadline came first.
	Timeout time.Duration
	// Observables (out of Total) and Lists count what was not looked up.
	Observables, Total, Lists int
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("enrich: deadline (timeout %s): %d of %d observables and %d blocklists not looked up",
		e.Timeout, e.Observables, e.Total, e.Lists)
}

// LimitError reports that a request held more distinct addresses than
// Max (Request.MaxLookups); Observables of Total were not looked up.
type LimitError struct {
	Max, Observables, Total int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("enrich: lookup cap %d: %d of %d observables not looked up", e.Max, e.Observables, e.Total)
}

// target is one address to look up and the observables that spell it.
type target struct {
	ip      string // canonical text
	indices []int  // request indices, in order
}

// targets groups observables by address, in request order.
func targets(obs []ctim.Observable) []*target {
	var out []*target
	byIP := make(map[string]*target, len(obs))
	for i, o := range obs {
		ip := Address(o)
		if t, ok := byIP[ip]; ok {
			t.indices = append(t.indices, i)
			continue
		}
		t := &target{ip: ip, indices: []int{i}}
		byIP[ip] = t
		out = append(out, t)
	}
	return out
}

// Run gathers reports and, if asked, list details (as soon as each report
// arrives), and returns what was gathered by the deadline.
func (l *Lookup) Run(ctx context.Context, req Request) Result {
	budget := req.Timeout // reported when it is what ran out
	if d, ok := ctx.Deadline(); ok && time.Until(d) < budget {
		budget = 0
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	// A stop (a key problem) ends dispatching, never a call already made
	// under ctx, so everything the upstream answers is kept.
	dispatch, cancel := context.WithCancel(ctx)
	defer cancel()

	keyHash := sha256.Sum256([]byte(req.APIKey))
	r := &run{
		lookup:   l,
		req:      req,
		scope:    string(keyHash[:]),
		ctx:      ctx,
		dispatch: dispatch,
		cancel:   cancel,
		reports:  make(chan struct{}, l.reportWorkers),
		lists:    make(chan struct{}, l.listWorkers),
		obs:      make([]*Observation, len(req.Observables)),
	}
	if req.Lists && req.ListLimit > 0 {
		// Each list is looked up at most once per request, failures too.
		r.details = cache.New[signals.ListRef, *signals.ListDetails](cache.Config{
			TTL: forever, ErrorTTL: forever, KeepError: func(error) bool { return true },
		})
	}
	// Each lookup takes its slot before it starts, so reports are
	// dispatched in request order; a kept report needs no slot.
	all := targets(req.Observables)
	looked, over := all, []*target(nil)
	if req.MaxLookups > 0 && len(all) > req.MaxLookups {
		looked, over = all[:req.MaxLookups], all[req.MaxLookups:]
	}
	// The last lookup runs here, saving a goroutine per request.
	var wg sync.WaitGroup
	for j, t := range looked {
		var lookup func()
		key := reportKey{key: keyHash, ip: t.ip}
		if f, ok := l.reports.Peek(key); ok {
			r.reportHits.Add(1)
			lookup = func() { r.gathered(ctx, t, f) }
		} else if acquire(dispatch, r.reports) {
			lookup = func() { r.observe(ctx, t, key) }
		} else {
			continue // skipped; later kept reports are still served
		}
		if j == len(looked)-1 {
			lookup()
		} else {
			wg.Go(lookup)
		}
	}
	wg.Wait()

	res := Result{Stats: Stats{
		UpstreamCalls:   r.calls.Load(),
		UpstreamTime:    time.Duration(r.upstreamNanos.Load()),
		ReportCacheHits: r.reportHits.Load(),
		ListCacheHits:   r.listHits.Load(),
		Coalesced:       r.coalesced.Load(),
		ListsSkipped:    r.listsSkipped.Load(),
	}}
	failed := make(map[int]bool, len(r.errs))
	for _, e := range r.errs {
		failed[e.index] = true
	}
	for _, t := range looked {
		if first := t.indices[0]; r.obs[first] == nil && !failed[first] {
			res.Stats.ObservablesSkipped += int64(len(t.indices))
		}
	}
	for _, o := range r.obs {
		if o != nil {
			res.Observations = append(res.Observations, *o)
		}
	}
	slices.SortStableFunc(r.errs, func(a, b indexedErr) int { return cmp.Compare(a.index, b.index) })
	for _, e := range r.errs {
		res.Errors = append(res.Errors, e.err)
	}
	capped := 0
	for _, t := range over {
		capped += len(t.indices)
	}
	if capped > 0 {
		res.Errors = append(res.Errors, &LimitError{Max: req.MaxLookups, Observables: capped, Total: len(req.Observables)})
	}
	cut := r.listsCut.Load()
	if !r.stopped && (res.Stats.ObservablesSkipped > 0 || cut > 0) &&
		errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		res.Errors = append(res.Errors, &DeadlineError{
			Timeout:     budget,
			Observables: int(res.Stats.ObservablesSkipped),
			Total:       len(req.Observables),
			Lists:       int(cut),
		})
	}
	res.Stats.ObservablesSkipped += int64(capped)
	return res
}

// forever is the lifetime of what one request keeps for itself.
const forever = time.Duration(math.MaxInt64)

// run is the state of one Run.
type run struct {
	lookup *Lookup
	req    Request
	scope  string // of the API key's shared loads
	// ctx ends when the time is up or the caller leaves; dispatch also when
	// cancel stops the request, and no call starts after that.
	ctx      context.Context
	dispatch context.Context
	cancel   context.CancelFunc

	reports, lists chan struct{} // semaphores

	details *cache.Cache[signals.ListRef, *signals.ListDetails] // this request's lists

	mu      sync.Mutex
	errs    []indexedErr
	stopped bool

	obs []*Observation // by request index; written once per index

	calls, upstreamNanos            atomic.Int64
	reportHits, listHits, coalesced atomic.Int64
	listsSkipped, listsCut          atomic.Int64
}

type indexedErr struct {
	index int
	err   error
}

// observe looks up t's report, holding a report slot, then its lists.
func (r *run) observe(ctx context.Context, t *target, key reportKey) {
	i := t.indices[0]
	f, err := fetch(ctx, r, r.lookup.reports, key, i, nil, &r.reportHits, func(ctx context.Context) (fetchedReport, error) {
		at := r.lookup.now()
		report, err := r.lookup.client.Report(ctx, r.req.APIKey, t.ip)
		return fetchedReport{report: report, at: at}, err
	})
	<-r.reports // after a stop (see fetch), so no further report call starts
	if err != nil {
		r.fail(i, err)
		return
	}
	r.gathered(ctx, t, f)
}

// gathered records t's report for each observable spelling it.
func (r *run) gathered(ctx context.Context, t *target, f fetchedReport) {
	var lists []List
	if f.report != nil && r.details != nil {
		lists = r.fetchLists(ctx, t.indices[0], f.report)
	}
	for _, i := range t.indices {
		r.obs[i] = &Observation{Observable: r.req.Observables[i], Report: f.report, QueriedAt: f.at, Lists: lists}
	}
}

// fetchLists returns the details of the report's lists that it got.
func (r *run) fetchLists(ctx context.Context, i int, report *signals.Report) []List {
	refs := report.Lists()
	if len(refs) > r.req.ListLimit {
		refs = refs[:r.req.ListLimit]
	}
	got := make([]*signals.ListDetails, len(refs))
	var wg sync.WaitGroup
	for j, ref := range refs {
		wg.Go(func() {
			d, _, err := r.details.Get(ctx, ref, "", func(ctx context.Context) (*signals.ListDetails, error) {
				return fetch(ctx, r, r.lookup.lists, ref, i, r.lists, &r.listHits, func(ctx context.Context) (*signals.ListDetails, error) {
					return r.lookup.client.ListDetails(ctx, r.req.APIKey, ref)
				})
			})
			if err != nil {
				r.listsSkipped.Add(1) // a list whose details fail is skipped
				switch {
				case stopsRequest(err):
					r.stop(i, err)
				case r.ended() && isContextErr(err):
					r.listsCut.Add(1)
				}
				return
			}
			got[j] = d
		})
	}
	wg.Wait()
	var out []List
	for j, d := range got {
		if d != nil {
			out = append(out, List{Ref: refs[j], Details: d})
		}
	}
	return out
}

// fetch answers key from c: kept, shared with a call in flight, or from
// call, made for observable i holding a slot of sem (nil: the caller holds
// one). A key problem stops the request before the slot is released, so no
// call follows it.
func fetch[K comparable, V any](ctx context.Context, r *run, c *cache.Cache[K, V], key K, i int, sem chan struct{},
	hits *atomic.Int64, call func(context.Context) (V, error)) (V, error) {
	v, src, err := c.Get(ctx, key, r.scope, func(ctx context.Context) (V, error) {
		var zero V
		if sem != nil {
			if !acquire(r.dispatch, sem) {
				return zero, r.dispatch.Err()
			}
			defer func() { <-sem }()
		} else if err := r.dispatch.Err(); err != nil {
			return zero, err
		}
		start := time.Now()
		v, err := call(ctx)
		r.calls.Add(1)
		r.upstreamNanos.Add(int64(time.Since(start)))
		if err != nil && stopsRequest(err) {
			r.stop(i, err)
		}
		return v, err
	})
	switch {
	case src == cache.Kept:
		hits.Add(1)
	case src == cache.Shared && err == nil:
		r.coalesced.Add(1)
	}
	return v, err
}

// fail records err for observable i, unless the request ended (skipped).
func (r *run) fail(i int, err error) {
	if stopsRequest(err) {
		r.stop(i, err)
		return
	}
	if r.ended() && isContextErr(err) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.errs = append(r.errs, indexedErr{index: i, err: err})
	}
}

// ended reports whether the request was stopped, timed out or left.
func (r *run) ended() bool { return r.ctx.Err() != nil || r.dispatch.Err() != nil }

// stop ends the request for err, a key problem; the first one is kept.
func (r *run) stop(i int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	r.errs = append(r.errs, indexedErr{index: i, err: err})
}

// stopsRequest reports whether err makes further calls pointless.
func stopsRequest(err error) bool {
	var apiErr *signals.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Unauthorized() || apiErr.RateLimited()
	}
	var tlsErr *signals.TLSError
	return errors.As(err, &tlsErr)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// acquire takes a slot of sem, unless ctx ends first or has ended.
func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ctx.Err() != nil {
		<-sem
		return false
	}
	return true
}

// reportKey identifies an address's report for one API key.
type reportKey struct {
	key [sha256.Size]byte // SHA-256 of the API key, never the key
	ip  string            // canonical text form of the address
}

// fetchedReport is a report (nil: nothing known) and when it was fetched.
type fetchedReport struct {
	report *signals.Report
	at     time.Time
}

// notFound reports whether err is a 404 that is not a key problem.
func notFound(err error) bool {
	var apiErr *signals.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && !apiErr.Unauthorized()
}
