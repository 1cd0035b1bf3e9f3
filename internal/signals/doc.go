// Package signals is a client for the retired Auth0 Signals IP-reputation
// API: an address's report, a blocklist's details and the caller's own
// report (the health check). The API key, a per-call argument sent as
// X-Auth-Token, never shows in an error. Decoding is tolerant: the API sends
// some fields with unstable types, and one wrong type never fails a lookup.
package signals
