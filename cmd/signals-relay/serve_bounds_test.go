package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// connCounter is an Auth0 Signals stand-in that counts the connections the
// relay holds open to it: every report takes hold before it is answered,
// so concurrent lookups need concurrent connections.
type connCounter struct {
	srv       *httptest.Server
	open, max atomic.Int64
	requests  atomic.Int64
}

func newConnCounter(t *testing.T, hold time.Duration) *connCounter {
	t.Helper()
	c := &connCounter{}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"fullip":{"score":0}}`)
	}))
	c.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			n := c.open.Add(1)
			for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			c.open.Add(-1)
		}
	}
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c
}

// addresses returns n distinct documentation-range addresses as an observe
// body; first offsets them so that concurrent requests do not share lookups.
func addresses(first, n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		k := first + i
		fmt.Fprintf(&b, `{"type":"ip","value":"10.%d.%d.%d"}`, k>>16&255, k>>8&255, k&255)
	}
	b.WriteString("]")
	return b.String()
}

// postJSON posts body with a bearer token and decodes the answer.
func postJSON(t *testing.T, client *http.Client, url, jwt, body string) (int, http.Header, map[string]any, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	err = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, resp.Header, v, err
}

const boundsSecret = "bounds-test-secret-0123456789abcdef"

func boundsJWT(t *testing.T) string {
	t.Helper()
	jwt, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(boundsSecret))
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

// TestUpstreamConnectionCap sends eight observe calls of 200 addresses at
// once through serve. Each call alone may run 64 lookups in parallel, but
// every call shares one process-wide cap on connections to Auth0 Signals:
// the upstream never sees more open connections than the cap.
func TestUpstreamConnectionCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int64
	}{
		{name: "default", want: 128},
		{name: "UPSTREAM_MAX_CONNS=8", env: map[string]string{"UPSTREAM_MAX_CONNS": "8"}, want: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upstream := newConnCounter(t, 10*time.Millisecond)
			env := map[string]string{
				"SECRET_KEY": boundsSecret, "SIGNALS_API_URL": upstream.srv.URL,
				"REPORT_CACHE_TTL": "0", "REQUEST_TIMEOUT": "50s", "SIGNALS_TIMEOUT": "50s",
			}
			for k, v := range tc.env {
				env[k] = v
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			addr, stderr, _ := startServe(t, ctx, mapEnv(env))
			jwt := boundsJWT(t)

			const calls, each = 8, 100
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			var wg sync.WaitGroup
			errs := make(chan error, calls)
			for i := range calls {
				wg.Go(func() {
					status, _, v, err := postJSON(t, client, "http://"+addr+"/deliberate/observables", jwt, addresses(i*each, each))
					switch {
					case err != nil:
						errs <- err
					case status != http.StatusOK || v["errors"] != nil:
						errs <- fmt.Errorf("status %d, errors %v", status, v["errors"])
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("observe: %v", err)
			}
			if n := upstream.requests.Load(); n != calls*each {
				t.Errorf("upstream requests = %d, want %d\n%s", n, calls*each, stderr)
			}
			if got := upstream.max.Load(); got > tc.want {
				t.Errorf("upstream saw %d connections open at once, want at most %d", got, tc.want)
			}
			t.Logf("at most %d upstream connections for %d concurrent calls of %d addresses", upstream.max.Load(), calls, each)
		})
	}
}

// TestQueuedUpstreamCallKeepsTheDeadline lets one upstream connection be
// held by a lookup the upstream never answers, so the request's other
// lookup queues for a connection. The request still answers at its
// REQUEST_TIMEOUT with the timeout warning, long before SIGNALS_TIMEOUT.
func TestQueuedUpstreamCallKeepsTheDeadline(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-release // ignores the relay giving up: the connection stays busy
	}))
	defer upstream.Close()
	defer close(release)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, _, _ := startServe(t, ctx, mapEnv(map[string]string{
		"SECRET_KEY": boundsSecret, "SIGNALS_API_URL": upstream.URL, "UPSTREAM_MAX_CONNS": "1",
		"REQUEST_TIMEOUT": "1s", "SIGNALS_TIMEOUT": "5m",
	}))
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	// Until the request's deadline the second lookup must wait for the
	// one connection. (After it, both lookups are cancelled, and the
	// transport may hand the freed slot to the cancelled waiter's dial, so
	// the count is sampled before the deadline.)
	beforeDeadline := make(chan int64, 1)
	time.AfterFunc(900*time.Millisecond, func() { beforeDeadline <- requests.Load() })
	start := time.Now()
	status, _, v, err := postJSON(t, client, "http://"+addr+"/deliberate/observables", boundsJWT(t), addresses(0, 2))
	if err != nil || status != http.StatusOK {
		t.Fatalf("deliberate: status %d, %v", status, err)
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the answer took %s; the request timeout is 1s", took)
	}
	errs, _ := v["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["code"] != "request timeout" {
		t.Errorf("errors = %v, want one request timeout warning", v["errors"])
	}
	if n := <-beforeDeadline; n > 1 {
		t.Errorf("upstream requests before the deadline = %d, want at most 1: the queued lookup must not get a second connection", n)
	}
}

// TestClientConnectionCap holds MAX_CONNECTIONS idle keep-alive
// connections open: the next client is served in place of an idle one,
// which the relay closes (internal/connlimit tests the rest).
func TestClientConnectionCap(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, _, _ := startServe(t, ctx, mapEnv(map[string]string{
		"SECRET_KEY": boundsSecret, "MAX_CONNECTIONS": "2", "IDLE_TIMEOUT": "5m",
	}))
	a, b := testsupport.Dial(t, addr, ""), testsupport.Dial(t, addr, "")
	for _, c := range []testsupport.Conn{a, b} {
		if _, err := c.RoundTrip(http.MethodPost, "/version", 30*time.Second); err != nil {
			t.Fatalf("a connection within the cap: %v", err)
		}
	}
	time.Sleep(100 * time.Millisecond) // both are idle now
	c := testsupport.Dial(t, addr, "")
	if resp, err := c.RoundTrip(http.MethodPost, "/version", 30*time.Second); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a connection over the cap of idle ones got %v, %v; want its answer", resp, err)
	}
	// The oldest idle one is closed: a, unless the server saw b go idle
	// first (internal/connlimit checks the order itself).
	if !a.ClosedByServer(5*time.Second) && !b.ClosedByServer(5*time.Second) {
		t.Error("neither idle connection was closed for the new one")
	}
}

// TestSlowBodyCutOff checks that a request body has BODY_TIMEOUT to arrive,
// and that a request whose body arrived in time may run longer.
func TestSlowBodyCutOff(t *testing.T) {
	up := newConnCounter(t, 1500*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, _, _ := startServe(t, ctx, mapEnv(map[string]string{
		"SECRET_KEY": boundsSecret, "SIGNALS_API_URL": up.srv.URL, "BODY_TIMEOUT": "500ms",
	}))
	conn := testsupport.Dial(t, addr, "")
	body := `[{"type":"ip","value":"192.0.2.1"}]`
	fmt.Fprintf(conn, "POST /deliberate/observables HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s",
		boundsJWT(t), len(body), body[:5])
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(conn.R, nil)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "could not be read") {
			t.Errorf("a stalled body got %s", b)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a stalled body was waited for %s", d)
	}
	// A body in time, then a lookup longer than BODY_TIMEOUT: answered.
	status, _, v, err := postJSON(t, http.DefaultClient, "http://"+addr+"/deliberate/observables", boundsJWT(t), body)
	if err != nil || status != http.StatusOK || v["errors"] != nil {
		t.Errorf("a lookup longer than BODY_TIMEOUT: %d %v %v", status, v, err)
	}
}

// TestHeaderCap checks that a header far over a token's size is refused
// by the server (431) and that a header holding a token of
// auth.MaxTokenBytes is read.
func TestHeaderCap(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, _, _ := startServe(t, ctx, mapEnv(map[string]string{"SECRET_KEY": boundsSecret}))
	for _, tc := range []struct {
		size int
		want int
	}{{auth.MaxTokenBytes, http.StatusOK}, {60 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/health", nil)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", tc.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte token: %v", tc.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d-byte token: status %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}

// TestIdleClientConnectionsClose checks that serve closes a keep-alive
// connection that stays idle for IDLE_TIMEOUT, and that the default idle
// timeout is short.
func TestIdleClientConnectionsClose(t *testing.T) {
	if defaultIdleTimeout > 30*time.Second {
		t.Errorf("default idle timeout = %s, want at most 30s", defaultIdleTimeout)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, _, _ := startServe(t, ctx, mapEnv(map[string]string{"SECRET_KEY": boundsSecret, "IDLE_TIMEOUT": "1s"}))
	conn := testsupport.Dial(t, addr, "")
	if _, err := conn.RoundTrip(http.MethodPost, "/version", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := conn.R.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: read %d bytes, %v; want the relay to close it (EOF)", n, err)
	}
}

// TestReadBoundKeptAfterTheBody checks that once a body has arrived within
// its own deadline, the request is still bounded as a whole: when the
// request's total read bound passes, net/http cancels its context, as the
// server's ReadTimeout does without a body deadline.
func TestReadBoundKeptAfterTheBody(t *testing.T) {
	const total = 300 * time.Millisecond
	cancelled := make(chan bool, 1)
	h := withBodyDeadline(time.Minute, total, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
			cancelled <- true
		case <-time.After(testsupport.HangGuard):
			cancelled <- false
		}
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = total
	srv.Start()
	defer srv.Close()
	go func() {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`[]`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	if !<-cancelled {
		t.Errorf("the request's context outlived its read bound of %s by %s", total, testsupport.HangGuard)
	}
}
