package connlimit_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/connlimit"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// idles counts the connections that went idle, over every test.
var idles atomic.Int64

// serve runs an http.Server on a connlimit.Listener over loopback; h nil
// answers "ok" at once.
func serve(t *testing.T, cfg connlimit.Config, h http.Handler) (string, *connlimit.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, cfg)
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	}
	state := func(c net.Conn, s http.ConnState) {
		l.ConnState(c, s)
		if s == http.StateIdle {
			idles.Add(1)
		}
	}
	srv := &http.Server{Handler: h, ConnState: state, ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), l
}

// getIdle sends one request on c and waits until the server has seen c go
// idle.
func getIdle(t *testing.T, c testsupport.Conn) {
	t.Helper()
	n := idles.Load()
	if _, err := c.RoundTrip(http.MethodGet, "/", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, "the connection to go idle", func() bool { return idles.Load() != n })
}

// waitOpen waits until l counts n connections.
func waitOpen(t *testing.T, l *connlimit.Listener, n int) {
	t.Helper()
	testsupport.WaitFor(t, fmt.Sprintf("%d connections open", n), func() bool { return l.Open() == n })
}

// TestPerClientShare checks that a client holding its share of connections
// that are all busy gets its next one closed at once, and logged, while
// another client is still served.
func TestPerClientShare(t *testing.T) {
	logs := &testsupport.LockedBuffer{}
	addr, l := serve(t, connlimit.Config{Max: 10, PerClient: 2, SilentAfter: time.Minute,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}, nil)
	a, b := testsupport.Dial(t, addr, "127.0.0.1"), testsupport.Dial(t, addr, "127.0.0.1") // new and silent, not yet evictable
	waitOpen(t, l, 2)
	c := testsupport.Dial(t, addr, "127.0.0.1")
	if !c.ClosedByServer(5 * time.Second) {
		t.Error("a connection over the client's share was kept")
	}
	other := testsupport.Dial(t, addr, "127.0.0.2")
	if _, err := other.RoundTrip(http.MethodGet, "/", 5*time.Second); err != nil {
		t.Errorf("another client beside a client at its share: %v", err)
	}
	if _, err := a.RoundTrip(http.MethodGet, "/", 5*time.Second); err != nil {
		t.Errorf("a connection within the share: %v", err)
	}
	_ = b
	if !strings.Contains(logs.String(), "the client holds its share") || !strings.Contains(logs.String(), "127.0.0.1=1") {
		t.Errorf("no log line for the refused connection:\n%s", logs)
	}
}

// TestIdleEvictedAtCap checks that at the cap a new connection is served
// in place of the oldest idle keep-alive connection, and that a client at
// its share loses its own oldest idle one rather than the new one.
func TestIdleEvictedAtCap(t *testing.T) {
	addr, l := serve(t, connlimit.Config{Max: 2}, nil)
	a, b := testsupport.Dial(t, addr, ""), testsupport.Dial(t, addr, "")
	getIdle(t, a)
	getIdle(t, b)
	getIdle(t, a) // a is now the newer idle one
	c := testsupport.Dial(t, addr, "")
	if _, err := c.RoundTrip(http.MethodGet, "/", 5*time.Second); err != nil {
		t.Fatalf("a new connection at the cap with idle ones open: %v", err)
	}
	if !b.ClosedByServer(5 * time.Second) {
		t.Error("the oldest idle connection was kept")
	}
	if _, err := a.RoundTrip(http.MethodGet, "/", 5*time.Second); err != nil {
		t.Errorf("the newer idle connection was closed: %v", err)
	}
	waitOpen(t, l, 2)

	addr, _ = serve(t, connlimit.Config{Max: 10, PerClient: 1}, nil)
	d := testsupport.Dial(t, addr, "")
	getIdle(t, d)
	e := testsupport.Dial(t, addr, "")
	if _, err := e.RoundTrip(http.MethodGet, "/", 5*time.Second); err != nil {
		t.Errorf("a client at its share with an idle connection: %v", err)
	}
	if !d.ClosedByServer(5 * time.Second) {
		t.Error("the client's idle connection was kept")
	}
}

// TestBusyConnectionsMakeNewOnesWait checks that at the cap, with every
// connection at work, a new connection waits (it is not served, not
// closed) and is served once a place frees.
func TestBusyConnectionsMakeNewOnesWait(t *testing.T) {
	release := make(chan struct{})
	addr, _ := serve(t, connlimit.Config{Max: 1}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
	}))
	a := testsupport.Dial(t, addr, "")
	_ = a.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(a, "GET /hold HTTP/1.1\r\nHost: relay\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	b := testsupport.Dial(t, addr, "")
	if _, err := b.RoundTrip(http.MethodGet, "/", 2*connlimit.DefaultSilentAfter); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection over the cap of busy ones got %v, want to wait", err)
	}
	close(release)
	_ = b.SetDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(b.R, nil)
	if err != nil {
		t.Fatalf("after the busy connection finished, the waiting one: %v", err)
	}
	resp.Body.Close()
}

// TestSilentFloodIsLogged checks that connections closed without a
// request leave a log line, once there are enough of them.
func TestSilentFloodIsLogged(t *testing.T) {
	logs := &testsupport.LockedBuffer{}
	addr, l := serve(t, connlimit.Config{Max: 100, Logger: slog.New(slog.NewJSONHandler(logs, nil))}, nil)
	for range 12 {
		testsupport.Dial(t, addr, "").Close()
	}
	// Open may read 0 before the listener has accepted them: wait for the line.
	testsupport.WaitFor(t, "the silent flood's log line", func() bool {
		return strings.Contains(logs.String(), "closed without a request")
	})
	n := strings.Count(logs.String(), "closed without a request")
	for range 12 {
		testsupport.Dial(t, addr, "").Close()
	}
	waitOpen(t, l, 0)
	if m := strings.Count(logs.String(), "closed without a request"); m != n {
		t.Errorf("%d log lines within the rate limit's period, want %d", m, n)
	}
}

// TestLogNamesTheBusiestClients checks that a log line names the clients
// with the most connections, even one that came after five others.
func TestLogNamesTheBusiestClients(t *testing.T) {
	logs := &testsupport.LockedBuffer{}
	addr, l := serve(t, connlimit.Config{Max: 100, Logger: slog.New(slog.NewJSONHandler(logs, nil))}, nil)
	for i := range 6 {
		testsupport.Dial(t, addr, fmt.Sprintf("127.0.0.%d", 11+i)).Close()
	}
	waitOpen(t, l, 0)
	for range 10 {
		testsupport.Dial(t, addr, "127.0.0.20").Close()
	}
	testsupport.WaitFor(t, "the silent flood's log line", func() bool {
		return strings.Contains(logs.String(), "closed without a request")
	})
	var line struct{ Clients []string }
	if err := json.Unmarshal([]byte(strings.SplitN(logs.String(), "\n", 2)[0]), &line); err != nil {
		t.Fatal(err)
	}
	if len(line.Clients) != 5 || !strings.HasPrefix(line.Clients[0], "127.0.0.20=") {
		t.Errorf("clients %v, want five, the busiest (127.0.0.20) first", line.Clients)
	}
}
