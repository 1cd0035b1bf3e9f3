// Package simulator is a built-in stand-in for the retired Auth0 Signals
// IP-reputation API (signals.api.auth0.com). It serves the documented paths,
// response shapes, quirks and plain-text error bodies so that the relay can be
// demonstrated, tested and benchmarked without the real service.
//
// A *Simulator is an http.Handler; mount it with httptest.NewServer or any
// http.Server and point the relay's Auth0 Signals base URL at it.
//
// # Endpoints
//
// Only GET is accepted; any other method answers 405.
//
//	GET /v2.0/ip/{ip}                       full IP report {"fullip":{…}}          key required
//	GET /v2.0/ip                            short report of the caller (health)   key required
//	GET /metadata/{badip|baddomain}/lists/{id}  one list object                   no key needed
//	GET /metadata/{badip|baddomain}/lists       object keyed by list id           no key needed
//	anything else                           404 "Resource not found"
//
// Query parameters other than token (for example items, page, timestamp) are
// accepted and ignored.
//
// # Authentication and quota
//
// The API key is read from the X-Auth-Token header or, when the header is
// absent, from the token query parameter. On the endpoints that need a key:
//
//	no key, or a key that is not an RFC 4122 UUID   400 "Token must be a valid RFC4122 UUID"
//	a UUID that is not in Options.Keys              401 "Unauthorized. API Key not found."
//
// The metadata endpoints need no key; they answer whether a key is absent,
// malformed or unknown.
//
// Every request that carries an accepted key, whatever its path or method, is
// charged to that key. Once a key has used Options.Quota requests, each further request
// with it answers 429 "429: Too Many Requests", on every path, for the life of
// the Simulator.
// Requests without an accepted key are never charged and never get a 429.
//
// All error bodies are text/plain; charset=utf-8, as the real service sent
// them. JSON answers are application/json.
//
// # Fixed reports
//
// These addresses have hand-made answers; KnownIPs lists those that answer
// 200. The first five are realistic reports built from the documented and
// observed response shapes; the 192.0.2.x edge cases exercise decoding and
// mapping corner cases.
//
//	IP              answer  fullip.score  what it exercises
//	198.51.100.7    200     0             clean; hostname with MX/NS; repr-string networks; full whois
//	192.0.2.44      200     -1            history only (newest entry is "rem"); no PTR; whois {}
//	198.51.100.23   200     -2            three badip lists incl. private QUARANTINE-IP; history
//	203.0.113.66    200     -3            badip + domain lists in blacklist/_mx/_ns; JSON-array networks
//	2001:db8::5     200     0             IPv6; whois []
//	192.0.2.1       200     2             positive score outside 0…-3 (all sub-scores 0)
//	192.0.2.2       200     -7            negative score outside 0…-3 (sub-scores -1/-1/-1)
//	192.0.2.3       200     -2            badip lists EXAMPLE-EDGE-LIST (sensitivity "3", tags "")
//	                                      and EXAMPLE-RETIRED-LIST, whose metadata answers 404
//	192.0.2.4       200     "-1"          wrong types: score and badip.score are strings,
//	                                      badip.blacklists is "FAIL2BAN-SSH,NIXSPAM-IP",
//	                                      domain.blacklist is "", blacklist_mx and ns are null,
//	                                      baddomain scores are strings
//	192.0.2.5       500     -             text/html error page instead of a report
//	192.0.2.6       404     -             "Resource not found", no report
//	192.0.2.7       200     -3            duplicate list ids: EXAMPLE-DUAL-LIST in badip.blacklists
//	                                      and domain.blacklist (metadata exists for both types),
//	                                      SBLACK-HOSTS-DOMAINS in both blacklist_mx and blacklist_ns
//	192.0.2.8       200     -1            sparse: geo {}, hostname and baddomain null,
//	                                      no history and no whois
//
// The edge-case addresses are also exported as the IP* constants.
//
// # Synthetic reports
//
// Every other valid address (IPv4 or IPv6 without zone) gets a deterministic
// synthetic report derived from the FNV-1a hash of its canonical text form, so
// the same address always yields the same bytes. A synthetic report holds
// only what the relay reads (scores, hostname and lists; no geo, whois or
// history activity) and is internally consistent:
//
//   - badip lists 0–3 distinct ids from the fixture IP lists (FAIL2BAN-SSH,
//     STOPFORUMSPAM-30, NIXSPAM-IP, UCEPROTECT-LEVEL1, QUARANTINE-IP);
//   - three in four IPv4 and two in five IPv6 addresses have a hostname under
//     example.net; only those can carry 0–2 domain lists
//     (SBLACK-HOSTS-DOMAINS, MALWAREDOMAINS-COM, ISC-DOMAINS-HIGH), each
//     placed in blacklist, blacklist_mx or blacklist_ns;
//   - the badip and domain sub-scores are -1 exactly when their part has
//     lists, else 0; the history sub-score is -1 for every address with badip
//     lists and for one in four without; fullip.score is their sum;
//   - every list id used has metadata.
//
// Once the key has been checked, anything in the {ip} segment that is not an
// IPv4 or IPv6 address (IPv6 zones included, an empty segment too) answers
// 400 "Bad IP format:<input>", with the input as sent.
//
// # Start-up cost
//
// The embedded files are parsed on the first request that needs them, not
// when the package is loaded; if they cannot be parsed, such requests answer
// 500 with the reason. Tests that count requests wrap a Simulator in
// internal/simulator/simtest.
package simulator
