// Package cache holds Cache, which saves the relay's calls to Auth0 Signals
// and the signals client's redaction patterns (auth keeps its own key sets
// and verified tokens): it keeps loads for a while, and concurrent callers
// of a key share one.
package cache

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// errLoadPanicked is what callers sharing a load see when the load panicked.
var errLoadPanicked = errors.New("cache: shared load panicked")

// Config says what a Cache keeps and for how long.
type Config struct {
	Size int           // entries kept, least recently used dropped first; <= 0: no bound
	TTL  time.Duration // <= 0: none is kept, loads in flight are still shared
	// A failed load is kept for ErrorTTL when KeepError says so (a negative
	// answer, such as a 404); other failures are not kept.
	ErrorTTL  time.Duration
	KeepError func(error) bool
	Now       func() time.Time // nil: time.Now
}

// Source says where the answer of Get came from.
type Source int

const (
	Loaded Source = iota // the caller's own load
	Kept                 // an entry kept from an earlier load
	Shared               // a load another caller had in flight
)

// Cache keeps the results of loads by key; create it with New.
type Cache[K comparable, V any] struct {
	cfg   Config
	mu    sync.Mutex
	order *list.List // of *entry[K, V]; front is the most recently used
	items map[K]*list.Element
	calls map[K]*call[V]
}

type entry[K comparable, V any] struct {
	key     K
	val     V
	err     error
	expires time.Time
}

// call is a load in flight.
type call[V any] struct {
	done  chan struct{}
	scope string
	val   V
	err   error
	// abandoned: the load failed as its caller's context ended, so the
	// others try again themselves.
	abandoned bool
}

// New returns an empty Cache.
func New[K comparable, V any](cfg Config) *Cache[K, V] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Cache[K, V]{cfg: cfg, order: list.New(), items: make(map[K]*list.Element), calls: make(map[K]*call[V])}
}

// Get returns key's result: kept, of another caller's load in flight, or of
// load. A caller loads itself rather than take the failure of an abandoned
// load or of one in another scope (API key); successes serve every scope.
func (c *Cache[K, V]) Get(ctx context.Context, key K, scope string, load func(context.Context) (V, error)) (V, Source, error) {
	var zero V
	for {
		c.mu.Lock()
		if e, ok := c.kept(key); ok {
			c.mu.Unlock()
			return e.val, Kept, e.err
		}
		if cl, ok := c.calls[key]; ok {
			c.mu.Unlock()
			select {
			case <-cl.done:
			case <-ctx.Done():
				return zero, Shared, ctx.Err()
			}
			if cl.err == nil || cl.scope == scope && !cl.abandoned {
				return cl.val, Shared, cl.err
			}
			if err := ctx.Err(); err != nil {
				return zero, Shared, err
			}
			continue
		}
		cl := &call[V]{done: make(chan struct{}), scope: scope, err: errLoadPanicked}
		c.calls[key] = cl
		c.mu.Unlock()
		c.run(ctx, key, cl, load)
		return cl.val, Loaded, cl.err
	}
}

// Peek returns the value kept for key, if any, without loading.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.kept(key); ok && e.err == nil {
		return e.val, true
	}
	var zero V
	return zero, false
}

// run performs cl's load, keeps and publishes its result, even on a panic.
func (c *Cache[K, V]) run(ctx context.Context, key K, cl *call[V], load func(context.Context) (V, error)) {
	finished := false
	defer func() {
		cl.abandoned = cl.err != nil && ctx.Err() != nil
		c.mu.Lock()
		delete(c.calls, key)
		if finished {
			c.keep(key, cl.val, cl.err)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	cl.val, cl.err = load(ctx)
	finished = true
}

// kept returns key's entry if it has not expired. c.mu is held.
func (c *Cache[K, V]) kept(key K) (*entry[K, V], bool) {
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry[K, V])
	if !c.cfg.Now().Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e, true
}

// keep stores a load's result as the configuration says. c.mu is held.
func (c *Cache[K, V]) keep(key K, val V, err error) {
	ttl := c.cfg.TTL
	if err != nil {
		if c.cfg.KeepError == nil || !c.cfg.KeepError(err) {
			return
		}
		ttl = c.cfg.ErrorTTL
	}
	if ttl <= 0 {
		return
	}
	e := &entry[K, V]{key: key, val: val, err: err, expires: c.cfg.Now().Add(ttl)}
	if el, ok := c.items[key]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(e)
	for c.cfg.Size > 0 && c.order.Len() > c.cfg.Size {
		c.remove(c.order.Back())
	}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*entry[K, V]).key)
}
