package cache_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/cache"
)

// clock is a manual clock for expiry tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLRUExpiry(t *testing.T) {
	const ttl = time.Minute
	for _, tc := range []struct {
		name    string
		advance time.Duration
		want    bool
	}{
		{"fresh", 0, true},
		{"just before the TTL", ttl - time.Nanosecond, true},
		{"at the TTL", ttl, false},
		{"long after", 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := cache.NewLRU[string, int](10, ttl, clk.Now)
			c.Add("a", 1)
			clk.Advance(tc.advance)
			v, ok := c.Get("a")
			if ok != tc.want || (ok && v != 1) {
				t.Fatalf("Get after %s = %d, %t; want hit %t", tc.advance, v, ok, tc.want)
			}
			if !ok && c.Len() != 0 {
				t.Errorf("expired entry still held: Len = %d", c.Len())
			}
		})
	}
}

func TestLRUAddRestartsTTL(t *testing.T) {
	clk := newClock()
	c := cache.NewLRU[string, int](10, time.Minute, clk.Now)
	c.Add("a", 1)
	clk.Advance(50 * time.Second)
	c.Add("a", 2)
	clk.Advance(50 * time.Second)
	if v, ok := c.Get("a"); !ok || v != 2 {
		t.Fatalf("Get = %d, %t; want 2, true", v, ok)
	}
	clk.Advance(10 * time.Second)
	if _, ok := c.Get("a"); ok {
		t.Fatal("entry outlived its TTL")
	}
}

func TestLRUGetDoesNotExtendTTL(t *testing.T) {
	clk := newClock()
	c := cache.NewLRU[string, int](10, time.Minute, clk.Now)
	c.Add("a", 1)
	for range 5 {
		clk.Advance(15 * time.Second)
		c.Get("a")
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("reads kept an entry alive past its TTL")
	}
}

func TestLRUSizeBound(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		ops      []string // "+k" adds k, "?k" reads k
		wantKeys []string
		gone     []string
	}{
		{name: "oldest evicted", size: 2, ops: []string{"+a", "+b", "+c"}, wantKeys: []string{"b", "c"}, gone: []string{"a"}},
		{name: "read protects", size: 2, ops: []string{"+a", "+b", "?a", "+c"}, wantKeys: []string{"a", "c"}, gone: []string{"b"}},
		{name: "re-add protects", size: 2, ops: []string{"+a", "+b", "+a", "+c"}, wantKeys: []string{"a", "c"}, gone: []string{"b"}},
		{name: "size one", size: 1, ops: []string{"+a", "+b"}, wantKeys: []string{"b"}, gone: []string{"a"}},
		{name: "under the bound", size: 3, ops: []string{"+a", "+b"}, wantKeys: []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cache.NewLRU[string, string](tc.size, time.Hour, newClock().Now)
			for _, op := range tc.ops {
				switch op[0] {
				case '+':
					c.Add(op[1:], "v"+op[1:])
				case '?':
					c.Get(op[1:])
				}
			}
			if c.Len() != len(tc.wantKeys) {
				t.Errorf("Len = %d, want %d", c.Len(), len(tc.wantKeys))
			}
			for _, k := range tc.wantKeys {
				if v, ok := c.Get(k); !ok || v != "v"+k {
					t.Errorf("Get(%q) = %q, %t; want present", k, v, ok)
				}
			}
			for _, k := range tc.gone {
				if _, ok := c.Get(k); ok {
					t.Errorf("Get(%q) hit; want evicted", k)
				}
			}
		})
	}
}

func TestLRUNeverExceedsSize(t *testing.T) {
	const size = 8
	c := cache.NewLRU[int, int](size, time.Hour, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				c.Add(g*1000+i, i)
				c.Get(g*1000 + i/2)
				if n := c.Len(); n > size {
					t.Errorf("Len = %d, above the bound %d", n, size)
					return
				}
			}
		})
	}
	wg.Wait()
	if c.Len() != size {
		t.Errorf("Len = %d after many adds, want %d", c.Len(), size)
	}
}

func TestLRUPurge(t *testing.T) {
	c := cache.NewLRU[string, int](4, time.Hour, nil)
	c.Add("a", 1)
	c.Add("b", 2)
	c.Purge()
	if c.Len() != 0 {
		t.Fatalf("Len after Purge = %d", c.Len())
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("Get hit after Purge")
	}
	c.Add("c", 3)
	if v, ok := c.Get("c"); !ok || v != 3 {
		t.Fatalf("cache unusable after Purge: %d, %t", v, ok)
	}
}

func TestLRUDisabled(t *testing.T) {
	for _, tc := range []struct {
		size int
		ttl  time.Duration
	}{{0, time.Hour}, {-1, time.Hour}, {10, 0}, {10, -time.Second}} {
		t.Run(fmt.Sprintf("size=%d,ttl=%s", tc.size, tc.ttl), func(t *testing.T) {
			c := cache.NewLRU[string, int](tc.size, tc.ttl, nil)
			if c != nil {
				t.Fatal("NewLRU returned a cache for a zero bound")
			}
			c.Add("a", 1) // a nil cache holds nothing and never panics
			if _, ok := c.Get("a"); ok || c.Len() != 0 {
				t.Fatal("nil cache returned a value")
			}
			c.Purge()
		})
	}
}
