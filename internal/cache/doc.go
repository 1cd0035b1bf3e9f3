// Package cache holds the relay's in-memory building blocks for saving
// upstream calls: LRU, a map bounded in size and in entry age, and Group,
// which lets concurrent callers that need the same value share one load.
//
// Both are safe for concurrent use. LRU takes its clock as a parameter so
// that expiry can be tested without waiting.
package cache
