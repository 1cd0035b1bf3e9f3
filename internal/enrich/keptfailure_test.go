package enrich

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/signals"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// TestRunKeyFailureIsNeverKeptAsMissing checks, with the missing-list cache
// on, that a list-details answer that is a key problem (a used-up quota, or
// a 404 saying the key is no UUID) is not kept as a retired list: once the
// upstream answers again, the next request, of the same key or another,
// asks for the details and gets them.
func TestRunKeyFailureIsNeverKeptAsMissing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		failed func(error) bool
	}{
		{"429", http.StatusTooManyRequests, `{"message":"429: Too Many Requests"}`, rateLimited},
		{"404 invalid token", http.StatusNotFound, `{"message":"Token must be a valid RFC4122 UUID"}`, unauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := observables("203.0.113.66")
			var failing atomic.Bool
			e := newUpstream(t, simulator.Options{}, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if failing.Load() && strings.HasPrefix(r.URL.Path, "/metadata/") {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tc.status)
						_, _ = w.Write([]byte(tc.body))
						return
					}
					next.ServeHTTP(w, r)
				})
			})
			e.configure(Config{ListCacheSize: 100, ListCacheTTL: 6 * time.Hour, ListMissingTTL: time.Hour,
				ReportCacheSize: 100, ReportCacheTTL: time.Hour})
			refs := listsOf(e.lookup.Run(t.Context(), deliberate(simulator.DemoKey, obs)).Observations)
			if len(refs) == 0 {
				t.Fatal("the address is on no list")
			}

			failing.Store(true)
			res := e.lookup.Run(t.Context(), observe(simulator.DemoKey, obs))
			if len(res.Errors) != 1 || !tc.failed(res.Errors[0]) {
				t.Fatalf("while failing: errors %v, want the one key problem", res.Errors)
			}
			failing.Store(false)

			for _, key := range []string{otherKey, simulator.DemoKey} {
				before := e.sim.Requests()
				res := e.lookup.Run(t.Context(), observe(key, obs))
				if len(res.Errors) != 0 || len(res.Observations) != 1 || len(res.Observations[0].Lists) != len(refs) {
					t.Fatalf("key %s… afterwards: errors %v, observations %+v; want all %d lists and no error",
						key[:8], res.Errors, res.Observations, len(refs))
				}
				if key == otherKey && e.sim.Requests() == before {
					t.Errorf("key %s… afterwards: no list-details request, want the failed ones asked again", key[:8])
				}
			}
		})
	}
}

func unauthorized(err error) bool {
	var apiErr *signals.APIError
	return errors.As(err, &apiErr) && apiErr.Unauthorized()
}
