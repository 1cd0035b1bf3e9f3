package relay

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/bufpool"
	"github.com/signals-relay/signals-relay/internal/enrich"
)

// takingWriter is a ResponseWriter that, inside Write and before it reads
// the bytes given, takes a buffer from the pool and fills it, as another
// request's answer would. If the buffer being written had already gone
// back to the pool, that is the one it takes, and the bytes change.
type takingWriter struct {
	*httptest.ResponseRecorder
}

func (w takingWriter) Write(p []byte) (int, error) {
	other := bufpool.Get()
	other.Write(bytes.Repeat([]byte{'X'}, len(p))) // within the capacity p may share
	bufpool.Put(other)
	return w.ResponseRecorder.Write(p)
}

// TestWriteJSONHoldsItsBufferUntilWritten checks that writeJSON gives its
// pooled buffer back only after the answer is written: a buffer put back
// before the Write is the next one another answer gets.
//
// It runs on one P (not in parallel: GOMAXPROCS is the process's), where
// a buffer put back is the next one got, so it catches the early return
// without the race detector. Under -race, sync.Pool drops a quarter of
// what is put back at random, hence the repeats. The concurrent tests
// (TestConcurrentRequestsLeakNothing, TestCancelledRequestsLeakNothing)
// catch the same mistake only as a data race: CI runs `go test -race`
// (.ci/run) and must keep doing so.
func TestWriteJSONHoldsItsBufferUntilWritten(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	logger := slog.New(slog.DiscardHandler)
	want := `{"data":{"status":"ok"}}` + "\n"
	for i := range 32 {
		w := takingWriter{httptest.NewRecorder()}
		writeJSON(w, logger, http.StatusOK, envelope{Data: map[string]string{"status": "ok"}})
		if got := w.Body.String(); got != want {
			t.Fatalf("answer %d = %q, want %q: its buffer was reused before the write", i, got, want)
		}
	}
}

// TestPartialAnswerWording: the caller's sentences for a deadline and the
// lookup cap are written here, from the errors' numbers, not their log text.
func TestPartialAnswerWording(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want wireError
	}{
		{&enrich.DeadlineError{Timeout: 15 * time.Second, Observables: 3, Total: 50, Lists: 2},
			warning(CodeRequestTimeout, "Auth0 Signals lookups did not finish within 15s; the answer is partial: "+
				"3 of 50 observables and 2 blocklists were not looked up.")},
		{&enrich.DeadlineError{Observables: 0, Total: 1, Lists: 4},
			warning(CodeRequestTimeout, "Auth0 Signals lookups did not finish; the answer is partial: "+
				"0 of 1 observables and 4 blocklists were not looked up.")},
		{&enrich.LimitError{Max: 1000, Observables: 5, Total: 1005},
			warning(CodeTooManyObservables, "Only the first 1000 addresses of a request are looked up in Auth0 Signals; "+
				"the answer is partial: 5 of 1005 observables were not looked up.")},
	} {
		got, c := toWire(tc.err)
		if got != tc.want || c != (cause{}) {
			t.Errorf("toWire(%v) = %+v, %+v; want %+v and no cause", tc.err, got, c, tc.want)
		}
	}
}
