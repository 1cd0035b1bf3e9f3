// Package signals is a client for the Auth0 Signals IP-reputation API
// (formerly Apility.io). The public service is retired: the base URL is
// configurable, and tests run against the simulator and recorded fixtures.
//
// It makes three calls: GET /v2.0/ip/{ip} (an address's report),
// GET /metadata/{badip|baddomain}/lists/{id} (a blocklist's details) and
// GET /v2.0/ip (the caller's own report, as a health check). The API key is
// a per-call argument, sent as X-Auth-Token, and no error ever shows it.
//
// Decoding is tolerant: the API sends some fields with unstable types
// (arrays as "" or Python repr strings, numbers as strings), and a wrong
// type in one field never fails a lookup.
package signals
