package metrics

import (
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/relay"
)

// TestErrorLabelIsTheFirstCode checks that requests_total's error label is
// the first error code of the answer, whatever follows it.
func TestErrorLabelIsTheFirstCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errors []string
		want   string
	}{
		{"none", nil, "none"},
		{"one", []string{relay.CodeTooManyRequests}, relay.CodeTooManyRequests},
		{"two", []string{relay.CodeTooManyRequests, relay.CodeRequestTimeout}, relay.CodeTooManyRequests},
		{"three", []string{relay.CodeUnknown, relay.CodeAuthorization, relay.CodeTooManyObservables}, relay.CodeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.Observe(relay.RequestRecord{Route: "/observe/observables", Status: 200, Duration: time.Millisecond, Errors: tc.errors})
			s := gather(t, m)
			if got, ok := s.value("signals_relay_requests_total", "route", "/observe/observables", "status", "200", "error", tc.want); !ok || got != 1 {
				t.Errorf("requests_total{error=%q} = %v (found %v), want 1", tc.want, got, ok)
			}
			if got := s.sum("signals_relay_requests_total"); got != 1 {
				t.Errorf("requests_total sums to %v, want 1", got)
			}
		})
	}
}
