// Package simulator is a built-in stand-in for the retired Auth0 Signals
// IP-reputation API (signals.api.auth0.com): an http.Handler serving the
// documented paths, response shapes, quirks and plain-text error bodies, so
// the relay can be demonstrated, tested and benchmarked without the service.
//
//	GET /v2.0/ip/{ip}                            full report {"fullip":{…}}   key required
//	GET /v2.0/ip                                 short report of the caller   key required
//	GET /metadata/{badip|baddomain}/lists/{id}   one list object              no key
//	GET /metadata/{badip|baddomain}/lists        object keyed by list id      no key
//	anything else                                404 "Resource not found"; other methods 405
//
// The API key comes from the X-Auth-Token header, else the token query
// parameter. Where a key is required, one that is not an RFC 4122 UUID
// answers 400 and an unknown UUID 401. Every request with an accepted key,
// on any path, is charged to it; past Options.Quota it answers 429 for the
// life of the Simulator. Error bodies are text/plain, as the real service
// sent them.
//
// The addresses in the package's fixtures (the five realistic reports and
// the 192.0.2.x edge cases named by the IP* constants) have hand-made
// answers. Every other valid address gets a deterministic synthetic report
// seeded by the FNV-1a hash of its canonical form, holding only what the
// relay reads (scores, hostname, lists): 0–3 badip lists; a hostname under
// example.net for three in four IPv4 and two in five IPv6 addresses, and
// only then 0–2 domain lists; sub-scores -1 exactly when their part has
// lists (history also for one in four addresses without), fullip.score
// their sum; every list id has metadata. An {ip} that is no IPv4 or IPv6
// address (zones included) answers 400 "Bad IP format:<input>".
//
// The embedded files are parsed on the first request that needs them, not
// at start-up; if they cannot be, such requests answer 500.
package simulator
