package relay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/simulator/simtest"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// TestCancelledRequestsLeakNothing serves the relay over HTTP against an
// upstream that never answers by itself, lets callers give up in the middle
// of their lookups, and checks that every upstream call is abandoned with
// them and that no goroutine outlives the servers.
func TestCancelledRequestsLeakNothing(t *testing.T) {
	leaks := goleak.IgnoreCurrent()

	sim := simtest.New(simulator.Options{Latency: time.Hour}) // answers only when its caller leaves
	upstream := httptest.NewServer(sim)
	upstreamTransport := &http.Transport{}
	h := setup(t, stack{url: upstream.URL, client: &http.Client{Transport: upstreamTransport, Timeout: time.Hour}})
	front := httptest.NewServer(h)
	callerTransport := &http.Transport{}
	caller := &http.Client{Transport: callerTransport}

	const requests, perRequest = 8, 5
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		path string
		err  error
	}
	results := make(chan result, requests+1)
	authz := bearer(t, simulator.DemoKey)
	send := func(path, body string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, front.URL+path, strings.NewReader(body))
		if err != nil {
			results <- result{path, err}
			return
		}
		req.Header.Set("Authorization", authz)
		resp, err := caller.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		results <- result{path, err}
	}
	for i := range requests {
		var pairs []string
		for j := range perRequest {
			pairs = append(pairs, "ip", fmt.Sprintf("198.51.%d.%d", i, j+1))
		}
		path := "/observe/observables"
		if i%2 == 1 {
			path = "/deliberate/observables"
		}
		go send(path, obsJSON(pairs...))
	}
	go send("/health", "")

	want := int64(requests*perRequest + 1)
	testsupport.WaitFor(t, "every lookup to reach the upstream", func() bool { return sim.InFlight() == want })
	cancel()
	for range requests + 1 {
		if r := <-results; !errors.Is(r.err, context.Canceled) {
			t.Errorf("%s: caller got %v, want context.Canceled", r.path, r.err)
		}
	}
	testsupport.WaitFor(t, "the upstream calls to be abandoned", func() bool { return sim.InFlight() == 0 })

	front.Close()
	upstream.Close()
	callerTransport.CloseIdleConnections()
	upstreamTransport.CloseIdleConnections()
	goleak.VerifyNone(t, leaks)
}

// TestConcurrentRequestsLeakNothing runs many requests at once through a
// served relay, half of them with upstream errors, and checks that all of
// them are answered and that nothing is left running afterwards. Under
// -race it also catches an answer buffer given back to the pool before its
// Write, as a data race, which it does not see without the race detector:
// CI runs `go test -race` (.ci/run), keep it so
// (TestWriteJSONHoldsItsBufferUntilWritten catches that mistake without).
func TestConcurrentRequestsLeakNothing(t *testing.T) {
	leaks := goleak.IgnoreCurrent()

	sim := simulator.New(simulator.Options{Latency: time.Millisecond})
	upstream := httptest.NewServer(sim)
	upstreamTransport := &http.Transport{}
	h := setup(t, stack{url: upstream.URL, client: &http.Client{Transport: upstreamTransport, Timeout: 10 * time.Second}})
	front := httptest.NewServer(h)
	callerTransport := &http.Transport{}
	caller := &http.Client{Transport: callerTransport, Timeout: 30 * time.Second}

	bodies := []string{
		obsJSON("ip", "203.0.113.66", "ip", "192.0.2.5", "ip", "192.0.2.6"), // malicious, 500 HTML, 404
		obsJSON("ip", "198.51.100.23", "ip", "192.0.2.3"),
		`[{"type":"ip","value":"1.2.3.4","value":"5.6.7.8"}]`,
		``,
	}
	authz := bearer(t, simulator.DemoKey)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, front.URL+"/observe/observables",
				strings.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Authorization", authz)
			resp, err := caller.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("request %d: status %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()

	front.Close()
	upstream.Close()
	callerTransport.CloseIdleConnections()
	upstreamTransport.CloseIdleConnections()
	goleak.VerifyNone(t, leaks)
}
