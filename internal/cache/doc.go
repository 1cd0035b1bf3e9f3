// Package cache holds Cache, the relay's one way of saving upstream calls:
// it keeps loaded values for a while, bounded in number, and lets concurrent
// callers that need the same key share one load.
//
// It is safe for concurrent use and takes its clock as a parameter, so that
// expiry can be tested without waiting.
package cache
