package simtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
)

// TestSetLatency checks that a latency holds requests back from the wrapped
// handler until the caller leaves, and that SetLatency(0) lets them through
// again.
func TestSetLatency(t *testing.T) {
	var reached atomic.Int64
	u := simtest.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := func(ctx context.Context) int {
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/v2.0/ip", nil))
		return rec.Code
	}

	u.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if code := serve(ctx); code != http.StatusServiceUnavailable {
		t.Errorf("held request answered %d, want 503 once its caller left", code)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("held request reached the handler %d times", n)
	}

	u.SetLatency(0)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code := serve(ctx); code != http.StatusNoContent {
		t.Errorf("after SetLatency(0): %d, want the handler's 204", code)
	}
	if n := reached.Load(); n != 1 {
		t.Errorf("after SetLatency(0) the handler ran %d times, want 1", n)
	}
	if got := u.Requests(); got != 2 {
		t.Errorf("Requests = %d, want 2", got)
	}
}
