package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// hangGuard bounds every wait of these tests; reaching it means a hang, not
// slowness.
const hangGuard = 10 * time.Second

// counter is a load that counts its calls and answers the call number.
type counter struct{ n atomic.Int64 }

func (l *counter) load(context.Context) (int, error) { return int(l.n.Add(1)), nil }

// watched is a context that counts the callers waiting on it: Get asks a
// waiter's context for Done exactly when it starts waiting for another
// caller's load.
type watched struct {
	context.Context
	waiting *atomic.Int64
}

func (w watched) Done() <-chan struct{} {
	w.waiting.Add(1)
	return w.Context.Done()
}

// waitForWaiters blocks until n callers wait.
func waitForWaiters(t *testing.T, waiting *atomic.Int64, n int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for waiting.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d callers are waiting", waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type outcome struct {
	v   int
	src Source
	err error
}

// startLoad runs Get for key in the background with a load that blocks
// until release is closed and then answers result, and returns its outcome
// channel once the load has started.
func startLoad(ctx context.Context, c *Cache[string, int], key, scope string, loads *atomic.Int64, release <-chan struct{},
	result func(context.Context) (int, error)) <-chan outcome {
	started := make(chan struct{})
	out := make(chan outcome, 1)
	go func() {
		v, src, err := c.Get(ctx, key, scope, func(ctx context.Context) (int, error) {
			loads.Add(1)
			close(started)
			<-release
			return result(ctx)
		})
		out <- outcome{v, src, err}
	}()
	<-started
	return out
}

// startWaiters runs n Gets for key in the background whose own loads answer
// -1, and waits until all of them wait for the load in flight.
func startWaiters(t *testing.T, ctx context.Context, c *Cache[string, int], key, scope string, n int, loads *atomic.Int64) <-chan outcome {
	t.Helper()
	var waiting atomic.Int64
	ctx = watched{ctx, &waiting}
	out := make(chan outcome, n)
	for range n {
		go func() {
			v, src, err := c.Get(ctx, key, scope, func(context.Context) (int, error) { loads.Add(1); return -1, nil })
			out <- outcome{v, src, err}
		}()
	}
	waitForWaiters(t, &waiting, n)
	return out
}

func TestCacheExpiry(t *testing.T) {
	const ttl = time.Minute
	for _, tc := range []struct {
		name    string
		advance time.Duration
		want    Source
	}{
		{"fresh", 0, Kept},
		{"just before the TTL", ttl - time.Nanosecond, Kept},
		{"at the TTL", ttl, Loaded},
		{"long after", 24 * time.Hour, Loaded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := testsupport.NewClock()
			c := New[string, int](Config{Size: 10, TTL: ttl, Now: clk.Now})
			var l counter
			if v, src, err := c.Get(t.Context(), "a", "", l.load); v != 1 || src != Loaded || err != nil {
				t.Fatalf("first Get = %d, %v, %v", v, src, err)
			}
			clk.Advance(tc.advance)
			v, src, _ := c.Get(t.Context(), "a", "", l.load)
			if src != tc.want || (src == Kept) != (v == 1) {
				t.Fatalf("Get after %s = %d from %v; want from %v", tc.advance, v, src, tc.want)
			}
		})
	}
}

func TestCacheGetDoesNotExtendTTL(t *testing.T) {
	clk := testsupport.NewClock()
	c := New[string, int](Config{Size: 10, TTL: time.Minute, Now: clk.Now})
	var l counter
	for range 4 {
		_, _, _ = c.Get(t.Context(), "a", "", l.load)
		clk.Advance(15 * time.Second)
	}
	if _, src, _ := c.Get(t.Context(), "a", "", l.load); src != Loaded || l.n.Load() != 2 {
		t.Fatalf("after the TTL: from %v with %d loads; reads kept an entry alive", src, l.n.Load())
	}
}

func TestCacheSizeBound(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		ops      string // letters are Gets in order
		wantKept string // Gets after ops that are answered from the cache
	}{
		{"under the bound", 3, "ab", "ab"},
		{"evicts the oldest", 2, "abc", "bc"},
		{"a read makes it recent", 2, "abac", "ac"},
		{"size one", 1, "abc", "c"},
		{"no bound", 0, "abcdef", "abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[string, int](Config{Size: tc.size, TTL: time.Hour})
			var l counter
			for _, k := range tc.ops {
				_, _, _ = c.Get(t.Context(), string(k), "", l.load)
			}
			var kept strings.Builder
			for _, k := range "abcdef" {
				if _, ok := c.Peek(string(k)); ok {
					kept.WriteRune(k)
				}
			}
			if kept.String() != tc.wantKept {
				t.Errorf("kept %q, want %q", kept.String(), tc.wantKept)
			}
		})
	}
}

