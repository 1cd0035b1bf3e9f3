// Package simtest wraps a simulator for tests that check how a client talks
// to it: how many requests reached it, on which paths, how many at once, and
// what happens when it stops answering. Only tests import it.
package simtest

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// Upstream is an http.Handler that counts the requests it passes on and can
// hold them back for a while first. It is safe for concurrent use.
type Upstream struct {
	next http.Handler

	delay       atomic.Int64 // time.Duration
	total       atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	mu     sync.Mutex
	byPath map[string]int64 // URL path → requests
}

// New returns a counting wrapper around simulator.New(opts).
func New(opts simulator.Options) *Upstream { return Wrap(simulator.New(opts)) }

// Wrap returns a counting wrapper around next.
func Wrap(next http.Handler) *Upstream {
	return &Upstream{next: next, byPath: make(map[string]int64)}
}

// ServeHTTP counts r, waits out the latency set with SetLatency (answering 503 if
// the caller leaves first) and passes r on.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.byPath[r.URL.Path]++
	u.total.Add(1)
	u.mu.Unlock()
	n := u.inFlight.Add(1)
	defer u.inFlight.Add(-1)
	for m := u.maxInFlight.Load(); n > m && !u.maxInFlight.CompareAndSwap(m, n); m = u.maxInFlight.Load() {
	}

	if d := time.Duration(u.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			http.Error(w, "503: Service Unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	u.next.ServeHTTP(w, r)
}

// Requests reports how many requests arrived since Wrap or the last Reset,
// whatever their outcome.
func (u *Upstream) Requests() int64 { return u.total.Load() }

// RequestsFor reports how many requests since Wrap or the last Reset had
// exactly the given URL path (without the query string).
func (u *Upstream) RequestsFor(path string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byPath[path]
}

// InFlight reports how many requests are being served now, latency included.
func (u *Upstream) InFlight() int64 { return u.inFlight.Load() }

// MaxInFlight reports the most requests served at the same time since Wrap
// or the last Reset.
func (u *Upstream) MaxInFlight() int64 { return u.maxInFlight.Load() }

// Reset zeroes the counters; the high-water mark restarts from the number of
// requests in flight.
func (u *Upstream) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.total.Store(0)
	u.maxInFlight.Store(u.inFlight.Load())
	clear(u.byPath)
}

// SetLatency holds every later request for d before passing it on; zero or
// less passes requests on at once.
func (u *Upstream) SetLatency(d time.Duration) { u.delay.Store(int64(max(d, 0))) }
