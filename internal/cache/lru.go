package cache

import (
	"container/list"
	"sync"
	"time"
)

// LRU is a map bounded in size and in entry age. When it is full, adding a
// new key evicts the least recently used entry; an entry older than the TTL
// is never returned and is dropped when it is next looked up or evicted.
//
// A nil *LRU is a valid cache that holds nothing: Get always misses and Add
// does nothing. That lets callers switch caching off by leaving it nil.
type LRU[K comparable, V any] struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	now   func() time.Time
	order *list.List // of *entry[K, V]; front is the most recently used
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key     K
	value   V
	expires time.Time
}

// NewLRU returns a cache of at most size entries, each kept for at most ttl
// after it was added. now is the clock; nil means time.Now. It returns nil
// (a cache that holds nothing) when size or ttl is zero or less.
func NewLRU[K comparable, V any](size int, ttl time.Duration, now func() time.Time) *LRU[K, V] {
	if size <= 0 || ttl <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &LRU[K, V]{size: size, ttl: ttl, now: now, order: list.New(), items: make(map[K]*list.Element)}
}

// Get returns the value of key if it is present and younger than the TTL,
// and marks it as recently used.
func (c *LRU[K, V]) Get(key K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[K, V])
	if !c.now().Before(e.expires) {
		c.remove(el)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// Add stores value under key for the TTL, replacing any previous value, and
// evicts the least recently used entries beyond the size bound.
func (c *LRU[K, V]) Add(key K, value V) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry[K, V])
		e.value, e.expires = value, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&entry[K, V]{key: key, value: value, expires: expires})
	for c.order.Len() > c.size {
		c.remove(c.order.Back())
	}
}

// Len reports the number of entries held, expired ones that have not been
// dropped yet included.
func (c *LRU[K, V]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Purge drops every entry.
func (c *LRU[K, V]) Purge() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	clear(c.items)
}

func (c *LRU[K, V]) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*entry[K, V]).key)
}
