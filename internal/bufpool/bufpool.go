// Package bufpool keeps the buffers that upstream answers are read into and
// relay answers encoded into, for reuse.
package bufpool

import (
	"bytes"
	"sync"
)

// MaxKept is the largest capacity kept, so one large answer does not stay.
const MaxKept = 64 << 10

var pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Get returns an empty buffer.
func Get() *bytes.Buffer {
	b := pool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// Put gives b back; nothing may use b or its bytes afterwards.
func Put(b *bytes.Buffer) {
	if b.Cap() <= MaxKept {
		pool.Put(b)
	}
}
