// Package cache holds Cache, the relay's one way of saving upstream calls:
// it keeps loaded values for a while, bounded in number, and lets
// concurrent callers of one key share one load. Its clock is injected.
package cache
