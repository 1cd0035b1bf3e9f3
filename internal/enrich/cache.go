package enrich

import (
	"crypto/sha256"
	"errors"
	"net/http"
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

// reportCache holds reports per API key and address, so that the same
// investigation repeated within minutes costs no quota. Its key holds the
// SHA-256 of the API key, never the key itself. Answers that say the API
// knows nothing about the address are kept too; failures are not.
func reportCache(size int, ttl time.Duration, now func() time.Time) *cache.Cache[reportKey, fetchedReport] {
	return cache.New[reportKey, fetchedReport](cache.Config{Size: orDefault(size, DefaultReportCacheSize), TTL: ttl, Now: now})
}

// listCache holds blocklist details for every API key: the details endpoint
// (GET /metadata/{type}/lists/{id}) is documented as not needing an API key,
// so its answer cannot depend on the key that asked, and a list's name,
// source and description are the same for everyone. A load in flight
// serves every API key when it succeeds, but its failure (a rejected key, a
// used-up quota) reaches only requests made with the same key. A list whose
// details answered 404 is kept as missing for missingTTL; other failures are
// not kept.
func listCache(size int, ttl, missingTTL time.Duration, now func() time.Time) *cache.Cache[signals.ListRef, *signals.ListDetails] {
	return cache.New[signals.ListRef, *signals.ListDetails](cache.Config{
		Size: orDefault(size, DefaultListCacheSize), TTL: ttl, ErrorTTL: missingTTL, KeepError: notFound, Now: now,
	})
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
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

// notFound reports whether err is a 404 that is not a key problem.
func notFound(err error) bool {
	var apiErr *signals.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && !apiErr.Unauthorized()
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
