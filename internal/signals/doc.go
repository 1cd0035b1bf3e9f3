// Package signals is a client for the Auth0 Signals IP-reputation API
// (formerly Apility.io).
//
// The public service has been retired; the client is exercised against the
// simulator in internal/simulator and against recorded fixtures, and its base
// URL is configurable so it can point at any compatible service.
//
// The client makes three calls:
//
//	GET /v2.0/ip/{ip}                          full report of one address
//	GET /metadata/{badip|baddomain}/lists/{id} details of one blocklist
//	GET /v2.0/ip                               report of the caller (health)
//
// Every call carries the caller's API key as X-Auth-Token; the key is a
// per-call argument, never stored on the Client. Failures are typed: *APIError
// for non-2xx answers (classified by Unauthorized, RateLimited and NoData),
// *TLSError for certificate problems and *TransportError for everything that
// prevented an answer. None of their messages contains the API key.
//
// Decoding is tolerant by design: the API returns some fields with unstable
// types (arrays as "" or as Python repr strings, numbers as strings, whois as
// {} or []), and a wrong type in one field never fails a whole lookup.
package signals
