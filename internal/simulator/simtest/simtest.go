// Package simtest wraps a simulator for tests that count what reaches it and
// hold it back. Only tests import it.
package simtest

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// Upstream is an http.Handler that counts the requests it passes on and can
// delay them. It is safe for concurrent use.
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

// ServeHTTP counts r, waits out SetLatency (503 if the caller leaves) and passes r on.
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
		select {
		case <-time.After(d): // collected when unreferenced, stopped or not
		case <-r.Context().Done():
			http.Error(w, "503: Service Unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	u.next.ServeHTTP(w, r)
}

// Requests reports how many requests arrived since Wrap or Reset.
func (u *Upstream) Requests() int64 { return u.total.Load() }

// RequestsFor reports how many of them had exactly the URL path path.
func (u *Upstream) RequestsFor(path string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byPath[path]
}

// InFlight reports how many requests are being served now.
func (u *Upstream) InFlight() int64 { return u.inFlight.Load() }

// MaxInFlight reports the most requests served at once since Wrap or Reset.
func (u *Upstream) MaxInFlight() int64 { return u.maxInFlight.Load() }

// Reset zeroes the counters; MaxInFlight restarts from InFlight.
func (u *Upstream) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.total.Store(0)
	u.maxInFlight.Store(u.inFlight.Load())
	clear(u.byPath)
}

// SetLatency holds every later request for d before passing it on.
func (u *Upstream) SetLatency(d time.Duration) { u.delay.Store(int64(max(d, 0))) }
