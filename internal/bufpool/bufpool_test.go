package bufpool

import (
	"runtime"
	"testing"
)

// TestGet checks that a buffer given back with contents comes back empty,
// and that one grown past MaxKept is not kept. It runs on one P, where a
// buffer put back is the next one got (outside the race detector, which
// drops pooled items at random).
func TestGet(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	small := Get()
	small.WriteString("an earlier answer")
	Put(small)
	if b := Get(); b.Len() != 0 {
		t.Fatalf("Get returned a buffer holding %q", b.String())
	}

	large := Get()
	large.Grow(MaxKept + 1)
	Put(large)
	for range 10 {
		if b := Get(); b == large {
			t.Fatalf("Get returned a buffer of %d bytes, over MaxKept", b.Cap())
		}
	}
}