var (
	errNotFound = errors.New("not found")
	errBroken   = errors.New("broken")
)

func TestCacheKeepsNegativeAnswersBriefly(t *testing.T) {
	clk := testsupport.NewClock()
	c := New[string, int](Config{Size: 10, TTL: time.Hour, ErrorTTL: 10 * time.Minute, Now: clk.Now,
		KeepError: func(err error) bool { return errors.Is(err, errNotFound) }})
	loads := map[string]int{}
	get := func(key string, err error) (Source, error) {
		_, src, gotErr := c.Get(t.Context(), key, "", func(context.Context) (int, error) { loads[key]++; return 0, err })
		return src, gotErr
	}
	for i, step := range []struct {
		advance                  time.Duration
		wantMissing, wantBroken  Source
		wantMissLoads, wantBLoad int
	}{
		{0, Loaded, Loaded, 1, 1},
		{10*time.Minute - time.Nanosecond, Kept, Loaded, 1, 2},
		{time.Nanosecond, Loaded, Loaded, 2, 3},
	} {
		clk.Advance(step.advance)
		if src, err := get("missing", errNotFound); src != step.wantMissing || !errors.Is(err, errNotFound) {
			t.Errorf("step %d: missing from %v (%v), want %v", i, src, err, step.wantMissing)
		}
		if src, err := get("broken", errBroken); src != step.wantBroken || !errors.Is(err, errBroken) {
			t.Errorf("step %d: broken from %v (%v), want %v", i, src, err, step.wantBroken)
		}
		if loads["missing"] != step.wantMissLoads || loads["broken"] != step.wantBLoad {
			t.Errorf("step %d: loads %v", i, loads)
		}
	}
	if _, ok := c.Peek("missing"); ok {
		t.Error("Peek reports a kept failure as a value")
	}
}

func TestCacheWithoutTTLOnlyShares(t *testing.T) {
	c := New[string, int](Config{Size: 10})
	var l counter
	for i := range 3 {
		if v, src, err := c.Get(t.Context(), "k", "", l.load); v != i+1 || src != Loaded || err != nil {
			t.Fatalf("Get %d = %d, %v, %v; want a load each time", i, v, src, err)
		}
	}
}

func TestCacheCoalesces(t *testing.T) {
	for _, n := range []int{2, 10, 100} {
		t.Run(fmt.Sprintf("callers=%d", n), func(t *testing.T) {
			c := New[string, int](Config{})
			var loads atomic.Int64
			release := make(chan struct{})
			leader := startLoad(t.Context(), c, "k", "", &loads, release, func(context.Context) (int, error) { return 42, nil })
			waiters := startWaiters(t, t.Context(), c, "k", "", n-1, &loads)
			close(release)

			if got := <-leader; got != (outcome{42, Loaded, nil}) {
				t.Errorf("leader = %+v, want its own load's 42", got)
			}
			for range n - 1 {
				if got := <-waiters; got != (outcome{42, Shared, nil}) {
					t.Errorf("waiter = %+v, want the shared 42", got)
				}
			}
			if loads.Load() != 1 {
				t.Errorf("%d concurrent callers made %d loads, want 1", n, loads.Load())
			}
		})
	}
}

// TestCacheScopes checks that a failure reaches only the waiters of the
// scope whose load failed, and that a success serves every scope.
func TestCacheScopes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		result       error
		waiterScope  string
		want         outcome
		wantLoads    int64
		wantWaiterOK bool
	}{
		{name: "failure, same scope", result: errBroken, waiterScope: "a", want: outcome{0, Shared, errBroken}, wantLoads: 1},
		{name: "failure, other scope", result: errBroken, waiterScope: "b", want: outcome{-1, Loaded, nil}, wantLoads: 2},
		{name: "success, other scope", waiterScope: "b", want: outcome{7, Shared, nil}, wantLoads: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[string, int](Config{})
			var loads atomic.Int64
			release := make(chan struct{})
			leader := startLoad(t.Context(), c, "k", "a", &loads, release, func(context.Context) (int, error) {
				if tc.result != nil {
					return 0, tc.result
				}
				return 7, nil
			})
			waiter := startWaiters(t, t.Context(), c, "k", tc.waiterScope, 1, &loads)
			close(release)
			<-leader
			if got := <-waiter; got != tc.want {
				t.Errorf("waiter = %+v, want %+v", got, tc.want)
			}
			if loads.Load() != tc.wantLoads {
				t.Errorf("loads = %d, want %d", loads.Load(), tc.wantLoads)
			}
		})
	}
}

