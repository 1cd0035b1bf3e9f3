package enrich

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// Default concurrency of one request's upstream calls.
const (
	DefaultReportWorkers = 16
	DefaultListWorkers   = 16
)

// Lookup gathers what Auth0 Signals knows about a request's observables.
// It is safe for concurrent use.
type Lookup struct {
	Client *signals.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReportWorkers bounds concurrent report lookups per request, and
	// ListWorkers concurrent list-details lookups; zero means the default.
	ReportWorkers int
	ListWorkers   int
}

// Request is one enrichment request.
type Request struct {
	APIKey      string
	Observables []ctim.Observable // supported and de-duplicated (see Supported)
	// Lists asks for blocklist details (observe); deliberate needs reports only.
	Lists bool
	// ListLimit caps the blocklists looked up per observable; zero or less
	// means no list is looked up.
	ListLimit int
}

// Result is what a request gathered.
type Result struct {
	// Observations are the observables whose report lookup finished, in
	// request order.
	Observations []Observation
	// Errors are the failures, in observable order. A key problem (rejected
	// key, quota used up) or a certificate failure stops all further calls
	// and appears once.
	Errors []error
	// Stats describes the upstream work done.
	Stats Stats
}

// Stats counts upstream work.
type Stats struct {
	UpstreamCalls int64
	UpstreamTime  time.Duration
	ListsSkipped  int64
}

// Run gathers reports (and, when asked, list details) for req. List lookups
// of an observable start as soon as its report arrives. Run never panics on
// upstream data and always returns what was gathered.
func (l *Lookup) Run(ctx context.Context, req Request) Result {
	now := l.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	r := &run{
		lookup:  l,
		req:     req,
		now:     now,
		cancel:  cancel,
		reports: make(chan struct{}, workers(l.ReportWorkers, DefaultReportWorkers)),
		lists:   make(chan struct{}, workers(l.ListWorkers, DefaultListWorkers)),
		details: make(map[signals.ListRef]*detailsCall),
		obs:     make([]*Observation, len(req.Observables)),
	}
	var wg sync.WaitGroup
	for i, o := range req.Observables {
		wg.Go(func() { r.observe(ctx, i, o) })
	}
	wg.Wait()

	res := Result{Stats: Stats{
		UpstreamCalls: r.calls.Load(),
		UpstreamTime:  time.Duration(r.upstreamNanos.Load()),
		ListsSkipped:  r.skipped.Load(),
	}}
	for _, o := range r.obs {
		if o != nil {
			res.Observations = append(res.Observations, *o)
		}
	}
	slices.SortStableFunc(r.errs, func(a, b indexedErr) int { return cmp.Compare(a.index, b.index) })
	for _, e := range r.errs {
		res.Errors = append(res.Errors, e.err)
	}
	return res
}

func workers(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// run is the state of one Run.
type run struct {
	lookup *Lookup
	req    Request
	now    func() time.Time
	cancel context.CancelFunc

	reports, lists chan struct{} // semaphores

	mu      sync.Mutex
	details map[signals.ListRef]*detailsCall
	errs    []indexedErr
	stopped bool

	obs []*Observation // by request index; written once per index

	calls, upstreamNanos, skipped atomic.Int64
}

type indexedErr struct {
	index int
	err   error
}

// detailsCall is one list-details lookup shared by every observable of the
// request that is on that list.
type detailsCall struct {
	done    chan struct{}
	details *signals.ListDetails
	err     error
}

func (r *run) observe(ctx context.Context, i int, o ctim.Observable) {
	if !acquire(ctx, r.reports) {
		return
	}
	at := r.now()
	report, err := timed(r, func() (*signals.Report, error) { return r.lookup.Client.Report(ctx, r.req.APIKey, o.Value) })
	<-r.reports
	if err != nil {
		r.fail(ctx, i, err)
		return
	}
	obs := &Observation{Observable: o, Report: report, QueriedAt: at}
	if report != nil && r.req.Lists && r.req.ListLimit > 0 {
		obs.Lists = r.fetchLists(ctx, i, report)
	}
	r.obs[i] = obs
}

// fetchLists looks up the details of the report's lists (up to the limit)
// concurrently and returns those that succeeded, in report order.
func (r *run) fetchLists(ctx context.Context, i int, report *signals.Report) []List {
	refs := report.Lists()
	if len(refs) > r.req.ListLimit {
		refs = refs[:r.req.ListLimit]
	}
	got := make([]*signals.ListDetails, len(refs))
	var wg sync.WaitGroup
	for j, ref := range refs {
		wg.Go(func() {
			d, err := r.detailsOf(ctx, ref)
			if err != nil {
				if stopsRequest(err) {
					r.fail(ctx, i, err)
				} else {
					r.skipped.Add(1) // a list whose details fail is skipped
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

// detailsOf returns the details of ref, calling upstream at most once per
// request for each list.
func (r *run) detailsOf(ctx context.Context, ref signals.ListRef) (*signals.ListDetails, error) {
	r.mu.Lock()
	c, ok := r.details[ref]
	if !ok {
		c = &detailsCall{done: make(chan struct{})}
		r.details[ref] = c
	}
	r.mu.Unlock()
	if ok {
		select {
		case <-c.done:
			return c.details, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer close(c.done)
	if !acquire(ctx, r.lists) {
		c.err = ctx.Err()
		return nil, c.err
	}
	c.details, c.err = timed(r, func() (*signals.ListDetails, error) {
		return r.lookup.Client.ListDetails(ctx, r.req.APIKey, ref)
	})
	<-r.lists
	return c.details, c.err
}

// fail records err for observable i. Errors that concern the whole key stop
// the request; only the first of those is kept, and failures caused by that
// stop are not reported.
func (r *run) fail(ctx context.Context, i int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if stopsRequest(err) {
		r.stopped = true
		r.cancel()
	} else if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return
	}
	r.errs = append(r.errs, indexedErr{index: i, err: err})
}

// stopsRequest reports whether err makes every further call of the request
// pointless: the key is rejected, its quota is used up, or the API's
// certificate cannot be verified.
func stopsRequest(err error) bool {
	var apiErr *signals.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Unauthorized() || apiErr.RateLimited()
	}
	var tlsErr *signals.TLSError
	return errors.As(err, &tlsErr)
}

func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func timed[T any](r *run, call func() (T, error)) (T, error) {
	start := time.Now()
	v, err := call()
	r.calls.Add(1)
	r.upstreamNanos.Add(int64(time.Since(start)))
	return v, err
}
