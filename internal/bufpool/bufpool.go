// Package bufpool keeps the byte buffers that upstream answers are read
// into and relay answers are encoded into, for reuse by later requests.
package bufpool

import (
	"bytes"
	"sync"
)

// MaxKept is the largest capacity of a buffer kept for reuse: a buffer that
// grew past it (a large report or observe answer) is left to the garbage
// collector, so that one large answer does not stay in memory.
const MaxKept = 64 << 10

var pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Get returns an empty buffer.
func Get() *bytes.Buffer {
	b := pool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// Put gives b back for reuse. Nothing may use b, or a slice of its bytes,
// afterwards.
func Put(b *bytes.Buffer) {
	if b.Cap() <= MaxKept {
		pool.Put(b)
	}
}