func TestCacheKeysAreIndependent(t *testing.T) {
	c := New[string, int](Config{})
	var loads atomic.Int64
	release := make(chan struct{})
	defer close(release)
	_ = startLoad(t.Context(), c, "a", "", &loads, release, func(context.Context) (int, error) { return 1, nil })
	v, src, err := c.Get(t.Context(), "b", "", func(context.Context) (int, error) { return 2, nil })
	if v != 2 || src != Loaded || err != nil {
		t.Fatalf("Get(b) = %d, %v, %v while a is loading", v, src, err)
	}
}

func TestCacheWaiterContextEnds(t *testing.T) {
	c := New[string, int](Config{TTL: time.Hour})
	var loads atomic.Int64
	release := make(chan struct{})
	leader := startLoad(t.Context(), c, "k", "", &loads, release, func(context.Context) (int, error) { return 7, nil })

	ctx, cancel := context.WithCancel(t.Context())
	waiter := startWaiters(t, ctx, c, "k", "", 1, &loads)
	cancel()
	select {
	case got := <-waiter:
		if !errors.Is(got.err, context.Canceled) {
			t.Errorf("waiter err = %v, want context.Canceled", got.err)
		}
	case <-time.After(hangGuard):
		t.Fatal("a waiter whose context ended kept waiting")
	}
	close(release)
	if got := <-leader; got.v != 7 || got.err != nil {
		t.Errorf("leader = %+v; a waiter leaving must not disturb the load", got)
	}
	if v, src, _ := c.Get(t.Context(), "k", "", func(context.Context) (int, error) { return -1, nil }); v != 7 || src != Kept {
		t.Errorf("after the load: %d from %v, want the kept 7", v, src)
	}
}

// TestCacheLeaderContextEnds checks that when the caller running a load
// leaves, its context error does not reach the other waiters: they load
// again themselves.
func TestCacheLeaderContextEnds(t *testing.T) {
	c := New[string, int](Config{TTL: time.Hour})
	var loads atomic.Int64
	release := make(chan struct{})
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leader := startLoad(leaderCtx, c, "k", "", &loads, release, func(ctx context.Context) (int, error) {
		return 0, ctx.Err()
	})
	waiter := startWaiters(t, t.Context(), c, "k", "", 1, &loads)
	cancelLeader()
	close(release)
	if got := <-leader; !errors.Is(got.err, context.Canceled) {
		t.Errorf("leader err = %v, want context.Canceled", got.err)
	}
	if got := <-waiter; got != (outcome{-1, Loaded, nil}) {
		t.Errorf("waiter = %+v, want its own load's -1", got)
	}
	if loads.Load() != 2 {
		t.Errorf("loads = %d, want 2 (the abandoned one and the retry)", loads.Load())
	}
}

func TestCacheLoadPanics(t *testing.T) {
	c := New[string, int](Config{TTL: time.Hour, ErrorTTL: time.Hour, KeepError: func(error) bool { return true }})
	release := make(chan struct{})
	started := make(chan struct{})
	leaderPanic := make(chan any, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		_, _, _ = c.Get(t.Context(), "k", "", func(context.Context) (int, error) { // panics
			close(started)
			<-release
			panic("load failed")
		})
	}()
	<-started
	var loads atomic.Int64
	waiter := startWaiters(t, t.Context(), c, "k", "", 1, &loads)
	close(release)
	if p := <-leaderPanic; p != "load failed" {
		t.Errorf("leader recovered %v, want the load's panic", p)
	}
	if got := <-waiter; !errors.Is(got.err, errLoadPanicked) {
		t.Errorf("waiter = %+v, want errLoadPanicked", got)
	}
	// Nothing was kept, and the key is free again.
	if v, src, err := c.Get(t.Context(), "k", "", func(context.Context) (int, error) { return 3, nil }); v != 3 || src != Loaded || err != nil {
		t.Errorf("Get after a panic = %d, %v, %v", v, src, err)
	}
}

func TestCacheConcurrentKeysRace(t *testing.T) {
	c := New[int, int](Config{Size: 3, TTL: time.Hour})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			v, _, err := c.Get(t.Context(), i%7, "", func(context.Context) (int, error) { return i % 7, nil })
			if err != nil || v != i%7 {
				t.Errorf("Get(%d) = %d, %v", i%7, v, err)
			}
		})
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) != 0 || c.order.Len() > 3 {
		t.Errorf("%d loads left registered, %d entries kept (bound 3)", len(c.calls), c.order.Len())
	}
}
