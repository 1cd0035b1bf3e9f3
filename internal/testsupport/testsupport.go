// Package testsupport holds the helpers the tests of several packages share.
// Only _test.go files import it, so none of it enters a binary.
package testsupport

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// LockedBuffer collects output that one goroutine writes while another
// reads it (a command's output, a log sink).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what has been written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start is the time a Clock shows before it is moved.
var Start = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Clock is a clock the test moves by hand; pass its Now where a package
// takes a func() time.Time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at Start.
func NewClock() *Clock { return &Clock{t: Start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// HangGuard bounds WaitFor: reaching it means a hang, not slowness.
const HangGuard = 20 * time.Second

// WaitFor polls cond until it holds and fails t if it does not within
// HangGuard; what says what is awaited.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(HangGuard); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
