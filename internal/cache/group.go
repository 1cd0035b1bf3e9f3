package cache

import (
	"context"
	"errors"
	"sync"
)

// errLoadPanicked is what callers sharing a load see when the load panicked.
var errLoadPanicked = errors.New("cache: shared load panicked")

// Group coalesces concurrent loads: while a load for a key is running, other
// callers asking for the same key wait for its result instead of starting
// their own. Results are not kept once the load finishes; pair Group with an
// LRU for that. The zero Group is ready to use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done chan struct{}
	val  V
	err  error
	// abandoned is set when the load failed because the context of the
	// caller that ran it ended; the others then try again themselves.
	abandoned bool
	// waiters counts the callers waiting for this load.
	waiters int
}

// Do returns the result of load for key. If a load for key is already
// running, Do waits for it and reports shared; otherwise it runs load with
// ctx itself. A waiter stops waiting when its own ctx ends. If the running
// load fails because the context of the caller that started it ended, a
// waiter whose context is still live starts a new load rather than inherit
// that failure.
func (g *Group[K, V]) Do(ctx context.Context, key K, load func(context.Context) (V, error)) (v V, shared bool, err error) {
	for {
		g.mu.Lock()
		if c, ok := g.calls[key]; ok {
			c.waiters++
			g.mu.Unlock()
			select {
			case <-c.done:
				if c.abandoned && ctx.Err() == nil {
					continue
				}
				return c.val, true, c.err
			case <-ctx.Done():
				var zero V
				return zero, true, ctx.Err()
			}
		}
		c := &call[V]{done: make(chan struct{}), err: errLoadPanicked}
		if g.calls == nil {
			g.calls = make(map[K]*call[V])
		}
		g.calls[key] = c
		g.mu.Unlock()

		g.run(ctx, key, c, load)
		return c.val, false, c.err
	}
}

// Waiting reports how many callers are waiting for the load of key that is
// running now (zero when none is running).
func (g *Group[K, V]) Waiting(key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.waiters
	}
	return 0
}

// run performs c's load and publishes the result, even if load panics.
func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], load func(context.Context) (V, error)) {
	defer func() {
		c.abandoned = c.err != nil && ctx.Err() != nil
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = load(ctx)
}
