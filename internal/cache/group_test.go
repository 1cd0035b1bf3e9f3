package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hangGuard bounds every wait of these tests; reaching it means a hang, not
// slowness.
const hangGuard = 10 * time.Second

// waitForWaiters blocks until n callers wait on key's running load.
func waitForWaiters[K comparable, V any](t *testing.T, g *Group[K, V], key K, n int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for g.Waiting(key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d callers are waiting", g.Waiting(key), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type outcome struct {
	v      int
	shared bool
	err    error
}

// startLeader runs Do for key in the background with a load that blocks
// until release is closed, and returns the leader's outcome channel once the
// load has started.
func startLeader(ctx context.Context, g *Group[string, int], key string, loads *atomic.Int64, release <-chan struct{},
	result func(context.Context) (int, error)) <-chan outcome {
	started := make(chan struct{})
	out := make(chan outcome, 1)
	go func() {
		v, shared, err := g.Do(ctx, key, func(ctx context.Context) (int, error) {
			loads.Add(1)
			close(started)
			<-release
			return result(ctx)
		})
		out <- outcome{v, shared, err}
	}()
	<-started
	return out
}

func TestGroupCoalesces(t *testing.T) {
	for _, n := range []int{2, 10, 100} {
		t.Run(fmt.Sprintf("callers=%d", n), func(t *testing.T) {
			var g Group[string, int]
			var loads atomic.Int64
			release := make(chan struct{})
			leader := startLeader(t.Context(), &g, "k", &loads, release, func(context.Context) (int, error) { return 42, nil })

			results := make(chan outcome, n-1)
			for range n - 1 {
				go func() {
					v, shared, err := g.Do(t.Context(), "k", func(context.Context) (int, error) {
						loads.Add(1)
						return -1, nil
					})
					results <- outcome{v, shared, err}
				}()
			}
			waitForWaiters(t, &g, "k", n-1)
			close(release)

			if got := <-leader; got.v != 42 || got.shared || got.err != nil {
				t.Errorf("leader = %+v, want 42 not shared", got)
			}
			for range n - 1 {
				if got := <-results; got.v != 42 || !got.shared || got.err != nil {
					t.Errorf("waiter = %+v, want 42 shared", got)
				}
			}
			if loads.Load() != 1 {
				t.Errorf("%d concurrent callers made %d loads, want 1", n, loads.Load())
			}
		})
	}
}

func TestGroupSharesErrors(t *testing.T) {
	var g Group[string, int]
	var loads atomic.Int64
	release := make(chan struct{})
	boom := errors.New("boom")
	leader := startLeader(t.Context(), &g, "k", &loads, release, func(context.Context) (int, error) { return 0, boom })
	waiter := make(chan outcome, 1)
	go func() {
		v, shared, err := g.Do(t.Context(), "k", func(context.Context) (int, error) { loads.Add(1); return 1, nil })
		waiter <- outcome{v, shared, err}
	}()
	waitForWaiters(t, &g, "k", 1)
	close(release)
	if got := <-leader; !errors.Is(got.err, boom) {
		t.Errorf("leader err = %v", got.err)
	}
	if got := <-waiter; !errors.Is(got.err, boom) || !got.shared {
		t.Errorf("waiter = %+v, want the shared error", got)
	}
	if loads.Load() != 1 {
		t.Errorf("loads = %d, want 1", loads.Load())
	}
}

func TestGroupDoesNotKeepResults(t *testing.T) {
	var g Group[string, int]
	loads := 0
	for range 3 {
		v, shared, err := g.Do(t.Context(), "k", func(context.Context) (int, error) { loads++; return loads, nil })
		if err != nil || shared || v != loads {
			t.Fatalf("Do = %d, %t, %v", v, shared, err)
		}
	}
	if loads != 3 {
		t.Errorf("sequential calls made %d loads, want 3", loads)
	}
}

func TestGroupKeysAreIndependent(t *testing.T) {
	var g Group[string, int]
	var loads atomic.Int64
	release := make(chan struct{})
	defer close(release)
	_ = startLeader(t.Context(), &g, "a", &loads, release, func(context.Context) (int, error) { return 1, nil })
	v, shared, err := g.Do(t.Context(), "b", func(context.Context) (int, error) { loads.Add(1); return 2, nil })
	if v != 2 || shared || err != nil {
		t.Fatalf("Do(b) = %d, %t, %v while a is loading", v, shared, err)
	}
}

func TestGroupWaiterContextEnds(t *testing.T) {
	var g Group[string, int]
	var loads atomic.Int64
	release := make(chan struct{})
	leader := startLeader(t.Context(), &g, "k", &loads, release, func(context.Context) (int, error) { return 7, nil })

	ctx, cancel := context.WithCancel(t.Context())
	waiter := make(chan outcome, 1)
	go func() {
		v, shared, err := g.Do(ctx, "k", func(context.Context) (int, error) { loads.Add(1); return -1, nil })
		waiter <- outcome{v, shared, err}
	}()
	waitForWaiters(t, &g, "k", 1)
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
}

func TestGroupRetriesAbandonedLoad(t *testing.T) {
	var g Group[string, int]
	var loads atomic.Int64
	release := make(chan struct{})
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leader := startLeader(leaderCtx, &g, "k", &loads, release, func(ctx context.Context) (int, error) {
		return 0, ctx.Err()
	})
	waiter := make(chan outcome, 1)
	go func() {
		v, shared, err := g.Do(t.Context(), "k", func(context.Context) (int, error) { loads.Add(1); return 9, nil })
		waiter <- outcome{v, shared, err}
	}()
	waitForWaiters(t, &g, "k", 1)
	cancelLeader()
	close(release)
	if got := <-leader; !errors.Is(got.err, context.Canceled) {
		t.Errorf("leader err = %v, want context.Canceled", got.err)
	}
	if got := <-waiter; got.v != 9 || got.shared || got.err != nil {
		t.Errorf("waiter = %+v, want its own load's 9", got)
	}
	if loads.Load() != 2 {
		t.Errorf("loads = %d, want 2 (the abandoned one and the retry)", loads.Load())
	}
}

func TestGroupLoadPanics(t *testing.T) {
	var g Group[string, int]
	release := make(chan struct{})
	started := make(chan struct{})
	leaderPanic := make(chan any, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		_, _, _ = g.Do(t.Context(), "k", func(context.Context) (int, error) { // panics
			close(started)
			<-release
			panic("load failed")
		})
	}()
	<-started
	waiter := make(chan outcome, 1)
	go func() {
		v, shared, err := g.Do(t.Context(), "k", func(context.Context) (int, error) { return 1, nil })
		waiter <- outcome{v, shared, err}
	}()
	waitForWaiters(t, &g, "k", 1)
	close(release)
	if p := <-leaderPanic; p != "load failed" {
		t.Errorf("leader recovered %v, want the load's panic", p)
	}
	if got := <-waiter; !errors.Is(got.err, errLoadPanicked) {
		t.Errorf("waiter = %+v, want errLoadPanicked", got)
	}
	// The key is free again.
	if v, _, err := g.Do(t.Context(), "k", func(context.Context) (int, error) { return 3, nil }); v != 3 || err != nil {
		t.Errorf("Do after a panic = %d, %v", v, err)
	}
}

func TestGroupConcurrentKeysRace(t *testing.T) {
	var g Group[int, int]
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			v, _, err := g.Do(t.Context(), i%7, func(context.Context) (int, error) { return i % 7, nil })
			if err != nil || v != i%7 {
				t.Errorf("Do(%d) = %d, %v", i%7, v, err)
			}
		})
	}
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.calls) != 0 {
		t.Errorf("%d loads left registered", len(g.calls))
	}
}
