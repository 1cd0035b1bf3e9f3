package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/simulator"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// refused reports whether a new connection to addr is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return true
}

// TestServerTimeouts checks that the server bounds every phase of a
// connection, so that slow or idle clients cannot hold it forever.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout,
		"ReadTimeout":       srv.ReadTimeout,
		"WriteTimeout":      srv.WriteTimeout,
		"IdleTimeout":       srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d, want a bound below 1 MiB", srv.MaxHeaderBytes)
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %s exceeds ReadTimeout %s", srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
}

// TestWriteTimeoutCoversRequestTimeout checks that every REQUEST_TIMEOUT the
// configuration accepts ends before the server's WriteTimeout: a request
// that may run longer than WriteTimeout loses its answer. The default, 15s,
// must be among the accepted values, so that the check cannot pass on none.
func TestWriteTimeoutCoversRequestTimeout(t *testing.T) {
	t.Parallel()
	write := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler)).WriteTimeout
	var accepted []string
	for _, v := range []string{"15s", "50s", "59s", "1m", "2m", "5m"} {
		cfg, err := loadConfig(mapEnv(map[string]string{"REQUEST_TIMEOUT": v}))
		if err != nil {
			continue // refused: cannot outlast WriteTimeout
		}
		accepted = append(accepted, v)
		if cfg.Limits.RequestTimeout >= write {
			t.Errorf("REQUEST_TIMEOUT=%s is accepted but the server's WriteTimeout is %s, "+
				"so an answer that takes longer is lost", v, write)
		}
	}
	if !slices.Contains(accepted, "15s") {
		t.Errorf("accepted REQUEST_TIMEOUT values %q, want the default 15s among them", accepted)
	}
}

// TestGracefulShutdown starts serveUntilDone with a request in flight, then
// ends its context: new connections are refused at once, the request in
// flight still gets its full answer, and serveUntilDone returns nil only
// after that.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- serveUntilDone(ctx, newServer(h, slog.New(slog.DiscardHandler)), ln, slog.New(slog.DiscardHandler), 5*time.Second)
	}()

	type answer struct {
		body string
		err  error
	}
	answers := make(chan answer, 1)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	go func() {
		resp, err := client.Get("http://" + addr + "/slow")
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{string(b), err}
	}()
	<-started

	cancel()
	testsupport.WaitFor(t, "the listener to close", func() bool { return refused(addr) })
	select {
	case err := <-served:
		t.Fatalf("serveUntilDone returned %v with a request in flight", err)
	default:
	}

	close(release)
	if a := <-answers; a.err != nil || a.body != "finished" {
		t.Errorf("in-flight request got %q, %v; want its full answer", a.body, a.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serveUntilDone = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serveUntilDone did not return after the last request finished")
	}
}

// TestServeShutdownWithLookupInFlight runs "serve" end to end: a lookup is
// waiting on Auth0 Signals when the shutdown signal arrives; the relay stops
// accepting connections, the lookup still completes with its verdict, and
// the command exits cleanly.
func TestServeShutdownWithLookupInFlight(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"fullip":{"score":-3,"badip":{"score":-1}}}`)
	}))
	defer upstream.Close()
	defer close(release)

	const secret = "shutdown-test-secret-0123456789abcdef"
	getenv := mapEnv(map[string]string{"SECRET_KEY": secret, "SIGNALS_API_URL": upstream.URL})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, stderr, done := startServe(t, ctx, getenv)

	jwt, err := auth.SignHS256(map[string]any{"key": simulator.DemoKey}, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	answers := make(chan answer, 1)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/deliberate/observables",
			strings.NewReader(`[{"type":"ip","value":"203.0.113.66"}]`))
		req.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := client.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		var v map[string]any
		err = json.NewDecoder(resp.Body).Decode(&v)
		answers <- answer{resp.StatusCode, v, err}
	}()
	// Every wait below is bounded, and a lookup that shutdown dropped (a
	// Close instead of a Shutdown) fails the test at once rather than
	// leaving a send that nobody receives.
	select {
	case <-arrived:
	case a := <-answers:
		t.Fatalf("the lookup was answered (status %d, %v) before it reached Auth0 Signals", a.status, a.err)
	case <-time.After(20 * time.Second):
		t.Fatal("the lookup did not reach Auth0 Signals")
	}

	cancel()
	testsupport.WaitFor(t, "the relay to refuse new connections", func() bool { return refused(addr) })
	select {
	case release <- struct{}{}: // unblocks the one waiting lookup; the deferred close ends any other
	case a := <-answers:
		t.Fatalf("shutdown dropped the lookup in flight: it was answered (status %d, %v) before Auth0 Signals was", a.status, a.err)
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown dropped the lookup in flight: it no longer waits on Auth0 Signals")
	}

	var a answer
	select {
	case a = <-answers:
	case <-time.After(20 * time.Second):
		t.Fatal("the lookup in flight got no answer after Auth0 Signals answered")
	}
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("in-flight lookup: status %d, %v", a.status, a.err)
	}
	data, _ := a.body["data"].(map[string]any)
	if _, ok := data["verdicts"]; !ok || a.body["errors"] != nil {
		t.Errorf("in-flight lookup answered %v, want its verdict", a.body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit after the lookup finished")
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown line in the log:\n%s", stderr.String())
	}
}

// TestShutdownGraceIsABound checks that a request outliving the grace does
// not hold shutdown: its connection is closed and serveUntilDone says so.
func TestShutdownGraceIsABound(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	discard := slog.New(slog.DiscardHandler)
	go func() { served <- serveUntilDone(ctx, newServer(h, discard), ln, discard, 50*time.Millisecond) }()
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/", "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "requests still running") {
			t.Errorf("serveUntilDone = %v, want the grace to run out", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waited for a request past its grace")
	}
}
