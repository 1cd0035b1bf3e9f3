package enrich

import (
	"crypto/sha256"
	"net/netip"
	"time"

	"github.com/signals-relay/signals-relay/internal/cache"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// Defaults of the caches, as the relay's configuration applies them.
const (
	// DefaultListCacheTTL is how long blocklist details are reused. Lists
	// change their name, source, sensitivity or tags rarely, so hours are
	// safe.
	DefaultListCacheTTL = 6 * time.Hour
	// DefaultListCacheSize bounds the blocklists held. Auth0 Signals had
	// about a hundred IP lists and a few dozen domain lists.
	DefaultListCacheSize = 1024
	// DefaultListMissingTTL is how long a list whose details answered 404
	// (a retired list that reports still name) is remembered as missing, so
	// that requests do not spend a call on it each time. It is short: a list
	// may come back.
	DefaultListMissingTTL = time.Hour
	// DefaultReportCacheTTL is how long a report is reused for the same key
	// and address: long enough for one investigation (Threat Response asks
	// for verdicts and for sightings of the same observables), short enough
	// that a newly listed address shows up within minutes.
	DefaultReportCacheTTL = 5 * time.Minute
	// DefaultReportCacheSize bounds the reports held (a decoded report is
	// well under 1 KiB).
	DefaultReportCacheSize = 10000
)

// ListCache holds blocklist details across requests. It is shared by every
// API key: the details endpoint (GET /metadata/{type}/lists/{id}) is
// documented as not needing an API key, so its answer cannot depend on the
// key that asked, and a list's name, source and description are the same
// for everyone. Successful answers are kept, and for a shorter time the
// lists whose details answered 404; other failures are not.
//
// A nil *ListCache holds nothing.
type ListCache struct {
	lru     *cache.LRU[signals.ListRef, *signals.ListDetails]
	missing *cache.LRU[signals.ListRef, struct{}] // nil: 404s are not kept
	size    int
	now     func() time.Time
}

// NewListCache returns a cache of at most size lists, each kept for ttl, and
// of at most size missing lists, each kept for DefaultListMissingTTL; now is
// its clock (nil means time.Now). It returns nil, no cache, when size or ttl
// is zero or less.
func NewListCache(size int, ttl time.Duration, now func() time.Time) *ListCache {
	lru := cache.NewLRU[signals.ListRef, *signals.ListDetails](size, ttl, now)
	if lru == nil {
		return nil
	}
	c := &ListCache{lru: lru, size: size, now: now}
	return c.WithMissingTTL(DefaultListMissingTTL)
}

// WithMissingTTL sets how long a list whose details answered 404 is
// remembered as missing; zero or less keeps no such list. It returns c.
func (c *ListCache) WithMissingTTL(ttl time.Duration) *ListCache {
	if c != nil {
		c.missing = cache.NewLRU[signals.ListRef, struct{}](c.size, ttl, c.now)
	}
	return c
}

// Len reports the number of lists held.
func (c *ListCache) Len() int {
	if c == nil {
		return 0
	}
	return c.lru.Len()
}

// Purge drops every list, found or missing.
func (c *ListCache) Purge() {
	if c != nil {
		c.lru.Purge()
		c.missing.Purge()
	}
}

func (c *ListCache) get(ref signals.ListRef) (*signals.ListDetails, bool) {
	if c == nil {
		return nil, false
	}
	return c.lru.Get(ref)
}

func (c *ListCache) add(ref signals.ListRef, d *signals.ListDetails) {
	if c != nil {
		c.lru.Add(ref, d)
	}
}

// isMissing reports whether ref answered 404 within the missing TTL.
func (c *ListCache) isMissing(ref signals.ListRef) bool {
	if c == nil {
		return false
	}
	_, ok := c.missing.Get(ref)
	return ok
}

func (c *ListCache) addMissing(ref signals.ListRef) {
	if c != nil {
		c.missing.Add(ref, struct{}{})
	}
}

// ReportCache holds IP reports across requests, per API key and address, so
// that the same investigation repeated within minutes costs no quota. Its
// key is the SHA-256 of the API key with the address: the key itself is
// never stored. Answers that say the API knows nothing about the address are
// kept too; failures are not.
//
// A nil *ReportCache holds nothing.
type ReportCache struct {
	lru *cache.LRU[reportKey, fetchedReport]
}

// reportKey identifies one address's report for one API key.
type reportKey struct {
	key [sha256.Size]byte // SHA-256 of the API key
	ip  string            // canonical text form of the address
}

// fetchedReport is a report and when it was fetched. A nil report means the
// API knows nothing about the address.
type fetchedReport struct {
	report *signals.Report
	at     time.Time
}

// NewReportCache returns a cache of at most size reports, each kept for ttl;
// now is its clock (nil means time.Now). It returns nil, no cache, when size
// or ttl is zero or less.
func NewReportCache(size int, ttl time.Duration, now func() time.Time) *ReportCache {
	lru := cache.NewLRU[reportKey, fetchedReport](size, ttl, now)
	if lru == nil {
		return nil
	}
	return &ReportCache{lru: lru}
}

// Len reports the number of reports held.
func (c *ReportCache) Len() int {
	if c == nil {
		return 0
	}
	return c.lru.Len()
}

// Purge drops every report.
func (c *ReportCache) Purge() {
	if c != nil {
		c.lru.Purge()
	}
}

func (c *ReportCache) get(k reportKey) (fetchedReport, bool) {
	if c == nil {
		return fetchedReport{}, false
	}
	return c.lru.Get(k)
}

func (c *ReportCache) add(k reportKey, f fetchedReport) {
	if c != nil {
		c.lru.Add(k, f)
	}
}

// keyHash is what the caches and shared calls know of an API key.
func keyHash(apiKey string) [sha256.Size]byte { return sha256.Sum256([]byte(apiKey)) }

// canonicalIP returns the canonical text of an address, so that two
// spellings of one IPv6 address share a report; anything else is returned
// as it is.
func canonicalIP(value string) string {
	if a, err := netip.ParseAddr(value); err == nil {
		return a.String()
	}
	return value
}
