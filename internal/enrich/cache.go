package enrich

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/signals-relay/signals-relay/internal/signals"
)

// Defaults of the caches.
const (
	// DefaultListCacheTTL: lists rarely change their details, so hours are safe.
	DefaultListCacheTTL = 6 * time.Hour
	// DefaultListCacheSize: Auth0 Signals had about a hundred IP lists and a
	// few dozen domain lists.
	DefaultListCacheSize = 1024
	// DefaultListMissingTTL is how long a list whose details answered 404
	// (retired, yet still named by reports) is remembered as missing;
	// briefly, as a list may come back.
	DefaultListMissingTTL = time.Hour
	// DefaultReportCacheTTL spans one investigation (Threat Response asks
	// for verdicts, then sightings, of the same observables), yet a newly
	// listed address shows up within minutes.
	DefaultReportCacheTTL  = 5 * time.Minute
	DefaultReportCacheSize = 10000 // a decoded report is well under 1 KiB
)

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// reportKey identifies an address's report for one API key.
type reportKey struct {
	key [sha256.Size]byte // SHA-256 of the API key, never the key
	ip  string            // canonical text form of the address
}

// fetchedReport is a report (nil: nothing known) and when it was fetched.
type fetchedReport struct {
	report *signals.Report
	at     time.Time
}

// notFound reports whether err is a 404 that is not a key problem.
func notFound(err error) bool {
	var apiErr *signals.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && !apiErr.Unauthorized()
}

// canonicalIP is an address's canonical text, so that two spellings of one
// IPv6 address share a report; anything else is returned as it is.
func canonicalIP(value string) string {
	if a, err := netip.ParseAddr(value); err == nil {
		return a.String()
	}
	return value
}
