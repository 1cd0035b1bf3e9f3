package bufpool

import (
	"runtime"
	"testing"
)

// TestGet checks that a buffer given back with contents comes back empty,
// and that one grown past MaxKept is not kept. It runs on one P, where a
// buffer put back is the next one got; the race detector drops a quarter
// of what is put back at random, so the first check repeats until the
// buffer did come back (CI runs it under -race).
func TestGet(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	reused := false
	for range 32 {
		small := Get()
		small.WriteString("an earlier answer")
		Put(small)
		b := Get()
		if b.Len() != 0 {
			t.Fatalf("Get returned a buffer holding %q", b.String())
		}
		reused = reused || b == small
		Put(b)
	}
	if !reused {
		t.Fatal("no buffer put back came back: the check above saw only new ones")
	}

	for range 32 {
		large := Get()
		large.Grow(MaxKept + 1)
		Put(large)
		if b := Get(); b == large {
			t.Fatalf("Get returned a buffer of %d bytes, over MaxKept", b.Cap())
		}
	}
}
